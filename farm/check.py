"""``check_plan``: every FORMAT.md feasibility rule, checked on a plan we are about to return.

Messages name the task and printer, e.g.
``J0001#0 on P004: turnaround [455,480) not inside operator shifts``.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from farm.derive import by_printer, derive_actions
from farm.model import Assignment, OperatorAction, Plan, Problem
from farm.shifts import capacity_profile

MAX_MESSAGES = 50


def check_plan(problem: Problem, plan: Plan) -> list[str]:
    """All rule violations of ``plan`` (empty list: the plan is valid)."""
    errors = _check_tasks(problem, plan.assignments)
    errors += [e for a in plan.assignments for e in _check_assignment(problem, a)]
    actions = derive_actions(problem, [a for a in plan.assignments if _known(problem, a)])
    errors += _check_sequences(problem, plan.assignments, actions)
    errors += _check_operators(problem, actions)
    errors += _check_declared_actions(plan.operator_actions, actions)
    return errors[:MAX_MESSAGES]


def _known(problem: Problem, a: Assignment) -> bool:
    return a.task_id in problem.task_by_id and a.printer_id in problem.printer_by_id


def _check_tasks(problem: Problem, assignments: tuple[Assignment, ...]) -> list[str]:
    errors = []
    counts = Counter(a.task_id for a in assignments)
    for task_id, n in sorted(counts.items()):
        if task_id not in problem.task_by_id:
            errors.append(f"{task_id}: unknown task")
        elif n > 1:
            errors.append(f"{task_id}: assigned {n} times")
    missing = [t.id for t in problem.tasks if t.id not in counts]
    if missing:
        errors.append(f"{len(missing)} task(s) not scheduled, e.g. {', '.join(missing[:5])}")
    return errors


def _check_assignment(problem: Problem, a: Assignment) -> list[str]:
    if not _known(problem, a):
        return [] if a.task_id not in problem.task_by_id else [f"{a.task_id}: unknown printer"]
    job = problem.task_by_id[a.task_id].job
    printer = problem.printer_by_id[a.printer_id]
    where = f"{a.task_id} on {a.printer_id}"
    if not printer.can_print(job):
        return [f"{where}: printer cannot print job {job.id} ({job.material}, {job.nozzle_mm} mm)"]
    errors = []
    if not isinstance(a.start_min, int) or not isinstance(a.end_min, int):
        errors.append(f"{where}: start/end must be integer minutes")
    if a.end_min - a.start_min != job.durations_min[printer.model]:
        errors.append(
            f"{where}: lasts {a.end_min - a.start_min} min, slicer says "
            f"{job.durations_min[printer.model]}"
        )
    if a.end_min > problem.horizon_end_min:
        errors.append(f"{where}: ends at {a.end_min} after horizon end {problem.horizon_end_min}")
    return errors


def _check_sequences(
    problem: Problem, assignments: tuple[Assignment, ...], actions: list[OperatorAction]
) -> list[str]:
    """Rules 5 and 7: release, previous print, maintenance."""
    turnaround_start = {o.task_id: o.start_min for o in actions}
    errors = []
    sequences = by_printer(problem, [a for a in assignments if _known(problem, a)])
    for printer in problem.printers:
        free_min = problem.initial_state(printer).free_from_min
        for a in sequences[printer.id]:
            u = turnaround_start[a.task_id]
            job = problem.task_by_id[a.task_id].job
            where = f"{a.task_id} on {printer.id}"
            if u < max(job.release_min, 0):
                errors.append(f"{where}: turnaround at {u} before release {job.release_min}")
            if u < free_min:
                errors.append(
                    f"{where}: turnaround at {u} before the printer is free at {free_min}"
                )
            for m in problem.maintenance_by_printer[printer.id]:
                if u < m.end_min and m.start_min < a.end_min:
                    errors.append(
                        f"{where}: [{u},{a.end_min}) overlaps maintenance "
                        f"[{m.start_min},{m.end_min})"
                    )
            free_min = a.end_min
    return errors


def _check_operators(problem: Problem, actions: list[OperatorAction]) -> list[str]:
    """Rule 6: turnarounds inside shifts, never more at once than operators on shift."""
    horizon = max([problem.horizon_end_min, *(o.end_min for o in actions)])
    cap = capacity_profile(problem.shifts, horizon)
    usage = np.zeros(horizon + 1, dtype=np.int64)
    errors = []
    for o in actions:
        if o.start_min < 0 or np.any(cap[o.start_min : o.end_min] <= 0):
            errors.append(
                f"{o.task_id} on {o.printer_id}: turnaround [{o.start_min},{o.end_min}) "
                "not inside operator shifts"
            )
        usage[max(o.start_min, 0)] += 1
        usage[max(o.end_min, 0)] -= 1
    over = np.flatnonzero((np.cumsum(usage)[:horizon] > cap) & (cap > 0))
    if over.size:
        t = int(over[0])
        errors.append(
            f"operators: {int(np.cumsum(usage)[t])} turnarounds at minute {t} "
            f"but {int(cap[t])} operator(s) on shift ({over.size} minutes over)"
        )
    return errors


def _check_declared_actions(
    declared: tuple[OperatorAction, ...], derived: list[OperatorAction]
) -> list[str]:
    expected = {o.task_id: o for o in derived}
    errors = []
    for o in declared:
        want = expected.get(o.task_id)
        if want is not None and (o.start_min, o.end_min, o.kinds) != (
            want.start_min,
            want.end_min,
            want.kinds,
        ):
            errors.append(
                f"{o.task_id}: operator action [{o.start_min},{o.end_min}) "
                f"but the rules imply [{want.start_min},{want.end_min})"
            )
    return errors
