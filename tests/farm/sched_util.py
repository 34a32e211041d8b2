"""Helpers for the scheduler tests: data paths and hand-made tiny instances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from farm.check import check_plan
from farm.model import Plan, Problem

DATA = Path(__file__).parent / "data"


def printer(pid: str, **over: Any) -> dict[str, Any]:
    base = {
        "id": pid, "model": "m1", "nozzle_mm": 0.4, "build_mm": [250, 250, 250],
        "enclosed": True, "materials": ["PLA", "PETG", "ABS"],
        "loaded": {"material": "PLA", "color": "black"}, "available_from": 0, "bed_clear": True,
    }  # fmt: skip
    return {**base, **over}


def job(jid: str, minutes: int, **over: Any) -> dict[str, Any]:
    base = {
        "id": jid, "material": "PLA", "color": "black", "nozzle_mm": 0.4,
        "bbox_mm": [50, 50, 50], "quantity": 1, "weight": 1, "release": 0, "due": None,
        "durations": {"m1": minutes, "m2": minutes},
    }  # fmt: skip
    return {**base, **over}


def instance(printers: list, jobs: list, **over: Any) -> dict[str, Any]:
    """A FORMAT.md instance dict; by default one operator on shift all the time."""
    base = {
        "format": "printfarm-sched/1", "name": "tiny", "horizon_end": 2000,
        "params": {"start_min": 5, "clear_min": 5, "swap_min": 15},
        "printers": printers, "jobs": jobs,
        "shifts": [{"start": 0, "end": 2000, "operators": 1}],
        "maintenance": [], "running": [],
    }  # fmt: skip
    return {**base, **over}


def assert_valid(problem: Problem, plan: Plan) -> Plan:
    errors = check_plan(problem, plan)
    assert errors == [], errors
    return plan
