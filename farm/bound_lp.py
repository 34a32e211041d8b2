"""A linear-programming lower bound on the weighted tardiness: the whole farm at once.

The bound of :mod:`farm.bounds` looks at one job at a time.  This one lets every job
compete for printer time and operator time, job by job completion-time buckets.

**Variables.**  For a job ``j`` with a due date, ``y_j(b)`` is "j is complete by b" for a
few breakpoints ``b_0 < b_1 < ... < b_m = horizon`` where ``b_0 = max(due, e_j)`` and
``e_j`` is the job's own earliest completion (:func:`farm.bounds.copy_ends`).  In a plan,
``y`` is 0/1 and non-decreasing, ``y_j(b_m) = 1``; finishing by ``b_0`` costs at least
``weight·max(0, e_j - due)`` and finishing in ``(b_{i-1}, b_i]`` at least
``weight·(c - due)``, where ``c`` is the first minute ``> b_{i-1}`` at which one of the job's
prints can end (a print starts when its turnaround ends, so inside a stretch of operator
presence; ``c`` is capped at ``b_i``, any cost being valid for a bucket nothing can end
in), so the objective below never exceeds the plan's weighted tardiness.  Any plan gives a
feasible 0/1 point of the constraints below, hence the LP optimum (relaxing 0/1 to
[0, 1]) is a lower bound; ``LP_TOLERANCE`` absorbs the solver's floating-point slack.
A job finishing at or before its due date costs nothing, so no variable is needed before
``b_0``; at a row time ``t`` a job is represented by its variable at the last breakpoint
``<= t`` (a value that can only be smaller than "complete by t", which keeps every row
valid).  Jobs without a due date cost nothing and are left out of every row (leaving
work out keeps a row valid).

**Printer time with night blocking** (one row per printer set ``S``, time ``t`` and cap
``theta``).  Let ``J(S)`` be the jobs whose eligible printers all lie in ``S``.  On a
printer ``p`` take the copies that end by ``t``; each occupies ``[turnaround start, end)``
(length ``d + dur``), these intervals are disjoint, begin at or after ``p`` falls free and
miss maintenance.  Split them into minutes with an operator on shift (at most
``P_p(t)``, the presence minutes of ``[free_p, t)`` outside maintenance) and off-shift
minutes.  An off-shift stretch ``G = [u, v)`` can only be covered by a print whose
turnaround (inside a shift) started before ``u``; as the intervals are disjoint, at most
one copy covers any of ``G``, and it covers a prefix of ``G`` that ends by ``t`` and before
``p``'s first maintenance in ``G``: at most ``g_G(t)`` minutes, and at most ``dur`` (the
print started at or before ``u``).  So ``cov_G <= min(g_G, theta) + max(0, cov_G - theta)``
and, summed per copy (``sum max(0, x_i - theta) <= max(0, sum x_i - theta)``),

    sum_copies (d + dur) <= P_p(t) + sum_G min(g_G(t), theta) + sum_copies max(0, dur - theta)

that is ``sum_copies (d + min(dur, theta)) <= P_p(t) + sum_G min(g_G(t), theta)``.  With
no cap this is plain printer time; with a cap of a few hours it says short prints cannot
fill the nights.  ``d >= start + clear`` except for the first print on a printer whose bed
starts clear (one ``clear`` of slack per such printer), and ``d + min(dur, theta)``
grows with ``dur``, so each copy of ``j`` is charged with its shortest eligible duration.
Summing over ``p in S`` gives the row for the copies of ``J(S)``.

**Operators** (one row per time ``s``, every few minutes on shift and at the end of each
stretch without operators): a job whose shortest eligible duration is ``D_j`` and that is
complete by ``s + D_j`` had the turnarounds of all its copies (``>= start + clear`` minutes
each, one ``clear`` of slack per printer whose bed starts clear) done by ``s``, while
operators supply at most the sum of ``operators`` over the shift minutes before ``s``.  A
second row per ``s`` takes the slack job by job instead: only a copy that is the first
print on a printer whose bed starts clear has a shorter turnaround
(``start + swap·[filament differs]``), one copy per printer, so a job saves at most the
``quantity`` largest such savings over its eligible printers.
The job's breakpoints are placed at ``s + D_j`` so that the row reads ``y_j(s + D_j)``.

**Cover cuts.**  In a plan every ``y`` is 0 or 1, so a printer or operator row
``sum a_j y_j <= b`` also gives ``sum_{j in C} y_j <= |C| - 1`` for any set ``C`` with
``sum_C a_j > b`` (a cover): the LP is solved again with the covers its solution violates.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from farm.model import Job, Printer, Problem
from farm.shifts import capacity_profile

logger = logging.getLogger(__name__)

CAPS_MIN = (0, 30, 60, 120, 240, 480)  # theta per printer row; 0 stands for "no cap"
ROW_STEP_MIN = 60  # printer rows every hour
OPERATOR_STEP_MIN = 20  # operator rows every 20 min on shift
RUSH_STEP_MIN = 5  # ... and every 5 min in the first RUSH_MIN of a stretch of presence
RUSH_MIN = 120
DETAIL_MIN = 4 * 1440  # breakpoints follow the operator rows this long after the due date
MAX_SETS = 64  # printer sets per row family (unions of eligible sets)
COVER_ROUNDS = 3  # rounds of cover cuts on the knapsack rows ...
COVER_MAX_TASKS = 1000  # ... of problems this small (each round solves the LP again)
COVER_MAX_ITEMS = 200  # cover cuts only on rows with at most this many jobs
COVER_VIOLATION = 1e-3
LP_TOLERANCE = 1e-6  # relative slack taken off the LP optimum before rounding down


@dataclass(frozen=True)
class JobVars:
    """One job's breakpoints (minutes) and the index of its first LP variable."""

    job: Job
    earliest_min: int
    shortest_min: int  # the shortest duration on an eligible printer
    breaks_min: np.ndarray  # (m + 1,) int64, last = horizon
    first_var: int


