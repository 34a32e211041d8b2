"""A :class:`farm.model.Problem` as flat integer arrays, for the compiled list scheduler.

Tasks, jobs and printers are numbered like ``problem.tasks``, ``problem.jobs`` and
``problem.printers``; filaments by first appearance.  A job's eligible printers and their
print durations are one CSR pair (``elig_ptr``), in ``problem.eligible`` order; maintenance
windows per printer another (``maint_ptr``), sorted by start.  Times are in minutes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from farm.model import Filament, Problem
from farm.shifts import OperatorCalendar

NO_DUE = np.iinfo(np.int64).max  # job_due of a job without a due date


@dataclass(frozen=True)
class ProblemArrays:
    """Every array the placement kernel reads; built once per problem."""

    horizon_min: int
    start_min: int
    clear_min: int
    swap_min: int
    task_job: np.ndarray  # (tasks,) int64: job index
    job_release: np.ndarray  # (jobs,) int64, min
    job_filament: np.ndarray  # (jobs,) int64: filament number
    job_weight: np.ndarray  # (jobs,) int64
    job_due: np.ndarray  # (jobs,) int64, min (NO_DUE: none)
    elig_ptr: np.ndarray  # (jobs + 1,) int64: job j's printers are elig_printer[ptr[j]:ptr[j+1]]
    elig_printer: np.ndarray  # (pairs,) int64: printer index
    elig_duration: np.ndarray  # (pairs,) int64, min
    maint_ptr: np.ndarray  # (printers + 1,) int64
    maint_start: np.ndarray  # (windows,) int64, min
    maint_end: np.ndarray  # (windows,) int64, min
    printer_free: np.ndarray  # (printers,) int64, min: free from, after running prints
    printer_loaded: np.ndarray  # (printers,) int64: filament number at t = 0
    printer_occupied: np.ndarray  # (printers,) int64: 1 if a part is on the bed at t = 0
    capacity: np.ndarray  # (horizon,) int32: operators on shift per minute
    next_on_shift: np.ndarray  # (horizon + 1,) int64: first on-shift minute >= t (horizon: none)
    task_index: dict[str, int]  # task id -> index
    printer_ids: tuple[str, ...]  # printer index -> id

    def kernel_args(self, swap_penalty_min: int) -> tuple:
        """The constant tuple ``a`` of :mod:`farm.jit_kernel`."""
        return (
            self.horizon_min,
            self.start_min,
            self.clear_min,
            self.swap_min,
            self.job_release,
            self.job_filament,
            self.next_on_shift,
            self.maint_ptr,
            self.maint_start,
            self.maint_end,
            self.elig_ptr,
            self.elig_printer,
            self.elig_duration,
            swap_penalty_min,
            self.job_weight,
            self.job_due,
        )

    def initial_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Fresh (operators free per minute, printer free, loaded, occupied) arrays."""
        return (
            self.capacity.copy(),
            self.printer_free.copy(),
            self.printer_loaded.copy(),
            self.printer_occupied.copy(),
        )


_CACHE: dict[int, ProblemArrays] = {}


def arrays_of(problem: Problem) -> ProblemArrays:
    """:func:`problem_arrays`, built once per problem object."""
    key = id(problem)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = problem_arrays(problem)
        weakref.finalize(problem, _CACHE.pop, key, None)
    return found


def problem_arrays(problem: Problem) -> ProblemArrays:
    """The arrays of ``problem`` (see :class:`ProblemArrays`)."""
    filaments: dict[Filament, int] = {}

    def fid(f: Filament) -> int:
        return filaments.setdefault(f, len(filaments))

    job_index = {j.id: i for i, j in enumerate(problem.jobs)}
    printer_index = {p.id: i for i, p in enumerate(problem.printers)}
    ptr, printers, durations = [0], [], []
    for j in problem.jobs:
        for p in problem.eligible[j.id]:
            printers.append(printer_index[p.id])
            durations.append(j.durations_min[p.model])
        ptr.append(len(printers))
    mptr, mstart, mend = [0], [], []
    states = [problem.initial_state(p) for p in problem.printers]
    for p in problem.printers:
        for m in problem.maintenance_by_printer[p.id]:
            mstart.append(m.start_min)
            mend.append(m.end_min)
        mptr.append(len(mstart))
    calendar = OperatorCalendar(problem.shifts, problem.horizon_end_min)
    params = problem.params
    return ProblemArrays(
        horizon_min=problem.horizon_end_min,
        start_min=params.start_min,
        clear_min=params.clear_min,
        swap_min=params.swap_min,
        task_job=_ints([job_index[t.job.id] for t in problem.tasks]),
        job_release=_ints([j.release_min for j in problem.jobs]),
        job_filament=_ints([fid(j.filament) for j in problem.jobs]),
        job_weight=_ints([j.weight for j in problem.jobs]),
        job_due=_ints([NO_DUE if j.due_min is None else j.due_min for j in problem.jobs]),
        elig_ptr=_ints(ptr),
        elig_printer=_ints(printers),
        elig_duration=_ints(durations),
        maint_ptr=_ints(mptr),
        maint_start=_ints(mstart),
        maint_end=_ints(mend),
        printer_free=_ints([s.free_from_min for s in states]),
        printer_loaded=_ints([fid(s.loaded) for s in states]),
        printer_occupied=_ints([int(s.bed_occupied) for s in states]),
        capacity=calendar.free.astype(np.int32),
        next_on_shift=calendar._next_on_shift.astype(np.int64),
        task_index={t.id: i for i, t in enumerate(problem.tasks)},
        printer_ids=tuple(p.id for p in problem.printers),
    )


def _ints(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).reshape(-1)
