"""Re-planning: jobs arrive, a print fails, a printer goes down - plan again, calmly.

:func:`advance` turns "the plan so far, now it is minute ``now_min``" into a fresh
:class:`Problem` with t = 0 at now: finished prints are gone, prints on the printers become
fixed ``running`` entries, failed ones are to be printed again (their part is on the bed),
and the rest of the previous plan comes back as a hint.  :func:`replan` then plans with
the near-term prints that are ready to go frozen, and frees them only if that gains a lot
of weighted tardiness.  A print is ready when its operator only has to start it: one that
waits on a filament swap or a bed clear nobody has done yet is never frozen, so a missing
operator action cannot hold a printer's queue (the service re-plans when it stays undone).

Frozen prints leave the problem before solving (:func:`without`): their printers become free
after them with their filament and an occupied bed, and their turnarounds take an operator
off the shifts.  Any plan of the rest, with the frozen prints added back, is then valid.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from farm.check import check_plan
from farm.derive import by_printer, make_plan
from farm.errors import ScheduleError
from farm.model import (
    ActionKind,
    Assignment,
    Job,
    Maintenance,
    OperatorAction,
    Plan,
    Problem,
    Running,
    Shift,
    Task,
)
from farm.shifts import capacity_profile
from farm.solve import repair_hint, solve

log = logging.getLogger(__name__)
# of a re-plan's time: planning around the kept prints; the rest checks what freeing them gains
STABLE_SHARE = 2 / 3


def add_jobs(problem: Problem, jobs: Iterable[Job]) -> Problem:
    """The problem with more jobs (new orders)."""
    return replace(problem, jobs=(*problem.jobs, *jobs))


def printer_down(problem: Problem, printer_id: str, start_min: int, end_min: int) -> Problem:
    """The problem with ``printer_id`` unavailable during ``[start_min, end_min)``."""
    down = Maintenance(printer_id, start_min, end_min, "down")
    return replace(problem, maintenance=(*problem.maintenance, down))


def _shift_windows(problem: Problem, now_min: int) -> tuple[tuple[Shift, ...], tuple]:
    shifts = tuple(
        Shift(max(s.start_min - now_min, 0), s.end_min - now_min, s.operators)
        for s in problem.shifts
        if s.end_min > now_min
    )
    maintenance = tuple(
        replace(m, start_min=max(m.start_min - now_min, 0), end_min=m.end_min - now_min)
        for m in problem.maintenance
        if m.end_min > now_min
    )
    return shifts, maintenance


def advance(
    problem: Problem, plan: Plan, now_min: int, failed: Iterable[str] = ()
) -> tuple[Problem, Plan]:
    """The problem at ``now_min`` if ``plan`` was followed, and the rest of it as a hint.

    ``failed``: task ids whose print failed (to print again; the failed part is on the bed).
    Copies still to print are renumbered ``#0..`` per job; the hint uses the new ids.
    """
    failed = set(failed)
    # an operator already turning a printer around commits its print: it counts as running
    begun = {o.task_id for o in plan.operator_actions if o.start_min < now_min} - failed
    done, running, pending = [], [], []
    for a in plan.assignments:
        if a.task_id in failed or (a.start_min >= now_min and a.task_id not in begun):
            pending.append(a)
        elif a.end_min <= now_min:
            done.append(a)
        else:
            running.append(a)
    started = [a for a in plan.assignments if a.start_min < now_min or a.task_id in begun]
    new_running = tuple(
        Running(a.task_id, a.printer_id, a.start_min - now_min, a.end_min - now_min,
                problem.task_by_id[a.task_id].job.filament)
        for a in running
    ) + tuple(
        replace(r, start_min=r.start_min - now_min, end_min=r.end_min - now_min)
        for r in problem.running
        if r.end_min > now_min
    )  # fmt: skip
    printers = tuple(
        _printer_at(problem, p, started, new_running, now_min) for p in problem.printers
    )
    jobs, renumber = _remaining_jobs(problem, {a.task_id for a in done + running}, now_min)
    shifts, maintenance = _shift_windows(problem, now_min)
    later = replace(
        problem,
        horizon_end_min=problem.horizon_end_min - now_min,
        printers=printers,
        jobs=jobs,
        shifts=shifts,
        maintenance=maintenance,
        running=new_running,
    )
    hint = [
        Assignment(renumber[a.task_id], a.printer_id, a.start_min - now_min, a.end_min - now_min)
        for a in pending
        if a.task_id not in failed and a.task_id in renumber
    ]
    return later, make_plan(later, hint, plan.solver)


def _printer_at(problem, printer, started, running, now_min):
    """A printer's state at ``now_min``: loaded filament, bed, free from (relative)."""
    mine = sorted((a for a in started if a.printer_id == printer.id), key=lambda a: a.start_min)
    loaded, bed_clear = printer.loaded, printer.bed_clear
    for r in problem.running:
        if r.printer_id == printer.id and r.start_min < now_min:
            loaded, bed_clear = r.filament, False
    if mine:
        loaded, bed_clear = problem.task_by_id[mine[-1].task_id].job.filament, False
    free = max([0, printer.available_from_min - now_min]
               + [r.end_min for r in running if r.printer_id == printer.id])  # fmt: skip
    return replace(printer, loaded=loaded, bed_clear=bed_clear, available_from_min=free)


