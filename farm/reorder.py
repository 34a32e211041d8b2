"""Iterated greedy: improve the list scheduler's task order by moving late jobs forward.

The list scheduler's plan is a function of its task order.  A move takes a late job
(chosen with probability proportional to its weighted tardiness), puts all its copies a
random distance earlier in the order and replays the order; the new order is kept if its
plan is no worse.  A replay restarts from a snapshot of the farm state (operator
calendar, printer tracks) taken every :data:`SNAPSHOT_EVERY` positions, at or before the
first position the move changed, so moves late in the order are cheap.

Deterministic for a seed and a budget of replays, counted in full-order equivalents (a
replay of the last tenth of the order costs 0.1); the wall clock may stop it earlier.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from farm.derive import job_completions, make_plan
from farm.fast_state import FastFarmState
from farm.greedy import Variant, best_slot, variant_order
from farm.model import Assignment, Filament, Plan, Problem, Task

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 32  # positions of the order between two snapshots of the farm state
MAX_JUMP_SHARE = 0.3  # a late job moves forward by at most this share of the order


@dataclass(frozen=True)
class _Snapshot:
    """The farm state before position ``placed`` of an order."""

    placed: int
    free: np.ndarray  # operator calendar
    tracks: dict[str, tuple[int, Filament, bool]]  # printer id -> free from, loaded, occupied


@dataclass
class _Incumbent:
    order: list[Task]
    assignments: list[Assignment]
    snapshots: list[_Snapshot]
    objective: tuple[int, int]


class _Replayer:
    """Replays task orders with the list scheduler's placement rule, from snapshots."""

    def __init__(self, problem: Problem, swap_penalty_min: int):
        self.p = problem
        self.penalty = swap_penalty_min
        self.due = [(j.id, j.weight, j.due_min) for j in problem.jobs if j.due_min is not None]

    def run(self, order: list[Task], base: _Incumbent | None, start: int) -> _Incumbent | None:
        """The plan of ``order``, reusing ``base``'s state before position ``start``
        (``base``'s order must agree with ``order`` there); None if a task does not fit."""
        state = FastFarmState(self.p)
        snapshots: list[_Snapshot] = []
        begin = 0
        if base is not None and start > 0:
            keep = [s for s in base.snapshots if s.placed <= start]
            snap = keep[-1]
            snapshots = keep[:-1]
            begin = snap.placed
            state.calendar.free = snap.free.copy()
            for pid, (free_min, loaded, occupied) in snap.tracks.items():
                track = state.tracks[pid]
                track.free_min, track.loaded, track.occupied = free_min, loaded, occupied
            state.resync()
            state.assignments = list(base.assignments[:begin])
        for i in range(begin, len(order)):
            if i % SNAPSHOT_EVERY == 0:
                snapshots.append(self._snapshot(state, i))
            task = order[i]
            found = best_slot(state, task, self.penalty)
            if found is None:
                return None
            printer_id, slot = found
            state.commit(task, self.p.printer_by_id[printer_id], slot)
        return _Incumbent(order, state.assignments, snapshots, self._objective(state.assignments))

    @staticmethod
    def _snapshot(state: FastFarmState, placed: int) -> _Snapshot:
        tracks = {pid: (t.free_min, t.loaded, t.occupied) for pid, t in state.tracks.items()}
        return _Snapshot(placed, state.calendar.free.copy(), tracks)

    def _objective(self, assignments: list[Assignment]) -> tuple[int, int]:
        done = job_completions(self.p, assignments)
        wt = sum(w * max(0, done.get(jid, 0) - due) for jid, w, due in self.due)
        return wt, max((a.end_min for a in assignments), default=0)

    def late_jobs(self, inc: _Incumbent) -> list[tuple[str, int]]:
        """(job id, weighted tardiness) of the late jobs of a plan, in job order."""
        done = job_completions(self.p, inc.assignments)
        late = [(jid, w * (done.get(jid, 0) - due)) for jid, w, due in self.due]
        return [(jid, wt) for jid, wt in late if wt > 0]


def _move(order: list[Task], job_id: str, rng: random.Random) -> tuple[list[Task], int]:
    """``order`` with ``job_id``'s copies moved forward together; the first changed index."""
    first = next(i for i, t in enumerate(order) if t.job.id == job_id)
    jump = rng.randint(1, max(2, int(MAX_JUMP_SHARE * len(order))))
    k = max(0, first - jump)
    mine = [t for t in order if t.job.id == job_id]
    rest = [t for t in order if t.job.id != job_id]
    return rest[:k] + mine + rest[k:], k


def reorder(
    problem: Problem,
    order: list[Task],
    swap_penalty_min: int,
    *,
    replays: float,
    seed: int = 0,
    deadline: float | None = None,
) -> Plan | None:
    """The best plan found by iterated greedy from ``order`` within ``replays`` full-order
    replays (and before ``time.monotonic()`` reaches ``deadline``); None if ``order``
    itself does not fit before the horizon."""
    rng = random.Random(seed)
    replayer = _Replayer(problem, swap_penalty_min)
    inc = replayer.run(order, None, 0)
    if inc is None:
        return None
    used, moves, better = 1.0, 0, 0
    late = replayer.late_jobs(inc)
    n = len(order)
    while late and used < replays and (deadline is None or time.monotonic() < deadline):
        moves += 1
        job_id = rng.choices([j for j, _ in late], weights=[w for _, w in late])[0]
        candidate_order, k = _move(inc.order, job_id, rng)
        used += (n - k) / n
        candidate = replayer.run(candidate_order, inc, k)
        if candidate is None or candidate.objective > inc.objective:
            continue
        better += candidate.objective < inc.objective
        inc = candidate
        late = replayer.late_jobs(inc)
    log.info(
        "reorder: %d moves (%.1f of %.1f replays), %d improvements -> %s",
        moves,
        used,
        replays,
        better,
        inc.objective,
    )
    return make_plan(problem, inc.assignments, "greedy")


def _chain(
    problem: Problem, variant: Variant, replays: float, seed: int, deadline: float | None
) -> Plan | None:
    if deadline is not None and time.monotonic() >= deadline:
        return None  # a worker that started too late
    order, penalty_min = variant_order(problem, variant)
    return reorder(problem, order, penalty_min, replays=replays, seed=seed, deadline=deadline)


def reorder_variants(
    problem: Problem,
    variants: list[Variant],
    *,
    replays: float,
    seed: int = 0,
    deadline: float | None = None,
) -> Plan | None:
    """The best of one :func:`reorder` chain per entry of ``variants`` (each with
    ``replays``, seeds ``seed``, ``seed + 1``, ...): the first here, the others meanwhile in
    worker processes.  The first best wins, so the result is deterministic."""
    seeds = [seed + i for i in range(len(variants))]
    if len(variants) == 1:
        plans = [_chain(problem, variants[0], replays, seed, deadline)]
    else:
        context = multiprocessing.get_context("spawn")  # safe from threads, unlike fork
        with ProcessPoolExecutor(len(variants) - 1, mp_context=context) as pool:
            futures = [
                pool.submit(_chain, problem, v, replays, s, deadline)
                for v, s in zip(variants[1:], seeds[1:], strict=True)
            ]
            plans = [_chain(problem, variants[0], replays, seed, deadline)]
            plans += [f.result() for f in futures]
    found = [p for p in plans if p is not None]
    return min(found, key=lambda p: p.objective) if found else None
