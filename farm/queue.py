"""The job queue: jobs and their prints in the database, and their state transitions.

A job is one uploaded part with a number of copies; each copy is a print, the unit the
scheduler places and a printer prints.  Every change goes through this module so the job's
state always follows from its prints.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from farm.db import (
    FINISHED,
    PLANNABLE,
    Database,
    JobRow,
    JobState,
    PrinterRow,
    PrintRow,
    PrintState,
    SliceRow,
    job_seq,
    utcnow,
)

log = logging.getLogger(__name__)


class QueueError(Exception):
    """A request the queue cannot honour; carries the HTTP status that fits."""

    def __init__(self, message: str, http_status: int = 409):
        self.http_status = http_status
        super().__init__(message)


@dataclass(frozen=True)
class NewJob:
    name: str
    source: str
    file_sha: str
    copies: int = 1
    material: str = "PLA"
    color: str = "black"
    priority: int = 1
    due: dt.datetime | None = None
    printer_model: str | None = None
    settings: str = ""


@dataclass(frozen=True)
class SliceInfo:
    printer_model: str
    gcode_sha: str
    duration_s: float
    filament_g: float
    layers: int
    bbox_mm: tuple[float, float, float]


WITH_CHILDREN = (selectinload(JobRow.prints), selectinload(JobRow.slices))


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load(session: Session, job_id: str) -> JobRow:
    seq = job_seq(job_id)
    row = None
    if seq is not None:
        row = session.scalar(select(JobRow).where(JobRow.seq == seq).options(*WITH_CHILDREN))
    if row is None:
        raise QueueError(f"no job '{job_id}'", 404)
    return row


def job_to_dict(job: JobRow, progress: dict[str, float] | None = None) -> dict[str, Any]:
    """The API's job object (api/API.md)."""
    progress = progress or {}
    return {
        "id": job.id,
        "name": job.name,
        "state": job.state,
        "source": job.source,
        "copies": job.copies,
        "copies_done": sum(1 for p in job.prints if p.state == PrintState.DONE),
        "material": job.material,
        "color": job.color,
        "priority": job.priority,
        "due": iso(job.due),
        "created": iso(job.created),
        "error": job.error,
        "preview_url": f"/api/jobs/{job.id}/preview",
        "estimates": {
            s.printer_model: {
                "duration_s": round(s.duration_s),
                "filament_g": round(s.filament_g, 2),
            }
            for s in job.slices
        },
        "prints": [
            {
                "id": p.id,
                "copy": p.copy,
                "state": p.state,
                "printer_id": p.printer_id,
                "progress": progress.get(p.id, p.progress),
                "attempts": p.attempts,
                "started": iso(p.started),
                "finished": iso(p.finished),
            }
            for p in job.prints
        ],
    }


def _settle(job: JobRow) -> None:
    """Derive the job's state from its prints (slicing and slicing failures stay)."""
    if job.state == JobState.SLICING or (job.state == JobState.FAILED and not job.slices):
        return
    states = {p.state for p in job.prints}
    if states <= {PrintState.DONE}:
        job.state = JobState.DONE
    elif PrintState.PRINTING in states:
        job.state = JobState.PRINTING
    elif states & PLANNABLE:
        job.state = JobState.QUEUED
    elif PrintState.FAILED in states:
        job.state = JobState.FAILED
    else:
        job.state = JobState.CANCELLED


