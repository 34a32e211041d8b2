"""Iterated greedy: improve the list scheduler's task order by moving late jobs forward.

The list scheduler's plan is a function of its task order.  A move picks a late job
(with probability proportional to its weighted tardiness) and changes the order around
it (:mod:`farm.reorder_moves`); the order is replayed and kept if its plan is no worse.
A replay restarts from a snapshot of the farm state (operator calendar, printer
tracks) taken every :data:`SNAPSHOT_EVERY` positions, at or before the first position
the move changed, so moves late in the order are cheap.  Replays run in the compiled
kernel (:mod:`farm.jit_kernel`) when numba is there, else in Python (same plans); a
compiled replay stops as soon as the weighted tardiness so far rules the order out.
A chain that finds nothing better for :data:`PATIENCE` replays goes on with its next
kind of move (:data:`CHAIN_MOVES`); after the last, it kicks the best order (iterated
local search: :data:`KICK_JOBS` late jobs jump forward, unchecked) and climbs again from
its first kind, at most ``kicks`` times, then ends.

Deterministic for a seed and a budget of replays, counted in full-order equivalents (a
replay of the last tenth of the order costs 0.1); the wall clock may stop it earlier.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from farm.derive import make_plan
from farm.fast_state import FastFarmState
from farm.greedy import Variant, best_slot, variant_order
from farm.jit_arrays import NO_DUE, ProblemArrays, arrays_of
from farm.jit_kernel import replay, use_compiled
from farm.jit_schedule import NO_BAR, Placed, no_snapshots, placed_assignments, scored
from farm.model import Plan, Problem, Task
from farm.reorder_moves import MOVES, Moves

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 32  # positions of the order between two snapshots of the farm state
PATIENCE = 500  # replays without a better plan before a chain takes its next moves or stops
CHAIN_MOVES = ("jump,target", "target,jump")  # the moves of chain i: CHAIN_MOVES[i % 2]
KICK_JOBS = 8  # late jobs of the best plan a kick moves forward at once
CHAIN_KICKS = 20  # kicks of a chain of reorder_variants (M-01 at 4400 replays, seeds 0-2:
# 15,592 / 15,389 / 15,468 instead of 16,011 / 15,892 / 16,053; M-03 286 instead of 387)


@dataclass
class _Incumbent:
    placed: Placed
    objective: tuple[int, int]
    done: np.ndarray  # (jobs,) int64: completion per job, min
    snapshots: object = None  # the Python replayer's; the compiled one keeps its own


class _Replayer:
    """Replays task orders (task indices) with the list scheduler's placement rule, from
    snapshots of the last accepted plan."""

    def __init__(self, problem: Problem, swap_penalty_min: int):
        self.p = problem
        self.arr: ProblemArrays = arrays_of(problem)
        self.penalty = swap_penalty_min
        self.inc: _Incumbent | None = None

    def run(self, order: np.ndarray, start: int, tardiness_bar: int = NO_BAR) -> _Incumbent | None:
        """The plan of ``order``, reusing the accepted plan's state before position
        ``start`` (its order must agree with ``order`` there); None if a task does not fit
        (or, compiled, once its weighted tardiness exceeds ``tardiness_bar``)."""
        raise NotImplementedError

    def accept(self, candidate: _Incumbent) -> None:
        """Make ``candidate`` (the last :meth:`run`) the plan later runs start from."""
        self.inc = candidate

    def _scored(self, placed: Placed, snapshots=None) -> _Incumbent:
        return _Incumbent(placed, *scored(self.arr, placed), snapshots)

    def late_jobs(self, inc: _Incumbent) -> tuple[list[int], list[int]]:
        """Job indices and weighted tardiness of the late jobs of a plan, in job order."""
        a = self.arr
        has_due = a.job_due != NO_DUE
        late = np.where(has_due, a.job_weight * (inc.done - np.where(has_due, a.job_due, 0)), 0)
        jobs = np.flatnonzero(late > 0)
        return jobs.tolist(), late[jobs].tolist()


class _CompiledReplayer(_Replayer):
    """Replays in :func:`farm.jit_kernel.replay`; the accepted plan's snapshots in one
    set of arrays, the running candidate's in another."""

    def __init__(self, problem: Problem, swap_penalty_min: int):
        super().__init__(problem, swap_penalty_min)
        n = len(problem.tasks)
        count = n // SNAPSHOT_EVERY + 1
        self.snaps = no_snapshots(self.arr, count)
        self.scratch = no_snapshots(self.arr, count)
        self.args = self.arr.kernel_args(swap_penalty_min)
        self.pins = (np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64))
        self.first_snapshot = 0

    def run(self, order: np.ndarray, start: int, tardiness_bar: int = NO_BAR) -> _Incumbent | None:
        a = self.arr
        if self.inc is None or start <= 0:
            s, state = 0, a.initial_state()
            placed = Placed.empty(order)
        else:
            s = start // SNAPSHOT_EVERY
            state = tuple(snap[s].copy() for snap in self.snaps)
            base = self.inc.placed
            placed = Placed(order, base.printer.copy(), base.start.copy(), base.end.copy())
        begin = s * SNAPSHOT_EVERY
        failed = replay(
            self.args, a.task_job, order, begin, state, placed.outputs(), self.pins,
            SNAPSHOT_EVERY, self.scratch, tardiness_bar,
        )  # fmt: skip
        if failed != -1:
            return None
        self.first_snapshot = s
        return self._scored(placed)

    def accept(self, candidate: _Incumbent) -> None:
        s = self.first_snapshot  # the candidate's snapshots from s on are in scratch
        if 2 * s < len(self.snaps[0]):  # fewer to copy the other way round
            for mine, theirs in zip(self.snaps, self.scratch, strict=True):
                theirs[:s] = mine[:s]
            self.snaps, self.scratch = self.scratch, self.snaps
        else:
            for mine, theirs in zip(self.snaps, self.scratch, strict=True):
                mine[s:] = theirs[s:]
        super().accept(candidate)


