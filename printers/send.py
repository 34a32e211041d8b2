"""``slicefarm send``: stream one G-code file to one printer with a progress line.

Exit codes: 0 printed, 1 printer fault / disconnect / timeout, 2 bad input, 130 Ctrl-C
(the job is cancelled with the profile's cancel script first).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from printers.connection import PrinterConnection
from printers.errors import PrinterError
from printers.profiles import PrinterProfile
from printers.state import EventKind, PrinterEvent, PrinterStatus

__all__ = ["SendOutcome", "format_progress", "send_file"]

BAR_WIDTH = 24


@dataclass(frozen=True, slots=True)
class SendOutcome:
    exit_code: int
    message: str


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _temp(actual: float | None, target: float | None) -> str:
    if actual is None:
        return "-"
    return f"{actual:.0f}/{target or 0:.0f}"


def format_progress(status: PrinterStatus) -> str:
    """One line: bar, percent, line, temperatures (°C), elapsed and ETA."""
    filled = round(status.progress * BAR_WIDTH)
    total = status.total_lines if status.total_lines is not None else "?"
    layer = f" layer {status.layer}" if status.layer is not None else ""
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {status.progress * 100:5.1f}%  "
        f"line {status.line}/{total}{layer}  "
        f"T {_temp(status.hotend_c, status.hotend_target_c)}  "
        f"B {_temp(status.bed_c, status.bed_target_c)}  "
        f"{_clock(status.elapsed_s)} ETA {_clock(status.remaining_s)}"
    )


class _Progress:
    """Writes the progress line: redrawn in place on a terminal, every 10 % otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_decile = -1

    def __call__(self, event: PrinterEvent) -> None:
        if event.kind is not EventKind.PROGRESS or event.status.job_name is None:
            return
        line = format_progress(event.status)
        if self.tty:
            self.stream.write("\r" + line)
            self.stream.flush()
            return
        decile = int(event.status.progress * 10)
        if decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(line + "\n")

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")


async def send_file(
    path: Path,
    port: str,
    profile: PrinterProfile,
    baud: int | str,
    stream: TextIO | None = None,
) -> SendOutcome:
    """Connect, stream ``path``, wait for the end; Ctrl-C cancels safely.

    The progress line goes to ``stream`` (standard error by default).
    """
    connection = PrinterConnection(port, profile=profile, baud=baud, name=port)
    try:
        await connection.connect()
    except PrinterError as exc:
        return SendOutcome(1, f"cannot connect: {exc}")
    progress = _Progress(stream or sys.stderr)
    ended: asyncio.Future[PrinterEvent] = asyncio.get_running_loop().create_future()
    interrupted = asyncio.Event()

    def on_event(event: PrinterEvent) -> None:
        progress(event)
        ends = (EventKind.JOB_FINISHED, EventKind.JOB_FAILED, EventKind.JOB_CANCELLED)
        if event.kind in ends and not ended.done():
            ended.set_result(event)

    connection.subscribe(on_event)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, interrupted.set)
    started = time.monotonic()
    try:
        await connection.start_print(path, job_name=path.name)
        outcome = await _wait_for_end(connection, ended, interrupted)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        progress.end()
        await connection.disconnect()
    if outcome.exit_code == 0:
        resends = ended.result().status.resends
        return SendOutcome(
            0, f"printed {path.name}: {time.monotonic() - started:.1f} s, {resends} resends"
        )
    return outcome


async def _wait_for_end(
    connection: PrinterConnection,
    ended: asyncio.Future[PrinterEvent],
    interrupted: asyncio.Event,
) -> SendOutcome:
    interrupt = asyncio.ensure_future(interrupted.wait())
    done, _ = await asyncio.wait({ended, interrupt}, return_when=asyncio.FIRST_COMPLETED)
    interrupt.cancel()
    if ended in done:
        event = ended.result()
        if event.kind is EventKind.JOB_FINISHED:
            return SendOutcome(0, "finished")
        return SendOutcome(1, f"job failed: {event.message}")
    try:
        await connection.cancel()
    except PrinterError as exc:
        return SendOutcome(130, f"interrupted; cancelling failed: {exc}")
    return SendOutcome(130, "interrupted: job cancelled (cancel script sent)")
