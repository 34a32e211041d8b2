"""Re-planning: jobs arrive, a print fails, a printer goes down - plan again, calmly.

:func:`advance` turns "the plan so far, now it is minute ``now_min``" into a fresh
:class:`Problem` with t = 0 at now: finished prints are gone, prints on the printers become
fixed ``running`` entries, failed ones are to be printed again (their part is on the bed),
and the rest of the previous plan comes back as a hint.  :func:`replan` then plans with
the near-term prints (turnaround within ``stable_min``) frozen, and frees them only if
that gains a lot of weighted tardiness.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from farm.derive import make_plan
from farm.model import Assignment, Job, Maintenance, Plan, Problem, Running, Shift
from farm.solve import solve

log = logging.getLogger(__name__)


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


def replan(
    problem: Problem,
    previous: Plan,
    *,
    time_limit_s: float = 10,
    workers: int = 2,
    seed: int = 0,
    stable_min: int = 120,
    min_gain: float = 0.1,
) -> Plan:
    """Plan again from ``previous``: prints whose turnaround starts within ``stable_min``
    keep printer and time unless freeing them cuts weighted tardiness by more than
    ``min_gain`` (a share) and at least an hour·weight."""
    half = time_limit_s / 2
    kw = {"workers": workers, "seed": seed}
    stable = solve(problem, time_limit_s=half, hint=previous, freeze_before=stable_min, **kw)
    free = solve(problem, time_limit_s=half, hint=stable, **kw)
    gain = stable.weighted_tardiness_min - free.weighted_tardiness_min
    if gain > max(60, min_gain * stable.weighted_tardiness_min):
        log.info("replan: moving near-term prints gains %d weight·min", gain)
        return free
    return stable