def presence_gaps(problem: Problem) -> np.ndarray:
    """Maximal off-shift stretches ``[u, v)`` inside the horizon: ``(n, 2) int64`` minutes."""
    on = capacity_profile(problem.shifts, problem.horizon_end_min) > 0
    edges = np.diff(np.concatenate(([1], on.astype(np.int8), [1])))
    starts, ends = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
    return np.stack([starts, ends], axis=1).astype(np.int64)


def _blocked(problem: Problem, printer: Printer) -> np.ndarray:
    """Per minute: True during ``printer``'s maintenance.  ``(horizon,) bool``."""
    out = np.zeros(problem.horizon_end_min, dtype=bool)
    for m in problem.maintenance_by_printer.get(printer.id, ()):
        out[max(m.start_min, 0) : max(m.end_min, 0)] = True
    return out


def usable_minutes(problem: Problem, printer: Printer) -> np.ndarray:
    """Per minute: an operator is on shift, ``printer`` is free and not in maintenance.
    ``(horizon,) bool``."""
    usable = capacity_profile(problem.shifts, problem.horizon_end_min) > 0
    usable &= ~_blocked(problem, printer)
    usable[: min(problem.initial_state(printer).free_from_min, usable.size)] = False
    return usable


def printer_capacity(
    problem: Problem, printer: Printer, times: np.ndarray, gaps: np.ndarray
) -> np.ndarray:
    """``cap[k, c]``: right-hand side of ``printer``'s row at ``times[k]`` with cap
    ``CAPS_MIN[c]`` (presence minutes, capped off-shift stretches, the clear slack)."""
    state = problem.initial_state(printer)
    blocked = _blocked(problem, printer)
    usable = usable_minutes(problem, printer)
    presence = np.concatenate(([0], np.cumsum(usable, dtype=np.int64)))[times]
    mine = gaps[gaps[:, 0] > state.free_from_min]
    # a covered prefix of [u, v) stops at the first maintenance minute in it
    next_block = np.flatnonzero(blocked)
    stop = mine[:, 1].copy()
    if next_block.size:
        k = np.searchsorted(next_block, mine[:, 0])
        has = k < next_block.size
        stop[has] = np.minimum(stop[has], next_block[np.minimum(k, next_block.size - 1)][has])
    cover = np.clip(np.minimum(stop[:, None], times[None, :]) - mine[:, 0:1], 0, None)
    cap = np.empty((times.size, len(CAPS_MIN)), dtype=np.int64)
    for c, theta in enumerate(CAPS_MIN):
        capped = cover if theta == 0 else np.minimum(cover, theta)
        cap[:, c] = presence + capped.sum(axis=0)
    slack = problem.params.clear_min * (not state.bed_occupied)
    return cap + slack


