"""Request and response bodies of the REST API (api/API.md): Create schemas for what clients
send, Public schemas for what the farm answers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Public(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Estimate(_Public):
    duration_s: int
    filament_g: float


class PrintPublic(_Public):
    id: str
    copy_number: int = Field(validation_alias="copy", serialization_alias="copy")
    state: str
    printer_id: str | None
    progress: float
    attempts: int
    started: str | None
    finished: str | None


class JobPublic(_Public):
    id: str
    name: str
    state: str
    source: str
    copies: int
    copies_done: int
    material: str
    color: str
    priority: int
    due: str | None
    created: str
    error: str | None
    preview_url: str | None
    estimates: dict[str, Estimate]
    prints: list[PrintPublic]


class JobList(_Public):
    jobs: list[JobPublic]


class Temp(_Public):
    actual: float | None
    target: float | None


class CurrentPublic(_Public):
    job_id: str
    print_id: str
    name: str
    progress: float
    layer: int | None
    layers: int | None
    elapsed_s: int | None
    remaining_s: int | None


class RequestPublic(_Public):
    kind: str
    material: str | None
    color: str | None
    print_id: str | None


class PrinterPublic(_Public):
    id: str
    name: str
    profile: str
    model: str
    state: str
    connection: str
    message: str | None
    temps: dict[str, Temp]
    material: str
    color: str
    color_hex: str
    bed_clear: bool
    request: RequestPublic | None
    current: CurrentPublic | None


class PrinterList(_Public):
    printers: list[PrinterPublic]


class Action(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    BED_CLEARED = "bed_cleared"
    FILAMENT_LOADED = "filament_loaded"
    MAINTENANCE_ON = "maintenance_on"
    MAINTENANCE_OFF = "maintenance_off"


class ActionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Action
    material: str | None = None
    color: str | None = None


class ShiftPublic(_Public):
    start: str
    end: str
    operators: int


class FarmPublic(_Public):
    name: str
    now: str
    printers: int
    queue_length: int
    shifts: list[ShiftPublic]


class PlannedPrint(_Public):
    print_id: str
    job_id: str
    name: str
    material: str
    color: str
    start: str
    end: str
    due: str | None
    tardy: bool
    state: str


class PrinterPlan(_Public):
    printer_id: str
    prints: list[PlannedPrint]


class TodoPublic(_Public):
    at: str
    printer_id: str
    kind: str
    job_id: str
    material: str
    color: str
    text: str


class Objective(_Public):
    weighted_tardiness_min: int
    makespan_min: int


class PlanPublic(_Public):
    generated: str
    solver: str
    objective: Objective
    printers: list[PrinterPlan]
    shifts: list[ShiftPublic]
    todo: list[TodoPublic]


class VersionPublic(_Public):
    api: str
    server: str
    text: str
