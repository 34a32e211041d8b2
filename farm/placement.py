"""Append-only placement of prints on printers, shared by the list schedulers.

A :class:`FarmState` tracks, per printer, when it is free, what filament is loaded and
whether a part sits on the bed, plus the operators' remaining capacity.  ``earliest``
answers "when could this task end on this printer if appended now?" and ``commit``
books it.  Every placement honours all FORMAT.md rules, so any complete sequence of
commits is a feasible plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from farm.model import Assignment, Filament, Printer, Problem, Task
from farm.shifts import OperatorCalendar


@dataclass(frozen=True)
class Slot:
    """A possible placement: turnaround ``[turnaround_min, start_min)``, print to ``end_min``."""

    turnaround_min: int
    start_min: int
    end_min: int
    swap: bool


@dataclass
class Track:
    """The mutable state of one printer during list scheduling."""

    printer: Printer
    free_min: int
    loaded: Filament
    occupied: bool


class FarmState:
    """Printers' tracks and the operator calendar while a list scheduler appends tasks."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.calendar = OperatorCalendar(problem.shifts, problem.horizon_end_min)
        self.tracks = {}
        for p in problem.printers:
            s = problem.initial_state(p)
            self.tracks[p.id] = Track(p, s.free_from_min, s.loaded, s.bed_occupied)
        self.assignments: list[Assignment] = []

    def lower_bound_end(self, task: Task, printer: Printer) -> int:
        """A cheap bound on :meth:`earliest`'s end (ignores operators and maintenance)."""
        track = self.tracks[printer.id]
        u = self.calendar.next_on_shift(max(track.free_min, task.job.release_min))
        turnaround = self.problem.params.turnaround_min(track.occupied, self.swaps(task, printer))
        return u + turnaround + task.job.durations_min[printer.model]

    def swaps(self, task: Task, printer: Printer) -> bool:
        """Would ``task`` appended on ``printer`` need a filament swap?"""
        return self.tracks[printer.id].loaded != task.job.filament

    def earliest(self, task: Task, printer: Printer, not_before_min: int = 0) -> Slot | None:
        """The earliest slot for ``task`` appended on ``printer`` with its turnaround at or
        after ``not_before_min``; None if it would end past the horizon."""
        track = self.tracks[printer.id]
        job = task.job
        swap = track.loaded != job.filament
        turnaround = self.problem.params.turnaround_min(track.occupied, swap)
        duration = job.durations_min[printer.model]
        t = max(track.free_min, job.release_min, not_before_min, 0)
        while True:
            u = self.calendar.earliest(t, turnaround)
            if u is None or u + turnaround + duration > self.problem.horizon_end_min:
                return None
            end = u + turnaround + duration
            blocking = [
                m.end_min
                for m in self.problem.maintenance_by_printer[printer.id]
                if u < m.end_min and m.start_min < end
            ]
            if not blocking:
                return Slot(u, u + turnaround, end, swap)
            t = max(blocking)

    def commit(self, task: Task, printer: Printer, slot: Slot) -> None:
        """Book ``slot`` for ``task`` on ``printer``."""
        track = self.tracks[printer.id]
        self.calendar.book(slot.turnaround_min, slot.start_min - slot.turnaround_min)
        track.free_min, track.loaded, track.occupied = slot.end_min, task.job.filament, True
        self.assignments.append(Assignment(task.id, printer.id, slot.start_min, slot.end_min))
