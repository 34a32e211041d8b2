"""Lower bounds on the objective, to tell how far a plan can still be from optimal.

**Copies alone** (:func:`copy_ends`).  Take one job and forget every other job and the
other operators' work.  On printer ``p`` the turnaround of the job's first print there
starts no earlier than ``max(release, p free)``; it lasts at least ``d1`` minutes
(proved below), lies inside one stretch of operator presence and, with the print after
it, misses ``p``'s maintenance.  Let ``e1(p)`` be the end of the earliest such
placement.  The k-th copy on ``p`` (k >= 2) follows a print that ends no earlier than
the (k-1)-th copy, finds a part on the bed (turnaround >= start + clear) and must again
sit in a shift and miss maintenance: ``e_k(p)`` is the earliest such end after
``e_{k-1}(p)``.  Every rule used only pushes later, and "the earliest placement at or
after t" is non-decreasing in t, so by induction the k-th copy on ``p`` ends at or after
``e_k(p)`` in every feasible plan.  Sort a plan's copies by end: the c-th ends at or
after the c-th smallest of all ``e_k(p)`` over eligible printers (any c copies occupy c
distinct (printer, rank) slots), so the job completes no earlier than the q-th smallest.

``d1``: if the job's first print on ``p`` is ``p``'s first print, its turnaround is
exactly ``start + clear·[bed occupied at t=0] + swap·[loaded filament differs]``; if
another print comes first, that print's turnaround (>= start minutes inside a shift, after
``p`` falls free) and print (>= the shortest duration on ``p``, missing maintenance) end no
earlier than the earliest such placement, before ours starts, and ours is at least
``start + clear``.  The bound takes the earlier of the two cases.

**Operators** (:func:`operator_bound`): operators supply at most ``operators`` minutes
per minute on shift, so the k-th turnaround to end ends no earlier than when the
cumulative supply covers the k shortest turnarounds; assigning tasks to these ranks
(Hungarian method) bounds the weighted tardiness.

**Whole farm** (:func:`farm.bound_lp.lp_bound`): an LP relaxation in which jobs compete
for printer time per set of printers (night blocking included) and for operator time;
proofs in that module.

:func:`lower_bound` takes the largest of the three.  Filament swaps and most sequencing
are still ignored, so the bound is valid but optimistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from farm.bound_lp import lp_bound
from farm.model import Job, Printer, Problem
from farm.shifts import OperatorCalendar, capacity_profile


@dataclass(frozen=True)
class Bound:
    """Lower bounds: weighted tardiness (weight·min) and makespan (min)."""

    weighted_tardiness_min: int
    makespan_min: int


def _earliest_placement(
    problem: Problem,
    calendar: OperatorCalendar,
    printer: Printer,
    ready: int,
    turnaround: int,
    duration: int,
) -> int:
    """End of the earliest print whose turnaround starts at or after ``ready``, lies in a
    shift, and which with its turnaround misses ``printer``'s maintenance (horizon if none)."""
    horizon = problem.horizon_end_min
    t = max(ready, 0)
    while True:
        u = calendar.earliest(t, turnaround)
        if u is None:
            return horizon + duration
        end = u + turnaround + duration
        blocking = [
            m.end_min
            for m in problem.maintenance_by_printer.get(printer.id, ())
            if u < m.end_min and m.start_min < end
        ]
        if not blocking:
            return end
        t = max(blocking)


def shortest_on(problem: Problem) -> dict[str, int]:
    """Printer id -> the shortest duration of any job it can print."""
    out = {p.id: problem.horizon_end_min for p in problem.printers}
    for job in problem.jobs:
        for p in problem.eligible[job.id]:
            out[p.id] = min(out[p.id], job.durations_min[p.model])
    return out


def copy_chains(
    problem: Problem, calendar: OperatorCalendar, job: Job, shortest: dict[str, int]
) -> dict[str, list[int]]:
    """Printer id -> ``ends``: the k-th copy of ``job`` on that printer ends no earlier than
    ``ends[k]`` (see the module docstring); ``shortest`` is :func:`shortest_on`."""
    params = problem.params
    occupied_next = params.turnaround_min(True, False)
    chains: dict[str, list[int]] = {}
    for p in problem.eligible[job.id]:
        state = problem.initial_state(p)
        duration = job.durations_min[p.model]
        ready = max(job.release_min, state.free_from_min)
        first = params.turnaround_min(state.bed_occupied, state.loaded != job.filament)
        end = _earliest_placement(problem, calendar, p, ready, first, duration)
        # or another print comes first: its turnaround (>= start, in a shift) and print end
        # before ours starts
        other_end = _earliest_placement(
            problem, calendar, p, state.free_from_min, params.start_min, shortest[p.id]
        )
        later = _earliest_placement(
            problem, calendar, p, max(job.release_min, other_end), occupied_next, duration
        )
        end = min(end, later)
        ends = [end]
        for _ in range(1, job.quantity):
            end = _earliest_placement(problem, calendar, p, end, occupied_next, duration)
            ends.append(end)
        chains[p.id] = ends
    return chains


def copy_ends(
    problem: Problem, calendar: OperatorCalendar, job: Job, shortest: dict[str, int]
) -> list[int]:
    """The c-th copy of ``job`` (in end order) ends no earlier than ``ends[c]``: any c copies
    take c distinct (printer, rank) places of :func:`copy_chains`.  ``len == quantity``."""
    chains = copy_chains(problem, calendar, job, shortest)
    return sorted(e for ends in chains.values() for e in ends)[: job.quantity]


def task_ends(problem: Problem) -> dict[str, int]:
    """Task id -> no plan ends it earlier (:func:`copy_ends`; copy c is the c-th to end)."""
    calendar = OperatorCalendar(problem.shifts, problem.horizon_end_min)
    shortest = shortest_on(problem)
    out: dict[str, int] = {}
    for job in problem.jobs:
        for copy, end in enumerate(copy_ends(problem, calendar, job, shortest)):
            out[f"{job.id}#{copy}"] = end
    return out


def job_ends(problem: Problem, ends: dict[str, int]) -> dict[str, int]:
    """Job id -> the latest of its copies' :func:`task_ends`: no plan completes it earlier."""
    return {j.id: max(ends[f"{j.id}#{c}"] for c in range(j.quantity)) for j in problem.jobs}


def lower_bound(
    problem: Problem, *, with_operators: bool | None = None, with_lp: bool = True
) -> Bound:
    """A valid lower bound on (weighted tardiness, makespan).

    ``with_operators`` adds the operator-capacity assignment bound (an n x n Hungarian
    problem); by default only up to ``OPERATOR_BOUND_MAX_TASKS`` tasks.  ``with_lp`` adds
    the whole-farm LP relaxation of :mod:`farm.bound_lp`.
    """
    if with_operators is None:
        with_operators = len(problem.tasks) <= OPERATOR_BOUND_MAX_TASKS
    earliest = task_ends(problem)
    done = job_ends(problem, earliest)
    weighted = sum(
        j.weight * max(0, done[j.id] - j.due_min) for j in problem.jobs if j.due_min is not None
    )
    if with_operators:
        weighted = max(weighted, operator_bound(problem, earliest))
    if with_lp:
        weighted = max(weighted, lp_bound(problem, done))
    return Bound(weighted, max(earliest.values(), default=0))


OPERATOR_BOUND_MAX_TASKS = 600  # the Hungarian method is cubic: too slow beyond


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
