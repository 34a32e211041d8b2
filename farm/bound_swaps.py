"""Filament swaps the operators cannot avoid, added to the LP's operator rows.

A copy of filament ``f`` printed on a printer not loaded with ``f`` at t = 0 follows a
swap to ``f`` on that printer (for this copy or an earlier one), so every such printer
that has started an ``f`` copy by ``s`` has had at least one swap to ``f`` done by ``s``;
swaps to different filaments are different swaps.

If job ``j`` (filament ``f``) is complete by ``t``, printer ``p`` holds at most ``K_p(t)``
of its copies (:func:`farm.bounds.copy_chains`: the k-th copy on ``p`` ends no earlier than
``ends[k]``), so its copies sit on at least ``r_j(t)`` printers not loaded with ``f``: the
fewest such printers that, with all the loaded ones, fit ``quantity`` copies.  So, with
``sigma_f(s)`` the swaps to ``f`` done by ``s``,
``sigma_f(s) >= r_j(s + D_j) · y_j(s + D_j)`` for every ``f`` job, and the
operator row at ``s`` gains ``swap · sum_f sigma_f(s)`` on its left-hand side (the swap
minutes come on top of ``start + clear``, the clear-bed slack being unchanged).
``sigma`` is scaled by the number of printers to stay in ``[0, 1]``.

**Per stretch of presence** (with the window variables ``x_jcW`` of
:mod:`farm.bound_windows`: the share of ``j``'s copies starting on class ``c`` during the
stretch ``W``).  ``tau_f(W)`` counts the swaps to ``f`` done in ``W`` (scaled like
``sigma``).  A swap is part of the turnaround of the copy it precedes, and that turnaround
lies in the stretch the copy starts in, so the stretch's operator row becomes
``sum q_j x_jcW (start + clear) + swap · sum_f tau_f(W) <= operator minutes of W +
clear·(clean beds)``.  For a filament ``f`` and a printer ``p``, the ``f`` copies starting
on ``p`` in ``W`` run one after the other: all but the last one's print lie in usable
minutes of ``W`` (as in :mod:`farm.bound_windows`), so ``sum (d + dur) - dur_last <=
room_p(W)`` (usable minutes, plus ``clear`` if the bed starts clear).  The printers with an
``f`` copy in ``W`` are some of ``L`` (eligible for an ``f`` job of ``W``, loaded with ``f``
at t = 0) and printers outside ``L`` each of which had a swap to ``f`` by the end of ``W``,
at most ``sum_{W' <= W} tau_f(W')`` of them.  With ``z_jcW <= x_jcW`` the share of copies
that are the last ``f`` copy on their printer in ``W``:

    sum q_j (x_jcW (d + dur_jc) - z_jcW dur_jc) <= sum_{p in L} room_p(W)
        + max_{p not in L} room_p(W) · sum_{W' <= W} tau_f(W')
    sum q_j z_jcW <= |{p in L usable in W}| + sum_{W' <= W} tau_f(W')

(the sums over the ``f`` jobs and classes, ``d = start + clear``).  So long prints of one
filament in one stretch need as many printers holding it, and the others cost swaps.
"""

from __future__ import annotations

import numpy as np

from farm.bound_lp import (
    JobVars,
    LpRows,
    first_starts,
    operator_references,
    presence_windows,
    references,
    usable_minutes,
)
from farm.bound_windows import Start
from farm.bounds import copy_chains, shortest_on
from farm.model import Problem
from farm.shifts import OperatorCalendar, capacity_profile


def swaps_needed(
    chains: dict[str, list[int]], loaded: set[str], quantity: int, times: np.ndarray
) -> np.ndarray:
    """``r[k]``: the fewest printers not in ``loaded`` that, with every ``loaded`` one,
    fit ``quantity`` copies ending by ``times[k]`` (``len(chains) + 1`` if none do)."""
    fits = {p: np.searchsorted(np.array(e), times, side="right") for p, e in chains.items()}
    free = sum((fits[p] for p in chains if p in loaded), np.zeros(times.size, dtype=np.int64))
    others = [fits[p] for p in chains if p not in loaded]
    if not others:
        return np.where(free >= quantity, 0, len(chains) + 1)
    best = np.vstack([free, free - np.sort(-np.stack(others), axis=0).cumsum(axis=0)])
    return (best < quantity).sum(axis=0)


