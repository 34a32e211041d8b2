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
its first kind, at most ``kicks`` times, then ends.  A lane (:func:`reorder_variants`:
one per core) climbs from a few greedy variants' orders for a while each and goes on with
the best: where a chain ends depends much on where it starts.

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

SNAPSHOT_EVERY = 128  # positions of the order between two snapshots of the farm state (each
# copies the operator calendar, minutes of the horizon: M-01 and L-02 replays 10-20 % faster
# than at 32)
PATIENCE = 500  # replays without a better plan before a chain takes its next moves or stops
CHAIN_MOVES = ("jump,target", "target,jump")  # the moves of chain i: CHAIN_MOVES[i % 2]
KICK_JOBS = 8  # late jobs of the best plan a kick moves forward at once
EXPLORE_SHARE = 0.5  # of a lane's replays for its chains from different starts; the best
MIN_EXPLORE_REPLAYS = 1000  # ... goes on with the rest; at least this many per start,
MAX_STARTS = 4  # ... at most this many starts per lane (L: ~15,000 replays per lane, M:
# ~6,500; from 12 starts at 5,000 replays L-02 ends between 121,659 and 145,523; six starts
# per lane did no better than four over seeds 0-2)
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


class _Chain:
    """One iterated-greedy climb from a task order, run on by :meth:`advance` (see
    :func:`reorder`); ``inc`` is None if the order does not fit before the horizon."""

    def __init__(
        self,
        problem: Problem,
        order: list[Task],
        swap_penalty_min: int,
        *,
        seed: int,
        moves: str,
        patience: float,
        kicks: int,
        compiled: bool | None = None,
    ):
        self.problem = problem
        self.rng = random.Random(seed)
        self.rep = replayer(problem, swap_penalty_min, compiled=compiled)
        self.inc = self.rep.run(task_indices(problem, order), 0)
        if self.inc is None:
            return
        self.rep.accept(self.inc)
        self.kinds = [Moves(self.rep.arr, MOVES[name]) for name in moves.split(",")]
        self.stages, self.mover = self.kinds[1:], self.kinds[0]
        self.patience, self.kicks = patience, kicks
        self.used, self.tried, self.better = 1.0, 0, 0
        self.late = self.rep.late_jobs(self.inc)
        self.best, self.found_at = self.inc, self.used
        self.ended = False  # stalled after its last kick

    def advance(self, replays: float, deadline: float | None) -> None:
        """Climb on until ``replays`` full-order replays are used in all (since the
        start), the chain ends or ``time.monotonic()`` reaches ``deadline``."""
        rep, rng = self.rep, self.rng
        n = len(self.problem.tasks)
        while not self.ended and self.late[0] and self.used < replays and _before(deadline):
            if self.used >= self.found_at + self.patience and not self._next_stage():
                continue
            self.tried += 1
            job = rng.choices(self.late[0], weights=self.late[1])[0]
            candidate_order, k = self.mover.move(self.inc.placed, job, rng)
            self.used += (n - k) / n
            candidate = rep.run(candidate_order, k, self.inc.objective[0])
            if candidate is not None and candidate.objective <= self.inc.objective:
                rep.accept(candidate)
                self.inc = candidate
                self.late = rep.late_jobs(candidate)
                if candidate.objective < self.best.objective:
                    self.best, self.better, self.found_at = candidate, self.better + 1, self.used

    def _next_stage(self) -> bool:
        """After ``patience`` replays without a better plan: the next kind of move (True:
        go on with a move), else a kick (False: check the loop again), else the end."""
        if self.stages:
            self.mover, self.found_at = self.stages.pop(0), self.used
            return True
        if not self.kicks:
            self.ended = True
            return False
        self.kicks -= 1
        self.inc = _kick(self.rep, self.kinds[0], self.best, self.rng)
        self.used += 1
        if self.inc is None:
            self.ended = True
            return False
        self.late, self.found_at = self.rep.late_jobs(self.inc), self.used
        self.stages, self.mover = self.kinds[1:], self.kinds[0]
        self.best = min(self.best, self.inc, key=lambda i: i.objective)  # first best wins
        return False

    def plan(self) -> Plan:
        """The best plan found so far."""
        log.info(
            "reorder: %d moves (%.1f replays), %d improvements -> %s",
            self.tried,
            self.used,
            self.better,
            self.best.objective,
        )
        return make_plan(self.problem, placed_assignments(self.problem, self.best.placed), "greedy")


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
    chain = _Chain(
        problem,
        order,
        swap_penalty_min,
        seed=seed,
        moves=moves,
        patience=patience,
        kicks=kicks,
        compiled=compiled,
    )
    if chain.inc is None:
        return None
    chain.advance(replays, deadline)
    return chain.plan()


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


