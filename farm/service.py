"""The farm service: config, database, store, printers, slicing pool and dispatcher in one.

The REST API (``api/``) is a thin layer over :class:`FarmService`; everything that changes
the farm goes through its methods, which publish events on :attr:`FarmService.bus`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from farm.config import FarmConfig
from farm.db import Database, JobRow, JobState
from farm.dispatcher import Dispatcher
from farm.events import EventBus, EventType
from farm.keys import KeyChecker
from farm.planning import FarmPlan, FarmSnapshot, minute_floor, plan_view, shifts_view
from farm.queue import JobQueue, NewJob, SliceInfo, iso, job_to_dict
from farm.service_printers import FarmPrinter, FarmPrinterState
from farm.service_run import PrintRunner
from farm.service_slicing import (
    UploadError,
    analyse_gcode,
    check_mesh,
    largest_thumbnail,
    make_pool,
    slice_for_model,
)
from farm.store import Store

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A request the farm cannot honour; carries its HTTP status."""

    def __init__(self, message: str, http_status: int = 409):
        self.http_status = http_status
        super().__init__(message)


class FarmService:
    def __init__(self, config: FarmConfig, data_dir: Path | str, database_url: str | None = None):
        self.config = config
        self.data_dir = Path(data_dir).resolve()  # workers and symlinks don't share our cwd
        self.data_dir.mkdir(parents=True, exist_ok=True)
        url = database_url or config.database_url or f"sqlite:///{self.data_dir / 'farm.db'}"
        self.db = Database(url)
        self.store = Store(self.data_dir / "store")
        if self.store.clean_tmp():
            log.warning("removed half-written uploads left by a crash")
        self.keys = KeyChecker(self.db)
        self.bus = EventBus()
        self.queue = JobQueue(self.db, config.scheduling.max_attempts)
        for row in self.queue.interrupt_all():  # before the printers read their rows
            log.warning("print %s was interrupted by a restart; requeued", row.id)
        self.printers = {p.id: FarmPrinter(p, self.db) for p in config.printers}
        self.models = sorted({p.profile.name for p in self.printers.values()})
        self.runner = PrintRunner(self)
        self.dispatcher = Dispatcher(
            config,
            list(self.printers.values()),
            self.snapshot,
            self.runner.offer,
            self._planned,
            self.runner.nothing_for,
        )
        self._pool: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self.bus.bind(asyncio.get_running_loop())
        self._pool = make_pool(self.config.slicer_workers)
        for job in self.queue.list():
            if job.state == JobState.SLICING:
                self._spawn(self._slice_job(job.id))
        self._spawn(self.runner.keep_connected())
        self.dispatcher.start()

    async def stop(self) -> None:
        await self.dispatcher.stop()
        for task in list(self._tasks):
            task.cancel()
        await self.runner.disconnect_all()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self.db.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _in_pool(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` in the slicing pool; a pool whose worker died is replaced once."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn, *args)
        except BrokenProcessPool:
            log.warning("the slicing pool broke (a worker died); starting a new one")
            self._pool = make_pool(self.config.slicer_workers)
            return await loop.run_in_executor(self._pool, fn, *args)

    # --- jobs -----------------------------------------------------------------------------

    def job_dict(self, job: JobRow) -> dict[str, Any]:
        return job_to_dict(job, self.runner.live_progress())

    def publish_job(self, job: JobRow) -> dict[str, Any]:
        data = self.job_dict(job)
        self.bus.publish(EventType.JOB, data)
        return data

    def jobs(self) -> list[dict[str, Any]]:
        return [self.job_dict(j) for j in self.queue.list()]

    def job(self, job_id: str) -> JobRow:
        return self.queue.get(job_id)

    async def submit(self, new: NewJob) -> dict[str, Any]:
        """A stored upload becomes a job: checked now, sliced in the background."""
        if new.printer_model is not None and new.printer_model not in self.models:
            raise UploadError(
                f"field 'printer_model': no printer of this farm is a '{new.printer_model}' "
                f"(models: {', '.join(self.models)})"
            )
        if not self._models_for(new.material, new.printer_model):
            raise UploadError(f"field 'material': no printer of this farm prints {new.material}")
        if new.source != "gcode":
            await self._in_pool(
                check_mesh, str(self.store.root), new.file_sha, new.source, new.name
            )
        else:
            self._check_gcode_text(new)
        job = self.queue.create(new)
        self._spawn(self._slice_job(job.id))
        return self.publish_job(job)

    def _check_gcode_text(self, new: NewJob) -> None:
        with open(self.store.path(new.file_sha), "rb") as handle:
            head = handle.read(200_000).decode("utf-8", "replace")
        if not any(line.lstrip().startswith(("G0", "G1")) for line in head.splitlines()):
            raise UploadError(f"file '{new.name}': no G0/G1 moves; this is not G-code", 422)

    def _models_for(self, material: str, only: str | None) -> list[str]:
        seen: dict[str, FarmPrinter] = {}
        for p in self.printers.values():
            seen.setdefault(p.profile.name, p)
        return [
            name
            for name, p in seen.items()
            if material in p.profile.materials and (only is None or name == only)
        ]

    async def _slice_job(self, job_id: str) -> None:
        job = self.queue.get(job_id)
        root = str(self.store.root)
        settings = [line for line in job.settings.splitlines() if line.strip()]
        slices: list[SliceInfo] = []
        errors: list[str] = []
        for model in self._models_for(job.material, job.printer_model):
            try:
                if job.source == "gcode":
                    out = await self._in_pool(
                        analyse_gcode, root, job.file_sha, model, job.material
                    )
                else:
                    out = await self._in_pool(
                        slice_for_model,
                        root,
                        job.file_sha,
                        job.source,
                        model,
                        job.material,
                        settings,
                    )
            except Exception as exc:
                log.exception("slicing %s for %s failed", job_id, model)
                out = {"error": f"{model}: {exc}"}
            if "error" in out:
                errors.append(out["error"])
                continue
            slices.append(
                SliceInfo(
                    model,
                    out["gcode_sha"],
                    out["duration_s"],
                    out["filament_g"],
                    out["layers"],
                    tuple(out["bbox_mm"]),  # type: ignore[arg-type]
                )
            )
        if slices:
            await self._keep_thumbnail(job_id, slices[0].gcode_sha)
        job = self.queue.sliced(job_id, slices, errors)
        self.publish_job(job)
        self.dispatcher.replan(f"job {job_id} sliced")

    async def _keep_thumbnail(self, job_id: str, gcode_sha: str) -> None:
        try:
            png = await self._in_pool(largest_thumbnail, str(self.store.root), gcode_sha)
        except Exception:
            log.exception("thumbnail of %s", job_id)
            return
        if png:
            self.queue.set_thumbnail(job_id, self.store.put_bytes(png))

    async def cancel(self, job_id: str) -> dict[str, Any]:
        _job, printing = self.queue.cancel(job_id)
        for row in printing:
            await self.runner.cancel_print(row.id)
        self.dispatcher.replan(f"job {job_id} cancelled")
        return self.publish_job(self.queue.get(job_id))

    def retry(self, job_id: str) -> dict[str, Any]:
        job = self.queue.retry(job_id)
        self.dispatcher.replan(f"job {job_id} retried")
        return self.publish_job(job)

    def gcode_sha(self, job_id: str, printer_model: str | None) -> str:
        job = self.queue.get(job_id)
        if not job.slices:
            raise ServiceError(f"job {job_id} has no G-code (state {job.state})", 404)
        if printer_model is None:
            return job.slices[0].gcode_sha
        for s in job.slices:
            if s.printer_model == printer_model:
                return s.gcode_sha
        have = ", ".join(s.printer_model for s in job.slices)
        raise ServiceError(f"job {job_id} has no G-code for '{printer_model}' (has {have})", 404)

    # --- printers ---------------------------------------------------------------------------

    def printer(self, printer_id: str) -> FarmPrinter:
        printer = self.printers.get(printer_id)
        if printer is None:
            raise ServiceError(f"no printer '{printer_id}'", 404)
        return printer

    def publish_printer(self, printer: FarmPrinter) -> dict[str, Any]:
        data = printer.to_dict()
        self.bus.publish(EventType.PRINTER, data)
        return data

    async def action(
        self, printer_id: str, action: str, material: str | None, color: str | None
    ) -> dict[str, Any]:
        printer = self.printer(printer_id)
        await self.runner.act(printer, action, material, color)
        self.dispatcher.replan(f"{action} on {printer_id}")
        return self.publish_printer(printer)

    # --- plan and farm --------------------------------------------------------------------

    def snapshot(self) -> FarmSnapshot:
        now = minute_floor(dt.datetime.now(dt.UTC))
        return FarmSnapshot(
            t0=now,
            printers=list(self.printers.values()),
            jobs=self.queue.plannable(),
            running=self.runner.running(),
        )

    def _planned(self, plan: FarmPlan) -> None:
        self.runner.follow_plan(plan.queue_for)
        self.bus.publish(EventType.PLAN, {"generated": iso(plan.generated)})

    def plan(self) -> dict[str, Any]:
        snap = self.snapshot()
        return plan_view(self.dispatcher.plan, snap, self.config)

    def farm(self) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        return {
            "name": self.config.name,
            "now": iso(now),
            "printers": len(self.printers),
            "queue_length": self.queue.queue_length(),
            "shifts": shifts_view(self.config, now),
        }

    def printer_states(self) -> dict[str, int]:
        counts = {state.value: 0 for state in FarmPrinterState}
        for p in self.printers.values():
            counts[p.state().value] += 1
        return counts

    def prints_total(self) -> dict[str, int]:
        """Prints done and failed attempts since the farm's database began."""
        return self.queue.prints_ended()

    def utilisation(self) -> float:
        printing = sum(p.state() is FarmPrinterState.PRINTING for p in self.printers.values())
        return printing / len(self.printers)
