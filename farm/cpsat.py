"""The CP-SAT model of a (part of a) farm schedule, as in the OR-Tools flexible job shop.

A :class:`Window` names what may move: some tasks, on some printers, between each
printer's ``start`` state (after its last kept print) and its ``anchor`` (its first kept
print after the window, whose start stays fixed but whose turnaround is re-derived).  The
whole problem is the window with every task, every printer and no anchors.

Per free task: a start ``S``, a turnaround length ``D`` and ``U = S - D``; per eligible
(task, printer) a presence literal (exactly one true) and an optional interval
``[U, S + duration)`` in the printer's ``no_overlap`` with its maintenance.  Per printer an
``add_circuit`` over its candidates fixes the sequence, and each arc fixes the successor's
``D`` exactly: ``start + clear·[bed occupied] + swap·[filament changes]``.  ``[U, S)`` of
every task goes into one cumulative of operators whose capacity follows the shifts (and
what kept turnarounds already use).  Shifts also cut the domains of ``U`` and ``S``.
Objective: weighted tardiness · (horizon + 1) + makespan.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from farm.model import Assignment, Filament, Printer, PrinterState, Problem, Task
from farm.shifts import capacity_profile


@dataclass(frozen=True)
class Window:
    """The movable part of a schedule (see the module docstring)."""

    tasks: tuple[Task, ...]
    printers: tuple[Printer, ...]
    start_state: dict[str, PrinterState]
    anchors: dict[str, Assignment] = field(default_factory=dict)
    operators_free: np.ndarray | None = None  # (horizon,) int, None: the shifts' capacity
    job_floor_min: dict[str, int] = field(default_factory=dict)  # kept copies' latest end
    makespan_floor_min: int = 0
    latest_start_min: int | None = None  # cap on free tasks' starts (keeps the model small)
    earliest_start_min: int = 0  # no free turnaround before this
    allowed: dict[str, frozenset[str]] | None = None  # task id -> printers it may use


@dataclass
class _TaskVars:
    start: cp_model.IntVar
    turnaround: cp_model.IntVar
    turnaround_start: cp_model.IntVar
    presence: dict[str, cp_model.IntVar]  # printer id -> literal
    end: cp_model.LinearExprT


@dataclass
class FarmModel:
    """A built CP-SAT model and the handles needed to hint and read it."""

    model: cp_model.CpModel
    vars: dict[str, _TaskVars]
    arcs: dict[tuple[str, str, str], cp_model.IntVar]  # (printer, from, to); "" = depot
    tardiness: dict[str, cp_model.IntVar]
    makespan: cp_model.IntVar
    objective_scale: int
    anchor_ids: frozenset[str]


def _blocks(free: np.ndarray) -> list[tuple[int, int]]:
    """Maximal ``[a, b)`` runs where ``free > 0``."""
    on = np.concatenate(([False], free > 0, [False]))
    edges = np.flatnonzero(on[1:] != on[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _domain(intervals: list[tuple[int, int]]) -> cp_model.Domain:
    """Union of closed ``[lo, hi]`` ranges (empty ones dropped)."""
    flat = [[lo, hi] for lo, hi in intervals if lo <= hi]
    return cp_model.Domain.from_intervals(flat) if flat else cp_model.Domain.from_values([])


def _segments(free: np.ndarray, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """Run-length ``(start, end, value)`` of ``free[lo:hi]``."""
    part = free[lo:hi]
    if part.size == 0:
        return []
    change = np.flatnonzero(part[1:] != part[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [part.size]))
    return [(lo + int(a), lo + int(b), int(part[a])) for a, b in zip(starts, ends, strict=True)]


def build_model(problem: Problem, window: Window) -> FarmModel:
    """The CP-SAT model of ``window`` (see the module docstring)."""
    return _Builder(problem, window).build()


class _Builder:
    """Builds a :class:`FarmModel` for one window; one method per constraint family."""

    def __init__(self, problem: Problem, window: Window):
        self.p = problem
        self.w = window
        self.m = cp_model.CpModel()
        self.params = problem.params
        self.horizon = problem.horizon_end_min
        self.free = window.operators_free
        if self.free is None:
            self.free = capacity_profile(problem.shifts, self.horizon)
        self.hi = self.horizon if window.latest_start_min is None else window.latest_start_min
        # shift presence (not what kept turnarounds leave): few, wide blocks keep domains simple
        self.blocks = _blocks(capacity_profile(problem.shifts, self.horizon)[: self.hi + 1])
        if self.params.start_min == 0:
            # a turnaround may take no operator time, so a print may start at any minute;
            # the operator cumulative (no capacity off shift) keeps real turnarounds on shift
            self.blocks = [(0, self.hi + 1)]
        self.vars: dict[str, _TaskVars] = {}
        self.arcs: dict[tuple[str, str, str], cp_model.IntVar] = {}
        self.printer_ids = {p.id for p in window.printers}
        self.candidates: dict[str, list[str]] = {p.id: [] for p in window.printers}
        self.anchor_ids = frozenset(a.task_id for a in window.anchors.values())

    def build(self) -> FarmModel:
        for task in self.w.tasks:
            self._task(task)
        self._copy_order()
        for anchor in self.w.anchors.values():
            self._anchor(anchor)
        for printer in self.w.printers:
            self._sequence(printer)
            self._no_overlap(printer)
        self._operators()
        tardiness, makespan, scale = self._objective()
        return FarmModel(self.m, self.vars, self.arcs, tardiness, makespan, scale, self.anchor_ids)

    # -- variables ------------------------------------------------------------------------

    def _start_vars(self, name: str, release_min: int) -> tuple:
        """``S``, ``D``, ``U = S - D`` with shift-cut domains."""
        start_min = self.params.start_min
        lo = max(release_min, 0)
        s_dom = _domain([(max(a, lo) + start_min, min(b, self.hi)) for a, b in self.blocks])
        u_dom = _domain([(max(a, lo), min(b - start_min, self.hi)) for a, b in self.blocks])
        s = self.m.new_int_var_from_domain(s_dom, f"S[{name}]")
        u = self.m.new_int_var_from_domain(u_dom, f"U[{name}]")
        d = self.m.new_int_var(start_min, self.params.turnaround_min(True, True), f"D[{name}]")
        self.m.add(u == s - d)
        return s, d, u

    def _task(self, task: Task) -> None:
        job = task.job
        allowed = self.printer_ids if self.w.allowed is None else self.w.allowed[task.id]
        # no turnaround before the release, nor before any allowed printer falls free
        free_from = min(
            (
                self.w.start_state[p.id].free_from_min
                for p in self.p.eligible[job.id]
                if p.id in self.printer_ids and p.id in allowed
            ),
            default=0,
        )
        lo = max(job.release_min, free_from, self.w.earliest_start_min)
        s, d, u = self._start_vars(task.id, lo)
        presence = {}
        durations = []
        for printer in self.p.eligible[job.id]:
            if printer.id not in self.printer_ids or printer.id not in allowed:
                continue
            lit = self.m.new_bool_var(f"x[{task.id},{printer.id}]")
            presence[printer.id] = lit
            duration = job.durations_min[printer.model]
            durations.append((lit, duration))
            self.m.add(s + duration <= self.horizon).only_enforce_if(lit)
            self.candidates[printer.id].append(task.id)
        self.m.add_exactly_one(presence.values())
        end = s + sum(dur * lit for lit, dur in durations)
        self.vars[task.id] = _TaskVars(s, d, u, presence, end)

    def _copy_order(self) -> None:
        """Copies of a job are interchangeable: the free ones start in copy order."""
        copies: dict[str, list[Task]] = {}
        for task in self.w.tasks:
            copies.setdefault(task.job.id, []).append(task)
        for same in copies.values():
            same.sort(key=lambda t: t.copy)
            for a, b in itertools.pairwise(same):
                self.m.add(self.vars[a.id].start <= self.vars[b.id].start)

    def _anchor(self, anchor: Assignment) -> None:
        s = self.m.new_constant(anchor.start_min)
        start_min = self.params.start_min
        d = self.m.new_int_var(start_min, self.params.turnaround_min(True, True), "D[anchor]")
        u_dom = _domain([(a, b - start_min) for a, b in self.blocks])
        u = self.m.new_int_var_from_domain(u_dom, f"U[{anchor.task_id}]")
        self.m.add(u == s - d)
        lit = self.m.new_constant(1)
        self.vars[anchor.task_id] = _TaskVars(s, d, u, {anchor.printer_id: lit}, anchor.end_min)

    # -- sequencing -------------------------------------------------------------------------

    def _filament(self, task_id: str) -> Filament:
        return self.p.task_by_id[task_id].job.filament

    def _duration(self, task_id: str, printer: Printer) -> int:
        return self.p.task_by_id[task_id].job.durations_min[printer.model]

    def _arc(self, pid: str, a: str, b: str) -> cp_model.IntVar:
        lit = self.m.new_bool_var(f"arc[{pid},{a or '*'},{b or '*'}]")
        self.arcs[(pid, a, b)] = lit
        return lit

    def _sequence(self, printer: Printer) -> None:
        """Circuit over depot + candidates (+ anchor, forced last) with exact turnarounds."""
        pid = printer.id
        anchor = self.w.anchors.get(pid)
        nodes = list(self.candidates[pid])
        targets = nodes + ([anchor.task_id] if anchor else [])
        index = {tid: i + 1 for i, tid in enumerate(targets)}
        arcs: list[tuple[int, int, cp_model.LiteralT]] = []
        if anchor is None:
            arcs.append((0, 0, self._arc(pid, "", "")))
            arcs += [(index[t], 0, self._arc(pid, t, "")) for t in nodes]
        else:
            arcs.append((index[anchor.task_id], 0, self.m.new_constant(1)))
        arcs += [(index[t], index[t], ~self.vars[t].presence[pid]) for t in nodes]
        arcs += [(0, index[t], self._first(printer, t)) for t in targets]
        for a, b in itertools.permutations(targets, 2):
            if anchor is None or a != anchor.task_id:
                arcs.append((index[a], index[b], self._precedence(printer, a, b)))
        self.m.add_circuit(arcs)

    def _first(self, printer: Printer, tid: str) -> cp_model.IntVar:
        """Arc depot -> task: the printer's start state decides clear and swap."""
        state = self.w.start_state[printer.id]
        lit = self._arc(printer.id, "", tid)
        v = self.vars[tid]
        swap = state.loaded != self._filament(tid)
        d = self.params.turnaround_min(state.bed_occupied, swap)
        self.m.add(v.turnaround == d).only_enforce_if(lit)
        self.m.add(v.turnaround_start >= state.free_from_min).only_enforce_if(lit)
        return lit

    def _precedence(self, printer: Printer, a: str, b: str) -> cp_model.IntVar:
        """Arc a -> b: b's turnaround starts after a's print, with clear and maybe swap."""
        lit = self._arc(printer.id, a, b)
        va, vb = self.vars[a], self.vars[b]
        self.m.add(vb.turnaround_start >= va.start + self._duration(a, printer)).only_enforce_if(
            lit
        )
        swap = self._filament(a) != self._filament(b)
        self.m.add(vb.turnaround == self.params.turnaround_min(True, swap)).only_enforce_if(lit)
        return lit

    def _no_overlap(self, printer: Printer) -> None:
        """Turnaround + print intervals and maintenance never overlap on a printer."""
        intervals = []
        for tid in self.candidates[printer.id]:
            v = self.vars[tid]
            dur = self._duration(tid, printer)
            intervals.append(
                self.m.new_optional_interval_var(
                    v.turnaround_start,
                    v.turnaround + dur,
                    v.start + dur,
                    v.presence[printer.id],
                    f"busy[{tid},{printer.id}]",
                )
            )
        anchor = self.w.anchors.get(printer.id)
        if anchor is not None:
            v = self.vars[anchor.task_id]
            size = v.turnaround + (anchor.end_min - anchor.start_min)
            intervals.append(self.m.new_interval_var(v.turnaround_start, size, anchor.end_min, ""))
        for mw in self.p.maintenance_by_printer.get(printer.id, ()):
            size = mw.end_min - mw.start_min
            intervals.append(self.m.new_fixed_size_interval_var(mw.start_min, size, "maint"))
        self.m.add_no_overlap(intervals)

    # -- operators and objective -------------------------------------------------------------

    def _operators(self) -> None:
        """One cumulative: every turnaround takes an operator; capacity follows the shifts.

        A printer turns around one print at a time (its no-overlap covers turnarounds), so
        at most ``k`` = the window's printers need operators at once: where ``k`` or more
        operators are free nothing can be violated, and the capacity profile is clipped at
        ``k``.  Few printers then leave few reserved blocks (only where < ``k`` are free).
        """
        turnarounds = [
            self.m.new_interval_var(v.turnaround_start, v.turnaround, v.start, "")
            for v in self.vars.values()
        ]
        if not turnarounds:
            return
        clipped = np.minimum(self.free, len(self.w.printers))
        segments = [seg for lo, hi in self._operator_ranges() for seg in _segments(clipped, lo, hi)]
        capacity = max((c for _, _, c in segments), default=1)
        reserved, demands = [], []
        for a, b, c in segments:
            if c < capacity:
                reserved.append(self.m.new_fixed_size_interval_var(a, b - a, ""))
                demands.append(capacity - c)
        if not reserved and capacity >= len(self.w.printers):
            return  # the printers' no-overlaps already keep the operators within capacity
        self.m.add_cumulative(turnarounds + reserved, [1] * len(turnarounds) + demands, capacity)

    def _operator_ranges(self) -> list[tuple[int, int]]:
        """Disjoint ``[lo, hi)`` spans where some turnaround of the model may fall."""
        spans = []
        longest = self.params.turnaround_min(True, True)
        for tid, v in self.vars.items():
            if tid in self.anchor_ids:
                start = self.vars[tid].start.proto.domain[0]
                spans.append((max(start - longest, 0), start))
            else:
                spans.append((max(v.turnaround_start.proto.domain[0], 0), self.hi + 1))
        spans.sort()
        merged: list[list[int]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        return [(lo, hi) for lo, hi in merged]

    def _objective(self) -> tuple[dict[str, cp_model.IntVar], cp_model.IntVar, int]:
        """Weighted tardiness · (horizon + 1) + makespan."""
        ends: dict[str, list] = {}
        for tid, v in self.vars.items():
            ends.setdefault(self.p.task_by_id[tid].job.id, []).append(v.end)
        tardiness = {}
        for job_id, job_ends in ends.items():
            job = self.p.job_by_id[job_id]
            if job.due_min is None or job.weight == 0:
                continue
            t = self.m.new_int_var(0, self.horizon, f"T[{job_id}]")
            floor = self.w.job_floor_min.get(job_id, 0)
            self.m.add(t >= floor - job.due_min)
            for e in job_ends:
                self.m.add(t >= e - job.due_min)
            tardiness[job_id] = t
        makespan = self.m.new_int_var(self.w.makespan_floor_min, self.horizon, "makespan")
        for v in self.vars.values():
            self.m.add(makespan >= v.end)
        scale = self.horizon + 1
        weighted = sum(self.p.job_by_id[j].weight * t for j, t in tardiness.items())
        self.m.minimize(scale * weighted + makespan)
        return tardiness, makespan, scale


# -- whole problem, hints, solving -------------------------------------------------------------


def full_window(problem: Problem) -> Window:
    """Everything movable: all tasks, all printers, from t = 0."""
    return Window(
        tasks=problem.tasks,
        printers=problem.printers,
        start_state={p.id: problem.initial_state(p) for p in problem.printers},
    )


def _chains(window: Window, plan: list[Assignment]) -> dict[str, list[str]]:
    """Printer id -> the window's task ids on it in start order, anchor last."""
    free_ids = {t.id for t in window.tasks}
    chains: dict[str, list[str]] = {p.id: [] for p in window.printers}
    for a in sorted(plan, key=lambda a: a.start_min):
        if a.task_id in free_ids:
            chains[a.printer_id].append(a.task_id)
    for pid, anchor in window.anchors.items():
        chains[pid].append(anchor.task_id)
    return chains


def add_hint(problem: Problem, fm: FarmModel, window: Window, plan: list[Assignment]) -> None:
    """Hint every decision of ``fm`` with the window's part of a feasible plan."""
    turnaround: dict[str, int] = {}
    used: set[tuple[str, str, str]] = set()
    for pid, chain in _chains(window, plan).items():
        state = window.start_state[pid]
        loaded, occupied = state.loaded, state.bed_occupied
        for prev, tid in zip(["", *chain], chain, strict=False):
            filament = problem.task_by_id[tid].job.filament
            turnaround[tid] = problem.params.turnaround_min(occupied, loaded != filament)
            loaded, occupied = filament, True
            used.add((pid, prev, tid))
        if pid not in window.anchors:
            used.add((pid, chain[-1] if chain else "", ""))
    for key, lit in fm.arcs.items():
        fm.model.add_hint(lit, int(key in used))
    for a in plan:
        v = fm.vars.get(a.task_id)
        if v is None or a.task_id in fm.anchor_ids:
            continue
        fm.model.add_hint(v.start, a.start_min)
        for pid, lit in v.presence.items():
            fm.model.add_hint(lit, int(pid == a.printer_id))
    start_of = {a.task_id: a.start_min for a in plan}
    start_of |= {a.task_id: a.start_min for a in window.anchors.values()}
    for tid, d in turnaround.items():
        v = fm.vars[tid]
        fm.model.add_hint(v.turnaround, d)
        fm.model.add_hint(v.turnaround_start, start_of[tid] - d)


@dataclass(frozen=True)
class SolveResult:
    """What one CP-SAT run gave: assignments of the window's tasks (None if no solution)."""

    assignments: list[Assignment] | None
    objective: int | None
    bound: int | None
    optimal: bool
    deterministic_time: float
    wall_s: float


def solve_model(
    fm: FarmModel,
    *,
    deterministic_limit: float,
    wall_limit_s: float,
    workers: int,
    seed: int,
    presolve_passes: int | None = None,
) -> SolveResult:
    """Run CP-SAT on a built model; read back the free tasks' printers and starts.

    ``presolve_passes``: None, CP-SAT's whole presolve; 0, none; k, at most k passes.
    On the small hinted sub-models of the LNS no presolve often halves the wall time, but
    one pass solves some windows (one operator, every printer free) several times faster.
    """
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.random_seed = seed
    prm.num_workers = max(1, workers)
    prm.max_deterministic_time = deterministic_limit
    prm.max_time_in_seconds = wall_limit_s
    # CP-SAT would swap in its own SIGINT handler: Ctrl-C must still stop `slicefarm serve`
    prm.catch_sigint_signal = False
    # small sub-models: probing, symmetry detection and the LP relaxation cost far more wall
    # time than they save (the LP made the hinted search 10x slower in wall time)
    prm.cp_model_probing_level = 0
    prm.symmetry_level = 0
    prm.linearization_level = 0
    if presolve_passes is not None:
        prm.cp_model_presolve = presolve_passes > 0
        prm.max_presolve_iterations = max(1, presolve_passes)
    if workers > 1:
        prm.interleave_search = True  # deterministic with several threads
    status = solver.solve(fm.model)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assignments = None
    if found:
        assignments = []
        for tid, v in fm.vars.items():
            if tid in fm.anchor_ids:
                continue
            start = solver.value(v.start)
            pid = next(p for p, lit in v.presence.items() if solver.boolean_value(lit))
            assignments.append(Assignment(tid, pid, start, solver.value(v.end)))
    return SolveResult(
        assignments,
        int(solver.objective_value) if found else None,
        int(solver.best_objective_bound) if found else None,
        status == cp_model.OPTIMAL,
        solver.deterministic_time,
        solver.wall_time,
    )
