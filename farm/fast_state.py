"""The list schedulers' farm state with per-printer arrays, for vectorized slot bounds.

:class:`FastFarmState` is a :class:`farm.placement.FarmState` that remembers calendar
answers (:class:`farm.memo_calendar.MemoCalendar`) and mirrors every printer's free
minute, bed and loaded filament in arrays, so that the cheap bound on every eligible
printer's end (``FarmState.lower_bound_end`` + a swap penalty) is one vectorized step.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from farm.memo_calendar import MemoCalendar
from farm.model import Filament, Job, Printer, Problem, Task
from farm.placement import FarmState, Slot, Track


class FastFarmState(FarmState):
    """:class:`FarmState` + arrays indexed like ``problem.printers`` (same placements)."""

    def __init__(self, problem: Problem):
        super().__init__(problem)
        self.calendar = MemoCalendar(problem.shifts, problem.horizon_end_min)
        self.index = {p.id: i for i, p in enumerate(problem.printers)}
        n = len(problem.printers)
        self.free_min = np.zeros(n, dtype=np.int64)  # (printers,) minute the printer falls free
        self.occupied = np.zeros(n, dtype=np.int64)  # (printers,) 1: a part on the bed
        self.loaded = np.zeros(n, dtype=np.int64)  # (printers,) filament number
        self._filaments: dict[Filament, int] = {}
        self._jobs: dict[str, tuple[np.ndarray, np.ndarray, tuple[Printer, ...]]] = {}
        self.resync()

    def resync(self) -> None:
        """Copy every track into the arrays (after tracks were set directly)."""
        for pid, track in self.tracks.items():
            self._store(pid, track)

    def commit(self, task: Task, printer: Printer, slot: Slot) -> None:
        super().commit(task, printer, slot)
        self._store(printer.id, self.tracks[printer.id])

    def ranked_printers(self, task: Task, swap_penalty_min: int) -> Iterator[tuple[int, Printer]]:
        """(bound on end + penalty for a swap, printer) of every eligible printer, smallest
        bound first (ties: instance order); lazy, as callers stop after a few."""
        job = task.job
        idx, durations, printers = self._job(job)
        params = self.problem.params
        swap = self.loaded[idx] != self._filament(job.filament)
        t = np.maximum(self.free_min[idx], job.release_min)
        u = self.calendar.next_on_shift_many(t)
        bound = u + params.start_min + params.clear_min * self.occupied[idx] + durations
        bound += (params.swap_min + swap_penalty_min) * swap
        order = np.argsort(bound, kind="stable")
        return zip(bound[order].tolist(), map(printers.__getitem__, order.tolist()), strict=True)

    def _job(self, job: Job) -> tuple[np.ndarray, np.ndarray, tuple[Printer, ...]]:
        found = self._jobs.get(job.id)
        if found is None:
            printers = self.problem.eligible[job.id]
            idx = np.array([self.index[p.id] for p in printers], dtype=np.int64)
            durations = np.array([job.durations_min[p.model] for p in printers], dtype=np.int64)
            found = self._jobs[job.id] = (idx, durations, printers)
        return found

    def _filament(self, filament: Filament) -> int:
        return self._filaments.setdefault(filament, len(self._filaments))

    def _store(self, printer_id: str, track: Track) -> None:
        i = self.index[printer_id]
        self.free_min[i] = track.free_min
        self.occupied[i] = track.occupied
        self.loaded[i] = self._filament(track.loaded)
