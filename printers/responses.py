"""Pure parsers for what Marlin-class firmware sends back (serial-protocol P9–P33).

:func:`parse_response` turns one received line into one typed value: :class:`Ok`,
:class:`Resend`, :class:`TemperatureReport`, :class:`Busy`, :class:`Wait`, :class:`Start`,
:class:`FirmwareError`, :class:`Action`, :class:`FirmwareInfo`, :class:`Capability`,
:class:`Position` or :class:`Other`.  No I/O, no state: the streamer and the connection decide
what each means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "Action",
    "Busy",
    "Capability",
    "ErrorKind",
    "FirmwareError",
    "FirmwareInfo",
    "Ok",
    "Other",
    "Position",
    "Resend",
    "Response",
    "Start",
    "TemperatureReading",
    "TemperatureReport",
    "Wait",
    "classify_error",
    "parse_response",
    "parse_temperatures",
]


@dataclass(frozen=True, slots=True)
class TemperatureReading:
    """One heater: actual and target temperature in °C (target None when not reported)."""

    actual_c: float
    target_c: float | None


@dataclass(frozen=True, slots=True)
class TemperatureReport:
    """A temperature line (P23): hotends in tool order, bed and chamber if present."""

    hotends: tuple[TemperatureReading, ...] = ()
    bed: TemperatureReading | None = None
    chamber: TemperatureReading | None = None


@dataclass(frozen=True, slots=True)
class Ok:
    """An acknowledgement (P9); ``data`` is whatever followed ``ok``."""

    data: str = ""
    temperatures: TemperatureReport | None = None


@dataclass(frozen=True, slots=True)
class Resend:
    """A resend request for ``line_number`` (P13)."""

    line_number: int


@dataclass(frozen=True, slots=True)
class Busy:
    """``busy: processing`` and friends (P19): keep-alive, not an ack."""

    reason: str


@dataclass(frozen=True, slots=True)
class Wait:
    """``wait`` (P10): the firmware idles with an empty buffer."""


@dataclass(frozen=True, slots=True)
class Start:
    """``start``: the firmware (re)booted (P25)."""


class ErrorKind(StrEnum):
    """What an ``Error:`` line means for the host (P12, P17, P28)."""

    TRANSPORT = "transport"  # checksum / line number: a resend follows, not fatal
    NO_LINE_NUMBER = "no_line_number"  # P17: treat as ok
    SD_CARD = "sd_card"
    UNKNOWN_COMMAND = "unknown_command"
    FATAL = "fatal"  # kill, thermal runaway, Klipper shutdown ...


@dataclass(frozen=True, slots=True)
class FirmwareError:
    """An ``Error:`` (or ``!!`` / ``fatal:``) line and its class."""

    kind: ErrorKind
    message: str


@dataclass(frozen=True, slots=True)
class Action:
    """A host action request ``//action:<name> [params]`` (P32)."""

    name: str
    params: str = ""


@dataclass(frozen=True, slots=True)
class FirmwareInfo:
    """The M115 identification line (P24): ``FIRMWARE_NAME:...`` and the other fields."""

    fields: dict[str, str] = field(default_factory=dict)

    @property
    def firmware_name(self) -> str:
        return self.fields.get("FIRMWARE_NAME", "")


@dataclass(frozen=True, slots=True)
class Capability:
    """One ``Cap:<NAME>:<0|1>`` line (P24)."""

    name: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class Position:
    """An M114 answer: logical position in mm (E in mm of filament)."""

    x_mm: float
    y_mm: float
    z_mm: float
    e_mm: float


@dataclass(frozen=True, slots=True)
class Other:
    """Anything else: ``echo:`` lines, comments, boot garbage (P27)."""

    text: str


Response = (
    Ok
    | Resend
    | TemperatureReport
    | Busy
    | Wait
    | Start
    | FirmwareError
    | Action
    | FirmwareInfo
    | Capability
    | Position
    | Other
)

OK = Ok()
WAIT = Wait()
START = Start()

_RESEND_RE = re.compile(r"^(?:resend|rs)[:\s]\s*(?:N:?)?\s*(\d+)", re.IGNORECASE)
_TEMP_RE = re.compile(r"(?<![A-Za-z@])(T\d*|B|C):\s*(-?\d+(?:\.\d*)?)\s*(?:/\s*(-?\d+(?:\.\d*)?))?")
_TEMP_START_RE = re.compile(r"^\s*(?:ok\s+)?(?:T\d*|B):\s*-?\d")
_M115_KEY_RE = re.compile(r"([A-Z][A-Z0-9_]*):")
_POSITION_RE = re.compile(r"^X:\s*(-?[\d.]+)\s+Y:\s*(-?[\d.]+)\s+Z:\s*(-?[\d.]+)\s+E:\s*(-?[\d.]+)")

