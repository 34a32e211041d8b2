"""The farm configuration (``farm.toml``): printers, operator shifts, scheduling, limits.

A user writes this file, so every model forbids unknown keys and errors name the
file and the dotted field (``printers.2.profile: no such printer profile``).
Without a file the embedded demo farm ``samples/farm.toml`` is used.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from printers.profiles import (
    ProfileError,
    load_material,
    load_printer,
    load_toml_model,
    material_names,
    printer_names,
)
from printers.virtual import FaultConfig
from samples import sample_path

DEMO_CONFIG = sample_path("farm.toml")
VIRTUAL_PORT = "virtual"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReplanPolicy(StrEnum):
    """When the dispatcher computes a new plan."""

    ON_CHANGE = "on_change"  # new jobs, finished/failed prints, printer errors, operator actions
    PERIODIC = "periodic"  # only every ``replan_interval_s``


class PrinterConfig(_Strict):
    """One printer of the farm."""

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str = ""
    profile: str
    port: str = Field(min_length=1, description="serial device path, or 'virtual'")
    baud: Annotated[int, Field(gt=0)] | Literal["auto"] | None = None  # None: the profile's
    material: str = "PLA"
    color: str = Field(default="black", min_length=1)
    self_clearing: bool = Field(default=False, description="demo: the bed clears itself")
    virtual_speed: Annotated[float, Field(gt=0)] = 1.0
    virtual_instant: bool = False
    virtual_faults: str = Field(default="", description="e.g. 'thermal_runaway=500'")

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in printer_names():
            raise ValueError(f"no such printer profile '{value}' (known: {printer_names()})")
        return value

    @field_validator("virtual_faults")
    @classmethod
    def _faults(cls, value: str) -> str:
        FaultConfig.parse(value)  # FaultSpecError is a ValueError: pydantic names the field
        return value

    @field_validator("material")
    @classmethod
    def _known_material(cls, value: str) -> str:
        if value not in material_names():
            raise ValueError(f"no such material '{value}' (known: {material_names()})")
        return value

    @property
    def is_virtual(self) -> bool:
        return self.port == VIRTUAL_PORT

    @property
    def display_name(self) -> str:
        return self.name or self.id


class ShiftConfig(_Strict):
    """A weekly shift: on these days, from ``start`` to ``end`` local time."""

    days: tuple[str, ...] = WEEKDAYS
    start: str = "08:00"
    end: str = "16:00"
    operators: Annotated[int, Field(ge=1, le=100)] = 1

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [day for day in value if day not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown day(s) {bad} (use {list(WEEKDAYS)})")
        return value

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"'{value}' is not a time of day HH:MM")
        return value

    def minutes(self, which: str) -> int:
        hours, minutes = getattr(self, which).split(":")
        return int(hours) * 60 + int(minutes)


class OperatorsConfig(_Strict):
    """Operator presence: always, or a weekly pattern of shifts in a time zone."""

    timezone: str = "UTC"
    always_present: bool = False
    operators: Annotated[int, Field(ge=1, le=100)] = 1  # when always_present
    shifts: tuple[ShiftConfig, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value

    @model_validator(mode="after")
    def _some_presence(self) -> OperatorsConfig:
        if not self.always_present and not self.shifts:
            raise ValueError("give shifts or set always_present = true")
        return self


class SchedulingConfig(_Strict):
    time_limit_s: Annotated[float, Field(gt=0, le=600)] = 5.0
    workers: Annotated[int, Field(ge=1, le=16)] = 1
    replan: ReplanPolicy = ReplanPolicy.ON_CHANGE
    replan_interval_s: Annotated[float, Field(gt=0)] = 300.0
    horizon_days: Annotated[int, Field(ge=1, le=60)] = 14
    start_min: Annotated[int, Field(ge=1)] = 5  # every turnaround takes a minute at least
    clear_min: Annotated[int, Field(ge=0)] = 5
    swap_min: Annotated[int, Field(ge=0)] = 15
    max_attempts: Annotated[int, Field(ge=1)] = 3
    # prints about to start (turnaround within this many minutes) that need no swap or clear
    # keep printer and order when the farm re-plans, unless moving them gains a lot
    stable_min: Annotated[int, Field(ge=0)] = 120
    # a filament request unanswered this long is late: the printer goes on with what it has
    # loaded until somebody comes (default: start_min + swap_min, the plan's turnaround)
    late_after_min: Annotated[float, Field(ge=0)] | None = None


class FarmConfig(_Strict):
    name: str = "farm"
    data_dir: str | None = None
    database_url: str | None = None
    upload_limit_mb: Annotated[float, Field(gt=0)] = 200.0
    slicer_workers: Annotated[int, Field(ge=1, le=32)] = 1
    printers: tuple[PrinterConfig, ...] = Field(min_length=1)
    operators: OperatorsConfig = OperatorsConfig(always_present=True)
    scheduling: SchedulingConfig = SchedulingConfig()

    @model_validator(mode="after")
    def _unique_ids(self) -> FarmConfig:
        seen: set[str] = set()
        for printer in self.printers:
            if printer.id in seen:
                raise ValueError(f"printer id '{printer.id}' appears twice")
            seen.add(printer.id)
        return self

    @property
    def upload_limit_bytes(self) -> int:
        return int(self.upload_limit_mb * 1024 * 1024)

    def printer(self, printer_id: str) -> PrinterConfig | None:
        return next((p for p in self.printers if p.id == printer_id), None)


def load_config(path: Path | str | None = None) -> FarmConfig:
    """Read and validate a farm.toml (the demo farm when ``path`` is None).

    Raises ProfileError naming the file and the field.
    """
    path = Path(path) if path is not None else DEMO_CONFIG
    config = load_toml_model(path, FarmConfig)
    for index, printer in enumerate(config.printers):
        profile = load_printer(printer.profile)
        if printer.material not in profile.materials:
            raise ProfileError(
                path,
                f"{profile.name} cannot print {printer.material} (it takes {profile.materials})",
                f"printers.{index}.material",
            )
        load_material(printer.material)
    return config


def shift_windows(
    operators: OperatorsConfig, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, int]]:
    """Operator presence between two aware UTC datetimes, as sorted disjoint UTC windows.

    Overlapping shifts add their operators; touching windows with equal counts merge.
    """
    if operators.always_present:
        return [(start, end, operators.operators)]
    zone = ZoneInfo(operators.timezone)
    edges: list[tuple[dt.datetime, int]] = []
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    while dt.datetime.combine(day, dt.time(), zone) < end:
        weekday = WEEKDAYS[day.weekday()]
        midnight = dt.datetime.combine(day, dt.time(), zone)
        for shift in operators.shifts:
            if weekday not in shift.days:
                continue
            begin_min, end_min = shift.minutes("start"), shift.minutes("end")
            if end_min <= begin_min:  # a night shift runs past midnight
                end_min += 24 * 60
            edges.append((midnight + dt.timedelta(minutes=begin_min), shift.operators))
            edges.append((midnight + dt.timedelta(minutes=end_min), -shift.operators))
        day += dt.timedelta(days=1)
    return _windows_from_edges(edges, start, end)


def _windows_from_edges(
    edges: list[tuple[dt.datetime, int]], start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, int]]:
    edges = sorted((t.astimezone(dt.UTC), delta) for t, delta in edges)
    if not edges:
        return []
    windows: list[tuple[dt.datetime, dt.datetime, int]] = []
    count = 0
    for (time, delta), following in zip(edges, [*edges[1:], (None, 0)], strict=True):
        count += delta
        next_time = following[0]
        if next_time is None or count <= 0 or next_time <= time:
            continue
        lo, hi = max(time, start), min(next_time, end)
        if lo >= hi:
            continue
        if windows and windows[-1][1] == lo and windows[-1][2] == count:
            windows[-1] = (windows[-1][0], hi, count)
        else:
            windows.append((lo, hi, count))
    return windows


def operators_at(operators: OperatorsConfig, when: dt.datetime) -> int:
    """How many operators are present at ``when`` (aware datetime)."""
    windows = shift_windows(operators, when, when + dt.timedelta(seconds=1))
    return windows[0][2] if windows else 0