def add_swap_rows(
    problem: Problem,
    jobs: list[JobVars],
    times: np.ndarray,
    rows: LpRows,
    n_vars: int,
    starts: list[Start] | None = None,
) -> int:
    """Operator rows at ``times`` with unavoidable swaps (module docstring); the new number
    of variables.  ``starts``: the window variables of :mod:`farm.bound_windows`, for the
    printer-time rows per filament and stretch."""
    params = problem.params
    calendar = OperatorCalendar(problem.shifts, problem.horizon_end_min)
    shortest = shortest_on(problem)
    scale = float(len(problem.printers))
    filaments = sorted({jv.job.filament for jv in jobs})
    sigma = {f: n_vars + i * times.size + np.arange(times.size) for i, f in enumerate(filaments)}
    n_vars += len(filaments) * times.size
    reach = first_starts(problem, times) - 1
    for jv in jobs:
        job = jv.job
        loaded = {
            p.id
            for p in problem.eligible[job.id]
            if problem.initial_state(p).loaded == job.filament
        }
        chains = copy_chains(problem, calendar, job, shortest)
        need = swaps_needed(chains, loaded, job.quantity, reach + jv.shortest_min)
        ref = references([jv], reach + jv.shortest_min)[0]
        k = np.flatnonzero((need > 0) & (ref >= 0))
        rows.add_pairs(ref[k], need[k], sigma[job.filament][k], np.full(k.size, -scale))
    supply = np.concatenate(
        ([0], np.cumsum(capacity_profile(problem.shifts, problem.horizon_end_min), dtype=np.int64))
    )
    clean = params.clear_min * sum(
        not problem.initial_state(p).bed_occupied for p in problem.printers
    )
    coef = np.array([jv.job.quantity * (params.start_min + params.clear_min) for jv in jobs], float)
    ref = operator_references(problem, jobs, times)
    for k, s in enumerate(times):
        present = ref[:, k] >= 0
        cols = [*ref[present, k], *(sigma[f][k] for f in filaments)]
        data = [*coef[present], *([params.swap_min * scale] * len(filaments))]
        rows.add_row(cols, data, float(supply[s] + clean))
    if starts:
        n_vars = _stretch_rows(problem, starts, rows, n_vars)
    return n_vars


def _stretch_rows(problem: Problem, starts: list[Start], rows: LpRows, n_vars: int) -> int:
    """Swaps per stretch of presence in its operator row, and printer time per filament
    and stretch (module docstring); the new number of variables."""
    params = problem.params
    scale = float(len(problem.printers))
    starts_w, ends_w = presence_windows(problem)
    groups: dict[tuple, list[Start]] = {}
    for st in starts:
        groups.setdefault((st.w, st.job.job.filament), []).append(st)
    # every stretch up to the last one used: a swap in any of them counts for the later ones
    n_stretches = max(w for w, _ in groups) + 1
    filaments = sorted({f for _, f in groups}, key=str)
    # tau[f][w]: swaps to f done in stretch w, over the number of printers
    tau = {f: n_vars + i * n_stretches + np.arange(n_stretches) for i, f in enumerate(filaments)}
    n_vars += len(filaments) * n_stretches
    supply = np.concatenate(
        ([0], np.cumsum(capacity_profile(problem.shifts, problem.horizon_end_min), dtype=np.int64))
    )
    clean = [not problem.initial_state(p).bed_occupied for p in problem.printers]
    d = params.start_min + params.clear_min
    for w in range(n_stretches):
        mine = [st for f in filaments for st in groups.get((w, f), [])]
        cols = [st.var for st in mine] + [int(tau[f][w]) for f in filaments]
        data = [float(st.job.job.quantity * d) for st in mine]
        data += [float(params.swap_min) * scale] * len(filaments)
        minutes = supply[ends_w[w]] - supply[starts_w[w]] + params.clear_min * sum(clean)
        rows.add_row(cols, data, float(minutes))
    room = {}  # printer id -> usable minutes per stretch, plus the clear-bed slack
    for p, is_clean in zip(problem.printers, clean, strict=True):
        cum = np.concatenate(([0], np.cumsum(usable_minutes(problem, p), dtype=np.int64)))
        room[p.id] = cum[ends_w] - cum[starts_w] + params.clear_min * is_clean
    for (w, f), group in sorted(groups.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        n_vars = _filament_rows(
            problem, group, room, [int(v) for v in tau[f][: w + 1]], rows, n_vars
        )
    return n_vars


def _filament_rows(
    problem: Problem,
    group: list[Start],
    room: dict[str, np.ndarray],
    swaps: list[int],
    rows: LpRows,
    n_vars: int,
) -> int:
    """Printer time and printers for the copies of one filament starting in one stretch;
    ``swaps``: the ``tau`` variables of that filament up to the stretch.  The new number of
    variables."""
    params = problem.params
    scale = float(len(problem.printers))
    w, f = group[0].w, group[0].job.job.filament
    printers = sorted({pid for st in group for pid in st.printers})
    loaded = [p for p in printers if problem.initial_state(problem.printer_by_id[p]).loaded == f]
    others = [p for p in printers if p not in set(loaded)]
    swaps = swaps if others else []
    # z: the share of copies that are the last f copy on their printer in the stretch
    x = np.array([st.var for st in group], dtype=np.int64)
    z = np.arange(n_vars, n_vars + x.size)
    rows.add_pairs(z, np.ones(x.size), x, -np.ones(x.size))
    q = np.array([float(st.job.job.quantity) for st in group])
    dur = np.array([float(st.duration_min) for st in group])
    busy = q * (params.start_min + params.clear_min + dur)
    spare = -scale * float(max((room[p][w] for p in others), default=0))
    rows.add_row(
        [*x, *z, *swaps],
        [*busy, *(-q * dur), *([spare] * len(swaps))],
        float(sum(room[p][w] for p in loaded)),
    )
    usable = sum(room[p][w] > 0 for p in loaded)
    rows.add_row([*z, *swaps], [*q, *([-scale] * len(swaps))], float(usable))
    return n_vars + x.size
