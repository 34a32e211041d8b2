"""The compiled list scheduler behind :func:`farm.greedy.list_schedule` and
:mod:`farm.reorder`: task orders in, assignments out (see :mod:`farm.jit_kernel`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from farm.errors import ScheduleError
from farm.jit_arrays import NO_DUE, ProblemArrays, arrays_of
from farm.jit_kernel import HAVE_NUMBA, objective, replay, use_compiled
from farm.model import Assignment, Problem, Task

NO_BAR = NO_DUE  # no weighted tardiness too high for a replay

__all__ = [
    "HAVE_NUMBA",
    "NO_BAR",
    "Placed",
    "no_snapshots",
    "pins_of",
    "place",
    "placed_assignments",
    "scored",
    "use_compiled",
]


@dataclass
class Placed:
    """One replayed order: per position the printer index, print start and end (min)."""

    order: np.ndarray  # (tasks,) int64: task indices
    printer: np.ndarray  # (tasks,) int64
    start: np.ndarray  # (tasks,) int64, min
    end: np.ndarray  # (tasks,) int64, min

    @classmethod
    def empty(cls, order: np.ndarray) -> Placed:
        n = order.size
        return cls(order, *(np.zeros(n, dtype=np.int64) for _ in range(3)))

    def outputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.printer, self.start, self.end


def no_snapshots(arr: ProblemArrays, count: int = 0) -> tuple[np.ndarray, ...]:
    """Room for ``count`` snapshots of the kernel's state (four arrays, snapshot axis first)."""
    printers = arr.printer_free.size
    return (
        np.zeros((count, arr.capacity.size), dtype=np.int32),
        np.zeros((count, printers), dtype=np.int64),
        np.zeros((count, printers), dtype=np.int64),
        np.zeros((count, printers), dtype=np.int64),
    )


def pins_of(
    arr: ProblemArrays, order: list[Task], pinned: dict | None
) -> tuple[np.ndarray, np.ndarray]:
    """(pinned printer index or -1, not-before minute) per position of ``order``;
    ``pinned``: task id -> :class:`farm.greedy.Pinned`."""
    n = len(order)
    printer, not_before = np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    index = {pid: i for i, pid in enumerate(arr.printer_ids)}
    for i, task in enumerate(order):
        pin = (pinned or {}).get(task.id)
        if pin is not None:
            printer[i] = index.get(pin.printer_id, -1)
            not_before[i] = pin.not_before_min
    return printer, not_before


def place(problem: Problem, order: list[Task], swap_penalty_min: int, pinned=None) -> Placed:
    """Every task of ``order`` placed by the compiled list scheduler; raises
    :class:`ScheduleError` naming the first task that does not fit before the horizon."""
    arr = arrays_of(problem)
    idx = np.fromiter((arr.task_index[t.id] for t in order), dtype=np.int64, count=len(order))
    placed = Placed.empty(idx)
    pins = pins_of(arr, order, pinned)
    args = arr.kernel_args(swap_penalty_min)
    state = arr.initial_state()
    failed = replay(
        args, arr.task_job, idx, 0, state, placed.outputs(), pins, 0, no_snapshots(arr), NO_BAR
    )
    if failed >= 0:
        raise ScheduleError(
            f"{order[failed].id} cannot be placed before the horizon end "
            f"({problem.horizon_end_min} min)"
        )
    return placed


def placed_assignments(problem: Problem, placed: Placed) -> list[Assignment]:
    """The assignments of a placed order, in order."""
    tasks, printers = problem.tasks, arrays_of(problem).printer_ids
    return [
        Assignment(tasks[t].id, printers[p], s, e)
        for t, p, s, e in zip(
            placed.order.tolist(),
            placed.printer.tolist(),
            placed.start.tolist(),
            placed.end.tolist(),
            strict=True,
        )
    ]


def scored(arr: ProblemArrays, placed: Placed) -> tuple[tuple[int, int], np.ndarray]:
    """The plan's objective (weighted tardiness, makespan), as :attr:`farm.model.Plan.objective`,
    and every job's completion (min; 0 for a job without tasks)."""
    wt, makespan, done = objective(
        arr.task_job, placed.order, placed.end, arr.job_weight, arr.job_due, arr.job_weight.size
    )
    return (int(wt), int(makespan)), done
