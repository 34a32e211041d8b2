"""Moves of the iterated greedy (:mod:`farm.reorder`): new task orders around a late job.

Orders are arrays of task indices; every move returns the new order and the first
position where it differs from the old one (the replay starts there).

- ``jump``: the late job's copies move forward together by a random distance.
- ``target``: ... to just before a task that prints on one of the job's printers at the
  job's latest start (due minus its shortest print): the task holding its useful time.
- ``push``: such a blocking task moves back, to just after the late job's last copy.
- ``swap``: a blocking task and the late job's first copy trade places.

``target``, ``push`` and ``swap`` fall back to ``jump`` when nothing blocks the job.
"""

from __future__ import annotations

import random

import numpy as np

from farm.jit_arrays import ProblemArrays
from farm.jit_schedule import Placed

MAX_JUMP_SHARE = 0.3  # a late job moves forward by at most this share of the order

# operator mixes by name: (move, weight)
MOVES: dict[str, tuple[tuple[str, int], ...]] = {
    "jump": (("jump", 1),),
    "target": (("target", 1),),
    "mixed": (("jump", 2), ("target", 2), ("push", 1), ("swap", 1)),
}


class Moves:
    """Draws moves from a mix of :data:`MOVES`."""

    def __init__(self, arr: ProblemArrays, mix: tuple[tuple[str, int], ...]):
        self.arr = arr
        self.names = [name for name, _ in mix]
        self.weights = [w for _, w in mix]
        jobs, printers = arr.job_weight.size, arr.printer_free.size
        self.eligible = np.zeros((jobs, printers), dtype=bool)  # (jobs, printers)
        self.shortest = np.zeros(jobs, dtype=np.int64)  # (jobs,) min: shortest print
        for j in range(jobs):
            lo, hi = arr.elig_ptr[j], arr.elig_ptr[j + 1]
            self.eligible[j, arr.elig_printer[lo:hi]] = True
            self.shortest[j] = arr.elig_duration[lo:hi].min(initial=0)

    def move(self, placed: Placed, job: int, rng: random.Random) -> tuple[np.ndarray, int]:
        """A new order around late ``job`` and its first changed position."""
        name = self.names[0]
        if len(self.names) > 1:
            name = rng.choices(self.names, weights=self.weights)[0]
        if name != "jump":
            blockers = self._blockers(placed, job)
            if blockers.size:
                b = int(blockers[rng.randrange(blockers.size)])
                return getattr(self, "_" + name)(placed.order, job, b)
        return self._jump(placed.order, job, rng)

    def _blockers(self, placed: Placed, job: int) -> np.ndarray:
        """Positions before the job's first copy printing on one of its printers at its
        latest start."""
        first = self._first(placed.order, job)
        latest = self.arr.job_due[job] - self.shortest[job]
        start, end = placed.start[:first], placed.end[:first]
        on_mine = self.eligible[job, placed.printer[:first]]
        return np.flatnonzero(on_mine & (start <= latest) & (end > latest))

    def _first(self, order: np.ndarray, job: int) -> int:
        return int(np.argmax(self.arr.task_job[order] == job))

    def _jump(self, order: np.ndarray, job: int, rng: random.Random) -> tuple[np.ndarray, int]:
        first = self._first(order, job)
        jump = rng.randint(1, max(2, int(MAX_JUMP_SHARE * order.size)))
        return self._insert(order, job, max(0, first - jump))

    def _target(self, order: np.ndarray, job: int, blocker: int) -> tuple[np.ndarray, int]:
        return self._insert(order, job, blocker)

    def _insert(self, order: np.ndarray, job: int, k: int) -> tuple[np.ndarray, int]:
        """The job's copies together before position ``k`` of the other tasks."""
        mine = self.arr.task_job[order] == job
        rest = order[~mine]
        return np.concatenate((rest[:k], order[mine], rest[k:])), k

    def _push(self, order: np.ndarray, job: int, blocker: int) -> tuple[np.ndarray, int]:
        last = int(np.flatnonzero(self.arr.task_job[order] == job)[-1])
        out = np.delete(order, blocker)
        return np.insert(out, last, order[blocker]), blocker

    def _swap(self, order: np.ndarray, job: int, blocker: int) -> tuple[np.ndarray, int]:
        first = self._first(order, job)
        out = order.copy()
        out[blocker], out[first] = order[first], order[blocker]
        return out, blocker
