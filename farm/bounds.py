"""Lower bounds on the objective, to tell how far a plan can still be from optimal.

Each task ends no earlier than on its best printer with that printer to itself: its own
turnaround (start, plus clear if the bed is occupied) must fit in a shift after its
release, and the printer must first fall free and spend the turnaround minutes any
filament change needs.  Operator contention, sequencing and maintenance are ignored, so
the bound is valid but optimistic.
"""

from __future__ import annotations

from dataclasses import dataclass

from farm.model import Printer, Problem, Task
from farm.shifts import OperatorCalendar


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


def lower_bound(problem: Problem) -> Bound:
    """A valid lower bound on (weighted tardiness, makespan)."""
    calendar = OperatorCalendar(problem.shifts, problem.horizon_end_min)
    completion: dict[str, int] = {}
    makespan = 0
    for task in problem.tasks:
        end = min(_earliest_end(problem, calendar, task, p) for p in problem.eligible[task.job.id])
        completion[task.job.id] = max(completion.get(task.job.id, 0), end)
        makespan = max(makespan, end)
    weighted = sum(
        j.weight * max(0, completion[j.id] - j.due_min)
        for j in problem.jobs
        if j.due_min is not None
    )
    return Bound(weighted, makespan)
