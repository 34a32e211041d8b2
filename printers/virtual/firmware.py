"""A Marlin-like firmware without I/O: lines in, lines out, driven by a clock.

:class:`VirtualFirmware` checks line numbers and checksums like Marlin (``Error:`` + ``Resend:``
+ ``ok``), keeps a 4-command queue behind a 128-byte RX buffer (what does not fit is lost,
as on a real board) and a 16-move planner whose moves take time from their
feedrate (divided by ``speed``; zero when ``instant``), heats with :mod:`.heaters`, answers M105,
M114, M115, M155 autoreport, ``busy: processing`` keep-alives and the emergency parser (M108,
M112), and injects seeded faults from :class:`~.faults.FaultConfig`.  Every executed command is
appended to :attr:`VirtualFirmware.executed`.  The pty driver in :mod:`.pty` feeds it.
"""

from __future__ import annotations

import logging
import math
import random
from collections import deque
from enum import Enum

from gcode.framing import FramingError, command_code, parse_frame, word_values
from printers.virtual.faults import FaultConfig
from printers.virtual.heaters import Heater, bed, hotend

__all__ = ["VirtualFirmware"]

log = logging.getLogger(__name__)

PLANNER_SLOTS = 16
BUFSIZE = 4  # Marlin's command queue
RX_BUFFER_BYTES = 128  # Marlin's serial RX buffer
HOMING_DURATION_S = 3.0
PROBING_DURATION_S = 10.0
DEFAULT_FEEDRATE_MM_MIN = 1500.0
TEMPERATURE_REPORT_INTERVAL_S = 1.0
FIRMWARE_NAME = "Marlin 2.1.2 (slicefarm virtual)"


class _Wait(Enum):
    """Why the command at the head of the queue has not finished yet."""

    PLANNER_FULL = "planner_full"
    DRAIN = "drain"  # M400, G4, G28, G29: all moves done (plus a dwell)
    HOTEND = "hotend"  # M109
    BED = "bed"  # M190
    USER = "user"  # M600: waits for the host's M876 answer (P31, P32)


