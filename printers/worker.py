"""The I/O worker: one thread per printer that reads the port, feeds the streamer and writes.

Serial I/O never runs on the asyncio loop, so one slow port cannot stall another.  The hot
path (``ok`` -> next line) stays on this thread; only what the connection must act on (fatal
error, lost port, job complete, host actions, M114 answers) is posted to the loop through
``post`` (``loop.call_soon_threadsafe``).  Temperatures are stored in attributes the loop
reads for its snapshots.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from printers.errors import PrinterError, ProtocolError
from printers.responses import (
    Action,
    Capability,
    ErrorKind,
    FirmwareError,
    FirmwareInfo,
    Ok,
    Position,
    Resend,
    Start,
    TemperatureReport,
    parse_response,
)
from printers.streamer import Streamer
from printers.transport import BAUD_CANDIDATES, SerialTransport, detect_baud

__all__ = ["IoWorker", "WorkerSink"]

log = logging.getLogger(__name__)

READ_SLICE_S = 0.25
HELLO_RETRY_S = 1.0
RESTART_WAIT_S = 2.0  # P29: how long the answer to M999 (or a reset's banner) may take


class WorkerSink(Protocol):
    """What the worker tells the connection; every call arrives on the asyncio loop."""

    def on_fatal(self, message: str) -> None: ...
    def on_lost(self, message: str) -> None: ...
    def on_job_draining(self) -> None: ...
    def on_job_complete(self) -> None: ...
    def on_action(self, action: Action) -> None: ...
    def on_position(self, position: Position) -> None: ...


class IoWorker:
    """Owns the transport and the streamer of one printer (see the module docstring)."""

    def __init__(
        self,
        transport: SerialTransport,
        streamer: Streamer,
        sink: WorkerSink,
        post: Callable[..., object],
        name: str,
    ) -> None:
        self.transport = transport
        self.streamer = streamer
        self.name = name
        self.firmware_info: FirmwareInfo | None = None
        self.capabilities: dict[str, bool] = {}
        self.temperatures: TemperatureReport | None = None
        self.lock = threading.Lock()
        self._sink = sink
        self._raw_post = post
        self._online = False
        self._seen_start = False
        self._garbage_seen = False
        self._complete_posted = False
        self._draining_posted = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- handshake
    def handshake(
        self, *, detect_baud_rate: bool, timeout_s: float, restart_after_kill: bool = False
    ) -> None:
        """Open the port, find the rate, say hello until answered (P25, P26), ask M115 (P24).

        ``restart_after_kill``: the firmware was killed on the last connection, so it is
        restarted with M999 first (P29).  Blocking; run it in an executor.  Raises
        :class:`PrinterError` with the port's name.
        """
        self.transport.open()
        if restart_after_kill:
            self._restart_killed_firmware()
        if detect_baud_rate:  # P26: the profile's rate (the last good one) first
            first = self.transport.baud
            candidates = (first, *(b for b in BAUD_CANDIDATES if b != first))
            detect_baud(self.transport, "M105", candidates)
        deadline = time.monotonic() + timeout_s
        while not self._online:
            if time.monotonic() > deadline:
                hint = " (garbage received: wrong baud rate? try baud 'auto')"
                raise ProtocolError(
                    f"{self.transport.url}: no answer to hello in {timeout_s:g} s"
                    + (hint if self._garbage_seen else "")
                )
            self._seen_start = False
            with self.lock:
                self._write([self.streamer.hello(time.monotonic())])
            retry_at = min(deadline, time.monotonic() + HELLO_RETRY_S)
            while not self._online and not self._seen_start and time.monotonic() < retry_at:
                self._read_once(retry_at - time.monotonic())
        self.call(lambda streamer, now: streamer.enqueue("M115", now))
        while not self.streamer.idle:
            if time.monotonic() > deadline:
                raise ProtocolError(f"{self.transport.url}: no answer to M115")
            self._read_once(min(READ_SLICE_S, deadline - time.monotonic()))
            self.call(lambda streamer, now: streamer.on_tick(now))  # a lost ok (P21)

    def _restart_killed_firmware(self) -> None:
        """P29: a killed firmware answers nothing until M999 or a reset.

        Opening the port resets an Arduino-class board (P25), but not every board, and not
        when the port is reopened faster than the board notices; so say M999 and drop its
        ``Resend: 1``/``ok`` (or a reset's banner) here, before the hello numbers lines afresh.
        """
        self.transport.write_line("M999")
        deadline = time.monotonic() + RESTART_WAIT_S
        while (left := deadline - time.monotonic()) > 0:
            lines = self.transport.read_lines(min(READ_SLICE_S, left))
            if any(line.strip() == "ok" or line.startswith("start") for line in lines):
                return

    # ----------------------------------------------------------------- thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"io-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the port (idempotent; safe from the loop)."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None
        self.transport.close()

    def call(self, operation: Callable[[Streamer, float], list[str]]) -> None:
        """Run ``operation(streamer, now)`` under the lock and write the lines it returns."""
        with self.lock:
            self._write(operation(self.streamer, time.monotonic()))
            self._post_job_events()

    def write_out_of_band(self, command: str) -> None:
        """Write ``command`` now, unnumbered, ahead of everything (P5: M112, M108, M876)."""
        with self.lock:
            self.transport.write_line(self.streamer.out_of_band(command))

    def job_started(self) -> None:
        """Arm the job-end events (at a start, and again at a resume)."""
        with self.lock:
            self._complete_posted = self._draining_posted = False

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                deadline = self.streamer.deadline()
                wait_s = READ_SLICE_S
                if deadline is not None:
                    wait_s = min(wait_s, max(0.0, deadline - time.monotonic()))
                self._read_once(wait_s)
                with self.lock:
                    self._write(self.streamer.on_tick(time.monotonic()))
        except PrinterError as exc:
            self._give_up(str(exc))
        except Exception as exc:  # a bug must fail the printer, never leave it hanging
            log.exception("%s: I/O thread failed", self.name)
            self._give_up(f"internal error in the printer host: {exc!r}")

    def _give_up(self, message: str) -> None:
        if self._stopping.is_set():
            return
        with self.lock:
            self.streamer.halt()
        log.info("%s: %s", self.name, message)  # reported through the connection
        self._post(self._sink.on_lost, message)

    def _read_once(self, timeout_s: float) -> None:
        lines = self.transport.read_lines(timeout_s)
        if not lines:
            return
        with self.lock:
            now = time.monotonic()
            self.streamer.on_activity(now)
            for line in lines:
                self._handle(line, now)
            self._post_job_events()

    def _post_job_events(self) -> None:
        """Tell the loop about pauses asked for by the job, its end and its completion."""
        streamer = self.streamer
        if streamer.pause_requested:
            streamer.pause_requested = False
            self._post(self._sink.on_action, Action("pause", "M0/M1 in the job"))
        if streamer.job_draining and not self._draining_posted:
            self._draining_posted = True
            self._post(self._sink.on_job_draining)
        if streamer.job_complete and not self._complete_posted:
            self._complete_posted = True
            self._post(self._sink.on_job_complete)

    def _post(self, callback: Callable[..., object], *args: object) -> None:
        try:
            self._raw_post(callback, *args)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            log.debug("%s: loop closed, dropping %s", self.name, callback)

    def _write(self, lines: list[str]) -> None:
        for line in lines:
            self.transport.write_line(line)

    # ----------------------------------------------------------------- dispatch
    def _handle(self, line: str, now: float) -> None:
        response = parse_response(line)
        streamer = self.streamer
        if isinstance(response, Ok):
            if response.temperatures is not None:
                self.temperatures = response.temperatures
            self._online = True
            self._write(streamer.on_ok(now, with_temperatures=response.temperatures is not None))
        elif isinstance(response, Resend):
            self._write(streamer.on_resend(response.line_number, now))
        elif isinstance(response, TemperatureReport):
            self.temperatures = response
        elif isinstance(response, FirmwareError):
            self._handle_error(response, now)
        elif isinstance(response, Action):
            self._post(self._sink.on_action, response)
        elif isinstance(response, Position):
            self._post(self._sink.on_position, response)
        elif isinstance(response, Capability):
            self.capabilities[response.name] = response.enabled
            if response.name == "BUSY_PROTOCOL":
                streamer.busy_protocol = response.enabled
        elif isinstance(response, FirmwareInfo):
            self.firmware_info = response
        elif isinstance(response, Start):
            self._handle_start()
        else:
            self._garbage_seen = self._garbage_seen or "\ufffd" in line
            log.debug("%s: %s", self.name, line)

    def _handle_error(self, error: FirmwareError, now: float) -> None:
        if error.kind is ErrorKind.NO_LINE_NUMBER:
            self._write(self.streamer.on_no_line_number(now))
        elif error.kind is ErrorKind.FATAL:
            self.streamer.halt()
            self._post(self._sink.on_fatal, error.message)
        elif error.kind is ErrorKind.TRANSPORT:
            log.debug("%s: %s", self.name, error.message)
        else:
            log.warning("%s: firmware error: %s", self.name, error.message)

    def _handle_start(self) -> None:
        self._seen_start = True
        if self._online and self._thread is not None:
            self.streamer.halt()
            self._post(self._sink.on_fatal, "the printer restarted unexpectedly")