def _remaining_jobs(
    problem: Problem, gone: set[str], now_min: int
) -> tuple[tuple[Job, ...], dict[str, str]]:
    """Jobs with their copies still to print (renumbered), and old -> new task ids."""
    jobs, renumber = [], {}
    for job in problem.jobs:
        left = [t for t in problem.tasks if t.job is job and t.id not in gone]
        if not left:
            continue
        for i, t in enumerate(left):
            renumber[t.id] = f"{job.id}#{i}"
        due = None if job.due_min is None else job.due_min - now_min
        jobs.append(replace(job, quantity=len(left), release_min=max(job.release_min - now_min, 0),
                            due_min=due))  # fmt: skip
    return tuple(jobs), renumber


def ready_prefix(
    problem: Problem,
    plan: Plan,
    stable_min: int,
    self_clearing: Iterable[str] = (),
    known: Iterable[str] | None = None,
) -> list[Assignment]:
    """Per printer, the plan's first prints whose turnaround starts before ``stable_min``,
    up to the first that waits on an operator action that has not happened: a filament
    swap or a bed clear on a printer that is free now (the clear of a printer in
    ``self_clearing`` does not count).  A swap or clear after a print still running, or
    after one of these, is not due yet; when that print ends the service plans again.
    ``known``: task ids planned before; the first other task also ends the prefix."""
    clears_itself = set(self_clearing)
    planned_before = None if known is None else set(known)
    action = {o.task_id: o for o in plan.operator_actions}
    sequences = by_printer(problem, plan.assignments)
    out = []
    for printer in problem.printers:
        waits_on = {ActionKind.SWAP}
        if printer.id not in clears_itself:
            waits_on.add(ActionKind.CLEAR)
        free_now = problem.initial_state(printer).free_from_min <= 0
        for a in sequences[printer.id]:
            turnaround = action[a.task_id]
            pending = free_now and bool(waits_on & set(turnaround.kinds))
            new = planned_before is not None and a.task_id not in planned_before
            if turnaround.start_min >= stable_min or pending or new:
                break
            out.append(a)
            free_now = False
    return out


def without(
    problem: Problem, fixed: list[Assignment], plan: Plan
) -> tuple[Problem, dict[str, str]]:
    """The problem left once ``fixed`` (the first prints of their printers in ``plan``) are
    certain, and new task id -> task id of ``problem`` for the prints still to place."""
    gone = {a.task_id for a in fixed}
    last: dict[str, Assignment] = {}
    for a in sorted(fixed, key=lambda a: a.end_min):
        last[a.printer_id] = a
    printers = tuple(
        replace(
            p,
            available_from_min=last[p.id].end_min,
            loaded=problem.task_by_id[last[p.id].task_id].job.filament,
            bed_clear=False,
        )
        if p.id in last
        else p
        for p in problem.printers
    )
    left: dict[str, list[Task]] = {}
    for task in problem.tasks:
        if task.id not in gone:
            left.setdefault(task.job.id, []).append(task)
    jobs, old_id = [], {}
    for job in problem.jobs:
        if job.id in left:
            jobs.append(replace(job, quantity=len(left[job.id])))
            old_id |= {f"{job.id}#{i}": t.id for i, t in enumerate(left[job.id])}
    taken = [o for o in plan.operator_actions if o.task_id in gone]
    rest = replace(
        problem,
        printers=printers,
        jobs=tuple(jobs),
        shifts=_shifts_minus(problem, taken),
        running=tuple(r for r in problem.running if r.printer_id not in last),
    )
    return rest, old_id


