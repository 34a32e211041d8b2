"""Where each copy starts: per class of printers and stretch of presence, added to the LP.

A print starts when its turnaround ends, so inside one stretch of operator presence
``W = [ws, we)``.  For a job ``j``, a class ``c`` of identical printers (same model,
nozzle, materials, build volume) and a stretch ``W``, ``x_jcW`` is the share of ``j``'s
copies that start on a printer of ``c`` during ``W`` (``sum = 1``; stretches more than
``LATE_MIN`` after the due date are merged into one without capacity, a relaxation).  Such
a copy ends no earlier than ``end_jcW = max(ws, release) + start + duration_c`` (and than
the job's first copy alone), so "j complete by b" needs every copy started in a pair with
``end_jcW <= b``: ``y_j(b) <= sum_{end_jcW <= b} x_jcW`` (through cumulative variables
``Y``).

**One printer, one stretch.**  The copies that start on printer ``p`` during ``W`` run one
after the other; all but the last end before the last one's turnaround, which ends by
``we``, so all of them but the last one's print lie in ``W`` where ``p`` is usable (free,
no maintenance): ``sum (d + dur) - dur_last <= usable_p(W)``.  Summed over a class, with
``z_jcW <= x_jcW`` the share of last copies and at most one last copy per printer that
can start in ``W``: ``sum_j q_j x_jcW (d + dur_jc) - sum_j q_j z_jcW dur_jc <= usable_c(W)
+ clear·(clean beds in c)`` and ``sum_j q_j z_jcW <= printers of c usable in W``.

**Operators per stretch.**  The turnarounds of copies starting in ``W`` lie in ``W``:
``sum q_j x_jcW (start + clear) <= operator minutes of W + clear·(clean beds)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from farm.bound_lp import JobVars, LpRows, presence_windows, usable_minutes
from farm.model import Problem
from farm.shifts import capacity_profile

LATE_MIN = 3 * 1440  # stretches this long after the due date are merged (no capacity)


@dataclass(frozen=True)
class _Classes:
    """Printer classes and, per class and stretch, usable minutes and usable printers."""

    of: dict[str, int]  # printer id -> class
    model: list[str]
    usable: np.ndarray  # (classes, stretches) minutes
    printers: np.ndarray  # (classes, stretches) printers with a usable minute
    clean: np.ndarray  # (classes,) printers whose bed starts clear


def _classes(problem: Problem, starts: np.ndarray, ends: np.ndarray) -> _Classes:
    keys: dict[tuple, int] = {}
    of: dict[str, int] = {}
    for p in problem.printers:
        of[p.id] = keys.setdefault((p.model, p.nozzle_mm, p.materials, p.build_mm), len(keys))
    usable = np.zeros((len(keys), starts.size), dtype=np.int64)
    printers = np.zeros_like(usable)
    clean = np.zeros(len(keys), dtype=np.int64)
    model = [""] * len(keys)
    for p in problem.printers:
        c = of[p.id]
        cum = np.concatenate(([0], np.cumsum(usable_minutes(problem, p), dtype=np.int64)))
        minutes = cum[ends] - cum[starts]
        usable[c] += minutes
        printers[c] += minutes > 0
        clean[c] += not problem.initial_state(p).bed_occupied
        model[c] = p.model
    return _Classes(of, model, usable, printers, clean)


def _pairs_of(
    problem: Problem, jv: JobVars, cl: _Classes, windows: tuple[np.ndarray, np.ndarray]
) -> list[tuple[int, int, int]]:
    """(end, class, stretch) of the pairs a copy of ``jv`` may start in, by end."""
    starts, ends = windows
    start_min = problem.params.start_min
    job = jv.job
    merged_from = job.due_min + LATE_MIN
    out: list[tuple[int, int, int]] = []
    late: dict[int, int] = {}
    for c in sorted({cl.of[p.id] for p in problem.eligible[job.id]}):
        dur = job.durations_min[cl.model[c]]
        for w in np.flatnonzero((cl.usable[c] > 0) & (ends >= job.release_min + start_min)):
            end = max(int(starts[w]), job.release_min) + start_min + dur
            if end > problem.horizon_end_min:
                break
            if starts[w] > merged_from:
                late.setdefault(c, end)
                continue
            out.append((end, c, int(w)))
    out += [(end, c, -1) for c, end in late.items()]
    return sorted(out)


@dataclass(frozen=True)
class Start:
    """A window variable: the share of ``job``'s copies starting on class ``c`` printers
    (``printers``) during stretch ``w``, each ``duration_min`` long."""

    job: JobVars
    printers: tuple[str, ...]
    w: int
    duration_min: int
    var: int


def add_window_rows(
    problem: Problem,
    jobs: list[JobVars],
    rows: LpRows,
    n_vars: int,
    starts: list[Start] | None = None,
) -> int:
    """Add the window variables and rows (module docstring); the new number of variables.
    The window variables of real stretches are appended to ``starts`` if given."""
    params = problem.params
    d = params.start_min + params.clear_min
    windows = presence_windows(problem)
    cl = _classes(problem, *windows)
    members = [
        tuple(p.id for p in problem.printers if cl.of[p.id] == c) for c in range(len(cl.model))
    ]
    per_window: dict[tuple[int, int], list[tuple[int, float, int, float, int]]] = {}
    per_stretch: dict[int, list[tuple[int, float]]] = {}
    for jv in jobs:
        q = jv.job.quantity
        pairs = _pairs_of(problem, jv, cl, windows)
        ends = np.array([e for e, _, _ in pairs], dtype=np.int64)
        x = np.arange(n_vars, n_vars + len(pairs))
        cum = np.arange(n_vars + len(pairs), n_vars + 2 * len(pairs))
        n_vars += 2 * len(pairs)
        for i, (_end, c, w) in enumerate(pairs):
            # Y_i <= Y_{i-1} + x_i: the share of copies that can have ended by end_i
            before = [cum[i - 1]] if i else []
            rows.add_row([cum[i], x[i], *before], [1.0, -1.0, -1.0], 0.0)
            if w < 0:
                continue
            dur = jv.job.durations_min[cl.model[c]]
            if starts is not None:
                starts.append(Start(jv, members[c], w, dur, int(x[i])))
            z = n_vars
            n_vars += 1
            rows.add_row([z, x[i]], [1.0, -1.0], 0.0)
            per_window.setdefault((c, w), []).append((int(x[i]), q * (d + dur), z, q * dur, q))
            per_stretch.setdefault(w, []).append((int(x[i]), q * d))
        breaks = jv.breaks_min[:-1]
        k = np.searchsorted(ends, breaks, side="right") - 1
        for i, ki in enumerate(k):  # y_j(b) <= Y at the last end <= b (0 if none)
            share = [cum[ki]] if ki >= 0 else []
            rows.add_row([jv.first_var + i, *share], [1.0, -1.0], 0.0)
        if len(pairs):
            rows.add_row([cum[-1]], [-1.0], -1.0)
    _capacity_rows(problem, cl, windows, per_window, per_stretch, rows)
    return n_vars


def _capacity_rows(
    problem: Problem,
    cl: _Classes,
    windows: tuple[np.ndarray, np.ndarray],
    per_window: dict[tuple[int, int], list[tuple[int, float, int, float, int]]],
    per_stretch: dict[int, list[tuple[int, float]]],
    rows: LpRows,
) -> None:
    """Printer minutes and last copies per (class, stretch); operator minutes per stretch."""
    params = problem.params
    starts, ends = windows
    supply = np.concatenate(
        ([0], np.cumsum(capacity_profile(problem.shifts, problem.horizon_end_min), dtype=np.int64))
    )
    for (c, w), terms in sorted(per_window.items()):
        cols = [t[0] for t in terms] + [t[2] for t in terms]
        data = [t[1] for t in terms] + [-t[3] for t in terms]
        rows.add_row(cols, data, float(cl.usable[c, w] + params.clear_min * cl.clean[c]))
        rows.add_row([t[2] for t in terms], [t[4] for t in terms], float(cl.printers[c, w]))
    slack = params.clear_min * int(cl.clean.sum())
    for w, terms in sorted(per_stretch.items()):
        rows.add_row(
            [t[0] for t in terms],
            [t[1] for t in terms],
            float(supply[ends[w]] - supply[starts[w]] + slack),
        )
