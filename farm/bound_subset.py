"""A lower bound from a few jobs planned exactly: every other job left out.

The bounds of :mod:`farm.bounds` relax the whole farm.  This one keeps the whole farm (its
printers, shifts, operators and running prints) but only some jobs ``K``, and plans them
with the exact CP-SAT model (:mod:`farm.cpsat`, the whole problem as one window; tested
against brute force).  Chosen well (the jobs a good plan finishes late), ``K`` is small
enough to solve to optimality and carries most of the weighted tardiness.

**Validity.**  Conditions: no maintenance windows and every job of ``K`` released at
minute 0.  Take any feasible plan of the whole problem and delete the prints of the jobs
not in ``K``.  Printer by printer, a kept print ``k`` follows a kept (or running) print
``y``, or the printer's initial state, with deleted prints ``x_1 .. x_m`` in between.  Its
turnaround, re-derived, is ``start + clear·[bed occupied] + swap·[filament of y (or the
loaded one) differs from k's]``.  If no swap is needed it is at most the old one (which
had ``start + clear``, or ``start + swap`` as a first print on a clear bed), and ``k``
stays where it was.  If a swap is needed, the filament changes somewhere between ``y``
and ``k``: either at ``k`` itself (the old turnaround already had the swap: ``k`` stays)
or at the first ``x_i`` whose filament differs from its predecessor's.  That ``x_i``'s
turnaround is a swap turnaround, ``start + swap`` plus ``clear`` whenever the re-derived
one has it (the bed state before ``x_i`` and before the new ``k`` is the same: after ``y``,
or the initial one when ``x_1 .. x_i`` come first), so it is at least as long as ``k``'s
new one.  Move ``k`` there: its turnaround begins where ``x_i``'s did (on shift,
after ``y`` ended, released: ``k``'s release is 0), inside the operator minutes ``x_i``
used and nobody else takes (``x_i`` is gone and only ``k`` moves into its slot), and its
print starts no later than ``x_i``'s did, so it ends no later than before, and lies
inside the span ``x_i .. k`` had on this printer (no maintenance can fall in its idle
gaps: there is none).  Every kept job completes no later, so the weighted tardiness of
``K`` alone is at most the whole plan's: the optimum over ``K`` alone bounds every plan.

The model's objective is ``WT·(horizon + 1) + makespan`` with ``makespan <= horizon``, so
``floor(objective bound / (horizon + 1))`` bounds the weighted tardiness: the optimum when
CP-SAT proves it, its best bound when time runs out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from farm.cpsat import build_model, full_window, solve_model
from farm.derive import job_completions
from farm.model import Plan, Problem

MAX_SUBSET_TASKS = 24  # beyond this few subsets solve to optimality in a minute


def late_job_ids(problem: Problem, plan: Plan) -> list[str]:
    """The jobs ``plan`` finishes after their due date, in job order."""
    done = job_completions(problem, list(plan.assignments))
    return [j.id for j in problem.jobs if j.due_min is not None and done.get(j.id, 0) > j.due_min]


def subset_problem(problem: Problem, job_ids: Iterable[str]) -> Problem | None:
    """``problem`` with only ``job_ids``; None where the relaxation is not valid (see the
    module docstring) or the subset is too big to solve."""
    keep = set(job_ids)
    jobs = tuple(j for j in problem.jobs if j.id in keep)
    if not jobs or problem.maintenance or any(j.release_min > 0 for j in jobs):
        return None
    if sum(j.quantity for j in jobs) > MAX_SUBSET_TASKS:
        return None
    return dataclasses.replace(problem, jobs=jobs)


def subset_bound(
    problem: Problem,
    job_ids: Iterable[str],
    *,
    deterministic_limit: float = 120.0,
    wall_limit_s: float = 300.0,
    workers: int = 2,
    seed: int = 0,
) -> tuple[int, bool] | None:
    """(weighted tardiness bound, proven optimal) of ``job_ids`` planned alone; None if the
    relaxation does not apply or CP-SAT found nothing."""
    sub = subset_problem(problem, job_ids)
    if sub is None:
        return None
    fm = build_model(sub, full_window(sub))
    result = solve_model(
        fm,
        deterministic_limit=deterministic_limit,
        wall_limit_s=wall_limit_s,
        workers=workers,
        seed=seed,
    )
    if result.bound is None:
        return None
    scale = fm.objective_scale
    value = result.objective if result.optimal else result.bound
    return max(0, value // scale), result.optimal
