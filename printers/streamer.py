"""Flow control without I/O: numbering, ok-window, resends and timeouts (P3–P21).

The :class:`Streamer` is fed responses and clock ticks and answers with the lines to write.
It numbers every line it sends (``N<n> <cmd>*<cs>``) except the timeout tickle, keeps the last
``history_lines`` framed lines for resends, never has more than ``window_lines`` commands
without an ``ok``, swallows the ``ok`` that follows a ``Resend:``, ignores a request for the
line it has not sent yet, treats silence past the communication timeout as a lost ``ok`` and
tickles the printer with ``M105``, and exempts long-running commands (G28, M109, ...) from it.

It is not thread-safe; the I/O worker holds a lock around every call.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from gcode.framing import clean_command, command_code, frame, reset_line
from printers.errors import ProtocolError

__all__ = ["HOST_PAUSE_CODES", "LONG_RUNNING_CODES", "Streamer", "StreamerSettings"]

log = logging.getLogger(__name__)

# P20: exempt from the communication timeout while they run.
LONG_RUNNING_CODES = frozenset(
    {"G4", "G28", "G29", "G30", "G32", "M400", "M226", "M600", "M109", "M190", "M191", "M303"}
)
TICKLE = "M105"
JOB_END_SYNC = "M400"  # closes every job: waits for the moves, witnesses the last line
# P31: these would block the serial line until a button press; the host pauses instead.
HOST_PAUSE_CODES = frozenset({"M0", "M1", "M25"})


@dataclass(frozen=True, slots=True)
class StreamerSettings:
    """Flow-control knobs (defaults follow OctoPrint, P8, P16, P18, P20)."""

    window_lines: int = 1
    history_lines: int = 50
    communication_timeout_s: float = 10.0
    max_consecutive_timeouts: int = 5
    max_identical_resends: int = 10
    resend_warn_ratio: float = 0.1

    def __post_init__(self) -> None:
        if self.window_lines < 1 or self.history_lines < self.window_lines:
            raise ValueError("need window_lines >= 1 and history_lines >= window_lines")
        if self.communication_timeout_s <= 0:
            raise ValueError("communication_timeout_s must be > 0")


@dataclass(frozen=True, slots=True)
class _Sent:
    number: int | None
    code: str
    generation: int  # how many rewinds had happened when it was sent


class Streamer:
    """Line numbering and flow control for one printer (see the module docstring)."""

    def __init__(self, settings: StreamerSettings | None = None) -> None:
        self.settings = settings or StreamerSettings()
        self.next_number = 1
        self.halted = False
        self.job_paused = False
        self.pause_requested = False
        self.busy_protocol = False  # set from Cap:BUSY_PROTOCOL (P19, P24)
        self.resends = 0
        self.lines_sent = 0
        self.timeouts = 0
        self._history: dict[int, str] = {}
        self._in_flight: deque[_Sent] = deque()
        self._priority: deque[str] = deque()
        self._job: Iterator[str] | None = None
        self._job_exhausted = False
        self._resend_cursor: int | None = None
        self._swallow_oks = 0
        self._last_request: int | None = None
        self._identical_requests = 0
        self._generation = 0
        self._reset_unconfirmed = False  # the M110 went out; no later line acknowledged yet
        self._last_activity = 0.0
        self._warned_ratio = False

    # ----------------------------------------------------------------- queries
    @property
    def in_flight(self) -> int:
        """Commands sent and not yet acknowledged."""
        return len(self._in_flight)

    @property
    def idle(self) -> bool:
        """Nothing in flight, nothing queued, no resend pending."""
        return not self._in_flight and not self._priority and self._resend_cursor is None

    @property
    def job_active(self) -> bool:
        return self._job is not None

    @property
    def job_draining(self) -> bool:
        """Every job line is sent; the closing M400 waits for the printer to finish."""
        return self._job is not None and self._job_exhausted

    @property
    def job_complete(self) -> bool:
        """The job's lines and the closing M400 are all sent and acknowledged.

        The numbered M400 also proves the firmware got the last job line: had it been lost,
        the M400's line number draws a ``Resend:`` (a lost last line has no other witness).
        """
        return self._job is not None and self._job_exhausted and self.idle

    @property
    def long_running_in_flight(self) -> bool:
        return any(sent.code in LONG_RUNNING_CODES for sent in self._in_flight)

    def deadline(self) -> float | None:
        """When silence becomes a timeout; None while nothing waits for an ``ok``.

        Long-running commands are exempt (P20) unless the firmware has the busy protocol,
        whose keep-alives (and M109/M190 temperature lines) make silence meaningful again.
        """
        if not self._in_flight or self.halted:
            return None
        if not self.busy_protocol and self.long_running_in_flight:
            return None
        return self._last_activity + self.settings.communication_timeout_s

    # ----------------------------------------------------------------- commands
    def hello(self, now: float) -> str:
        """The reset line sent on connect and before a job (P6): ``N0 M110 N0*125``."""
        return self._send_reset(now)

    def start_job(self, commands: Iterator[str], now: float) -> list[str]:
        """Reset numbering (P6, P7) and start feeding ``commands`` (raw G-code lines)."""
        self._job = commands
        self._job_exhausted = False
        self.job_paused = False
        self._priority.appendleft("\0reset")
        return self.pump(now)

    def finish_job(self) -> None:
        """Forget the finished (or cancelled) job."""
        self._job = None
        self._job_exhausted = False

    def cancel_job(self) -> None:
        """Stop feeding job lines and drop queued commands; lines in flight still get acks."""
        self._job = None
        self._priority.clear()
        self._resend_cursor = None

    def enqueue(self, command: str, now: float, *, first: bool = False) -> list[str]:
        """Queue a control command ahead of job lines; returns lines to write now."""
        cleaned = clean_command(command)
        if cleaned:
            if first:
                self._priority.appendleft(cleaned)
            else:
                self._priority.append(cleaned)
        return self.pump(now)

    def out_of_band(self, command: str) -> str:
        """Account for ``command`` written now, unnumbered, past the queue (P5: M108, M876).

        The firmware's emergency parser acts on it at once and later acknowledges it like any
        line, so it counts as in flight (M112 is not: nothing answers after a kill).
        """
        if command_code(command) != "M112":
            self._in_flight.append(_Sent(None, command_code(command), self._generation))
        return command

    def halt(self) -> None:
        """Never send anything again (fatal firmware error, emergency stop)."""
        self.halted = True
        self._priority.clear()
        self._job = None

    # ----------------------------------------------------------------- responses
    def on_activity(self, now: float) -> None:
        """Any line from the firmware resets the communication timeout (P19)."""
        self._last_activity = now

    def on_ok(self, now: float, *, with_temperatures: bool = False) -> list[str]:
        """An ``ok``: acknowledge the oldest command in flight (P8) unless swallowed (P14).

        While only the timeout tickle (M105) is in flight, a plain ``ok`` is the late answer
        to the line we gave up on, not the tickle's (whose ``ok`` carries temperatures).
        """
        self._last_activity = now
        self.timeouts = 0
        if self._swallow_oks:
            self._swallow_oks -= 1
            return self.pump(now)
        if not with_temperatures and self._tickle_at_head():
            log.debug("late ok for a line given up on; the tickle is still in flight")
            return []
        if self._in_flight:
            sent = self._in_flight.popleft()
            if sent.number:  # a line after the reset is through: the firmware had the M110
                self._reset_unconfirmed = False
            if sent.number is not None and sent.generation == self._generation:
                self._identical_requests = 0
        return self.pump(now)

    def _pop_oldest_numbered(self) -> _Sent | None:
        """The line a ``Resend:`` answers: the oldest numbered one (tickles get an ``ok``)."""
        for index, sent in enumerate(self._in_flight):
            if sent.number is not None:
                del self._in_flight[index]
                return sent
        return None

    def _tickle_at_head(self) -> bool:
        head = self._in_flight[0] if self._in_flight else None
        return head is not None and head.number is None and head.code == TICKLE

    def on_no_line_number(self, now: float) -> list[str]:
        """P17: ``No Line Number with checksum`` counts as the ``ok``."""
        return self.on_ok(now)

    def on_resend(self, number: int, now: float) -> list[str]:
        """Handle ``Resend: <number>`` (P13–P16).

        A request answers the oldest line in flight (the firmware rejected it).  A line sent
        before our last rewind to the same number is rejected as expected: ignore (P16).
        """
        self._last_activity = now
        self._swallow_oks += 1
        if number >= self.next_number:
            if number > self.next_number and self._reset_unconfirmed:
                return self._recover_lost_reset(number, now)
            log.debug("ignoring resend of unsent line %d (P15)", number)
            return self.pump(now)
        answered = self._pop_oldest_numbered()
        if (
            answered is not None
            and answered.generation < self._generation
            and number == self._last_request
        ):
            return self.pump(now)
        if number not in self._history:
            raise ProtocolError(f"firmware asks for line {number}, which is no longer kept")
        self._count_identical(number)
        self.resends += 1
        self._check_ratio()
        self._generation += 1
        self._resend_cursor = number
        return self.pump(now)

    def on_tick(self, now: float) -> list[str]:
        """Check the timeout: silence counts as a lost ``ok``; tickle with M105 (P21)."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return []
        self.timeouts += 1
        if self.timeouts > self.settings.max_consecutive_timeouts:
            raise ProtocolError(
                f"printer does not answer ({self.timeouts} timeouts of "
                f"{self.settings.communication_timeout_s:g} s)"
            )
        log.info(
            "timeout %d: no answer to %s; treating silence as a lost ok",
            self.timeouts,
            [sent.number if sent.number is not None else sent.code for sent in self._in_flight],
        )
        self._in_flight.clear()
        self._swallow_oks = 0
        self._last_activity = now
        self._in_flight.append(_Sent(None, TICKLE, self._generation))
        return [TICKLE]

    # ----------------------------------------------------------------- sending
    def pump(self, now: float) -> list[str]:
        """Fill the window: resends first, then control commands, then job lines."""
        out: list[str] = []
        while not self.halted and len(self._in_flight) < self.settings.window_lines:
            line = self._next_line(now)
            if line is None:
                break
            out.append(line)
        if out:
            self.lines_sent += len(out)
            if len(self._in_flight) == len(out):
                self._last_activity = now
        return out

    def _next_line(self, now: float) -> str | None:
        if self._resend_cursor is not None:
            number = self._resend_cursor
            self._resend_cursor = number + 1 if number + 1 < self.next_number else None
            text = self._history[number]
            code = command_code(text.split(" ", 1)[1])
            self._in_flight.append(_Sent(number, code, self._generation))
            return text
        if self._priority:
            command = self._priority.popleft()
            if command == "\0reset":
                return self._send_reset(now)
            return self._send_numbered(command)
        if self._job is not None and not self.job_paused and not self._job_exhausted:
            for raw in self._job:
                command = clean_command(raw)
                if not command:
                    continue
                if command_code(command) in HOST_PAUSE_CODES:
                    log.info("%s in the job: pausing on the host instead (P31)", command)
                    self.job_paused = self.pause_requested = True
                    return None
                return self._send_numbered(command)
            self._job_exhausted = True
            return self._send_numbered(JOB_END_SYNC)
        return None

    def _send_numbered(self, command: str) -> str:
        number = self.next_number
        self.next_number += 1
        if "*" in command:
            command = command.replace("*", "")
        text = frame(number, command)
        self._remember(number, text)
        self._in_flight.append(_Sent(number, command_code(command), self._generation))
        return text

    def _send_reset(self, now: float) -> str:
        text = reset_line(0)
        self._in_flight.clear()
        self._swallow_oks = 0
        self._history.clear()
        self._resend_cursor = None
        self.next_number = 1
        self._reset_unconfirmed = True
        self._remember(0, text)
        self._in_flight.append(_Sent(0, "M110", self._generation))
        self._last_activity = now
        return text

    def _remember(self, number: int, text: str) -> None:
        """Keep the last ``history_lines`` numbers (they are consecutive since the reset)."""
        self._history[number] = text
        self._history.pop(number - self.settings.history_lines, None)

    def _recover_lost_reset(self, number: int, now: float) -> list[str]:
        """The firmware wants a line past ours before acknowledging any line after our M110:
        it never got the M110 and rejected everything since.  Resend the M110 and line 1+.
        """
        log.info("firmware missed the line-number reset (asks for %d); resending it", number)
        self.resends += 1
        self._generation += 1
        self._resend_cursor = 0
        self._in_flight.clear()
        return self.pump(now)

    def _count_identical(self, number: int) -> None:
        if number == self._last_request:
            self._identical_requests += 1
        else:
            self._last_request, self._identical_requests = number, 1
        if self._identical_requests > self.settings.max_identical_resends:
            raise ProtocolError(
                f"communication stuck: line {number} requested "
                f"{self._identical_requests} times in a row"
            )

    def _check_ratio(self) -> None:
        if self._warned_ratio or self.lines_sent < 100:
            return
        if self.resends / self.lines_sent > self.settings.resend_warn_ratio:
            self._warned_ratio = True
            log.warning(
                "%d resends for %d lines sent: check the cable and baud rate (P18)",
                self.resends,
                self.lines_sent,
            )