@dataclass(frozen=True)
class _Snapshot:
    """The Python replayer's farm state before position ``placed`` of an order."""

    placed: int
    free: np.ndarray  # operator calendar
    tracks: dict[str, tuple]  # printer id -> free from, loaded, occupied


class _PythonReplayer(_Replayer):
    """Replays with :func:`farm.greedy.best_slot` (the reference, and the fallback)."""

    def run(self, order: np.ndarray, start: int, tardiness_bar: int = NO_BAR) -> _Incumbent | None:
        tasks = self.p.tasks
        state = FastFarmState(self.p)
        snapshots: list[_Snapshot] = []
        placed = Placed.empty(order)
        begin = 0
        if self.inc is not None and start > 0:
            keep = [s for s in self.inc.snapshots if s.placed <= start]
            snap = keep[-1]
            snapshots = keep[:-1]
            begin = snap.placed
            state.calendar.free = snap.free.copy()
            for pid, (free_min, loaded, occupied) in snap.tracks.items():
                track = state.tracks[pid]
                track.free_min, track.loaded, track.occupied = free_min, loaded, occupied
            state.resync()
            for out, base in zip(placed.outputs(), self.inc.placed.outputs(), strict=True):
                out[:begin] = base[:begin]
        for i in range(begin, len(order)):
            if i % SNAPSHOT_EVERY == 0:
                tracks = {p: (t.free_min, t.loaded, t.occupied) for p, t in state.tracks.items()}
                snapshots.append(_Snapshot(i, state.calendar.free.copy(), tracks))
            task = tasks[order[i]]
            found = best_slot(state, task, self.penalty)
            if found is None:
                return None
            printer_id, slot = found
            state.commit(task, self.p.printer_by_id[printer_id], slot)
            placed.printer[i] = state.index[printer_id]
            placed.start[i], placed.end[i] = slot.start_min, slot.end_min
        return self._scored(placed, snapshots)


def replayer(problem: Problem, swap_penalty_min: int, *, compiled: bool | None = None) -> _Replayer:
    """The compiled replayer, or the Python one (default: :func:`farm.jit_kernel.use_compiled`)."""
    kind = _CompiledReplayer if use_compiled(compiled) else _PythonReplayer
    return kind(problem, swap_penalty_min)


def task_indices(problem: Problem, order: list[Task]) -> np.ndarray:
    """``order`` as task indices (int64)."""
    index = arrays_of(problem).task_index
    return np.fromiter((index[t.id] for t in order), dtype=np.int64, count=len(order))


