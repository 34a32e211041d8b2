"""Large-neighbourhood search: re-solve small windows of the incumbent with CP-SAT.

A neighbourhood is a few printers and a time span; the tasks those printers start in
that span are freed (they may move between the chosen printers and in time), all else is
kept: kept turnarounds stay booked on the operators, each printer starts from the state
its last kept print leaves, and its first kept print after the span is an anchor whose
start stays fixed.  An improvement (or an equal plan, to drift) replaces the incumbent.

While some job is late, most neighbourhoods aim at it: a late job's window (the prints
starting nearest its last copy on any printer - the operator time it competes with - plus
its fastest printers, its copies free to use any of them) and an operator slice (a span
of time on every printer near it).  Window sizes adapt to what CP-SAT solves to
optimality within the sub-solve limit.

Determinism: every sub-solve has a deterministic-time limit and the loop stops when the
summed deterministic time reaches its budget, so the same seed, workers and limit give
the same plan - unless the wall-clock limit strikes first on a slow or busy machine.
"""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from farm.cpsat import SolveResult, Window, add_hint, build_model, solve_model
from farm.derive import (
    by_printer,
    canonical_copies,
    derive_actions,
    job_completions,
    make_plan,
    tardiness_min,
)
from farm.model import Assignment, Plan, PrinterState, Problem
from farm.shifts import capacity_profile

log = logging.getLogger(__name__)

DAY_MIN = 1440
SLACK_AFTER_MIN = DAY_MIN  # a freed task starts at most this long after the window
SLACK_BEFORE_MIN = DAY_MIN  # ... and at most this long before it
MODEL_CHARGE = 0.005  # deterministic time charged per sub-model for building it
# how often each neighbourhood is tried while some job is late (see the _*_move methods)
MOVE_SHARES = {"late": 0.45, "slice": 0.45, "tardy": 0.05, "random": 0.05}
LATE_TARGET = 16  # prints a late job's window frees at first (then adapted)
LATE_EXTRA_PRINTERS = 2  # ... with this many of its fastest printers added
PRESOLVE_PASSES = (1, 0)  # per sub-solve of a round, in turn
# windows up to this many (print, printer) pairs let every print use any of its printers
# (S-01's optimum needs it; on 30 printers the restricted windows did as well, 4x cheaper)
FULL_FREEDOM_PAIRS = 200


@dataclass
class LnsConfig:
    """Knobs of the search; defaults suit 2 cores."""

    time_limit_s: float = 10.0
    deterministic_budget: float | None = None  # None: derived from time_limit_s
    workers: int = 2
    seed: int = 0
    target_free_tasks: int = 30
    printers_per_move: int = 4
    sub_deterministic_limit: float = 0.1
    # a sub-solve never takes longer than this (wall clock): a round waits for its slowest
    # sub-solve (M-01 in 10 s on a loaded machine: 12 moves instead of 6); where it strikes
    # before the deterministic limit, the search is no longer deterministic
    sub_wall_max_s: float = 1.0


@dataclass
class _Move:
    printer_ids: list[str]
    t0: int
    t1: int
    alternatives: int = 0  # > 0: each freed task may use only this many other printers
    kind: str = "random"
    free_job: str | None = None  # this job's copies may use all their printers of the window