def printer_sets(problem: Problem) -> list[tuple[int, ...]]:
    """Printer index sets to write rows for: the eligible sets and their unions (up to
    ``MAX_SETS``, smallest first), and all printers."""
    index = {p.id: i for i, p in enumerate(problem.printers)}
    base = {frozenset(index[p.id] for p in problem.eligible[j.id]) for j in problem.jobs}
    family = set(base)
    frontier = set(base)
    while frontier and len(family) < MAX_SETS:
        grown = {a | b for a in frontier for b in base} - family
        frontier = set(sorted(grown, key=lambda s: (len(s), sorted(s)))[: MAX_SETS - len(family)])
        family |= frontier
    family.add(frozenset(range(len(problem.printers))))
    return sorted((tuple(sorted(s)) for s in family if s), key=lambda s: (len(s), s))


def operator_times(problem: Problem) -> np.ndarray:
    """Operator row times: the start of every stretch of presence (the end of the stretch
    without operators before it), every ``RUSH_STEP_MIN`` for ``RUSH_MIN`` after it (when
    the printers that ended off shift all wait), every ``OPERATOR_STEP_MIN`` after that,
    and its end."""
    starts, ends = presence_windows(problem)
    out = []
    for s, e in zip(starts, ends, strict=True):
        out += [
            np.arange(s, min(e, s + RUSH_MIN), RUSH_STEP_MIN),
            np.arange(s, e, OPERATOR_STEP_MIN),
        ]
    times = np.unique(np.concatenate([*out, ends])).astype(np.int64)
    return times[(times > 0) & (times < problem.horizon_end_min)]


def first_starts(problem: Problem, times: np.ndarray) -> np.ndarray:
    """``out[k]``: no print whose turnaround ends after ``times[k]`` starts before.

    Such a turnaround ends at ``times[k] + 1`` at the earliest; if minute ``times[k]`` is
    off shift, the turnaround (at least ``start`` minutes, inside one stretch of presence)
    lies in a later stretch and ends ``start`` minutes after that stretch begins at the
    earliest.  So a job that is complete before ``out[k] + D_j`` (``D_j`` its shortest
    duration) had all its turnarounds over by ``times[k]``.
    """
    start = problem.params.start_min
    times = np.asarray(times, dtype=np.int64)
    on = capacity_profile(problem.shifts, problem.horizon_end_min) > 0
    if start == 0:  # a zero-minute turnaround fits at any minute
        return times + 1
    horizon = problem.horizon_end_min
    # next_on[t]: the first minute >= t on shift (horizon if none)
    next_on = np.full(horizon + 1, horizon, dtype=np.int64)
    shift_minutes = np.flatnonzero(on)
    k = np.searchsorted(shift_minutes, np.arange(horizon + 1))
    has = k < shift_minutes.size
    next_on[has] = shift_minutes[k[has]]
    inside = np.clip(times, 0, horizon)
    present = on[np.minimum(inside, horizon - 1)] & (times < horizon) & (times >= 0)
    return np.where(present, times + 1, next_on[inside] + start)


