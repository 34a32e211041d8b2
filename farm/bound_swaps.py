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
"""

from __future__ import annotations

import numpy as np

from farm.bound_lp import JobVars, LpRows, first_starts, operator_references, references
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
    problem: Problem, jobs: list[JobVars], times: np.ndarray, rows: LpRows, n_vars: int
) -> int:
    """Operator rows at ``times`` with unavoidable swaps (module docstring); the new number
    of variables."""
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
    return n_vars
