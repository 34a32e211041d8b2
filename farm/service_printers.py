"""The farm's printers: a live connection each, plus what the farm remembers about them.

A :class:`FarmPrinter` joins the printer host's :class:`PrinterConnection` (state machine,
temperatures, progress) with the farm's own facts kept in the database across restarts:
loaded filament, whether the bed is clear, maintenance, and why it needs an operator.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from farm.config import PrinterConfig
from farm.db import Database, PrinterRow
from printers.profiles import PrinterProfile, load_printer

log = logging.getLogger(__name__)

COLOR_HEX = {
    "black": "#1f1f1f",
    "white": "#f2f2f2",
    "red": "#d62728",
    "green": "#2ca02c",
    "blue": "#1f77b4",
    "yellow": "#f5c518",
    "orange": "#ff7f0e",
    "grey": "#8c8c8c",
    "gray": "#8c8c8c",
    "purple": "#9467bd",
    "natural": "#e8dcc0",
    "transparent": "#d0e8f0",
}


class FarmPrinterState(StrEnum):
    """The printer's state as the API and the operators see it."""

    IDLE = "idle"
    PRINTING = "printing"
    PAUSED = "paused"
    NEEDS_OPERATOR = "needs_operator"
    ERROR = "error"
    MAINTENANCE = "maintenance"
    OFFLINE = "offline"


class RequestKind(StrEnum):
    """What a printer needs from an operator before it can print again."""

    CLEAR = "clear"
    LOAD = "load"


@dataclass(frozen=True)
class OperatorRequest:
    """A structured operator request (the API's ``printer.request``)."""

    kind: RequestKind
    material: str | None = None
    color: str | None = None
    print_id: str | None = None

    def text(self, printer_id: str) -> str:
        if self.kind is RequestKind.LOAD:
            return f"load {self.material} {self.color} into {printer_id} for {self.print_id}"
        return f"clear the bed of {printer_id}"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind.value,
            "material": self.material,
            "color": self.color,
            "print_id": self.print_id,
        }


@dataclass
class CurrentPrint:
    print_id: str
    job_id: str
    name: str
    layers: int
    started_monotonic: float
    planned_s: float = 0.0  # the slicer's real-world estimate of the whole print


def color_hex(color: str) -> str:
    return COLOR_HEX.get(color.lower(), "#8c8c8c")


def color_name(hex_color: str) -> str | None:
    """The nearest of the named colours to ``#RRGGBB`` (None when it is not one)."""
    match = re.fullmatch(r"#?([0-9a-fA-F]{6})", hex_color.strip())
    if match is None:
        return None
    rgb = bytes.fromhex(match.group(1))

    def distance(name: str) -> int:
        other = bytes.fromhex(COLOR_HEX[name][1:])
        return sum((a - b) ** 2 for a, b in zip(rgb, other, strict=True))

    return min((n for n in COLOR_HEX if n != "gray"), key=distance)