Start = tuple[Variant, int, str]  # a chain's greedy variant, seed and moves


def _lane(
    problem: Problem, starts: list[Start], replays: float, deadline: float | None
) -> Plan | None:
    """Chains from each of ``starts`` in turn, each for an equal share of
    :data:`EXPLORE_SHARE` of ``replays`` (all of it for a single start); then the best
    (the first best wins) climbs on with what is left.  None if no start fits."""
    if not _before(deadline):
        return None  # a worker that started too late
    share = replays * (EXPLORE_SHARE if len(starts) > 1 else 1.0) / len(starts)
    best, spent = None, 0.0
    for variant, seed, moves in starts:
        order = variant_order(problem, variant)  # (tasks, swap penalty)
        chain = _Chain(
            problem, *order, seed=seed, moves=moves, patience=PATIENCE, kicks=CHAIN_KICKS
        )
        if chain.inc is None:
            continue
        chain.advance(share, deadline)
        log.debug("reorder start %s seed %d %s: %s", variant, seed, moves, chain.best.objective)
        spent += chain.used
        if best is None or chain.best.objective < best.best.objective:
            best = chain
    if best is None:
        return None
    best.advance(best.used + replays - spent, deadline)
    return best.plan()


def lane_starts(
    variants: list[Variant], replays: float, lanes: int, seed: int
) -> list[list[Start]]:
    """The chain starts of each lane: as many per lane as give each at least
    :data:`MIN_EXPLORE_REPLAYS` of :data:`EXPLORE_SHARE` of the lane's ``replays`` (at most
    :data:`MAX_STARTS`); start ``s`` takes the ``s``-th variant (cyclically), seed
    ``seed + s`` and moves from :data:`CHAIN_MOVES` alternating along each lane."""
    per_lane = max(1, min(MAX_STARTS, int(EXPLORE_SHARE * replays // MIN_EXPLORE_REPLAYS)))
    starts = [
        (variants[s % len(variants)], seed + s, CHAIN_MOVES[(s + s // lanes) % len(CHAIN_MOVES)])
        for s in range(per_lane * lanes)
    ]
    return [starts[lane::lanes] for lane in range(lanes)]


def reorder_variants(
    problem: Problem,
    variants: list[Variant],
    *,
    replays: float,
    seed: int = 0,
    deadline: float | None = None,
    lanes: int = 1,
) -> Plan | None:
    """The best plan of ``lanes`` lanes of chains (:func:`lane_starts`, :func:`_lane`),
    each within ``replays``: the first here, the others meanwhile in worker processes.
    The first best wins, so the result is deterministic."""
    work = [(starts, replays, deadline) for starts in lane_starts(variants, replays, lanes, seed)]
    if lanes == 1:
        plans = [_lane(problem, *work[0])]
    else:
        context = multiprocessing.get_context("spawn")  # safe from threads, unlike fork
        with ProcessPoolExecutor(lanes - 1, mp_context=context) as pool:
            futures = [pool.submit(_lane, problem, *w) for w in work[1:]]
            plans = [_lane(problem, *work[0])]
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