class JobQueue:
    def __init__(self, db: Database, max_attempts: int = 3):
        self.db = db
        self.max_attempts = max_attempts

    # --- jobs -------------------------------------------------------------------------

    def create(self, new: NewJob) -> JobRow:
        with self.db.session() as session:
            job = JobRow(**asdict(new), state=JobState.SLICING)
            session.add(job)
            session.flush()
            for copy in range(1, new.copies + 1):
                session.add(PrintRow(id=f"{job.id}-{copy}", job_seq=job.seq, copy=copy))
            session.flush()
            return _load(session, job.id)

    def get(self, job_id: str) -> JobRow:
        with self.db.session() as session:
            return _load(session, job_id)

    def list(self) -> list[JobRow]:
        with self.db.session() as session:
            query = select(JobRow).order_by(JobRow.seq.desc()).options(*WITH_CHILDREN)
            return list(session.scalars(query).all())

    def sliced(self, job_id: str, slices: list[SliceInfo], errors: list[str]) -> JobRow:
        """Record the slicing outcome: queued when some printer model can print it."""
        with self.db.session() as session:
            job = _load(session, job_id)
            for info in slices:
                session.merge(
                    SliceRow(
                        job_seq=job.seq,
                        printer_model=info.printer_model,
                        gcode_sha=info.gcode_sha,
                        duration_s=info.duration_s,
                        filament_g=info.filament_g,
                        layers=info.layers,
                        bbox_x_mm=info.bbox_mm[0],
                        bbox_y_mm=info.bbox_mm[1],
                        bbox_z_mm=info.bbox_mm[2],
                    )
                )
            session.flush()
            session.refresh(job)
            if job.state != JobState.SLICING:  # cancelled while slicing
                return job
            if job.slices:
                job.state = JobState.QUEUED
                job.error = None
            else:
                job.state = JobState.FAILED
                job.error = "; ".join(errors) or "no printer of the farm can print it"
                for p in job.prints:
                    p.state = PrintState.FAILED
            _settle(job)
            return job

    def set_thumbnail(self, job_id: str, sha: str) -> None:
        with self.db.session() as session:
            _load(session, job_id).thumbnail_sha = sha

    def cancel(self, job_id: str) -> tuple[JobRow, list[PrintRow]]:
        """Cancel a job; returns it and the prints that were printing (to stop on printers)."""
        with self.db.session() as session:
            job = _load(session, job_id)
            if job.state in (JobState.DONE, JobState.CANCELLED):
                raise QueueError(f"job {job_id} is {job.state}; nothing to cancel")
            printing = [p for p in job.prints if p.state == PrintState.PRINTING]
            for p in job.prints:
                if p.state not in FINISHED:
                    p.state = PrintState.CANCELLED
                    p.finished = utcnow()
            job.state = JobState.CANCELLED
            _settle(job)
            return job, printing

    def retry(self, job_id: str) -> JobRow:
        """Failed and cancelled prints go back to the queue."""
        with self.db.session() as session:
            job = _load(session, job_id)
            if job.state == JobState.FAILED and not job.slices:
                raise QueueError(f"job {job_id} could not be sliced: {job.error}", 422)
            again = [p for p in job.prints if p.state in (PrintState.FAILED, PrintState.CANCELLED)]
            if not again:
                raise QueueError(f"job {job_id} has no failed or cancelled print to retry")
            for p in again:
                p.state = PrintState.WAITING
                p.printer_id = None
                p.progress = 0.0
                p.finished = None
                p.attempts = 0
            job.error = None
            _settle(job)
            return job

    # --- prints -----------------------------------------------------------------------

    def plannable(self) -> list[JobRow]:
        """Jobs with prints waiting for a printer, oldest first."""
        with self.db.session() as session:
            query = (
                select(JobRow)
                .where(JobRow.state.in_([JobState.QUEUED, JobState.PRINTING]))
                .order_by(JobRow.seq)
                .options(*WITH_CHILDREN)
            )
            return list(session.scalars(query).all())

    def printing(self) -> list[PrintRow]:
        with self.db.session() as session:
            query = select(PrintRow).where(PrintRow.state == PrintState.PRINTING)
            return list(session.scalars(query).all())

    def print_started(self, print_id: str, printer_id: str) -> JobRow:
        with self.db.session() as session:
            row = self._print(session, print_id)
            if row.state not in PLANNABLE:
                raise QueueError(f"print {print_id} is {row.state}, not waiting")
            row.state = PrintState.PRINTING
            row.printer_id = printer_id
            row.attempts += 1
            row.progress = 0.0
            row.started = utcnow()
            row.finished = None
            row.error = None
            _settle(row.job)
            return _load(session, row.job.id)

    def print_ended(
        self, print_id: str, ok: bool, error: str | None = None, cancelled: bool = False
    ) -> JobRow:
        """A print finished (ok) or failed; a failure goes back to the queue until
        ``max_attempts`` is spent.  A ``cancelled`` one (stopped by a person) goes back
        too but is not counted as a failure."""
        with self.db.session() as session:
            row = self._print(session, print_id)
            if row.state != PrintState.PRINTING:
                return _load(session, row.job.id)
            row.finished = utcnow()
            if ok:
                row.state = PrintState.DONE
                row.progress = 1.0
            else:
                row.error = error
                if not cancelled:
                    row.failures += 1
                row.job.error = f"{print_id} attempt {row.attempts} failed: {error}"
                again = row.attempts < self.max_attempts
                row.state = PrintState.WAITING if again else PrintState.FAILED
            _settle(row.job)
            return _load(session, row.job.id)

    def interrupt_all(self) -> list[PrintRow]:
        """After a restart: prints that were printing become interrupted (and plannable).

        Their printers' beds are marked not clear: the part-filled bed needs an operator.
        """
        with self.db.session() as session:
            rows = list(
                session.scalars(select(PrintRow).where(PrintRow.state == PrintState.PRINTING))
            )
            for row in rows:
                row.state = PrintState.INTERRUPTED
                row.error = "interrupted by a restart of the farm service"
                row.job.error = f"{row.id} was interrupted by a restart; it will print again"
                if row.printer_id:
                    printer = session.get(PrinterRow, row.printer_id)
                    if printer is not None:
                        printer.bed_clear = 0
                        printer.needs_operator = 1
                        printer.message = f"{row.id} was interrupted by a restart: clear the bed"
                _settle(row.job)
            return rows

    def set_progress(self, print_id: str, progress: float) -> None:
        with self.db.session() as session:
            row = session.get(PrintRow, print_id)
            if row is not None and row.state == PrintState.PRINTING:
                row.progress = progress

    def prints_ended(self) -> dict[str, int]:
        """Prints done and failed attempts, over the farm's whole history."""
        with self.db.session() as session:
            done = select(func.count(PrintRow.id)).where(PrintRow.state == PrintState.DONE)
            failed = select(func.coalesce(func.sum(PrintRow.failures), 0))
            return {"done": session.scalar(done) or 0, "failed": session.scalar(failed) or 0}

    def queue_length(self) -> int:
        with self.db.session() as session:
            query = select(PrintRow.id).where(PrintRow.state.in_(list(PLANNABLE)))
            return len(session.scalars(query).all())

    @staticmethod
    def _print(session: Session, print_id: str) -> PrintRow:
        row = session.get(PrintRow, print_id)
        if row is None:
            raise QueueError(f"no print '{print_id}'", 404)
        return row