class VirtualFirmware:
    """The firmware state machine; call :meth:`receive` per line and :meth:`step` per tick.

    Output lines collect in :attr:`output` (without line endings); the driver empties it.
    Times are real seconds from the driver's monotonic clock.
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        instant: bool = False,
        faults: FaultConfig | None = None,
        seed: int = 0,
        name: str = "virtual",
        autoreport_temp: bool = True,
        busy_interval_s: float = 2.0,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = speed
        self.instant = instant
        self.faults = faults or FaultConfig()
        self.name = name
        self.autoreport_temp = autoreport_temp
        self.busy_interval_s = busy_interval_s
        self.output: list[str] = []
        self.executed: list[str] = []
        self.lines_executed = 0
        self.lines_received = 0
        self.disconnect_requested = False
        self.halted = False
        self.frozen = False  # the hang fault: nothing is answered any more
        self.hotend: Heater = hotend()
        self.bed: Heater = bed()
        self.position_mm = {"X": 0.0, "Y": 0.0, "Z": 0.0, "E": 0.0}
        self._rng = random.Random(seed)
        self._line_fault_rate = self.faults.drop_rate + self.faults.corrupt_rate
        self._queue: deque[tuple[bool, str]] = deque()
        self._rx: deque[str] = deque()
        self._rx_bytes = 0
        self._planner_ends: deque[float] = deque()
        self._wait: _Wait | None = None
        self._wait_move_s = 0.0
        self._dwell_until = 0.0
        self._next_keepalive = 0.0
        self._last_step = 0.0
        self._next_autoreport: float | None = None
        self._autoreport_interval_s = 0.0
        self._pause_sent = False
        self._reset_modes()

    def _reset_modes(self) -> None:
        self.last_line = 0
        self._absolute_xyz = True
        self._absolute_e = True
        self._feedrate_mm_min = DEFAULT_FEEDRATE_MM_MIN

    # ----------------------------------------------------------------- boot, input
    def boot(self, now: float) -> None:
        """Reset as an Arduino does when the host opens the port (P25)."""
        self._queue.clear()
        self._rx.clear()
        self._rx_bytes = 0
        self._planner_ends.clear()
        self._wait = None
        self._next_autoreport = None
        self.halted = self.frozen = False
        self._reset_modes()
        self._last_step = now
        if self.faults.garbage_on_boot:
            self.output.append("\x80\xfe\x9c")
        self.output += [
            "start",
            f"echo:{FIRMWARE_NAME}",
            "echo: Last Updated: 2026-01-01 | Author: slicefarm",
            "echo:SD card ok",
        ]

    def receive(self, raw: str, now: float) -> None:
        """Take one line from the host: emergency parser, faults, framing checks, queue."""
        text = raw.strip()
        if not text:
            return
        self.lines_received += 1
        if self.frozen:
            return
        code = _emergency_code(text)
        if code is not None:
            self._emergency(code)  # acts at once; the line is still queued and acknowledged
            if code in ("M112", "M999"):
                return
        if self.halted:
            return
        numbered = text.startswith("N")
        if numbered and self._line_fault_rate:
            draw = self._rng.random()
            if draw < self.faults.drop_rate:
                log.debug("%s: dropped %r", self.name, text)
                return
            if draw < self.faults.drop_rate + self.faults.corrupt_rate:
                text = self._corrupt(text)
        if len(self._queue) < BUFSIZE and not self._rx:
            self._accept(text)
        elif self._rx_bytes + len(text) + 1 <= RX_BUFFER_BYTES:
            self._rx.append(text)
            self._rx_bytes += len(text) + 1
        else:  # the host sent more than the buffers hold (P8): the bytes are lost
            log.debug("%s: RX overflow, lost %r", self.name, text)

    def _refill(self) -> None:
        """Move lines waiting in the RX buffer into the command queue as it frees up."""
        while self._rx and len(self._queue) < BUFSIZE:
            text = self._rx.popleft()
            self._rx_bytes -= len(text) + 1
            self._accept(text)

    def _accept(self, text: str) -> None:
        """Check line number and checksum like Marlin; queue the command or ask for a resend."""
        try:
            framed = parse_frame(text)
        except FramingError:
            self._request_resend("Line Number is not Last Line Number+1")
            return
        if framed.number is None:
            if "*" in text:
                self.output += [f"Error:No Line Number with checksum, Last Line: {self.last_line}"]
                return
            self._queue.append((False, framed.command))
            return
        is_m110 = framed.command.startswith("M110")
        if framed.number != self.last_line + 1 and not is_m110:
            self._request_resend("Line Number is not Last Line Number+1")
        elif framed.checksum is None:
            self._request_resend("No Checksum with line number")
        elif not framed.checksum_ok:
            self._request_resend("checksum mismatch")
        else:
            self.last_line = framed.number
            if is_m110:
                self.last_line = int(word_values(framed.command).get("N", framed.number))
            self._queue.append((True, framed.command))

    def _corrupt(self, text: str) -> str:
        index = self._rng.randrange(len(text))
        replacement = chr(ord(text[index]) ^ (1 << self._rng.randrange(5)))
        return text[:index] + replacement + text[index + 1 :]

    def _request_resend(self, reason: str) -> None:
        self.output += [
            f"Error:{reason}, Last Line: {self.last_line}",
            f"Resend: {self.last_line + 1}",
            "ok",
        ]

    def _emergency(self, code: str) -> None:
        if code == "M112":
            self.kill("Printer halted. kill() called!")
        elif code == "M108" and self._wait in (_Wait.HOTEND, _Wait.BED):
            self._finish(True)
        elif code == "M876" and self._wait is _Wait.USER:
            self.output.append("//action:prompt_end")
            self._finish(True)
        elif code == "M999" and self.halted:
            self.halted = False
            self.last_line = 0
            self.output += ["Resend: 1", "ok"]

    def kill(self, *messages: str) -> None:
        """Halt like Marlin's kill(): print the errors, stop everything until M999/reboot."""
        self.output += [f"Error:{message}" for message in messages]
        self.halted = True
        self.hotend.target_c = self.bed.target_c = 0.0
        self._queue.clear()
        self._rx.clear()
        self._rx_bytes = 0
        self._planner_ends.clear()
        self._wait = None

    # ----------------------------------------------------------------- time
    def step(self, now: float) -> None:
        """Advance heaters, planner and the command queue to ``now``."""
        sim_dt_s = max(0.0, now - self._last_step) * self.speed
        self._last_step = now
        if self.frozen:
            self.output.clear()
            return
        self.hotend.advance(sim_dt_s, instant=self.instant)
        self.bed.advance(sim_dt_s, instant=self.instant)
        if self.halted:
            return
        while self._planner_ends and self._planner_ends[0] <= now:
            self._planner_ends.popleft()
        if self._next_autoreport is not None and now >= self._next_autoreport:
            self.output.append(" " + self._temperature_text())
            self._next_autoreport = now + self._autoreport_interval_s
        while not self.halted:
            if self._wait is not None:
                if not self._wait_done(now):
                    self._keepalive(now)
                    return
                self._complete_wait(now)
                continue
            if self._rx:
                self._refill()
            if not self._queue:
                return
            numbered, command = self._queue.popleft()
            self._execute(numbered, command, now)

    def next_deadline(self) -> float | None:
        """The next time :meth:`step` has something to do, or None when only input matters."""
        candidates = []
        if self._next_autoreport is not None:
            candidates.append(self._next_autoreport)
        if self._wait is not None:
            candidates.append(self._next_keepalive)
            if self._wait is _Wait.PLANNER_FULL and self._planner_ends:
                candidates.append(self._planner_ends[0])
            elif self._wait is _Wait.DRAIN:
                candidates.append(max(self._dwell_until, self._planner_end(0.0)))
            else:
                candidates.append(self._last_step + 0.05)
        return min(candidates) if candidates else None

    def _planner_end(self, now: float) -> float:
        return self._planner_ends[-1] if self._planner_ends else now

    def _wait_done(self, now: float) -> bool:
        if self._wait is _Wait.PLANNER_FULL:
            return len(self._planner_ends) < PLANNER_SLOTS
        if self._wait is _Wait.DRAIN:
            return not self._planner_ends and now >= self._dwell_until
        if self._wait is _Wait.USER:
            return False
        heater = self.hotend if self._wait is _Wait.HOTEND else self.bed
        return heater.reached()

    def _complete_wait(self, now: float) -> None:
        if self._wait is _Wait.PLANNER_FULL:
            self._add_move(self._wait_move_s, now)
        self._finish(True)

    def _keepalive(self, now: float) -> None:
        if now < self._next_keepalive:
            return
        if self._wait in (_Wait.HOTEND, _Wait.BED):
            self.output.append(f" T:{self.hotend.actual_c:.2f} E:0 B:{self.bed.actual_c:.2f}")
            self._next_keepalive = now + min(TEMPERATURE_REPORT_INTERVAL_S, self.busy_interval_s)
        else:
            reason = "paused for user" if self._wait is _Wait.USER else "processing"
            self.output.append(f"echo:busy: {reason}")
            self._next_keepalive = now + self.busy_interval_s

    def _finish(self, send_ok: bool, data: str = "") -> None:
        self._wait = None
        if send_ok:
            self.output.append(f"ok {data}" if data else "ok")

    # ----------------------------------------------------------------- commands
    def _execute(self, numbered: bool, command: str, now: float) -> None:
        self.executed.append(command)
        code = command_code(command)
        params = word_values(command)
        lost_ok_rate = self.faults.lost_ok_rate
        send_ok = not (numbered and lost_ok_rate and self._rng.random() < lost_ok_rate)
        handler = _HANDLERS.get(code, VirtualFirmware._unknown)
        data = handler(self, command, params, now)
        if self._wait is None:
            self._finish(send_ok, data or "")
        else:
            self._next_keepalive = now + self.busy_interval_s
        if numbered:
            self.lines_executed += 1
            self._after_line()

    def _after_line(self) -> None:
        faults, count = self.faults, self.lines_executed
        if faults.action_pause_after_lines == count and not self._pause_sent:
            self._pause_sent = True
            self.output.append("//action:pause")
        if faults.thermal_runaway_after_lines == count:
            self.kill(
                "Thermal Runaway, system stopped! Heater_ID: 0", "Printer halted. kill() called!"
            )
        if faults.disconnect_after_lines == count:
            self.disconnect_requested = True
        if faults.hang_after_lines == count:
            self.frozen = True

    def _unknown(self, command: str, params: dict[str, float], now: float) -> str:
        self.output.append(f'echo:Unknown command: "{command}"')
        return ""

    def _ignore(self, command: str, params: dict[str, float], now: float) -> str:
        return ""

    def _move(self, command: str, params: dict[str, float], now: float) -> str:
        if "F" in params and params["F"] > 0:
            self._feedrate_mm_min = params["F"]
        distance_sq = 0.0
        for axis in "XYZE":
            if axis not in params:
                continue
            absolute = self._absolute_e if axis == "E" else self._absolute_xyz
            target = params[axis] if absolute else self.position_mm[axis] + params[axis]
            if axis != "E":
                distance_sq += (target - self.position_mm[axis]) ** 2
            self.position_mm[axis] = target
        distance_mm = math.sqrt(distance_sq)
        duration_s = 0.0 if self.instant else distance_mm / (self._feedrate_mm_min / 60.0)
        self._plan(duration_s / self.speed, now)
        return ""

    def _plan(self, duration_s: float, now: float) -> None:
        if duration_s <= 0:
            return
        if len(self._planner_ends) >= PLANNER_SLOTS:
            self._wait, self._wait_move_s = _Wait.PLANNER_FULL, duration_s
        else:
            self._add_move(duration_s, now)

    def _add_move(self, duration_s: float, now: float) -> None:
        self._planner_ends.append(max(now, self._planner_end(now)) + duration_s)

    def _drain(self, dwell_s: float, now: float) -> None:
        self._wait = _Wait.DRAIN
        start = max(now, self._planner_end(now))
        self._dwell_until = start + (0.0 if self.instant else dwell_s / self.speed)

    def _home(self, command: str, params: dict[str, float], now: float) -> str:
        axes = [axis for axis in "XYZ" if axis in command.upper()[3:]] or ["X", "Y", "Z"]
        for axis in axes:
            self.position_mm[axis] = 0.0
        self._drain(HOMING_DURATION_S, now)
        return ""

    def _probe(self, command: str, params: dict[str, float], now: float) -> str:
        self._drain(PROBING_DURATION_S, now)
        return ""

    def _dwell(self, command: str, params: dict[str, float], now: float) -> str:
        self._drain(params.get("S", params.get("P", 0.0) / 1000.0), now)
        return ""

    def _finish_moves(self, command: str, params: dict[str, float], now: float) -> str:
        self._drain(0.0, now)
        return ""

    def _set_position(self, command: str, params: dict[str, float], now: float) -> str:
        for axis in "XYZE":
            if axis in params:
                self.position_mm[axis] = params[axis]
        return ""

    def _modes(self, command: str, params: dict[str, float], now: float) -> str:
        code = command_code(command)
        if code in ("G90", "G91"):
            self._absolute_xyz = self._absolute_e = code == "G90"
        else:
            self._absolute_e = code == "M82"
        return ""

    def _set_hotend(self, command: str, params: dict[str, float], now: float) -> str:
        self.hotend.target_c = params.get("S", params.get("R", self.hotend.target_c))
        if command_code(command) == "M109":
            self._wait = _Wait.HOTEND
        return ""

    def _set_bed(self, command: str, params: dict[str, float], now: float) -> str:
        self.bed.target_c = params.get("S", params.get("R", self.bed.target_c))
        if command_code(command) == "M190":
            self._wait = _Wait.BED
        return ""

    def _temperature_text(self) -> str:
        return f"T:{self.hotend.report()} B:{self.bed.report()} @:0 B@:0"

    def _report_temperatures(self, command: str, params: dict[str, float], now: float) -> str:
        return self._temperature_text()

    def _autoreport(self, command: str, params: dict[str, float], now: float) -> str:
        interval_s = params.get("S", 0.0)
        self._autoreport_interval_s = interval_s
        self._next_autoreport = now + interval_s if interval_s > 0 else None
        return ""

    def _report_position(self, command: str, params: dict[str, float], now: float) -> str:
        p = self.position_mm
        self.output.append(
            f"X:{p['X']:.2f} Y:{p['Y']:.2f} Z:{p['Z']:.2f} E:{p['E']:.2f} Count X:0 Y:0 Z:0"
        )
        return ""

    def _identify(self, command: str, params: dict[str, float], now: float) -> str:
        self.output.append(
            f"FIRMWARE_NAME:{FIRMWARE_NAME} SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
            f"PROTOCOL_VERSION:1.0 MACHINE_TYPE:{self.name} EXTRUDER_COUNT:1"
        )
        caps = {
            "AUTOREPORT_TEMP": self.autoreport_temp,
            "BUSY_PROTOCOL": True,
            "EMERGENCY_PARSER": True,
            "HOST_ACTION_COMMANDS": True,
            "PROMPT_SUPPORT": True,
            "AUTOREPORT_POS": False,
            "EEPROM": False,
        }
        self.output += [f"Cap:{name}:{int(on)}" for name, on in caps.items()]
        return ""

    def _line_reset(self, command: str, params: dict[str, float], now: float) -> str:
        return ""

    def _filament_change(self, command: str, params: dict[str, float], now: float) -> str:
        self.output += [
            "//action:paused filament_change",
            "//action:prompt_begin Filament change: load new filament",
            "//action:prompt_button Continue",
            "//action:prompt_show",
        ]
        self._wait = _Wait.USER
        return ""