def _shifts_minus(problem: Problem, taken: list[OperatorAction]) -> tuple[Shift, ...]:
    """The shifts with one operator fewer during each turnaround of ``taken``."""
    if not taken:
        return problem.shifts
    horizon = max([problem.horizon_end_min, *(o.end_min for o in taken)])
    free = capacity_profile(problem.shifts, horizon)
    for o in taken:
        free[max(o.start_min, 0) : o.end_min] -= 1
    edges = [0, *(np.flatnonzero(np.diff(free)) + 1).tolist(), horizon]
    return tuple(
        Shift(start, end, int(free[start]))
        for start, end in itertools.pairwise(edges)
        if end > start and free[start] > 0
    )


def _stable_plan(
    problem: Problem,
    previous: Plan,
    time_limit_s: float,
    stable_min: int,
    self_clearing: Iterable[str],
    kw: dict,
) -> Plan | None:
    """The plan that keeps the ready near-term prints of ``previous`` (None: none to keep)."""
    try:
        kept = repair_hint(problem, previous)
    except ScheduleError as exc:  # the full solve says it better, or finds a way
        log.info("replan: the previous plan does not fit any more: %s", exc)
        return None
    known = [a.task_id for a in previous.assignments]
    fixed = ready_prefix(problem, kept, stable_min, self_clearing, known)
    if not fixed:
        return None
    rest_problem, old_id = without(problem, fixed, kept)
    rest = make_plan(rest_problem, [], kept.solver)
    if rest_problem.jobs:
        new_id = {old: new for new, old in old_id.items()}
        moved = [replace(a, task_id=new_id[a.task_id]) for a in kept.assignments
                 if a.task_id in new_id]  # fmt: skip
        hint = make_plan(rest_problem, moved, kept.solver)
        rest = solve(rest_problem, time_limit_s=time_limit_s, hint=hint, **kw)
    back = [replace(a, task_id=old_id[a.task_id]) for a in rest.assignments]
    stable = make_plan(problem, [*fixed, *back], rest.solver)
    errors = check_plan(problem, stable)
    if errors:  # not expected: any plan of the rest fits around the fixed prints
        log.error("replan: keeping the near-term prints gives an invalid plan: %s", errors[0])
        return None
    return stable


def replan(
    problem: Problem,
    previous: Plan,
    *,
    time_limit_s: float = 10,
    workers: int = 2,
    seed: int = 0,
    stable_min: int = 120,
    min_gain: float = 0.1,
    self_clearing: Iterable[str] = (),
) -> Plan:
    """Plan again from ``previous``: its first prints per printer whose turnaround starts
    within ``stable_min`` and needs no swap or clear (see :func:`ready_prefix`) keep
    printer, order and start unless freeing them cuts weighted tardiness by more than
    ``min_gain`` (a share) and at least an hour·weight.  The rest is hinted by ``previous``."""
    stable_s = STABLE_SHARE * time_limit_s
    kw = {"workers": workers, "seed": seed}
    stable = _stable_plan(problem, previous, stable_s, stable_min, self_clearing, kw)
    if stable is None:
        return solve(problem, time_limit_s=time_limit_s, hint=previous, **kw)
    free = solve(problem, time_limit_s=time_limit_s - stable_s, hint=stable, **kw)
    gain = stable.weighted_tardiness_min - free.weighted_tardiness_min
    if gain > max(60, min_gain * stable.weighted_tardiness_min):
        log.info("replan: moving near-term prints gains %d weight·min", gain)
        return free
    return stable
