"""The scheduling domain: printers, jobs, shifts and plans as frozen dataclasses.

Every time is an integer number of minutes from t = 0 ("now", the instance's
``horizon_start``); intervals are half-open ``[start, end)``.  Nothing here knows
about JSON (see :mod:`farm.instance_io`) or about a solver.

A job with ``quantity`` q yields q tasks ``J0001#0 .. J0001#(q-1)``: one print each.
Before each print an operator spends a turnaround of
``start_min + clear_min·[bed occupied] + swap_min·[filament change]`` minutes at the
printer, inside an operator shift (see :meth:`Params.turnaround_min`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property


@dataclass(frozen=True, order=True)
class Filament:
    """A spool: material (PLA, PETG, ...) and colour."""

    material: str
    color: str

    def __str__(self) -> str:
        return f"{self.material} {self.color}"


@dataclass(frozen=True)
class Params:
    """Operator minutes per turnaround component."""

    start_min: int
    clear_min: int
    swap_min: int

    def turnaround_min(self, bed_occupied: bool, swap: bool) -> int:
        """Operator minutes before a print: start, plus clearing a part, plus a filament swap."""
        return self.start_min + self.clear_min * bed_occupied + self.swap_min * swap


@dataclass(frozen=True)
class Printer:
    """One printer and its state at t = 0."""

    id: str
    model: str
    nozzle_mm: float
    build_mm: tuple[int, int, int]
    enclosed: bool
    materials: tuple[str, ...]
    loaded: Filament
    available_from_min: int = 0
    bed_clear: bool = True

    def fits(self, bbox_mm: tuple[int, int, int]) -> bool:
        """Does a part fit the build volume (90° rotation in xy allowed)?"""
        x, y, z = bbox_mm
        bx, by, bz = self.build_mm
        return z <= bz and max(x, y) <= max(bx, by) and min(x, y) <= min(bx, by)

    def can_print(self, job: Job) -> bool:
        """Nozzle, material, build volume and a slicer duration for this model all match."""
        return (
            job.nozzle_mm == self.nozzle_mm
            and job.material in self.materials
            and self.fits(job.bbox_mm)
            and self.model in job.durations_min
        )


@dataclass(frozen=True)
class Job:
    """An order: ``quantity`` identical prints of one part (or plate)."""

    id: str
    material: str
    color: str
    nozzle_mm: float
    bbox_mm: tuple[int, int, int]
    quantity: int
    weight: int
    release_min: int
    due_min: int | None
    durations_min: Mapping[str, int] = field(hash=False)

    @property
    def filament(self) -> Filament:
        return Filament(self.material, self.color)


@dataclass(frozen=True)
class Task:
    """One print of a job: copy ``copy`` of ``job``."""

    id: str
    job: Job
    copy: int


@dataclass(frozen=True)
class Shift:
    """Operator presence: ``operators`` people on the floor during ``[start_min, end_min)``."""

    start_min: int
    end_min: int
    operators: int


@dataclass(frozen=True)
class Maintenance:
    """A window during which a printer may neither print nor be turned around."""

    printer_id: str
    start_min: int
    end_min: int
    reason: str = ""


@dataclass(frozen=True)
class Running:
    """A print already on a printer at t = 0; fixed, not part of any plan."""

    task_id: str
    printer_id: str
    start_min: int
    end_min: int
    filament: Filament


@dataclass(frozen=True)
class PrinterState:
    """What the next print on a printer finds: free from, loaded filament, part on the bed."""

    free_from_min: int
    loaded: Filament
    bed_occupied: bool


@dataclass(frozen=True)
class Problem:
    """A complete scheduling instance (FORMAT.md ``printfarm-sched/1``)."""

    name: str
    horizon_end_min: int
    params: Params
    printers: tuple[Printer, ...]
    jobs: tuple[Job, ...]
    shifts: tuple[Shift, ...] = ()
    maintenance: tuple[Maintenance, ...] = ()
    running: tuple[Running, ...] = ()
    horizon_start: str = ""
    meta: Mapping[str, object] = field(default_factory=dict, hash=False, compare=False)

    @cached_property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(Task(f"{j.id}#{c}", j, c) for j in self.jobs for c in range(j.quantity))

    @cached_property
    def task_by_id(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasks}

    @cached_property
    def printer_by_id(self) -> dict[str, Printer]:
        return {p.id: p for p in self.printers}

    @cached_property
    def job_by_id(self) -> dict[str, Job]:
        return {j.id: j for j in self.jobs}

    @cached_property
    def eligible(self) -> dict[str, tuple[Printer, ...]]:
        """Job id -> the printers that can print it, in instance order."""
        return {j.id: tuple(p for p in self.printers if p.can_print(j)) for j in self.jobs}

    @cached_property
    def maintenance_by_printer(self) -> dict[str, tuple[Maintenance, ...]]:
        out: dict[str, list[Maintenance]] = {p.id: [] for p in self.printers}
        for m in sorted(self.maintenance, key=lambda m: m.start_min):
            out.setdefault(m.printer_id, []).append(m)
        return {k: tuple(v) for k, v in out.items()}

    def initial_state(self, printer: Printer) -> PrinterState:
        """The printer at t = 0, after any running print."""
        free, loaded, occupied = printer.available_from_min, printer.loaded, not printer.bed_clear
        for r in self.running:
            if r.printer_id == printer.id:
                free, loaded, occupied = max(free, r.end_min), r.filament, True
        return PrinterState(max(free, 0), loaded, occupied)


@dataclass(frozen=True)
class Assignment:
    """One task printed on one printer during ``[start_min, end_min)``."""

    task_id: str
    printer_id: str
    start_min: int
    end_min: int


class ActionKind(StrEnum):
    START = "start"
    CLEAR = "clear"
    SWAP = "swap"


@dataclass(frozen=True)
class OperatorAction:
    """The turnaround an operator performs right before a print."""

    task_id: str
    printer_id: str
    start_min: int
    end_min: int
    kinds: tuple[ActionKind, ...]


@dataclass(frozen=True)
class PlanMetrics:
    """The objective (weighted tardiness, then makespan) and the reported figures."""

    weighted_tardiness_min: int
    makespan_min: int
    utilisation: float
    swaps: int
    idle_wait_min: int
    tardy_jobs: int
    max_tardiness_min: int


@dataclass(frozen=True)
class Plan:
    """A schedule: assignments sorted by printer then start, the derived operator actions."""

    assignments: tuple[Assignment, ...]
    operator_actions: tuple[OperatorAction, ...]
    solver: str
    metrics: PlanMetrics

    @property
    def weighted_tardiness_min(self) -> int:
        return self.metrics.weighted_tardiness_min

    @property
    def makespan_min(self) -> int:
        return self.metrics.makespan_min

    @property
    def objective(self) -> tuple[int, int]:
        """Lexicographic objective: smaller is better."""
        return (self.metrics.weighted_tardiness_min, self.metrics.makespan_min)
