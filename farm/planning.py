"""The adapter between the farm's state and the scheduler.

Wall-clock time becomes the scheduler's integer minutes here and nowhere else: t = 0 is
``now`` rounded down to the minute.  :func:`build_problem` turns queued prints, printer states
and operator shifts into a :class:`farm.model.Problem`; :func:`plan_view` turns the solver's
:class:`farm.model.Plan` back into the API's plan and operator to-do list.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from farm import model as m
from farm.config import FarmConfig, SchedulingConfig, shift_windows
from farm.db import PLANNABLE, JobRow
from farm.derive import make_plan
from farm.queue import iso
from farm.service_printers import FarmPrinter, FarmPrinterState

NOZZLE_MM = 0.4  # eligibility is by printer model (a slice exists), not by nozzle here


@dataclass
class FarmSnapshot:
    """What a plan is built from: a consistent copy taken on the event loop."""

    t0: dt.datetime
    printers: list[FarmPrinter]
    jobs: list[JobRow]
    running: dict[str, tuple[str, float, float]] = field(default_factory=dict)
    # printer id -> (print id, elapsed_s, remaining_s)


@dataclass
class Mapping:
    """Task ids of the problem <-> the farm's print ids."""

    task_to_print: dict[str, str] = field(default_factory=dict)
    print_to_job: dict[str, JobRow] = field(default_factory=dict)


def minute_floor(when: dt.datetime) -> dt.datetime:
    return when.replace(second=0, microsecond=0)


def to_min(t0: dt.datetime, when: dt.datetime) -> int:
    return math.ceil((when - t0).total_seconds() / 60)


def to_time(t0: dt.datetime, minute: int) -> dt.datetime:
    return t0 + dt.timedelta(minutes=minute)


def pace_key(p: FarmPrinter) -> str:
    """The scheduler's model of a printer: its profile, and for a sped-up virtual printer its
    speed-up too (the scheduler keys durations by model: ``ender3``, ``ender3@x30``)."""
    factor = p.time_factor
    return p.profile.name if factor == 1.0 else f"{p.profile.name}@x{factor:g}"


@dataclass(frozen=True)
class Pace:
    """How the scheduler's model of a printer (:func:`model_key`) prints: its profile's
    G-code, ``factor`` times faster; ``only`` this filament if its operator is late."""

    profile: str
    factor: float
    only: m.Filament | None = None


def model_key(p: FarmPrinter, late: bool = False) -> str:
    """:func:`pace_key`, or a model of its own for a printer whose operator is late."""
    return f"{pace_key(p)} late on {p.id}" if late else pace_key(p)


def late_for_a_load(printers: list[FarmPrinter], params: SchedulingConfig) -> set[str]:
    """Printers whose filament request has waited longer than the turnaround a plan gives a
    swap: the operator is late, so until somebody comes a printer is planned with what it
    has loaded and never holds its queue for a swap that does not happen."""
    late_min = params.late_after_min
    limit_s = 60 * (params.start_min + params.swap_min if late_min is None else late_min)
    return {p.id for p in printers if p.wanted is not None and p.waiting_s() > limit_s}


def _printer(p: FarmPrinter, free_from_min: int = 0, late: bool = False) -> m.Printer:
    prof = p.profile
    return m.Printer(
        id=p.id,
        model=model_key(p, late),
        nozzle_mm=NOZZLE_MM,
        build_mm=(int(prof.bed_x_mm), int(prof.bed_y_mm), int(prof.max_z_mm)),
        enclosed=prof.enclosed,
        materials=tuple(prof.materials),
        loaded=m.Filament(p.material, p.color),
        available_from_min=free_from_min,
        bed_clear=p.bed_clear,
    )


def planned_min(duration_s: float, time_factor: float) -> int:
    """Whole minutes a print of the slicer's ``duration_s`` takes on a printer that prints
    ``time_factor`` times faster (a sped-up virtual printer; 1 for a real one); at least 1."""
    return max(1, math.ceil(duration_s / time_factor / 60))


def paces(printers: list[FarmPrinter], late: set[str] | None = None) -> dict[str, Pace]:
    """Scheduler model (:func:`model_key`) -> its :class:`Pace`."""
    late = late or set()
    return {
        model_key(p, p.id in late): Pace(
            p.profile.name,
            p.time_factor,
            m.Filament(p.material, p.color) if p.id in late else None,
        )
        for p in printers
    }


