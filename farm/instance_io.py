"""Read and write FORMAT.md instances (``printfarm-sched/1``) and plans (``...-solution/1``).

Loading validates every field; a bad one raises :class:`ScheduleError` naming the job,
printer or field, e.g. ``job J0007: field 'due' must be an integer or null, got '3pm'``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from farm.derive import make_plan
from farm.errors import ScheduleError
from farm.model import (
    Assignment,
    Filament,
    Job,
    Maintenance,
    Params,
    Plan,
    Printer,
    Problem,
    Running,
    Shift,
)

INSTANCE_FORMAT = "printfarm-sched/1"
SOLUTION_FORMAT = "printfarm-sched-solution/1"
_MISSING = object()


def _read_json(source: str | Path | Mapping[str, Any], what: str) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    try:
        with open(source, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise ScheduleError(f"{source}: cannot read {what}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ScheduleError(f"{source}: not JSON: line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ScheduleError(f"{source}: a {what} must be a JSON object")
    return data


def _field(data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> Any:
    if not isinstance(data, Mapping):
        raise ScheduleError(f"{where}: must be an object")
    if key not in data:
        if default is _MISSING:
            raise ScheduleError(f"{where}: missing field '{key}'")
        return default
    return data[key]


def _int(data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> int:
    value = _field(data, key, where, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ScheduleError(f"{where}: field '{key}' must be an integer, got {value!r}")
    return value


def _num(data: Mapping[str, Any], key: str, where: str) -> float:
    value = _field(data, key, where)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise ScheduleError(f"{where}: field '{key}' must be a positive number, got {value!r}")
    return float(value)


def _str(data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> str:
    value = _field(data, key, where, default)
    if not isinstance(value, str) or not value:
        raise ScheduleError(f"{where}: field '{key}' must be a non-empty string, got {value!r}")
    return value


def _list(data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> list:
    value = _field(data, key, where, default)
    if not isinstance(value, list):
        raise ScheduleError(f"{where}: field '{key}' must be a list")
    return value


def _mm3(data: Mapping[str, Any], key: str, where: str) -> tuple[int, int, int]:
    value = _field(data, key, where)
    ok = isinstance(value, list) and len(value) == 3
    if not ok or not all(isinstance(v, int | float) and v > 0 for v in value):
        raise ScheduleError(f"{where}: field '{key}' must be 3 positive numbers (x y z mm)")
    return (value[0], value[1], value[2])


def _filament(data: Mapping[str, Any], key: str, where: str) -> Filament:
    spool = _field(data, key, where)
    inner = f"{where} field '{key}'"
    return Filament(_str(spool, "material", inner), _str(spool, "color", inner))


def _printer(raw: Mapping[str, Any], index: int) -> Printer:
    pid = _str(raw, "id", f"printers[{index}]")
    where = f"printer {pid}"
    materials = _list(raw, "materials", where)
    if not all(isinstance(m, str) for m in materials):
        raise ScheduleError(f"{where}: field 'materials' must be a list of strings")
    bed_clear = _field(raw, "bed_clear", where, True)
    if not isinstance(bed_clear, bool):
        raise ScheduleError(f"{where}: field 'bed_clear' must be true or false")
    return Printer(
        id=pid,
        model=_str(raw, "model", where),
        nozzle_mm=_num(raw, "nozzle_mm", where),
        build_mm=_mm3(raw, "build_mm", where),
        enclosed=bool(raw.get("enclosed", False)),
        materials=tuple(materials),
        loaded=_filament(raw, "loaded", where),
        available_from_min=_int(raw, "available_from", where, 0),
        bed_clear=bed_clear,
    )


def _job(raw: Mapping[str, Any], index: int) -> Job:
    jid = _str(raw, "id", f"jobs[{index}]")
    where = f"job {jid}"
    due = _field(raw, "due", where, None)
    if due is not None and (not isinstance(due, int) or isinstance(due, bool)):
        raise ScheduleError(f"{where}: field 'due' must be an integer or null, got {due!r}")
    durations = _field(raw, "durations", where)
    if not isinstance(durations, Mapping) or not durations:
        raise ScheduleError(f"{where}: field 'durations' must map printer models to minutes")
    for model, minutes in durations.items():
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
            raise ScheduleError(f"{where}: duration on {model} must be a positive integer")
    job = Job(
        id=jid,
        material=_str(raw, "material", where),
        color=_str(raw, "color", where),
        nozzle_mm=_num(raw, "nozzle_mm", where),
        bbox_mm=_mm3(raw, "bbox_mm", where),
        quantity=_int(raw, "quantity", where, 1),
        weight=_int(raw, "weight", where, 1),
        release_min=_int(raw, "release", where, 0),
        due_min=due,
        durations_min=dict(durations),
    )
    if job.quantity < 1 or job.weight < 0 or job.release_min < 0:
        raise ScheduleError(f"{where}: quantity >= 1, weight >= 0 and release >= 0 are required")
    return job


def _shift(raw: Mapping[str, Any], index: int) -> Shift:
    where = f"shifts[{index}]"
    shift = Shift(_int(raw, "start", where), _int(raw, "end", where), _int(raw, "operators", where))
    if shift.end_min <= shift.start_min or shift.operators < 1:
        raise ScheduleError(f"{where}: needs start < end and operators >= 1")
    return shift


def _maintenance(raw: Mapping[str, Any], index: int) -> Maintenance:
    where = f"maintenance[{index}]"
    return Maintenance(
        printer_id=_str(raw, "printer", where),
        start_min=_int(raw, "start", where),
        end_min=_int(raw, "end", where),
        reason=str(raw.get("reason", "")),
    )


def _running(raw: Mapping[str, Any], index: int) -> Running:
    where = f"running[{index}]"
    return Running(
        task_id=_str(raw, "task", where),
        printer_id=_str(raw, "printer", where),
        start_min=_int(raw, "start", where),
        end_min=_int(raw, "end", where),
        filament=Filament(_str(raw, "material", where), _str(raw, "color", where)),
    )


def _check_references(problem: Problem) -> None:
    ids = [p.id for p in problem.printers]
    if len(set(ids)) != len(ids):
        raise ScheduleError("printers: duplicate printer id")
    job_ids = [j.id for j in problem.jobs]
    if len(set(job_ids)) != len(job_ids):
        raise ScheduleError("jobs: duplicate job id")
    for item in (*problem.maintenance, *problem.running):
        if item.printer_id not in problem.printer_by_id:
            raise ScheduleError(f"{type(item).__name__.lower()}: unknown printer {item.printer_id}")
    shifts = sorted(problem.shifts, key=lambda s: s.start_min)
    for a, b in itertools.pairwise(shifts):
        if b.start_min < a.end_min:
            raise ScheduleError(f"shifts: [{a.start_min},{a.end_min}) overlaps [{b.start_min},...)")


def load_problem(source: str | Path | Mapping[str, Any]) -> Problem:
    """A validated :class:`Problem` from a FORMAT.md instance file or its parsed dict."""
    data = _read_json(source, "instance")
    fmt = data.get("format", INSTANCE_FORMAT)
    if fmt != INSTANCE_FORMAT:
        raise ScheduleError(f"field 'format': expected {INSTANCE_FORMAT!r}, got {fmt!r}")
    params_raw = _field(data, "params", "instance")
    params = Params(
        _int(params_raw, "start_min", "params"),
        _int(params_raw, "clear_min", "params"),
        _int(params_raw, "swap_min", "params"),
    )
    problem = Problem(
        name=str(data.get("name", "")),
        horizon_end_min=_int(data, "horizon_end", "instance"),
        params=params,
        printers=tuple(_printer(p, i) for i, p in enumerate(_list(data, "printers", "instance"))),
        jobs=tuple(_job(j, i) for i, j in enumerate(_list(data, "jobs", "instance"))),
        shifts=tuple(_shift(s, i) for i, s in enumerate(_list(data, "shifts", "instance", []))),
        maintenance=tuple(
            _maintenance(m, i) for i, m in enumerate(_list(data, "maintenance", "instance", []))
        ),
        running=tuple(_running(r, i) for i, r in enumerate(_list(data, "running", "instance", []))),
        horizon_start=str(data.get("horizon_start", "")),
        meta={k: data[k] for k in ("size", "seed", "shift_pattern", "printer_models") if k in data},
    )
    _check_references(problem)
    return problem


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The FORMAT.md instance dict of a problem (``load_problem`` reads it back equal)."""
    p = problem.params
    return {
        "format": INSTANCE_FORMAT,
        "name": problem.name,
        **{k: v for k, v in problem.meta.items() if k in ("size", "seed")},
        "time_unit": "minute",
        "horizon_start": problem.horizon_start,
        "horizon_end": problem.horizon_end_min,
        **{k: v for k, v in problem.meta.items() if k not in ("size", "seed")},
        "params": {"start_min": p.start_min, "clear_min": p.clear_min, "swap_min": p.swap_min},
        "printers": [_printer_dict(pr) for pr in problem.printers],
        "shifts": [
            {"start": s.start_min, "end": s.end_min, "operators": s.operators}
            for s in problem.shifts
        ],
        "maintenance": [
            {"printer": m.printer_id, "start": m.start_min, "end": m.end_min, "reason": m.reason}
            for m in problem.maintenance
        ],
        "running": [
            {
                "task": r.task_id,
                "printer": r.printer_id,
                "start": r.start_min,
                "end": r.end_min,
                "material": r.filament.material,
                "color": r.filament.color,
            }
            for r in problem.running
        ],
        "jobs": [_job_dict(j) for j in problem.jobs],
    }


