"""Connection states, the one table of legal transitions, status snapshots and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from printers.errors import StateError

__all__ = [
    "TRANSITIONS",
    "ConnectionState",
    "EventKind",
    "PrinterEvent",
    "PrinterStatus",
    "check_transition",
]


class ConnectionState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    IDLE = "idle"
    PRINTING = "printing"
    PAUSING = "pausing"
    PAUSED = "paused"
    RESUMING = "resuming"
    CANCELLING = "cancelling"
    FINISHING = "finishing"
    ERROR = "error"


S = ConnectionState
_ANY_CONNECTED = frozenset({S.DISCONNECTED, S.ERROR})

# Every legal change of state; anything else is a bug (StateError).
TRANSITIONS: dict[ConnectionState, frozenset[ConnectionState]] = {
    S.DISCONNECTED: frozenset({S.CONNECTING}),
    S.CONNECTING: frozenset({S.IDLE}) | _ANY_CONNECTED,
    S.IDLE: frozenset({S.PRINTING}) | _ANY_CONNECTED,
    S.PRINTING: frozenset({S.PAUSING, S.CANCELLING, S.FINISHING}) | _ANY_CONNECTED,
    S.PAUSING: frozenset({S.PAUSED, S.CANCELLING}) | _ANY_CONNECTED,
    S.PAUSED: frozenset({S.RESUMING, S.CANCELLING}) | _ANY_CONNECTED,
    S.RESUMING: frozenset({S.PRINTING, S.CANCELLING}) | _ANY_CONNECTED,
    S.CANCELLING: frozenset({S.IDLE}) | _ANY_CONNECTED,
    S.FINISHING: frozenset({S.IDLE, S.CANCELLING}) | _ANY_CONNECTED,
    S.ERROR: frozenset({S.DISCONNECTED, S.CONNECTING}),
}

JOB_STATES = frozenset({S.PRINTING, S.PAUSING, S.PAUSED, S.RESUMING, S.FINISHING})


def check_transition(old: ConnectionState, new: ConnectionState) -> None:
    """Raise :class:`StateError` unless ``old -> new`` is in :data:`TRANSITIONS`."""
    if new not in TRANSITIONS[old]:
        raise StateError(f"illegal state change {old.value} -> {new.value}")


class EventKind(StrEnum):
    STATE_CHANGED = "state_changed"
    JOB_STARTED = "job_started"
    JOB_FINISHED = "job_finished"
    JOB_FAILED = "job_failed"
    JOB_CANCELLED = "job_cancelled"
    PROGRESS = "progress"  # progress and temperatures, about once a second
    ACTION = "action"  # a //action: line from the firmware (P32)


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """An immutable snapshot of one printer.  Temperatures in °C, times in seconds.

    ``line`` counts the job's source lines read so far (comments included) and
    ``total_lines`` all of them, so ``progress = line / total_lines``.  ``layer`` is the
    0-based index of the current layer from ``;LAYER_CHANGE`` / ``;LAYER:n`` markers.
    ``remaining_s`` comes from ``M73 R`` when the file has it, else from the progress rate.
    ``resends`` counts rewinds since the connection was made; ``capabilities`` is a copy of
    the M115 ``Cap:`` flags; ``error`` says why the printer is in ERROR; ``prompt`` is the
    text of a firmware prompt (M600 filament change ...) waiting for an answer.
    """

    name: str
    state: ConnectionState
    hotend_c: float | None = None
    hotend_target_c: float | None = None
    bed_c: float | None = None
    bed_target_c: float | None = None
    job_name: str | None = None
    line: int = 0
    total_lines: int | None = None
    progress: float = 0.0
    elapsed_s: float = 0.0
    remaining_s: float | None = None
    layer: int | None = None
    resends: int = 0
    firmware_name: str = ""
    capabilities: dict[str, bool] = field(default_factory=dict)
    error: str | None = None
    prompt: str | None = None  # a firmware prompt waiting for answer_prompt() (P32)


@dataclass(frozen=True, slots=True)
class PrinterEvent:
    """Something happened to printer ``status.name``; ``message`` says what for failures."""

    kind: EventKind
    status: PrinterStatus
    message: str = ""
