"""Lower bounds on the objective, to tell how far a plan can still be from optimal.

Each task ends no earlier than on its best printer with that printer to itself: its own
turnaround (start, plus clear if the bed is occupied) must fit in a shift after its
release, and the printer must first fall free and spend the turnaround minutes any
filament change needs.  Operator contention, sequencing and maintenance are ignored, so
the bound is valid but optimistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from farm.model import Printer, Problem, Task
from farm.shifts import OperatorCalendar, capacity_profile


@dataclass(frozen=True)
class Bound:
    """Lower bounds: weighted tardiness (weight·min) and makespan (min)."""

    weighted_tardiness_min: int
    makespan_min: int


def _earliest_end(problem: Problem, calendar: OperatorCalendar, task: Task, p: Printer) -> int:
    params = problem.params
    state = problem.initial_state(p)
    own = params.turnaround_min(state.bed_occupied, False)
    u = calendar.earliest(max(task.job.release_min, 0), own)
    own_start = problem.horizon_end_min if u is None else u + own
    needed = params.turnaround_min(state.bed_occupied, state.loaded != task.job.filament)
    start = max(own_start, state.free_from_min + needed)
    return start + task.job.durations_min[p.model]


OPERATOR_BOUND_MAX_TASKS = 600  # the Hungarian method is cubic: too slow beyond


def lower_bound(problem: Problem, *, with_operators: bool | None = None) -> Bound:
    """A valid lower bound on (weighted tardiness, makespan).

    ``with_operators`` adds the operator-capacity assignment bound (an n x n Hungarian
    problem); by default only up to ``OPERATOR_BOUND_MAX_TASKS`` tasks.
    """
    if with_operators is None:
        with_operators = len(problem.tasks) <= OPERATOR_BOUND_MAX_TASKS
    calendar = OperatorCalendar(problem.shifts, problem.horizon_end_min)
    earliest: dict[str, int] = {}
    completion: dict[str, int] = {}
    for task in problem.tasks:
        end = min(_earliest_end(problem, calendar, task, p) for p in problem.eligible[task.job.id])
        earliest[task.id] = end
        completion[task.job.id] = max(completion.get(task.job.id, 0), end)
    weighted = sum(
        j.weight * max(0, completion[j.id] - j.due_min)
        for j in problem.jobs
        if j.due_min is not None
    )
    if with_operators:
        weighted = max(weighted, operator_bound(problem, earliest))
    return Bound(weighted, max(earliest.values(), default=0))


def _turnaround_ends(problem: Problem, n: int) -> np.ndarray:
    """``ends[k]``: no k+1 turnarounds can all be over before this minute.

    Operators work at most ``operators`` turnaround minutes per minute on shift, and the
    k+1 shortest turnarounds need this many operator minutes (a bed is clear only for the
    first print on a printer that starts empty).
    """
    params = problem.params
    empty = sum(problem.initial_state(p).bed_occupied is False for p in problem.printers)
    minutes = np.full(n, params.start_min + params.clear_min, dtype=np.int64)
    minutes[: min(empty, n)] = params.start_min
    need = np.cumsum(np.sort(minutes))
    supply = np.cumsum(capacity_profile(problem.shifts, problem.horizon_end_min))
    ends = np.searchsorted(supply, need) + 1  # first minute by which supply >= need
    return np.minimum(ends, problem.horizon_end_min)


def operator_bound(problem: Problem, earliest_end: dict[str, int]) -> int:
    """Weighted tardiness bound from operator capacity: rank tasks by turnaround end.

    The task whose turnaround ends k-th prints no earlier than ``ends[k]``; assigning tasks
    to ranks (Hungarian method) at cost ``weight / quantity * tardiness`` bounds the weighted
    tardiness, since a job's tardiness is at least the mean over its copies.
    """
    due = [t for t in problem.tasks if t.job.due_min is not None and t.job.weight > 0]
    if not due:
        return 0
    n = len(problem.tasks)
    ends = _turnaround_ends(problem, n)
    # only the |due| earliest ranks can matter for the tasks that have a due date
    ranks = ends[: len(due)]
    shortest = np.array(
        [min(t.job.durations_min[p.model] for p in problem.eligible[t.job.id]) for t in due]
    )
    alone = np.array([earliest_end[t.id] for t in due])
    deadline = np.array([t.job.due_min for t in due])
    factor = np.array([t.job.weight / t.job.quantity for t in due])
    completion = np.maximum(ranks[None, :] + shortest[:, None], alone[:, None])
    cost = factor[:, None] * np.maximum(completion - deadline[:, None], 0)
    rows, cols = linear_sum_assignment(cost)
    return math.floor(cost[rows, cols].sum())