def reorder(
    problem: Problem,
    order: list[Task],
    swap_penalty_min: int,
    *,
    replays: float,
    seed: int = 0,
    deadline: float | None = None,
    moves: str = "jump",
    patience: float = PATIENCE,
    kicks: int = 0,
    compiled: bool | None = None,
) -> Plan | None:
    """The best plan found by iterated greedy from ``order`` within ``replays`` full-order
    replays (and before ``time.monotonic()`` reaches ``deadline``); None if ``order``
    itself does not fit before the horizon.  ``moves``: keys of
    :data:`farm.reorder_moves.MOVES`, comma-separated: after ``patience`` replays without
    a better plan the chain goes on with the next, and ends after the last.  A move is
    kept if its plan is no worse than the current one.  A chain that stalls after its last
    kind of move restarts from a kick of its best order, ``kicks`` times at most."""
    rng = random.Random(seed)
    rep = replayer(problem, swap_penalty_min, compiled=compiled)
    inc = rep.run(task_indices(problem, order), 0)
    if inc is None:
        return None
    rep.accept(inc)
    kinds = [Moves(rep.arr, MOVES[name]) for name in moves.split(",")]
    stages = kinds[1:]
    mover = kinds[0]
    used, tried, better = 1.0, 0, 0
    late = rep.late_jobs(inc)
    n = len(order)
    best, found_at = inc, used
    while late[0] and used < replays and _before(deadline):
        if used >= found_at + patience:
            if stages:
                mover, found_at = stages.pop(0), used
            elif kicks:
                kicks -= 1
                inc = _kick(rep, kinds[0], best, rng)
                used += 1
                if inc is None:
                    break
                late, stages, mover, found_at = rep.late_jobs(inc), kinds[1:], kinds[0], used
                best = min(best, inc, key=lambda i: i.objective)  # first best wins
                continue
            else:
                break
        tried += 1
        job = rng.choices(late[0], weights=late[1])[0]
        candidate_order, k = mover.move(inc.placed, job, rng)
        used += (n - k) / n
        candidate = rep.run(candidate_order, k, inc.objective[0])
        if candidate is not None and candidate.objective <= inc.objective:
            rep.accept(candidate)
            inc = candidate
            late = rep.late_jobs(inc)
            if inc.objective < best.objective:
                best, better, found_at = inc, better + 1, used
    log.info(
        "reorder: %d moves (%.1f of %.1f replays), %d improvements -> %s",
        tried,
        used,
        replays,
        better,
        best.objective,
    )
    return make_plan(problem, placed_assignments(problem, best.placed), "greedy")


def _kick(rep: _Replayer, mover: Moves, best: _Incumbent, rng: random.Random) -> _Incumbent | None:
    """The plan of ``best``'s order after :data:`KICK_JOBS` of its late jobs (drawn by
    weighted tardiness) jumped forward, accepted whatever its objective; None if it
    does not fit."""
    jobs, weights = rep.late_jobs(best)
    placed = best.placed
    for job in rng.choices(jobs, weights=weights, k=KICK_JOBS):
        order, _ = mover.jump(placed, job, rng)
        placed = Placed(order, placed.printer, placed.start, placed.end)
    kicked = rep.run(placed.order, 0)
    if kicked is not None:
        rep.accept(kicked)
    return kicked


def _before(deadline: float | None) -> bool:
    return deadline is None or time.monotonic() < deadline


def _chain(
    problem: Problem,
    variant: Variant,
    replays: float,
    seed: int,
    deadline: float | None,
    moves: str,
) -> Plan | None:
    if not _before(deadline):
        return None  # a worker that started too late
    order, penalty_min = variant_order(problem, variant)
    return reorder(
        problem,
        order,
        penalty_min,
        replays=replays,
        seed=seed,
        deadline=deadline,
        moves=moves,
        kicks=CHAIN_KICKS,
    )


def reorder_variants(
    problem: Problem,
    variants: list[Variant],
    *,
    replays: float,
    seed: int = 0,
    deadline: float | None = None,
) -> Plan | None:
    """The best of one :func:`reorder` chain per entry of ``variants`` (each with
    ``replays``, seeds ``seed``, ``seed + 1``, ..., moves from :data:`CHAIN_MOVES` in turn,
    :data:`CHAIN_KICKS` kicks):
    the first here, the others meanwhile in worker processes.  The first best wins, so the
    result is deterministic."""
    chains = [
        (v, replays, seed + i, deadline, CHAIN_MOVES[i % len(CHAIN_MOVES)])
        for i, v in enumerate(variants)
    ]
    if len(chains) == 1:
        plans = [_chain(problem, *chains[0])]
    else:
        context = multiprocessing.get_context("spawn")  # safe from threads, unlike fork
        with ProcessPoolExecutor(len(chains) - 1, mp_context=context) as pool:
            futures = [pool.submit(_chain, problem, *c) for c in chains[1:]]
            plans = [_chain(problem, *chains[0])]
            plans += [_worker_result(f) for f in futures]
    found = [p for p in plans if p is not None]
    return min(found, key=lambda p: p.objective) if found else None


def _worker_result(future: Future) -> Plan | None:
    """A worker chain's plan; None (the chains here still count) if its process died, e.g.
    when a script without a ``__main__`` guard calls the scheduler."""
    try:
        return future.result()
    except BrokenProcessPool:
        log.warning("an iterated-greedy worker process died; its chain is left out")
        return None