def _job(job: JobRow, quantity: int, t0: dt.datetime, pace: dict[str, Pace]) -> m.Job:
    bbox = (0, 0, 0)
    if job.slices:
        s = job.slices[0]
        bbox = tuple(math.floor(v) for v in (s.bbox_x_mm, s.bbox_y_mm, s.bbox_z_mm))
    filament = m.Filament(job.material, job.color)
    return m.Job(
        id=job.id,
        material=job.material,
        color=job.color,
        nozzle_mm=NOZZLE_MM,
        bbox_mm=bbox,  # type: ignore[arg-type]
        quantity=quantity,
        weight=job.priority,
        release_min=0,
        due_min=max(0, to_min(t0, job.due)) if job.due is not None else None,
        durations_min={
            key: planned_min(s.duration_s, p.factor)
            for key, p in pace.items()
            for s in job.slices
            if s.printer_model == p.profile and p.only in (None, filament)
        },
    )


def _running(
    snap: FarmSnapshot, usable: list[FarmPrinter]
) -> tuple[tuple[m.Running, ...], dict[str, int]]:
    """The prints on usable printers now, and when a self-clearing printer is free: its print
    is not a running print to the scheduler (that leaves a part on the bed to clear), the
    printer is just busy until it ends, its bed clear."""
    running, free_from = [], {}
    for printer in usable:
        if printer.id not in snap.running:
            continue
        print_id, elapsed_s, remaining_s = snap.running[printer.id]
        end_min = max(1, math.ceil(remaining_s / 60))
        if printer.config.self_clearing:
            free_from[printer.id] = end_min
            continue
        filament = m.Filament(printer.material, printer.color)
        start_min = -math.ceil(elapsed_s / 60)
        running.append(m.Running(print_id, printer.id, start_min, end_min, filament))
    return tuple(running), free_from