def _printer_dict(p: Printer) -> dict[str, Any]:
    return {
        "id": p.id,
        "model": p.model,
        "nozzle_mm": p.nozzle_mm,
        "build_mm": list(p.build_mm),
        "enclosed": p.enclosed,
        "materials": list(p.materials),
        "loaded": {"material": p.loaded.material, "color": p.loaded.color},
        "available_from": p.available_from_min,
        "bed_clear": p.bed_clear,
    }


def _job_dict(j: Job) -> dict[str, Any]:
    return {
        "id": j.id,
        "material": j.material,
        "color": j.color,
        "nozzle_mm": j.nozzle_mm,
        "bbox_mm": list(j.bbox_mm),
        "quantity": j.quantity,
        "weight": j.weight,
        "release": j.release_min,
        "due": j.due_min,
        "durations": dict(j.durations_min),
    }


def plan_to_dict(plan: Plan, problem: Problem) -> dict[str, Any]:
    """The FORMAT.md solution dict of a plan, with its operator actions."""
    return {
        "format": SOLUTION_FORMAT,
        "instance": problem.name,
        "solver": plan.solver,
        "assignments": [
            {"task": a.task_id, "printer": a.printer_id, "start": a.start_min, "end": a.end_min}
            for a in plan.assignments
        ],
        "operator_actions": [
            {
                "task": o.task_id,
                "printer": o.printer_id,
                "start": o.start_min,
                "end": o.end_min,
                "kinds": [k.value for k in o.kinds],
            }
            for o in plan.operator_actions
        ],
    }


def load_plan(source: str | Path | Mapping[str, Any], problem: Problem) -> Plan:
    """A :class:`Plan` from a FORMAT.md solution; actions and metrics are re-derived.

    Only the structure is validated here; :func:`farm.check.check_plan` judges the rules.
    """
    data = _read_json(source, "solution")
    assignments = []
    for i, raw in enumerate(_list(data, "assignments", "solution")):
        where = f"assignments[{i}]"
        task_id = _str(raw, "task", where)
        if task_id not in problem.task_by_id:
            raise ScheduleError(f"{where}: unknown task {task_id}")
        printer_id = _str(raw, "printer", f"task {task_id}")
        if printer_id not in problem.printer_by_id:
            raise ScheduleError(f"task {task_id}: unknown printer {printer_id}")
        start, end = _int(raw, "start", f"task {task_id}"), _int(raw, "end", f"task {task_id}")
        assignments.append(Assignment(task_id, printer_id, start, end))
    return make_plan(problem, assignments, str(data.get("solver", "unknown")))


def write_json(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write a dict as compact, deterministic JSON."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
        handle.write("\n")
