"""Moves of the iterated greedy (:mod:`farm.reorder`): new task orders around a late job.

Orders are arrays of task indices; every move returns the new order and the first
position where it differs from the old one (the replay starts there).  A *blocker* of a
late job is a task before it in the order that prints on one of the job's printers at
the job's latest start (due minus its shortest print): it holds the job's useful time.

- ``jump``: the job's copies move forward together by a distance uniform in
  ``[1, max(MAX_JUMP_SHARE·n, MAX_JUMP_MIN)]``; ``ljump``: log-uniform (short jumps
  more often).
- ``target``: ... to just before a random blocker; ``tjump``: to a random position
  between the first blocker and the job.
- ``push``: a random blocker moves back, to just after the job's last copy.
- ``swap``: a random blocker and the job's first copy trade places.

The blocker moves fall back to ``jump`` when nothing blocks the job.
"""

from __future__ import annotations

import math
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
    "ljump": (("ljump", 1),),
    "jl": (("jump", 1), ("ljump", 1)),
    "target": (("target", 1),),
    "tjump": (("tjump", 1),),
    "mixed": (("jump", 2), ("target", 2), ("push", 1), ("swap", 1)),
}

Move = tuple[np.ndarray, int]


class Moves:
    """Draws moves from a mix of :data:`MOVES`."""

    def __init__(self, arr: ProblemArrays, mix: tuple[tuple[str, int], ...]):
        self.arr = arr
        table: dict[str, Callable[[Placed, int, random.Random], Move]] = {
            "jump": self.jump, "ljump": self.ljump, "target": self.target,
            "tjump": self.tjump, "push": self.push, "swap": self.swap,
        }  # fmt: skip
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

    def ljump(self, placed: Placed, job: int, rng: random.Random) -> Move:
        first = self._first(placed.order, job)
        top = _max_jump(placed.order.size)
        jump = int(math.exp(rng.uniform(0, math.log(top))))
        return self._insert(placed.order, job, max(0, first - jump))

    def target(self, placed: Placed, job: int, rng: random.Random) -> Move:
        blockers = self._blockers(placed, job)
        if not blockers.size:
            return self.jump(placed, job, rng)
        return self._insert(placed.order, job, int(blockers[rng.randrange(blockers.size)]))

    def tjump(self, placed: Placed, job: int, rng: random.Random) -> Move:
        blockers = self._blockers(placed, job)
        if not blockers.size:
            return self.jump(placed, job, rng)
        first = self._first(placed.order, job)
        return self._insert(placed.order, job, rng.randint(int(blockers[0]), first))

    def push(self, placed: Placed, job: int, rng: random.Random) -> Move:
        blockers = self._blockers(placed, job)
        if not blockers.size:
            return self.jump(placed, job, rng)
        b = int(blockers[rng.randrange(blockers.size)])
        order = placed.order
        last = int(np.flatnonzero(self.arr.task_job[order] == job)[-1])
        return np.insert(np.delete(order, b), last, order[b]), b

    def swap(self, placed: Placed, job: int, rng: random.Random) -> Move:
        blockers = self._blockers(placed, job)
        if not blockers.size:
            return self.jump(placed, job, rng)
        b = int(blockers[rng.randrange(blockers.size)])
        first = self._first(placed.order, job)
        out = placed.order.copy()
        out[b], out[first] = placed.order[first], placed.order[b]
        return out, b

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