class FarmPrinter:
    """One printer of the farm (see module doc)."""

    def __init__(self, config: PrinterConfig, db: Database):
        self.config = config
        self.profile: PrinterProfile = load_printer(config.profile)
        self._db = db
        self.connection: Any = None  # printers.connection.PrinterConnection once connected
        self.virtual: Any = None  # printers.virtual.VirtualPrinter for port = "virtual"
        self.current: CurrentPrint | None = None
        self.connect_error: str | None = None
        row = self._load_row()
        self.material, self.color = row.material, row.color
        self.bed_clear = bool(row.bed_clear)
        self.maintenance = bool(row.maintenance)
        self.needs_operator = bool(row.needs_operator)
        self.message: str | None = row.message
        if self.message and _OLD_LOAD_REQUEST.match(self.message):
            # an older version kept load requests here; now they follow the plan
            log.info("printer %s: dropping the stale request '%s'", self.id, self.message)
            self.needs_operator, self.message = not self.bed_clear, None
            self.save()
        # What the plan wants loaded before the next print (a to-do, not persisted).
        self._wanted: OperatorRequest | None = None
        self._wanted_since = 0.0  # time.monotonic() when that request was made
        # The print whose part (or remains) is on the bed, when known (not persisted).
        self.bed_print_id: str | None = _print_id_in(row.message)

    @property
    def wanted(self) -> OperatorRequest | None:
        """What the plan wants loaded before the next print (a to-do, not persisted)."""
        return self._wanted

    @wanted.setter
    def wanted(self, request: OperatorRequest | None) -> None:
        if request != self._wanted:
            self._wanted_since = time.monotonic()
        self._wanted = request

    def waiting_s(self) -> float:
        """Seconds the printer's filament request has waited for an operator (0: none)."""
        return 0.0 if self._wanted is None else time.monotonic() - self._wanted_since

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def time_factor(self) -> float:
        """How many times faster than the slicer's estimate this printer prints: a virtual
        printer's speed-up (infinite when instant), 1 for a real printer."""
        if not self.config.is_virtual:
            return 1.0
        return math.inf if self.config.virtual_instant else float(self.config.virtual_speed)

    def _load_row(self) -> PrinterRow:
        with self._db.session() as session:
            row = session.get(PrinterRow, self.id)
            if row is None:
                row = PrinterRow(
                    id=self.id,
                    material=self.config.material,
                    color=self.config.color,
                    bed_clear=1,
                    maintenance=0,
                    needs_operator=0,
                )
                session.add(row)
            return row

    def save(self) -> None:
        """Write the remembered facts back to the database."""
        with self._db.session() as session:
            row = session.get(PrinterRow, self.id)
            assert row is not None
            row.material, row.color = self.material, self.color
            row.bed_clear = int(self.bed_clear)
            row.maintenance = int(self.maintenance)
            row.needs_operator = int(self.needs_operator)
            row.message = self.message

    def ask_operator(self, message: str) -> None:
        self.needs_operator, self.message = True, message
        self.save()

    def operator_done(self) -> None:
        self.needs_operator, self.message = False, None
        self.bed_print_id = None
        self.save()

    # --- live state ---------------------------------------------------------------------

    def host_status(self) -> Any:
        return self.connection.status if self.connection is not None else None

    def host_state(self) -> str:
        """The host's state machine state (``IDLE``, ``PRINTING``...; ``OFFLINE``)."""
        connection = self.connection
        if connection is None:
            return "OFFLINE"
        return connection.state.name

    def state(self) -> FarmPrinterState:
        host = self.host_state()
        if self.maintenance:
            return FarmPrinterState.MAINTENANCE
        if host in ("OFFLINE", "DISCONNECTED", "CONNECTING"):
            return FarmPrinterState.OFFLINE
        if host in ("ERROR", "KILLED", "HALTED"):
            return FarmPrinterState.ERROR
        if host == "PAUSED":
            return FarmPrinterState.PAUSED
        if self.current is not None or host in ("PRINTING", "PAUSING", "RESUMING", "FINISHING"):
            return FarmPrinterState.PRINTING
        if self.needs_operator or not self.bed_clear or self.wanted:
            return FarmPrinterState.NEEDS_OPERATOR
        return FarmPrinterState.IDLE

    def ready(self) -> bool:
        """Free, connected, bed clear, nobody needed: it may start the next print (or say
        which filament that print wants)."""
        return (
            self.host_state() == "IDLE"
            and self.current is None
            and self.bed_clear
            and not self.needs_operator
            and not self.maintenance
        )

    def request(self) -> OperatorRequest | None:
        """What an operator should do now for this printer to print again (None: nothing,
        or it is printing, in error, in maintenance or offline)."""
        if self.state() is not FarmPrinterState.NEEDS_OPERATOR:
            return None
        if self.needs_operator or not self.bed_clear:
            return OperatorRequest(RequestKind.CLEAR, print_id=self.bed_print_id)
        return self.wanted

    def to_dict(self) -> dict[str, Any]:
        """The API's printer object (api/API.md)."""
        status = self.host_status()
        request = self.request()
        message = self.message or (request.text(self.id) if request is not None else None)
        if status is not None and getattr(status, "error", None):
            message = str(status.error)
        elif self.connect_error and status is None:
            message = self.connect_error
        return {
            "id": self.id,
            "name": self.config.display_name,
            "profile": self.profile.name,
            "model": self.profile.model,
            "state": self.state().value,
            "connection": self.host_state(),
            "message": message,
            "temps": _temps(status),
            "material": self.material,
            "color": self.color,
            "color_hex": color_hex(self.color),
            "bed_clear": self.bed_clear,
            "request": request.to_dict() if request is not None else None,
            "current": self._current_dict(status),
        }

    def _current_dict(self, status: Any) -> dict[str, Any] | None:
        current = self.current
        if current is None:
            return None
        progress = float(getattr(status, "progress", 0.0) or 0.0)
        remaining = self.remaining_s(status)
        return {
            "job_id": current.job_id,
            "print_id": current.print_id,
            "name": current.name,
            "progress": round(progress, 4),
            "layer": getattr(status, "layer", None),
            "layers": current.layers,
            "elapsed_s": round(time.monotonic() - current.started_monotonic),
            "remaining_s": round(remaining) if remaining is not None else None,
        }

    def remaining_s(self, status: Any) -> float | None:
        """Seconds left of the current print: the host's figure for a real printer; for a
        sped-up virtual printer the slicer's estimate over its speed-up, by progress."""
        current = self.current
        if current is None:
            return None
        if self.time_factor == 1.0:
            return getattr(status, "remaining_s", None)
        progress = float(getattr(status, "progress", 0.0) or 0.0)
        return max(0.0, current.planned_s * (1.0 - progress) / self.time_factor)


_OLD_LOAD_REQUEST = re.compile(r"^load \S+ .+ into \S+ for J\d+-\d+$")
_PRINT_ID = re.compile(r"^(J\d+-\d+)\b")


def _print_id_in(message: str | None) -> str | None:
    """The print id a remembered operator message starts with ("J0001-2 finished: ...")."""
    match = _PRINT_ID.match(message or "")
    return match.group(1) if match else None


def _temps(status: Any) -> dict[str, dict[str, float | None]]:
    def pair(prefix: str) -> dict[str, float | None]:
        actual = getattr(status, f"{prefix}_c", None) if status is not None else None
        target = getattr(status, f"{prefix}_target_c", None) if status is not None else None
        return {"actual": _round(actual), "target": _round(target)}

    return {"hotend": pair("hotend"), "bed": pair("bed")}


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
