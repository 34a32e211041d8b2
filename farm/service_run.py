"""Running prints: connecting printers, starting a print, following it, operator actions.

:class:`PrintRunner` owns the printer connections of a :class:`farm.service.FarmService`.
A print is streamed by the printer host (``printers.connection``); the runner follows the
host's state until the print ends and records the outcome in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from farm.db import PLANNABLE
from farm.queue import QueueError
from farm.service_printers import (
    CurrentPrint,
    FarmPrinter,
    FarmPrinterState,
    OperatorRequest,
    RequestKind,
)
from printers.connection import PrinterConnection
from printers.profiles import load_material
from printers.state import EventKind, PrinterEvent
from printers.virtual import FaultConfig, VirtualPrinter

if TYPE_CHECKING:
    from farm.service import FarmService

log = logging.getLogger(__name__)

PROGRESS_EVENT_S = 1.0
RECONNECT_S = 10.0
SAVE_PROGRESS_S = 5.0
ERROR_HOST_STATES = {"ERROR", "OFFLINE", "DISCONNECTED"}


class ActionError(Exception):
    """An operator action that does not fit the printer's state (HTTP 409)."""

    http_status = 409


class PrintRunner:
    def __init__(self, service: FarmService):
        self.svc = service
        self._last_event: dict[str, tuple[str, float]] = {}
        self._last_saved: dict[str, float] = {}
        self._stopping = False

    # --- connections ----------------------------------------------------------------------

    async def keep_connected(self) -> None:
        """Connect every printer, and try the unconnected ones again every few seconds."""
        while True:
            offline = [
                p for p in self.svc.printers.values() if p.connection is None and not p.maintenance
            ]
            await asyncio.gather(*(self._connect(p) for p in offline))
            if offline:
                self.svc.dispatcher.replan("printers connected")
            await asyncio.sleep(RECONNECT_S)

    async def _connect(self, printer: FarmPrinter) -> None:
        try:
            port = printer.config.port
            if printer.config.is_virtual:
                printer.virtual = VirtualPrinter(
                    speed=printer.config.virtual_speed,
                    instant=printer.config.virtual_instant,
                    faults=FaultConfig.parse(printer.config.virtual_faults),
                    baud=printer.profile.baud_rate,
                    name=printer.id,
                )
                port = printer.virtual.start()
            baud = printer.config.baud or printer.profile.baud_rate
            conn = PrinterConnection(port, profile=printer.profile, baud=baud, name=printer.id)
            printer.connection = conn
            conn.subscribe(lambda event, p=printer: self._on_host_event(p, event))
            await conn.connect()
            printer.connect_error = None
        except Exception as exc:
            log.warning("printer %s: cannot connect: %s", printer.id, exc)
            printer.connect_error = f"cannot connect to {printer.config.port}: {exc}"
            await self._disconnect(printer)
        self.svc.publish_printer(printer)

    async def _disconnect(self, printer: FarmPrinter) -> None:
        with contextlib.suppress(Exception):
            if printer.connection is not None:
                await printer.connection.disconnect()
        with contextlib.suppress(Exception):
            if printer.virtual is not None:
                printer.virtual.stop()
        printer.connection = None
        printer.virtual = None

    async def disconnect_all(self) -> None:
        """On shutdown: prints that were streaming stay "printing" in the database, so the
        next start marks them interrupted and their beds not clear."""
        self._stopping = True
        for printer in self.svc.printers.values():
            await self._disconnect(printer)

    def _on_host_event(self, printer: FarmPrinter, event: PrinterEvent) -> None:
        """The host reports something: record job ends, tell listeners (progress 1/s)."""
        if self._stopping:
            return
        ends = {
            EventKind.JOB_FINISHED: True,
            EventKind.JOB_FAILED: False,
            EventKind.JOB_CANCELLED: False,
        }
        if event.kind in ends and printer.current is not None:
            error = None if ends[event.kind] else (event.message or event.kind.value)
            self._ended(printer, ok=ends[event.kind], error=error, kind=event.kind)
        elif event.kind is EventKind.STATE_CHANGED and printer.host_state() == "ERROR":
            self.svc.dispatcher.replan(f"{printer.id} error")
        elif event.kind is EventKind.PROGRESS and printer.current is not None:
            self._save_progress(printer, event.status.progress)
        now = time.monotonic()
        state = printer.state().value
        last_state, last_at = self._last_event.get(printer.id, ("", float("-inf")))
        if state != last_state or now - last_at >= PROGRESS_EVENT_S:
            self._last_event[printer.id] = (state, now)
            self.svc.publish_printer(printer)

    def _save_progress(self, printer: FarmPrinter, progress: float) -> None:
        now = time.monotonic()
        if now - self._last_saved.get(printer.id, 0.0) >= SAVE_PROGRESS_S:
            self._last_saved[printer.id] = now
            assert printer.current is not None
            self.svc.queue.set_progress(printer.current.print_id, progress)

    # --- what is running ------------------------------------------------------------------

    def running(self) -> dict[str, tuple[str, float, float]]:
        """printer id -> (print id, elapsed_s, remaining_s) of the prints on printers now."""
        out = {}
        for printer in self.svc.printers.values():
            current = printer.current
            if current is None:
                continue
            elapsed_s = time.monotonic() - current.started_monotonic
            remaining_s = printer.remaining_s(printer.host_status())
            remaining_s = 60.0 if remaining_s is None else remaining_s
            out[printer.id] = (current.print_id, elapsed_s, remaining_s)
        return out

    def live_progress(self) -> dict[str, float]:
        out = {}
        for printer in self.svc.printers.values():
            if printer.current is not None:
                status = printer.host_status()
                out[printer.current.print_id] = float(getattr(status, "progress", 0.0) or 0.0)
        return out

    # --- starting a print -----------------------------------------------------------------

    async def offer(self, printer_id: str, print_id: str) -> bool:
        """The dispatcher offers ``print_id`` to a ready printer (see Dispatcher)."""
        printer = self.svc.printers[printer_id]
        try:
            job = self.svc.queue.get(print_id.rsplit("-", 1)[0])
        except QueueError:
            return False
        row = next((p for p in job.prints if p.id == print_id), None)
        if row is None or row.state not in PLANNABLE:
            return False
        slice_row = next((s for s in job.slices if s.printer_model == printer.profile.name), None)
        if slice_row is None:
            return False
        if (printer.material, printer.color) != (job.material, job.color):
            load = OperatorRequest(RequestKind.LOAD, job.material, job.color, print_id)
            self._want(printer, load)
            return True
        self._want(printer, None)
        lines = self.svc.store.read_text(slice_row.gcode_sha).splitlines()
        job = self.svc.queue.print_started(print_id, printer_id)
        printer.current = CurrentPrint(
            print_id, job.id, job.name, slice_row.layers, time.monotonic(), slice_row.duration_s
        )
        if not printer.config.self_clearing:
            printer.bed_clear = False
            printer.save()
        try:
            await printer.connection.start_print(
                lines, job_name=f"{print_id} {job.name}", total_lines=len(lines)
            )
        except Exception as exc:
            log.exception("printer %s: start of %s failed", printer_id, print_id)
            self._ended(printer, ok=False, error=f"could not start: {exc}")
            return True
        log.info("printer %s: started %s", printer_id, print_id)
        self.svc.publish_job(job)
        self.svc.publish_printer(printer)
        return True

    def nothing_for(self, printer_id: str) -> None:
        """The plan has no print for this printer now."""
        self._want(self.svc.printers[printer_id], None)

    def follow_plan(self, queue_for: Callable[[str], list[str]]) -> None:
        """A new plan: a printer that waits for a filament for a print the plan no longer
        gives it stops asking (its request would be stale)."""
        for printer in self.svc.printers.values():
            wanted = printer.wanted
            if wanted is not None and wanted.print_id not in queue_for(printer.id):
                log.info(
                    "printer %s: the plan no longer needs: %s", printer.id, wanted.text(printer.id)
                )
                self._want(printer, None)

    def _want(self, printer: FarmPrinter, request: OperatorRequest | None) -> None:
        if printer.wanted != request:
            printer.wanted = request
            self.svc.publish_printer(printer)

    def _ended(
        self, printer: FarmPrinter, ok: bool, error: str | None, kind: EventKind | None = None
    ) -> None:
        """A print left the printer: record it (a failure goes back to the queue)."""
        current, printer.current = printer.current, None
        if current is None:
            return
        cancelled = kind is EventKind.JOB_CANCELLED
        job = self.svc.queue.print_ended(current.print_id, ok, error, cancelled)
        self.svc.publish_job(job)
        if not printer.config.self_clearing:
            printer.bed_clear = False
            printer.bed_print_id = current.print_id
            verb = "finished" if ok else "stopped"
            printer.ask_operator(f"{current.print_id} {verb}: clear the bed")
        self.svc.publish_printer(printer)
        self.svc.dispatcher.replan(f"{current.print_id} {'done' if ok else 'ended'}")

    # --- stopping and operator actions ----------------------------------------------------

    async def cancel_print(self, print_id: str) -> None:
        for printer in self.svc.printers.values():
            if printer.current is not None and printer.current.print_id == print_id:
                await printer.connection.cancel()

    async def act(
        self, printer: FarmPrinter, action: str, material: str | None, color: str | None
    ) -> None:
        state = printer.state()
        handler = getattr(self, f"_act_{action}", None)
        if handler is None:
            raise ActionError(f"unknown action '{action}'")
        await handler(printer, state, material, color)

    async def _act_pause(self, printer: FarmPrinter, state: FarmPrinterState, *_: Any) -> None:
        if state is not FarmPrinterState.PRINTING:
            raise ActionError(
                f"printer {printer.id} is {state.value}; only a printing printer pauses"
            )
        await printer.connection.pause()

    async def _act_resume(self, printer: FarmPrinter, state: FarmPrinterState, *_: Any) -> None:
        if state is not FarmPrinterState.PAUSED:
            raise ActionError(
                f"printer {printer.id} is {state.value}; only a paused printer resumes"
            )
        await printer.connection.resume()

    async def _act_cancel(self, printer: FarmPrinter, state: FarmPrinterState, *_: Any) -> None:
        if printer.current is None:
            raise ActionError(f"printer {printer.id} is {state.value}; nothing to cancel")
        await printer.connection.cancel()  # the print goes back to the queue (JOB_CANCELLED)

    async def _act_bed_cleared(
        self, printer: FarmPrinter, state: FarmPrinterState, *_: Any
    ) -> None:
        if state in (FarmPrinterState.PRINTING, FarmPrinterState.PAUSED):
            raise ActionError(f"printer {printer.id} is {state.value}; its bed is in use")
        printer.bed_clear = True
        await self._clear_error(printer)
        printer.operator_done()

    async def _act_filament_loaded(
        self, printer: FarmPrinter, state: FarmPrinterState, material: str | None, color: str | None
    ) -> None:
        if state in (FarmPrinterState.PRINTING, FarmPrinterState.PAUSED):
            raise ActionError(
                f"printer {printer.id} is {state.value}; swap filament after the print"
            )
        if not material or not color:
            raise ActionError("filament_loaded needs 'material' and 'color'")
        if material not in printer.profile.materials:
            raise ActionError(f"field 'material': {printer.profile.name} cannot print {material}")
        load_material(material)
        printer.material, printer.color = material, color
        printer.wanted = None
        printer.operator_done() if printer.bed_clear else printer.save()

    async def _act_maintenance_on(
        self, printer: FarmPrinter, state: FarmPrinterState, *_: Any
    ) -> None:
        if state in (FarmPrinterState.PRINTING, FarmPrinterState.PAUSED):
            raise ActionError(f"printer {printer.id} is {state.value}; cancel the print first")
        printer.maintenance = True
        printer.save()

    async def _act_maintenance_off(
        self, printer: FarmPrinter, state: FarmPrinterState, *_: Any
    ) -> None:
        if not printer.maintenance:
            raise ActionError(f"printer {printer.id} is not in maintenance")
        printer.maintenance = False
        await self._clear_error(printer)
        printer.save()

    async def _clear_error(self, printer: FarmPrinter) -> None:
        """After an operator acted on a printer in ERROR: reconnect it."""
        if printer.host_state() in ERROR_HOST_STATES or printer.connection is None:
            await self._disconnect(printer)
            await self._connect(printer)