class Lns:
    """The search state: incumbent, random stream, operator usage of the incumbent."""

    def __init__(
        self, problem: Problem, incumbent: Plan, config: LnsConfig, frozen: frozenset[str]
    ):
        self.p = problem
        self.frozen = frozen
        self.cfg = config
        self.rng = random.Random(config.seed)
        self.best = make_plan(
            problem, canonical_copies(problem, incumbent.assignments, frozen), incumbent.solver
        )
        self.capacity = capacity_profile(problem.shifts, problem.horizon_end_min)
        self.compatible = _compatible_printers(problem)
        self.target = config.target_free_tasks
        self.late_target = LATE_TARGET
        self.iterations = 0
        self.improvements = 0

    # -- neighbourhoods ---------------------------------------------------------------------

    def _pick_move(self) -> _Move:
        tardy = self._tardy_jobs()
        shares = MOVE_SHARES if tardy else {"slice": 0.8, "random": 0.2}
        kind = self.rng.choices(list(shares), weights=list(shares.values()))[0]
        if kind == "late":
            return self._late_move(tardy)
        if kind == "tardy":
            return self._tardy_move(tardy)
        if kind == "slice":
            return self._slice_move(tardy)
        return self._random_move()

    def _tardy_jobs(self) -> list[tuple[str, int]]:
        completion: dict[str, int] = {}
        for a in self.best.assignments:
            jid = self.p.task_by_id[a.task_id].job.id
            completion[jid] = max(completion.get(jid, 0), a.end_min)
        out = []
        for job in self.p.jobs:
            if job.due_min is not None and completion.get(job.id, 0) > job.due_min:
                out.append((job.id, job.weight * (completion[job.id] - job.due_min)))
        return out

    def _tardy_move(self, tardy: list[tuple[str, int]]) -> _Move:
        weights = [w for _, w in tardy]
        job_id = self.rng.choices([j for j, _ in tardy], weights=weights)[0]
        job = self.p.job_by_id[job_id]
        mine = [a for a in self.best.assignments if a.task_id.startswith(job_id + "#")]
        chosen = list(dict.fromkeys(a.printer_id for a in mine))
        others = [p.id for p in self.p.eligible[job_id] if p.id not in chosen]
        self.rng.shuffle(others)
        # few printers can print the job: add printers its neighbours could move to
        helpers = sorted({q for pid in chosen + others for q in self.compatible[pid]})
        helpers = [q for q in helpers if q not in chosen and q not in others]
        self.rng.shuffle(helpers)
        chosen += (others + helpers)[: max(0, self.cfg.printers_per_move - len(chosen))]
        t1 = max(a.start_min for a in mine) + 1
        t0 = max(0, min(job.release_min, t1 - 2 * DAY_MIN))
        return _Move(chosen[: self.cfg.printers_per_move + 1], t0, t1, kind="tardy")

    def _late_move(self, tardy: list[tuple[str, int]]) -> _Move:
        """A late job and the operator time it competes with: the prints (on any printer)
        that start nearest its last copy, two thirds before it, plus its fastest printers.

        Its copies may use any of its printers in the window (the others keep their own
        printer plus two, unless the window is small), so that CP-SAT can move it in and
        push cheaper prints out."""
        job_id = self.rng.choices([j for j, _ in tardy], weights=[w for _, w in tardy])[0]
        mine = [a for a in self.best.assignments if a.task_id.startswith(job_id + "#")]
        last = max(a.start_min for a in mine)
        movable = [a for a in self.best.assignments if a.task_id not in self.frozen]
        before = sorted((a for a in movable if a.start_min <= last), key=lambda a: -a.start_min)
        after = sorted((a for a in movable if a.start_min > last), key=lambda a: a.start_min)
        # a third of the window after it: the prints it may trade places with
        n_after = min(len(after), max(self.late_target // 3, self.late_target - len(before)))
        chosen = before[: self.late_target - n_after] + after[:n_after]
        if not chosen:
            return _Move([], 0, 0)
        t1 = max(a.start_min for a in chosen) + 1
        t0 = min(a.start_min for a in chosen)
        printers = list(dict.fromkeys(a.printer_id for a in chosen))
        fastest = sorted(
            self.p.eligible[job_id],
            key=lambda p: (self.p.job_by_id[job_id].durations_min[p.model], p.id),
        )
        extra = [p.id for p in fastest if p.id not in printers][:LATE_EXTRA_PRINTERS]
        printers = sorted(printers + extra)
        small = len(chosen) * len(printers) <= FULL_FREEDOM_PAIRS
        return _Move(printers, t0, t1, 0 if small else 2, kind="late", free_job=job_id)

    def _slice_move(self, tardy: list[tuple[str, int]]) -> _Move:
        """A short span of time on every printer: the operators' point of view."""
        movable = [a for a in self.best.assignments if a.task_id not in self.frozen]
        if tardy and self.rng.random() < 0.5:
            job_id = self.rng.choices([j for j, _ in tardy], weights=[w for _, w in tardy])[0]
            ends = [a.start_min for a in movable if a.task_id.startswith(job_id + "#")]
            center = max(ends, default=0) - self.rng.randrange(0, DAY_MIN)
        else:
            center = self.rng.choice(movable).start_min if movable else 0
        # half before the centre, half after: across a night or weekend this trades tasks
        # between the last shift and the next one
        before = sorted((a for a in movable if a.start_min <= center), key=lambda a: -a.start_min)
        after = sorted((a for a in movable if a.start_min > center), key=lambda a: a.start_min)
        half = self.target // 2
        ordered = before[:half] + after[: self.target - min(half, len(before))]
        if not ordered:
            return _Move([], 0, 0)
        t0 = min(a.start_min for a in ordered)
        t1 = max(a.start_min for a in ordered) + 1
        printers = sorted({a.printer_id for a in ordered})
        return _Move(printers, t0, t1, alternatives=2, kind="slice")

    def _random_move(self) -> _Move:
        first = self.rng.choice(self.p.printers).id
        pool = list(self.compatible[first])
        self.rng.shuffle(pool)
        chosen = [first, *pool[: self.cfg.printers_per_move - 1]]
        ends = [a.start_min for a in self.best.assignments if a.printer_id in chosen]
        t0 = self.rng.randrange(0, max(ends, default=0) + 1)
        return _Move(chosen, t0, t0 + DAY_MIN, kind="random")

    def _fit_size(self, move: _Move) -> list[Assignment]:
        """Shrink or grow the span until about ``target`` tasks are freed."""
        if move.alternatives or move.kind == "late":
            chosen = set(move.printer_ids)
            return [
                a
                for a in self.best.assignments
                if a.printer_id in chosen
                and move.t0 <= a.start_min < move.t1
                and a.task_id not in self.frozen
            ]
        on = [a for a in self.best.assignments if a.printer_id in move.printer_ids]
        on.sort(key=lambda a: a.start_min)
        on = [a for a in on if a.task_id not in self.frozen]
        freed = [a for a in on if move.t0 <= a.start_min < move.t1]
        if len(freed) > self.target:
            freed = freed[-self.target :] if self.rng.random() < 0.5 else freed[: self.target]
        elif len(freed) < self.target:
            later = [a for a in on if a.start_min >= move.t1]
            freed += later[: self.target - len(freed)]
        return freed

    # -- windows --------------------------------------------------------------------------

    def _window(self, move: _Move, freed: list[Assignment]) -> Window:
        freed_ids = {a.task_id for a in freed}
        sequences = by_printer(self.p, self.best.assignments)
        start_state, anchors = {}, {}
        for pid in move.printer_ids:
            state = self.p.initial_state(self.p.printer_by_id[pid])
            seq = sequences[pid]
            idx = [i for i, a in enumerate(seq) if a.task_id in freed_ids]
            if idx:
                lo, hi = min(idx), max(idx)
                # free the whole run between the first and last freed task on this printer
                freed_ids |= {a.task_id for a in seq[lo : hi + 1]}
                before, after = seq[:lo], seq[hi + 1 :]
            else:
                cut = sum(a.start_min < move.t0 for a in seq)
                before, after = seq[:cut], seq[cut:]
            if before:
                last = before[-1]
                job = self.p.task_by_id[last.task_id].job
                state = PrinterState(last.end_min, job.filament, True)
            start_state[pid] = state
            if after:
                anchors[pid] = after[0]
        keep = {a.task_id for a in anchors.values()} | freed_ids
        window = self._window_from(move, freed_ids, keep, start_state, anchors)
        if move.alternatives:
            allowed = self._alternatives(window, move.alternatives, move.free_job)
            window = replace(window, allowed=allowed)
        return window

    def _alternatives(
        self, window: Window, k: int, free_job: str | None = None
    ) -> dict[str, frozenset[str]]:
        """Each freed task: its printer plus ``k`` random eligible ones of the window (the
        copies of ``free_job``: every eligible one)."""
        current = {a.task_id: a.printer_id for a in self.best.assignments}
        ids = {p.id for p in window.printers}
        allowed = {}
        for task in window.tasks:
            others = [p.id for p in self.p.eligible[task.job.id] if p.id in ids]
            others = [pid for pid in others if pid != current[task.id]]
            n = len(others) if task.job.id == free_job else min(k, len(others))
            picked = self.rng.sample(others, n)
            allowed[task.id] = frozenset([current[task.id], *picked])
        return allowed

    def _window_from(self, move, freed_ids, keep, start_state, anchors) -> Window:
        free = self.capacity.copy()
        for o in self.best.operator_actions:
            if o.task_id not in keep:
                free[o.start_min : o.end_min] -= 1
        kept_end: dict[str, int] = {}
        makespan_floor = 0
        for a in self.best.assignments:
            if a.task_id in freed_ids:
                continue
            jid = self.p.task_by_id[a.task_id].job.id
            kept_end[jid] = max(kept_end.get(jid, 0), a.end_min)
            makespan_floor = max(makespan_floor, a.end_min)
        freed = [a for a in self.best.assignments if a.task_id in freed_ids]
        latest = max([a.start_min for a in freed] + [a.start_min for a in anchors.values()])
        return Window(
            tasks=tuple(self.p.task_by_id[t] for t in sorted(freed_ids)),
            printers=tuple(self.p.printer_by_id[pid] for pid in move.printer_ids),
            start_state=start_state,
            anchors=anchors,
            operators_free=np.maximum(free, 0),
            job_floor_min=kept_end,
            makespan_floor_min=makespan_floor,
            latest_start_min=min(self.p.horizon_end_min, latest + SLACK_AFTER_MIN),
            earliest_start_min=max(0, min(a.start_min for a in freed) - SLACK_BEFORE_MIN),
        )

    # -- loop -----------------------------------------------------------------------------

    def _prepare(self) -> tuple[_Move, object] | None:
        """Pick a neighbourhood and build its hinted model (None if it frees nothing)."""
        self.iterations += 1
        move = self._pick_move()
        freed = self._fit_size(move)
        if not freed:
            return None
        window = self._window(move, freed)
        fm = build_model(self.p, window)
        add_hint(self.p, fm, window, list(self.best.assignments))
        return move, fm

    def round(self, pool: ThreadPoolExecutor, deterministic_limit: float, wall_s: float) -> float:
        """Solve one neighbourhood per worker in parallel (one CP-SAT thread each), keep the
        best candidate; returns the deterministic time of the round."""
        jobs, kinds = [], []
        for i in range(self.cfg.workers):
            built = self._prepare()
            if built is not None:
                seed = self.rng.randrange(1 << 30)
                # half the sub-solves with one presolve pass, half without (see solve_model)
                passes = PRESOLVE_PASSES[i % len(PRESOLVE_PASSES)]
                jobs.append(
                    pool.submit(_solve_one, built[1], deterministic_limit, wall_s, seed, passes)
                )
                kinds.append(built[0].kind)
        results = [j.result() for j in jobs]
        best, best_objective = None, self.best.objective
        for kind, result in zip(kinds, results, strict=True):
            merged = self._merge(result)
            objective = None if merged is None else self._objective(merged)
            log.debug("lns %s: %s, %.2f s", kind, objective, result.wall_s)
            if objective is not None and objective <= best_objective:
                best, best_objective = merged, objective
        if best is not None:
            if best_objective < self.best.objective:
                self.improvements += 1
                log.debug("lns %d: %s -> %s", self.iterations, self.best.objective, best_objective)
            self.best = self._searching_plan(best, best_objective)
        for kind, result in zip(kinds, results, strict=True):
            step = 2 if result.optimal else -2
            if kind == "late":
                self.late_target = min(80, max(8, self.late_target + step))
            else:
                self.target = min(80, max(8, self.target + step))
        return max((r.deterministic_time for r in results), default=0.01)

    def _merge(self, result: SolveResult) -> list[Assignment] | None:
        if result.assignments is None:
            return None
        moved = {a.task_id for a in result.assignments}
        merged = [a for a in self.best.assignments if a.task_id not in moved]
        return canonical_copies(self.p, merged + result.assignments, self.frozen)

    def _searching_plan(self, assignments: list[Assignment], objective: tuple[int, int]) -> Plan:
        """The plan the search goes on from: its operator actions and objective (the other
        figures, costly on big farms, are derived once at the end)."""
        ordered = sorted(assignments, key=lambda a: (a.printer_id, a.start_min, a.task_id))
        actions = derive_actions(self.p, ordered)
        metrics = replace(
            self.best.metrics, weighted_tardiness_min=objective[0], makespan_min=objective[1]
        )
        return Plan(tuple(ordered), tuple(actions), self.best.solver, metrics)

    def _objective(self, assignments: list[Assignment]) -> tuple[int, int]:
        """Weighted tardiness and makespan, as :class:`Plan` has them (without the rest of
        its figures, which are derived only for the accepted plan)."""
        late = tardiness_min(self.p, job_completions(self.p, assignments))
        weighted = sum(self.p.job_by_id[j].weight * t for j, t in late.items())
        return weighted, max((a.end_min for a in assignments), default=0)


def _solve_one(
    fm, deterministic_limit: float, wall_s: float, seed: int, presolve_passes: int
) -> SolveResult:
    return solve_model(
        fm,
        deterministic_limit=deterministic_limit,
        wall_limit_s=wall_s,
        workers=1,
        seed=seed,
        presolve_passes=presolve_passes,
    )


def _compatible_printers(problem: Problem) -> dict[str, list[str]]:
    """Printer id -> the other printers sharing nozzle and at least one eligible job."""
    shared: dict[str, set[str]] = {p.id: set() for p in problem.printers}
    for printers in problem.eligible.values():
        ids = [p.id for p in printers]
        for pid in ids:
            shared[pid].update(ids)
    return {pid: sorted(s - {pid}) for pid, s in shared.items()}


def improve(
    problem: Problem, incumbent: Plan, config: LnsConfig, frozen: frozenset[str] = frozenset()
) -> Plan:
    """Improve ``incumbent`` by LNS within the configured limits; never worse.

    Tasks in ``frozen`` keep their printer and start.
    """
    t_start = time.monotonic()
    lns = Lns(problem, incumbent, config, frozen)
    budget = config.deterministic_budget
    if budget is None:
        budget = config.time_limit_s * 0.5
    used = 0.0
    with ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool:
        while used < budget:
            wall_left = config.time_limit_s - (time.monotonic() - t_start)
            if wall_left < 0.2:
                log.info("lns: wall-clock limit reached after %d moves", lns.iterations)
                break
            limit = min(config.sub_deterministic_limit, budget - used)
            sub_wall_s = min(wall_left, config.sub_wall_max_s)
            used += lns.round(pool, limit, sub_wall_s) + MODEL_CHARGE * config.workers
    log.info(
        "lns: %d moves, %d improvements, objective %s -> %s",
        lns.iterations,
        lns.improvements,
        incumbent.objective,
        lns.best.objective,
    )
    return make_plan(problem, lns.best.assignments, lns.best.solver)
