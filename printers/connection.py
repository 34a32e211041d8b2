"""One printer connection: the state machine on the asyncio loop, I/O on its worker thread.

    connection = PrinterConnection("/dev/ttyUSB0", profile=load_printer("ender3"))
    await connection.connect()
    await connection.start_print(Path("part.gcode"), job_name="part")
    unsubscribe = connection.subscribe(lambda event: ...)

Every object is created and used on one asyncio loop (the farm service's).  States and their
legal changes are in :mod:`printers.state`; flow control in :mod:`printers.streamer`; reading
and writing the port in :mod:`printers.worker`.  Events: a state change, job started /
finished / failed / cancelled, ``//action:`` requests, and about once a second progress with
temperatures.  A firmware kill (P28), a vanished port or an unrecoverable timeout puts the
printer in ERROR, fails the job and sends nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from printers.errors import PrinterError, StateError
from printers.job import JobSource, fill_script, open_job, resume_lines
from printers.profiles import PrinterProfile
from printers.responses import Action, Position
from printers.state import (
    JOB_STATES,
    ConnectionState,
    EventKind,
    PrinterEvent,
    PrinterStatus,
    check_transition,
)
from printers.streamer import Streamer, StreamerSettings
from printers.transport import SerialTransport
from printers.worker import IoWorker

__all__ = ["HostSettings", "PrinterConnection"]

log = logging.getLogger(__name__)

S = ConnectionState
DRAIN_POLL_S = 0.01
POSITION_TIMEOUT_S = 5.0
HEAT_WAIT_CODES = frozenset({"M109", "M190", "M191"})


@dataclass(frozen=True, slots=True)
class HostSettings:
    """Timing of one connection; the defaults suit real printers, tests shorten them."""

    streamer: StreamerSettings = field(default_factory=StreamerSettings)
    connect_timeout_s: float = 10.0
    poll_interval_s: float = 2.0  # M105 polling without AUTOREPORT_TEMP, a target set (P22)
    idle_poll_interval_s: float = 5.0  # ... and with every heater off
    autoreport_interval_s: int = 2  # M155 S<n> with AUTOREPORT_TEMP
    status_interval_s: float = 1.0  # PROGRESS events
    drain_timeout_s: float = 120.0  # pause/cancel wait for the printer at most this long


class PrinterConnection:
    """A printer on a serial port (see the module docstring for the life cycle)."""

    def __init__(
        self,
        port: str,
        *,
        profile: PrinterProfile,
        baud: int | str = 115200,
        name: str = "",
        settings: HostSettings | None = None,
    ) -> None:
        if baud != "auto" and not (isinstance(baud, int) and baud > 0):
            raise ValueError(f"baud must be a positive integer or 'auto', got {baud!r}")
        self.port = port
        self.profile = profile
        self.baud = baud
        self.name = name or port
        self.settings = settings or HostSettings()
        self._state = S.DISCONNECTED
        self._error: str | None = None
        self._killed = False  # the firmware was killed (P28): the next connect sends M999
        self._subscribers: list[Callable[[PrinterEvent], None]] = []
        self._worker: IoWorker | None = None
        self._job: JobSource | None = None
        self._job_name: str | None = None
        self._job_started_at = 0.0
        self._position: asyncio.Future[Position] | None = None
        self._resume: list[str] = []
        self._prompt: str | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ----------------------------------------------------------------- status, events
    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def status(self) -> PrinterStatus:
        """A frozen snapshot of state, temperatures, job progress and firmware."""
        worker, job = self._worker, self._job
        temps = worker.temperatures if worker else None
        hotend = temps.hotends[0] if temps and temps.hotends else None
        bed = temps.bed if temps else None
        line = job.lines_read if job else 0
        total = job.total_lines if job else None
        progress = min(1.0, line / total) if job and total else 0.0
        elapsed_s = time.monotonic() - self._job_started_at if job else 0.0
        return PrinterStatus(
            name=self.name,
            state=self._state,
            hotend_c=hotend.actual_c if hotend else None,
            hotend_target_c=hotend.target_c if hotend else None,
            bed_c=bed.actual_c if bed else None,
            bed_target_c=bed.target_c if bed else None,
            job_name=self._job_name,
            line=line,
            total_lines=total,
            progress=progress,
            elapsed_s=elapsed_s,
            remaining_s=_remaining_s(job, progress, elapsed_s),
            layer=job.layer if job else None,
            resends=worker.streamer.resends if worker else 0,
            firmware_name=worker.firmware_info.firmware_name
            if worker and worker.firmware_info
            else "",
            capabilities=dict(worker.capabilities) if worker else {},
            error=self._error,
            prompt=self._prompt,
        )

    def subscribe(self, callback: Callable[[PrinterEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on every event; returns the function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, kind: EventKind, message: str = "") -> None:
        event = PrinterEvent(kind, self.status, message)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("%s: event subscriber failed", self.name)

    def _set_state(self, new: ConnectionState) -> None:
        if new is self._state:
            return
        check_transition(self._state, new)
        log.info("%s: %s -> %s", self.name, self._state.value, new.value)
        self._state = new
        self._emit(EventKind.STATE_CHANGED, new.value)

    def _require(self, *states: ConnectionState) -> None:
        if self._state not in states:
            allowed = ", ".join(s.value for s in states)
            raise StateError(f"{self.name} is {self._state.value}; needs {allowed}")

    # ----------------------------------------------------------------- connect
    async def connect(self) -> None:
        """Open the port, handshake (P24–P26), start temperature reports; state IDLE."""
        self._require(S.DISCONNECTED, S.ERROR)
        await self._stop_worker()
        self._error = None
        self._set_state(S.CONNECTING)
        loop = asyncio.get_running_loop()
        baud = self.profile.baud_rate if self.baud == "auto" else int(self.baud)
        worker = IoWorker(
            SerialTransport(self.port, baud),
            Streamer(self.settings.streamer),
            self,
            loop.call_soon_threadsafe,
            self.name,
        )
        self._worker = worker
        try:
            await loop.run_in_executor(
                None,
                lambda: worker.handshake(
                    detect_baud_rate=self.baud == "auto",
                    timeout_s=self.settings.connect_timeout_s,
                    restart_after_kill=self._killed,
                ),
            )
        except PrinterError as exc:
            worker.stop()
            self._fail(str(exc))
            raise
        self._killed = False
        worker.start()
        if worker.capabilities.get("AUTOREPORT_TEMP"):
            self._send(f"M155 S{self.settings.autoreport_interval_s}")
        self._set_state(S.IDLE)
        self._ticker = asyncio.create_task(self._tick())

    async def disconnect(self) -> None:
        """Close the port (a running job is abandoned, not cancelled); state DISCONNECTED."""
        if self._state is S.DISCONNECTED:
            return
        if self._job is not None:
            self._end_job(EventKind.JOB_FAILED, "disconnected by the host")
        current = asyncio.current_task()
        for task in [t for t in self._tasks if t is not current]:
            task.cancel()  # pauses or resumes asked for by the firmware (P32)
        await self._stop_worker()
        self._state_to_disconnected()

    def _state_to_disconnected(self) -> None:
        if self._state in (S.CONNECTING,):
            self._set_state(S.ERROR)
        self._set_state(S.DISCONNECTED)

    async def _stop_worker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        worker, self._worker = self._worker, None
        if worker is not None:
            await asyncio.get_running_loop().run_in_executor(None, worker.stop)
            self._worker = None

    # ----------------------------------------------------------------- jobs
    async def start_print(
        self,
        lines: Iterable[str] | str | Path,
        *,
        job_name: str,
        total_lines: int | None = None,
    ) -> None:
        """Start streaming a job (a path, G-code text or lines); returns once it streams.

        The line numbering is reset first (P6).  ``FileNotFoundError`` for a missing file.
        """
        self._require(S.IDLE)
        job = open_job(lines, total_lines)
        worker = self._live_worker()
        self._job, self._job_name = job, job_name
        self._job_started_at = time.monotonic()
        worker.job_started()
        self._set_state(S.PRINTING)
        self._emit(EventKind.JOB_STARTED, job_name)
        worker.call(lambda streamer, now: streamer.start_job(job, now))

    async def pause(self) -> None:
        """Stop feeding lines, remember the position, run the profile's pause script (P30)."""
        self._require(S.PRINTING)
        self._set_state(S.PAUSING)
        worker = self._live_worker()
        worker.call(_hold_job)
        await self._drained()
        position = await self._query_position()
        job = self._job
        self._resume = resume_lines(position, job.modal) if job else []
        if position is None:  # without a position to return to, do not park
            log.warning("%s: no answer to M114; pausing without the pause script", self.name)
        else:
            for command in fill_script(self.profile.gcode.pause, self.profile):
                self._send(command)
        await self._drained()
        self._set_state(S.PAUSED)

    async def resume(self) -> None:
        """Restore position, E, modes and feedrate, then continue with the next line (P30)."""
        self._require(S.PAUSED)
        self._set_state(S.RESUMING)
        for command in self._resume:
            self._send(command)
        worker = self._live_worker()
        self._set_state(S.PRINTING)
        worker.job_started()  # an end seen while pausing was ignored: report it again
        worker.call(_release_job)

    async def cancel(self) -> None:
        """Stop feeding, abort heat-ups (M108), run the profile's cancel script; state IDLE."""
        self._require(*JOB_STATES)
        self._set_state(S.CANCELLING)
        worker = self._live_worker()
        worker.call(_drop_job)
        heating = worker.streamer.long_running_in_flight
        if heating and worker.capabilities.get("EMERGENCY_PARSER"):
            worker.write_out_of_band("M108")
        for command in fill_script(self.profile.gcode.cancel, self.profile):
            self._send(command)
        await self._drained()
        self._set_state(S.IDLE)
        self._end_job(EventKind.JOB_CANCELLED, "cancelled")

    async def emergency_stop(self) -> None:
        """Send M112 out of band, right away (P5); nothing more is sent; state ERROR."""
        worker = self._worker
        if worker is None:
            raise StateError(f"{self.name} is not connected")
        with worker.lock:
            worker.streamer.halt()
        self._killed = True  # M112 halts the firmware as a kill does
        try:
            worker.write_out_of_band("M112")
        finally:
            self._fail("emergency stop")

    async def answer_prompt(self, choice: int = 0) -> None:
        """Answer the firmware's prompt (e.g. M600 "Continue") with ``M876 S<choice>`` (P32).

        Sent out of band: the firmware is blocked waiting for exactly this answer.
        """
        self._live_worker().write_out_of_band(f"M876 S{choice}")
        self._prompt = None

    async def send_command(self, cmd: str) -> None:
        """Queue one command ahead of any job lines (numbered, acknowledged like the rest)."""
        self._require(S.IDLE, S.PRINTING, S.PAUSED, S.FINISHING)
        self._send(cmd)

    # ----------------------------------------------------------------- worker callbacks
    def on_fatal(self, message: str) -> None:
        """A firmware kill (P28): fail the job, ERROR; a second kill line adds detail."""
        self._killed = True
        if self._state is S.ERROR and self._error:
            if message not in self._error:
                self._error = f"{self._error}; {message}"
            return
        self._fail(f"printer error: {message}")

    def on_lost(self, message: str) -> None:
        """The port vanished or the printer stopped answering."""
        if self._state is not S.ERROR:
            self._fail(message)
        self._spawn(self._stop_worker())

    def on_job_draining(self) -> None:
        """Every job line is sent; the closing M400 waits for the last moves: FINISHING."""
        if self._state is S.PRINTING:
            self._set_state(S.FINISHING)

    def on_job_complete(self) -> None:
        """The closing M400 is acknowledged: the printer has finished; IDLE, job finished."""
        if self._state is S.PRINTING:
            self._set_state(S.FINISHING)
        if self._state is S.FINISHING:
            self._set_state(S.IDLE)
            self._end_job(EventKind.JOB_FINISHED, "finished")

    def on_action(self, action: Action) -> None:
        """Host action requests (P32): pause, resume, cancel, disconnect act; a prompt shows
        in the status until answered (:meth:`answer_prompt`); others are events only.

        ``paused``/``resumed`` report what the firmware did itself (M600): no host scripts.
        """
        if action.name == "prompt_begin":
            self._prompt = action.params or "prompt"
        elif action.name == "prompt_end":
            self._prompt = None
        self._emit(EventKind.ACTION, f"{action.name} {action.params}".strip())
        handlers = {
            "pause": (S.PRINTING, self.pause),
            "resume": (S.PAUSED, self.resume),
            "cancel": (None, self.cancel),
            "disconnect": (None, self.disconnect),
        }
        entry = handlers.get(action.name)
        if entry is None:
            log.info("%s: ignoring //action:%s", self.name, action.name)
            return
        needed, handler = entry
        if needed is None and action.name == "cancel" and self._state not in JOB_STATES:
            return
        if needed is None or self._state is needed:
            self._spawn(handler())

    def on_position(self, position: Position) -> None:
        if self._position is not None and not self._position.done():
            self._position.set_result(position)

    # ----------------------------------------------------------------- helpers
    def _live_worker(self) -> IoWorker:
        if self._worker is None:
            raise StateError(f"{self.name} is not connected")
        return self._worker

    def _send(self, command: str) -> None:
        self._live_worker().call(lambda streamer, now: streamer.enqueue(command, now))

    def _fail(self, message: str) -> None:
        self._error = message
        if self._state is not S.ERROR:
            if self._state is S.DISCONNECTED:
                self._set_state(S.CONNECTING)
            self._set_state(S.ERROR)
        if self._job is not None:
            self._end_job(EventKind.JOB_FAILED, message)

    def _end_job(self, kind: EventKind, message: str) -> None:
        self._emit(kind, message)
        self._job = None
        self._job_name = None
        worker = self._worker
        if worker is not None:
            with worker.lock:
                worker.streamer.finish_job()

    async def _drained(self) -> None:
        """Wait until nothing is queued or in flight; StateError when the printer fails."""
        deadline = time.monotonic() + self.settings.drain_timeout_s
        while True:
            worker = self._worker
            if self._state is S.ERROR or worker is None:
                raise StateError(f"{self.name}: {self._error or 'not connected'}")
            if worker.streamer.idle:
                return
            if time.monotonic() > deadline:
                raise StateError(f"{self.name}: printer did not finish its commands in time")
            await asyncio.sleep(DRAIN_POLL_S)

    async def _query_position(self) -> Position | None:
        """The M114 position, or None when the firmware does not tell within a few seconds."""
        self._position = asyncio.get_running_loop().create_future()
        self._send("M114")
        try:
            return await asyncio.wait_for(self._position, POSITION_TIMEOUT_S)
        except TimeoutError:
            return None
        finally:
            self._position = None

    async def _tick(self) -> None:
        """Once a second a PROGRESS event; M105 polling without autoreport (P22)."""
        next_poll = 0.0
        while True:
            await asyncio.sleep(self.settings.status_interval_s)
            worker = self._worker
            if worker is None or self._state is S.ERROR:
                continue
            now = time.monotonic()
            if not worker.capabilities.get("AUTOREPORT_TEMP") and now >= next_poll:
                next_poll = now + self._poll_interval_s(worker)
                if self._state not in (S.CANCELLING, S.PAUSING):
                    self._send("M105")
            self._emit(EventKind.PROGRESS)

    def _poll_interval_s(self, worker: IoWorker) -> float:
        temps = worker.temperatures
        heaters = [*temps.hotends, temps.bed] if temps else []
        heating = any(h is not None and (h.target_c or 0.0) > 0 for h in heaters)
        return self.settings.poll_interval_s if heating else self.settings.idle_poll_interval_s

    def _spawn(self, coroutine: object) -> None:
        task = asyncio.ensure_future(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s: %s", self.name, task.exception())


def _hold_job(streamer: Streamer, now: float) -> list[str]:
    streamer.job_paused = True
    return []


def _release_job(streamer: Streamer, now: float) -> list[str]:
    streamer.job_paused = False
    return streamer.pump(now)


def _drop_job(streamer: Streamer, now: float) -> list[str]:
    streamer.cancel_job()
    return []


def _remaining_s(job: JobSource | None, progress: float, elapsed_s: float) -> float | None:
    if job is None:
        return None
    if job.remaining_s_hint is not None:
        return job.remaining_s_hint
    if progress <= 0.0:
        return None
    return elapsed_s * (1.0 - progress) / progress
