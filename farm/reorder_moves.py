"""Moves of the iterated greedy (:mod:`farm.reorder`): new task orders around a late job.

Orders are arrays of task indices; every move returns the new order and the first
position where it differs from the old one (the replay starts there).  A *blocker* of a
late job is a task before it in the order that prints on one of the job's printers at
the job's latest start (due minus its shortest print): it holds the job's useful time.

- ``jump``: the job's copies move forward together by a distance uniform in
  ``[1, max(MAX_JUMP_SHARE·n, MAX_JUMP_MIN)]``.
- ``target``: ... to just before a random blocker; ``jump`` when nothing blocks the job.

(Log-uniform jumps, jumps between the first blocker and the job, pushing a blocker back
and swapping it with the job were tried on the L practice instances and did no better.)
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from farm.jit_arrays import ProblemArrays
from farm.jit_schedule import Placed

MAX_JUMP_SHARE = 0.15  # a late job moves forward by at most this share of the order,
MAX_JUMP_MIN = 100  # ... or this many tasks (small farms: M-01 likes 0.3, L 0.1-0.15)

# move mixes by name: (move, weight)
MOVES: dict[str, tuple[tuple[str, int], ...]] = {
    "jump": (("jump", 1),),
    "target": (("target", 1),),
    "mixed": (("jump", 1), ("target", 1)),
}

Move = tuple[np.ndarray, int]


class Moves:
    """Draws moves from a mix of :data:`MOVES`."""

    def __init__(self, arr: ProblemArrays, mix: tuple[tuple[str, int], ...]):
        self.arr = arr
        table: dict[str, Callable[[Placed, int, random.Random], Move]] = {
            "jump": self.jump,
            "target": self.target,
        }
        self.moves = [table[name] for name, _ in mix]
        self.weights = [w for _, w in mix]
        jobs, printers = arr.job_weight.size, arr.printer_free.size
        self.eligible = np.zeros((jobs, printers), dtype=bool)  # (jobs, printers)
        self.shortest = np.zeros(jobs, dtype=np.int64)  # (jobs,) min: shortest print
        for j in range(jobs):
            lo, hi = arr.elig_ptr[j], arr.elig_ptr[j + 1]
            self.eligible[j, arr.elig_printer[lo:hi]] = True
            self.shortest[j] = arr.elig_duration[lo:hi].min(initial=0)

    def move(self, placed: Placed, job: int, rng: random.Random) -> Move:
        """A new order around late ``job`` and its first changed position."""
        chosen = self.moves[0]
        if len(self.moves) > 1:
            chosen = rng.choices(self.moves, weights=self.weights)[0]
        return chosen(placed, job, rng)

    def jump(self, placed: Placed, job: int, rng: random.Random) -> Move:
        first = self._first(placed.order, job)
        jump = rng.randint(1, _max_jump(placed.order.size))
        return self._insert(placed.order, job, max(0, first - jump))

    def target(self, placed: Placed, job: int, rng: random.Random) -> Move:
        blockers = self._blockers(placed, job)
        if not blockers.size:
            return self.jump(placed, job, rng)
        return self._insert(placed.order, job, int(blockers[rng.randrange(blockers.size)]))

    def _blockers(self, placed: Placed, job: int) -> np.ndarray:
        """Positions of the job's blockers, in order."""
        first = self._first(placed.order, job)
        latest = self.arr.job_due[job] - self.shortest[job]
        start, end = placed.start[:first], placed.end[:first]
        on_mine = self.eligible[job, placed.printer[:first]]
        return np.flatnonzero(on_mine & (start <= latest) & (end > latest))

    def _first(self, order: np.ndarray, job: int) -> int:
        return int(np.argmax(self.arr.task_job[order] == job))

    def _insert(self, order: np.ndarray, job: int, k: int) -> Move:
        """The job's copies together before position ``k`` of the other tasks."""
        mine = self.arr.task_job[order] == job
        rest = order[~mine]
        return np.concatenate((rest[:k], order[mine], rest[k:])), k


def _max_jump(n: int) -> int:
    return max(2, min(n, max(MAX_JUMP_MIN, int(MAX_JUMP_SHARE * n))))