def _emergency_code(text: str) -> str | None:
    """M108/M112/M876/M999 in a line, numbered or not: the emergency parser (P5)."""
    if "M1" not in text and "M9" not in text and "M8" not in text:
        return None
    try:
        command = parse_frame(text).command
    except FramingError:
        return None
    code = command_code(command)
    return code if code in ("M108", "M112", "M876", "M999") else None


_HANDLERS = {
    "G0": VirtualFirmware._move,
    "G1": VirtualFirmware._move,
    "G2": VirtualFirmware._move,
    "G3": VirtualFirmware._move,
    "G4": VirtualFirmware._dwell,
    "G28": VirtualFirmware._home,
    "G29": VirtualFirmware._probe,
    "G90": VirtualFirmware._modes,
    "G91": VirtualFirmware._modes,
    "M82": VirtualFirmware._modes,
    "M83": VirtualFirmware._modes,
    "G92": VirtualFirmware._set_position,
    "M104": VirtualFirmware._set_hotend,
    "M109": VirtualFirmware._set_hotend,
    "M140": VirtualFirmware._set_bed,
    "M190": VirtualFirmware._set_bed,
    "M105": VirtualFirmware._report_temperatures,
    "M155": VirtualFirmware._autoreport,
    "M114": VirtualFirmware._report_position,
    "M115": VirtualFirmware._identify,
    "M110": VirtualFirmware._line_reset,
    "M400": VirtualFirmware._finish_moves,
    "M600": VirtualFirmware._filament_change,
    **{
        code: VirtualFirmware._ignore
        for code in (
            *("M73", "M84", "M106", "M107", "M117", "M118", "M113", "M220", "M221"),
            *("M108", "M876"),  # the emergency parser already acted on them
        )
    },
    **{f"T{tool}": VirtualFirmware._ignore for tool in range(4)},
}