def build_problem(config: FarmConfig, snap: FarmSnapshot) -> tuple[m.Problem, Mapping]:
    """The scheduling problem for the farm at ``snap.t0`` and the task/print mapping."""
    t0 = snap.t0
    params = config.scheduling
    horizon_min = params.horizon_days * 24 * 60
    usable = [
        p
        for p in snap.printers
        if p.state() not in (FarmPrinterState.ERROR, FarmPrinterState.OFFLINE) and not p.maintenance
    ]
    running, free_from = _running(snap, usable)
    late = late_for_a_load(usable, params)
    printers = tuple(_printer(p, free_from.get(p.id, 0), p.id in late) for p in usable)
    pace = paces(usable, late)
    mapping = Mapping()
    jobs: list[m.Job] = []
    for job in snap.jobs:
        waiting = [p for p in job.prints if p.state in PLANNABLE]
        if not waiting or not job.slices:
            continue
        candidate = _job(job, len(waiting), t0, pace)
        if not any(pr.can_print(candidate) for pr in printers):
            continue  # no usable printer now: it waits, unplanned
        jobs.append(candidate)
        for index, row in enumerate(waiting):
            mapping.task_to_print[f"{job.id}#{index}"] = row.id
            mapping.print_to_job[row.id] = job
    shifts = tuple(
        m.Shift(max(0, to_min(t0, start)), min(horizon_min, to_min(t0, end)), count)
        for start, end, count in shift_windows(
            config.operators, t0, t0 + dt.timedelta(minutes=horizon_min)
        )
    )
    problem = m.Problem(
        name=config.name,
        horizon_end_min=horizon_min,
        params=m.Params(params.start_min, params.clear_min, params.swap_min),
        printers=printers,
        jobs=tuple(jobs),
        shifts=tuple(s for s in shifts if s.end_min > s.start_min),
        running=running,
        horizon_start=t0.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    return problem, mapping


@dataclass
class FarmPlan:
    """A solved plan with what it needs to be read back: its t0 and the task mapping."""

    t0: dt.datetime
    generated: dt.datetime
    problem: m.Problem
    plan: m.Plan
    mapping: Mapping

    def queue_for(self, printer_id: str) -> list[str]:
        """Print ids the plan gives this printer, in start order."""
        rows = [a for a in self.plan.assignments if a.printer_id == printer_id]
        rows.sort(key=lambda a: a.start_min)
        return [self.mapping.task_to_print[a.task_id] for a in rows]


def carry_over(previous: FarmPlan | None, problem: m.Problem, mapping: Mapping) -> m.Plan | None:
    """The previous plan in the terms of a new problem (its task ids, its t = 0), as the
    solver's hint: what stays the same keeps its printer and order."""
    if previous is None:
        return None
    t0 = dt.datetime.fromisoformat(problem.horizon_start).replace(tzinfo=dt.UTC)
    shift_min = round((t0 - previous.t0).total_seconds() / 60)
    task_of = {print_id: task_id for task_id, print_id in mapping.task_to_print.items()}
    moved = []
    for a in previous.plan.assignments:
        task_id = task_of.get(previous.mapping.task_to_print.get(a.task_id, ""))
        if task_id is None or a.printer_id not in problem.printer_by_id:
            continue
        start = max(0, a.start_min - shift_min)
        moved.append(m.Assignment(task_id, a.printer_id, start, start + a.end_min - a.start_min))
    return make_plan(problem, moved, "previous plan") if moved else None


def _todo(fp: FarmPlan, running: set[str], clears_itself: set[str]) -> list[dict[str, Any]]:
    """The plan's operator actions, oldest first; a self-clearing printer's bed needs none
    (the scheduler still counts a clear between its prints: ``clear_min`` of slack)."""
    out: list[dict[str, Any]] = []
    for action in sorted(fp.plan.operator_actions, key=lambda a: (a.start_min, a.printer_id)):
        print_id = fp.mapping.task_to_print[action.task_id]
        if print_id in running:
            continue
        job = fp.mapping.print_to_job[print_id]
        at = iso(to_time(fp.t0, action.start_min))
        base = {"at": at, "printer_id": action.printer_id, "job_id": job.id}
        base |= {"material": job.material, "color": job.color}
        p = action.printer_id
        for kind in action.kinds:
            if kind is m.ActionKind.CLEAR and p not in clears_itself:
                out.append(base | {"kind": "clear", "text": f"clear the bed of {p}"})
            elif kind is m.ActionKind.SWAP:
                text = f"load {job.material} {job.color} into {p}"
                out.append(base | {"kind": "load", "text": text})
        out.append(base | {"kind": "start", "text": f"start {print_id} ({job.name}) on {p}"})
    return out


def _bed_todo(snap: FarmSnapshot) -> list[dict[str, Any]]:
    """Beds that need clearing now (a part on them, or an interrupted print)."""
    return [
        {
            "at": iso(snap.t0),
            "printer_id": p.id,
            "kind": "clear",
            "job_id": "",
            "material": p.material,
            "color": p.color,
            "text": p.message or f"clear the bed of {p.id}",
        }
        for p in snap.printers
        if not p.bed_clear and p.current is None
    ]


def plan_view(
    fp: FarmPlan | None,
    snap: FarmSnapshot,
    config: FarmConfig,
) -> dict[str, Any]:
    """The API's plan (api/API.md), including running prints and the operator to-do list."""
    by_printer: dict[str, list[dict[str, Any]]] = {p.id: [] for p in snap.printers}
    now = dt.datetime.now(dt.UTC)  # t0 is a whole minute; running prints are to the second
    due_of = {job.id: job.due for job in snap.jobs}
    for printer in snap.printers:
        current = printer.current
        if current is not None and printer.id in snap.running:
            _pid, elapsed_s, remaining_s = snap.running[printer.id]
            end = now + dt.timedelta(seconds=remaining_s)
            due = due_of.get(current.job_id)
            by_printer[printer.id].append(
                {
                    "print_id": current.print_id,
                    "job_id": current.job_id,
                    "name": current.name,
                    "material": printer.material,
                    "color": printer.color,
                    "start": iso(now - dt.timedelta(seconds=elapsed_s)),
                    "end": iso(end),
                    "due": iso(due),
                    "tardy": due is not None and end > due,
                    "state": "printing",
                }
            )
    objective = {"weighted_tardiness_min": 0, "makespan_min": 0}
    todo: list[dict[str, Any]] = []
    if fp is not None:
        objective = {
            "weighted_tardiness_min": fp.plan.weighted_tardiness_min,
            "makespan_min": fp.plan.makespan_min,
        }
        running = {print_id for print_id, _e, _r in snap.running.values()}
        for a in fp.plan.assignments:
            print_id = fp.mapping.task_to_print[a.task_id]
            if print_id in running:
                continue  # started since the plan was made: shown as printing above
            job = fp.mapping.print_to_job[print_id]
            end = to_time(fp.t0, a.end_min)
            by_printer.setdefault(a.printer_id, []).append(
                {
                    "print_id": print_id,
                    "job_id": job.id,
                    "name": job.name,
                    "material": job.material,
                    "color": job.color,
                    "start": iso(to_time(fp.t0, a.start_min)),
                    "end": iso(end),
                    "due": iso(job.due),
                    "tardy": job.due is not None and end > job.due,
                    "state": "scheduled",
                }
            )
        clears_itself = {p.id for p in config.printers if p.self_clearing}
        todo = _todo(fp, running, clears_itself)
    todo = _bed_todo(snap) + todo
    return {
        "generated": iso(fp.generated if fp else snap.t0),
        "solver": _solver_name(fp),
        "objective": objective,
        "printers": [{"printer_id": pid, "prints": prints} for pid, prints in by_printer.items()],
        "shifts": shifts_view(config, snap.t0),
        "todo": todo,
    }


def shifts_view(config: FarmConfig, now: dt.datetime, days: int = 7) -> list[dict[str, Any]]:
    windows = shift_windows(config.operators, now, now + dt.timedelta(days=days))
    return [{"start": iso(s), "end": iso(e), "operators": n} for s, e, n in windows]


def _solver_name(fp: FarmPlan | None) -> str:
    if fp is None:
        return "greedy"
    return "greedy" if "greedy" in fp.plan.solver.lower() else "cp-sat"