_TRANSPORT_MARKERS = (
    "checksum mismatch",
    "line number is not last line number",
    "expected line",
    "missing checksum",
    "no checksum",
    "format error",
)
_NO_LINE_NUMBER_MARKERS = ("no line number with checksum", "missing linenumber")
_SD_MARKERS = (
    "open failed",
    "error writing to file",
    "volume.init",
    "openroot failed",
    "workdir open failed",
    "cannot open subdir",
    "sd init fail",
    "sd card",
)


def classify_error(message: str) -> ErrorKind:
    """Class of an ``Error:`` message (P12, P17, P28); unknown errors are fatal."""
    lowered = message.lower()
    if any(marker in lowered for marker in _NO_LINE_NUMBER_MARKERS):
        return ErrorKind.NO_LINE_NUMBER
    if any(marker in lowered for marker in _TRANSPORT_MARKERS):
        return ErrorKind.TRANSPORT
    if any(marker in lowered for marker in _SD_MARKERS):
        return ErrorKind.SD_CARD
    if "unknown command" in lowered:
        return ErrorKind.UNKNOWN_COMMAND
    return ErrorKind.FATAL


def parse_temperatures(text: str) -> TemperatureReport | None:
    """Parse ``T:<act> /<tgt> B:<act> /<tgt> [T0:.. T1:..] C:..`` (P23); None if no reading."""
    hotends: dict[int, TemperatureReading] = {}
    plain_t: TemperatureReading | None = None
    bed = chamber = None
    for name, actual, target in _TEMP_RE.findall(text):
        reading = TemperatureReading(float(actual), float(target) if target else None)
        if name == "T":
            plain_t = plain_t or reading
        elif name.startswith("T"):
            hotends[int(name[1:])] = reading
        elif name == "B":
            bed = bed or reading
        else:
            chamber = chamber or reading
    tools = tuple(hotends[i] for i in sorted(hotends))
    if not tools and plain_t is not None:
        tools = (plain_t,)
    if not tools and bed is None and chamber is None:
        return None
    return TemperatureReport(tools, bed, chamber)


def _parse_ok(line: str) -> Ok:
    data = line[2:].strip()
    if not data:
        return OK
    return Ok(data, parse_temperatures(data) if ":" in data else None)


def _parse_firmware_info(line: str) -> FirmwareInfo:
    keys = list(_M115_KEY_RE.finditer(line))
    fields: dict[str, str] = {}
    for index, match in enumerate(keys):
        end = keys[index + 1].start() if index + 1 < len(keys) else len(line)
        fields[match.group(1)] = line[match.end() : end].strip()
    return FirmwareInfo(fields)


def _parse_error(line: str) -> FirmwareError:
    if line.startswith("!!"):
        return FirmwareError(ErrorKind.FATAL, line[2:].strip() or "firmware shutdown")
    message = line.split(":", 1)[1].strip() if ":" in line else line
    if line.lower().startswith("fatal:"):
        return FirmwareError(ErrorKind.FATAL, message)
    return FirmwareError(classify_error(message), message)


def parse_response(raw: str) -> Response:
    """Classify one line received from the firmware (without its line ending)."""
    line = raw.strip()
    if line == "ok":
        return OK
    if line.startswith("ok"):
        return _parse_ok(line)
    lowered = line.lower()
    if lowered.startswith(("resend", "rs ", "rs:")):
        match = _RESEND_RE.match(line)
        if match:
            return Resend(int(match.group(1)))
    if lowered.startswith(("error:", "fatal:")) or line.startswith("!!"):
        return _parse_error(line)
    if "busy:" in lowered:
        return Busy(line.split("busy:", 1)[1].strip())
    if _TEMP_START_RE.match(line):
        report = parse_temperatures(line)
        if report is not None:
            return report
    if line.startswith("//action:"):
        name, _, params = line[len("//action:") :].partition(" ")
        return Action(name.strip(), params.strip())
    if lowered == "wait":
        return WAIT
    if lowered == "start":
        return START
    if line.startswith("FIRMWARE_NAME:"):
        return _parse_firmware_info(line)
    if line.startswith("Cap:"):
        name, _, value = line[4:].rpartition(":")
        return Capability(name, value.strip() == "1")
    match = _POSITION_RE.match(line)
    if match:
        return Position(*(float(value) for value in match.groups()))
    return Other(line)