def _breakpoints(first: int, horizon: int, lead: int, op_ends: np.ndarray) -> np.ndarray:
    """``first``, every ``op_ends + lead`` after it (the operator row times and their
    :func:`first_starts` ``- 1``) up to ``DETAIL_MIN`` later, then daily, and the horizon."""
    ends = op_ends + lead
    near = ends[(ends > first) & (ends < min(first + DETAIL_MIN, horizon))]
    far = np.arange((first + DETAIL_MIN) // 1440 * 1440 + 1440, horizon, 1440)
    return np.unique(np.concatenate(([first], near, far, [horizon]))).astype(np.int64)


def _job_vars(
    problem: Problem, earliest: Mapping[str, int], op_times: np.ndarray
) -> tuple[list[JobVars], float]:
    """The jobs that get variables, and the cost of those that finish past the horizon."""
    horizon = problem.horizon_end_min
    op_ends = np.union1d(op_times, first_starts(problem, op_times) - 1)
    out: list[JobVars] = []
    fixed, count = 0.0, 0
    for job in problem.jobs:
        if job.due_min is None or job.weight == 0:
            continue
        first = max(job.due_min, earliest[job.id])
        if first >= horizon:
            fixed += job.weight * max(0, earliest[job.id] - job.due_min)
            continue
        lead = min(job.durations_min[p.model] for p in problem.eligible[job.id])
        breaks = _breakpoints(first, horizon, lead, op_ends)
        out.append(JobVars(job, earliest[job.id], lead, breaks, count))
        count += breaks.size - 1
    return out, fixed


def presence_windows(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the maximal stretches with an operator on shift (minutes)."""
    gaps = presence_gaps(problem)
    starts = np.concatenate(([0], gaps[:, 1]))
    ends = np.concatenate((gaps[:, 0], [problem.horizon_end_min]))
    keep = starts < ends
    return starts[keep].astype(np.int64), ends[keep].astype(np.int64)


def possible_ends(
    after: np.ndarray, durations: set[int], windows: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """The first print end ``>= after`` (element-wise) for a print of one of ``durations``:
    a print starts when its turnaround ends, so inside a stretch of presence."""
    starts, ends = windows
    best = np.full(after.shape, np.iinfo(np.int64).max // 2, dtype=np.int64)
    for d in sorted(durations):
        k = np.searchsorted(ends + d, after, side="left")
        ok = k < ends.size
        first = np.maximum(after, starts[np.minimum(k, ends.size - 1)] + d)
        best = np.where(ok, np.minimum(best, first), best)
    return best


def _objective(problem: Problem, jobs: list[JobVars], n_vars: int) -> tuple[np.ndarray, float]:
    """Cost coefficients of the ``y`` variables and the constant (see the docstring)."""
    windows = presence_windows(problem)
    cost = np.zeros(n_vars)
    constant = 0.0
    for jv in jobs:
        w, due, b = jv.job.weight, jv.job.due_min, jv.breaks_min
        durations = {jv.job.durations_min[p.model] for p in problem.eligible[jv.job.id]}
        # no print can end inside a bucket past this: any cost up to its end is valid there
        late = np.minimum(possible_ends(b[:-1] + 1, durations, windows), b[1:])
        gamma = np.concatenate(([w * max(0, jv.earliest_min - due)], w * (late - due)))
        cost[jv.first_var : jv.first_var + b.size - 1] = gamma[:-1] - gamma[1:]
        constant += gamma[-1]
    return cost, constant


def references(jobs: list[JobVars], times: np.ndarray) -> np.ndarray:
    """``ref[j, k]``: job j's variable at its last breakpoint ``<= times[k]``, -1 if none."""
    ref = np.full((len(jobs), times.size), -1, dtype=np.int64)
    for row, jv in enumerate(jobs):
        k = np.searchsorted(jv.breaks_min[:-1], times, side="right") - 1
        ref[row] = np.where(k >= 0, jv.first_var + k, -1)
    return ref


class LpRows:
    """``A y <= b`` collected row by row; rows no 0/1 point can violate are skipped."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.data: list[np.ndarray] = []
        self.rhs: list[float] = []
        self.knapsacks: list[int] = []  # rows over 0/1 values only (cover cuts apply)

    def add_family(self, ref: np.ndarray, coef: np.ndarray, rhs: np.ndarray) -> None:
        """Rows ``sum_j coef[j] * y[ref[j, k]] <= rhs[k]`` for each column k of ``ref``."""
        present = ref >= 0
        most = (coef[:, None] * present).sum(axis=0)
        for k in np.flatnonzero(most > rhs):
            cols = ref[present[:, k], k]
            if cols.size <= COVER_MAX_ITEMS:
                self.knapsacks.append(len(self.rows))
            self.rows.append(np.full(cols.size, len(self.rhs)))
            self.cols.append(cols)
            self.data.append(coef[present[:, k]].astype(float))
            self.rhs.append(float(rhs[k]))

    def add_row(self, cols: list, data: list, rhs: float) -> None:
        """One row ``sum data[i] * v[cols[i]] <= rhs`` (``data`` cut to ``cols``' length)."""
        self.rows.append(np.full(len(cols), len(self.rhs)))
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.data.append(np.asarray(data[: len(cols)], dtype=float))
        self.rhs.append(rhs)

    def add_pairs(
        self, first: np.ndarray, first_coef: np.ndarray, second: np.ndarray, second_coef: np.ndarray
    ) -> None:
        """Rows ``first_coef[i] * v[first[i]] + second_coef[i] * v[second[i]] <= 0``."""
        index = np.arange(len(self.rhs), len(self.rhs) + first.size)
        self.rows += [index, index]
        self.cols += [first.astype(np.int64), second.astype(np.int64)]
        self.data += [first_coef.astype(float), second_coef.astype(float)]
        self.rhs += [0.0] * first.size

    def add_chains(self, jobs: list[JobVars]) -> None:
        """``y_i - y_{i+1} <= 0`` for every job."""
        left = np.concatenate(
            [np.arange(jv.first_var, jv.first_var + jv.breaks_min.size - 2) for jv in jobs]
        ).astype(np.int64)
        self.add_pairs(left, np.ones(left.size), left + 1, -np.ones(left.size))

    def matrix(self, n_vars: int) -> tuple[coo_matrix, np.ndarray]:
        if not self.rhs:
            return coo_matrix((0, n_vars)), np.zeros(0)
        a = coo_matrix(
            (np.concatenate(self.data), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(len(self.rhs), n_vars),
        )
        return a, np.array(self.rhs)


def _shortest_durations(jobs: list[JobVars]) -> np.ndarray:
    return np.array([jv.shortest_min for jv in jobs])


def _printer_rows(
    problem: Problem, jobs: list[JobVars], ref: np.ndarray, times: np.ndarray, rows: LpRows
) -> None:
    params = problem.params
    gaps = presence_gaps(problem)
    caps = np.stack([printer_capacity(problem, p, times, gaps) for p in problem.printers])
    index = {p.id: i for i, p in enumerate(problem.printers)}
    eligible = [{index[p.id] for p in problem.eligible[jv.job.id]} for jv in jobs]
    quantity = np.array([jv.job.quantity for jv in jobs])
    shortest = _shortest_durations(jobs)
    for members in printer_sets(problem):
        inside = set(members)
        mine = np.array([e <= inside for e in eligible], dtype=bool)
        if not mine.any():
            continue
        cap = caps[list(members)].sum(axis=0)
        for c, theta in enumerate(CAPS_MIN):
            held = shortest if theta == 0 else np.minimum(shortest, theta)
            coef = quantity * (params.start_min + params.clear_min + held)
            rows.add_family(ref[mine], coef[mine], cap[:, c])


def _operator_rows(problem: Problem, jobs: list[JobVars], times: np.ndarray, rows: LpRows) -> None:
    params = problem.params
    profile = capacity_profile(problem.shifts, problem.horizon_end_min)
    supply = np.concatenate(([0], np.cumsum(profile, dtype=np.int64)))
    clean = sum(not problem.initial_state(p).bed_occupied for p in problem.printers)
    quantity = np.array([jv.job.quantity for jv in jobs])
    coef = quantity * (params.start_min + params.clear_min)
    ref = operator_references(problem, jobs, times)
    rows.add_family(ref, coef, supply[times] + params.clear_min * clean)
    # or: only the copies that can be first on a clear bed with their filament loaded save
    discount = np.array([_clear_bed_saving(problem, jv.job) for jv in jobs])
    rows.add_family(ref, coef - discount, supply[times])


def operator_references(problem: Problem, jobs: list[JobVars], times: np.ndarray) -> np.ndarray:
    """``ref[j, k]``: job j's variable that, at 1, says its turnarounds were over by
    ``times[k]`` (:func:`first_starts`), -1 if none."""
    reach = first_starts(problem, times) - 1
    return np.stack([references([jv], reach + jv.shortest_min)[0] for jv in jobs])


def _clear_bed_saving(problem: Problem, job: Job) -> int:
    """Operator minutes ``job``'s copies can save below ``start + clear`` each: ``clear`` per
    copy that is the first print on a printer whose bed starts clear, if that turnaround
    has no swap (one copy per such printer)."""
    params = problem.params
    full = params.start_min + params.clear_min
    savings = []
    for p in problem.eligible[job.id]:
        state = problem.initial_state(p)
        turnaround = params.turnaround_min(state.bed_occupied, state.loaded != job.filament)
        savings.append(max(0, full - turnaround))
    return sum(sorted(savings, reverse=True)[: job.quantity])


def add_cover_cuts(rows: LpRows, y: np.ndarray) -> int:
    """Cover cuts violated by ``y``; how many were added.

    In a plan every variable of a knapsack row is 0 or 1, so for any set ``C`` whose
    coefficients sum past the right-hand side at most ``|C| - 1`` are 1, and so for ``C``
    extended by the items at least as heavy as its heaviest.
    """
    added = 0
    for r in list(rows.knapsacks):
        cols, weight, rhs = rows.cols[r], rows.data[r], rows.rhs[rows.rows[r][0]]
        order = np.argsort((1.0 - y[cols]) / weight, kind="stable")
        total = np.cumsum(weight[order])
        size = int(np.searchsorted(total, rhs, side="right")) + 1
        if size > order.size:
            continue
        cover = order[:size]
        heavy = np.flatnonzero(weight >= weight[cover].max())
        members = np.union1d(cover, heavy)
        if y[cols[members]].sum() > size - 1 + COVER_VIOLATION:
            rows.add_row(list(cols[members]), [1.0] * members.size, float(size - 1))
            added += 1
    return added


def lp_bound(
    problem: Problem,
    earliest: Mapping[str, int],
    *,
    with_windows: bool = True,
    with_swaps: bool = True,
) -> int:
    """A valid lower bound on the weighted tardiness (weight·min) from the LP relaxation
    described in the module docstring; ``earliest``: job id -> a lower bound on its
    completion (:func:`farm.bounds.copy_ends`).  ``with_windows`` adds the stretch-of-presence
    variables of :mod:`farm.bound_windows`, ``with_swaps`` the unavoidable swaps of
    :mod:`farm.bound_swaps`."""
    from farm.bound_swaps import add_swap_rows  # they build on this module
    from farm.bound_windows import add_window_rows

    op_times = operator_times(problem)
    jobs, fixed = _job_vars(problem, earliest, op_times)
    if not jobs:
        return math.floor(fixed)
    n_vars = jobs[-1].first_var + jobs[-1].breaks_min.size - 1
    times = np.arange(ROW_STEP_MIN, problem.horizon_end_min, ROW_STEP_MIN, dtype=np.int64)
    rows = LpRows()
    _printer_rows(problem, jobs, references(jobs, times), times, rows)
    _operator_rows(problem, jobs, op_times, rows)
    rows.add_chains(jobs)
    cost, constant = _objective(problem, jobs, n_vars)
    starts: list = []
    if with_windows:
        n_vars = add_window_rows(problem, jobs, rows, n_vars, starts)
    if with_swaps:
        n_vars = add_swap_rows(problem, jobs, op_times, rows, n_vars, starts)
    cost = np.concatenate((cost, np.zeros(n_vars - cost.size)))
    rounds = COVER_ROUNDS if len(problem.tasks) <= COVER_MAX_TASKS else 0
    value = fixed  # jobs that finish past the horizon: a bound on their own
    for _ in range(rounds + 1):
        a, b = rows.matrix(n_vars)
        result = linprog(cost, A_ub=a.tocsr(), b_ub=b, bounds=(0, 1), method="highs")
        if result.status != 0:
            logger.warning("lower bound LP of %s failed: %s", problem.name, result.message)
            break
        value = result.fun + constant + fixed  # every cut is valid: the last LP is tightest
        if not add_cover_cuts(rows, result.x):
            break
    return max(0, math.floor(value - LP_TOLERANCE * max(1.0, abs(value))))
