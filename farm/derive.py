"""From assignments to a :class:`Plan`: operator actions and the objective figures.

The rules are FORMAT.md's: a printer's tasks, sorted by start, each get a turnaround
``[start - d, start)`` whose length depends on the bed (occupied after any print) and the
filament left by the previous print.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from farm.model import (
    ActionKind,
    Assignment,
    OperatorAction,
    Plan,
    PlanMetrics,
    Problem,
)
from farm.shifts import covered_min


def by_printer(problem: Problem, assignments: Iterable[Assignment]) -> dict[str, list[Assignment]]:
    """Printer id -> its assignments sorted by start (every printer present)."""
    out: dict[str, list[Assignment]] = {p.id: [] for p in problem.printers}
    for a in assignments:
        out.setdefault(a.printer_id, []).append(a)
    for seq in out.values():
        seq.sort(key=lambda a: (a.start_min, a.end_min))
    return out


def derive_actions(problem: Problem, assignments: Iterable[Assignment]) -> list[OperatorAction]:
    """The turnaround each assignment implies, printer by printer in start order."""
    actions: list[OperatorAction] = []
    sequences = by_printer(problem, assignments)
    for printer in problem.printers:
        state = problem.initial_state(printer)
        occupied, loaded = state.bed_occupied, state.loaded
        for a in sequences[printer.id]:
            job = problem.task_by_id[a.task_id].job
            swap = job.filament != loaded
            kinds = [ActionKind.START]
            if occupied:
                kinds.append(ActionKind.CLEAR)
            if swap:
                kinds.append(ActionKind.SWAP)
            turnaround_min = problem.params.turnaround_min(occupied, swap)
            actions.append(
                OperatorAction(
                    a.task_id, a.printer_id, a.start_min - turnaround_min, a.start_min, tuple(kinds)
                )
            )
            occupied, loaded = True, job.filament
    return actions


def job_completions(problem: Problem, assignments: Iterable[Assignment]) -> dict[str, int]:
    """Job id -> latest end of its assigned copies."""
    done: dict[str, int] = {}
    for a in assignments:
        job_id = problem.task_by_id[a.task_id].job.id
        done[job_id] = max(done.get(job_id, 0), a.end_min)
    return done


def tardiness_min(problem: Problem, completions: dict[str, int]) -> dict[str, int]:
    """Job id -> unweighted tardiness in minutes (jobs with a due date only)."""
    return {
        j.id: max(0, completions.get(j.id, 0) - j.due_min)
        for j in problem.jobs
        if j.due_min is not None
    }


def plan_metrics(
    problem: Problem, assignments: list[Assignment], actions: list[OperatorAction]
) -> PlanMetrics:
    """Weighted tardiness, makespan and the reported figures, as evaluate.py computes them."""
    tardy = tardiness_min(problem, job_completions(problem, assignments))
    weighted = sum(problem.job_by_id[j].weight * t for j, t in tardy.items())
    makespan = max((a.end_min for a in assignments), default=0)
    return PlanMetrics(
        weighted_tardiness_min=weighted,
        makespan_min=makespan,
        utilisation=_utilisation(problem, assignments, makespan),
        swaps=sum(ActionKind.SWAP in a.kinds for a in actions),
        idle_wait_min=_idle_wait_min(problem, assignments, actions),
        tardy_jobs=sum(t > 0 for t in tardy.values()),
        max_tardiness_min=max(tardy.values(), default=0),
    )


def _utilisation(problem: Problem, assignments: list[Assignment], makespan: int) -> float:
    spans = [(a.start_min, a.end_min) for a in assignments]
    spans += [(r.start_min, r.end_min) for r in problem.running]
    busy = sum(max(0, min(e, makespan) - max(s, 0)) for s, e in spans)
    down = sum(max(0, min(m.end_min, makespan) - max(m.start_min, 0)) for m in problem.maintenance)
    avail = len(problem.printers) * makespan - down
    return busy / avail if avail > 0 else 0.0


def _idle_wait_min(
    problem: Problem, assignments: list[Assignment], actions: list[OperatorAction]
) -> int:
    """Off-shift minutes between a print's end and the next turnaround on that printer."""
    action_start = {a.task_id: a.start_min for a in actions}
    sequences = by_printer(problem, assignments)
    idle = 0
    for printer in problem.printers:
        state = problem.initial_state(printer)
        prev_end = state.free_from_min if state.bed_occupied else None
        for a in sequences[printer.id]:
            u = action_start[a.task_id]
            if prev_end is not None and u > prev_end:
                idle += (u - prev_end) - covered_min(problem.shifts, prev_end, u)
            prev_end = a.end_min
    return idle


def canonical_copies(
    problem: Problem, assignments: Iterable[Assignment], keep: frozenset[str] = frozenset()
) -> list[Assignment]:
    """The same schedule with each job's copies renumbered in start order.

    Copies of a job are interchangeable, so this changes no figure; it lets a model break
    the symmetry with ``start(#k) <= start(#k+1)``.  Tasks in ``keep`` keep their ids.
    """
    by_job: dict[str, list[Assignment]] = {}
    out = []
    for a in assignments:
        if a.task_id in keep:
            out.append(a)
        else:
            by_job.setdefault(problem.task_by_id[a.task_id].job.id, []).append(a)
    for copies in by_job.values():
        ids = sorted((a.task_id for a in copies), key=lambda t: problem.task_by_id[t].copy)
        ordered = sorted(copies, key=lambda a: (a.start_min, a.printer_id))
        out += [replace(a, task_id=tid) for tid, a in zip(ids, ordered, strict=True)]
    return out


def make_plan(problem: Problem, assignments: Iterable[Assignment], solver: str) -> Plan:
    """A :class:`Plan` with derived operator actions and metrics; assignments sorted."""
    ordered = sorted(assignments, key=lambda a: (a.printer_id, a.start_min, a.task_id))
    actions = derive_actions(problem, ordered)
    return Plan(tuple(ordered), tuple(actions), solver, plan_metrics(problem, ordered, actions))
