"""The list scheduler's placement loop compiled with numba: same placements as
:func:`farm.greedy.best_slot` over :class:`farm.fast_state.FastFarmState`, ~50x faster.

Per task: the cheap bound of every eligible printer (next on-shift minute after it is free
and the job released, + turnaround + print + (swap + penalty)·swap), printers tried from
the smallest bound (ties: eligible order) until the bound reaches the best cost found;
each try is the earliest turnaround with one operator free throughout, pushed past
maintenance windows, ending before the horizon.  The commit books the operator minutes
and updates the printer's free minute, filament and bed.

The farm state is four arrays (``free``: operators free per minute, and per printer free
minute, loaded filament number, bed occupied) that the kernel updates in place; a replay
can save it every ``snap_every`` positions of the order and resume from any saved copy.
``@njit(cache=True)`` keeps the compiled code on disk (``python -m farm.jit_warm``).
"""

from __future__ import annotations

import logging

import numpy as np

try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # the Python path (farm.greedy, farm.fast_state) is the fallback
    HAVE_NUMBA = False

    def njit(*args, **kwargs):
        return lambda f: f


log = logging.getLogger(__name__)


_INF = np.iinfo(np.int64).max
_warned = []


def use_compiled(compiled: bool | None = None) -> bool:
    """``compiled``, or by default: is the compiled code loaded or in numba's disk cache?
    A cold cache means the Python path (same plans) rather than ~10 s of compiling inside
    a time limit; ``python -m farm.jit_warm`` fills it."""
    if compiled is not None:
        return compiled
    if not HAVE_NUMBA:
        return False
    try:
        ready = all(f.signatures or f._cache._cache_file._load_index() for f in (replay, objective))
    except Exception:  # numba's cache layout is not public API
        ready = False
    if not ready and not _warned:
        _warned.append(True)
        log.warning("numba cache cold: the Python list scheduler runs (python -m farm.jit_warm)")
    return ready


@njit(cache=True)
def start_links(free, durations):
    """Row ``k``: ``links[k, t]`` is a minute from ``t`` to the first ``u >= t`` with an
    operator free during ``[u, u + durations[k])`` (``len(free)`` if none); read it with
    :func:`first_start`.  Booking only removes starts (:func:`book`)."""
    n = free.size
    links = np.empty((durations.size, n + 1), dtype=np.int32)
    links[:, n] = n
    run = 0  # free minutes from t on
    for t in range(n - 1, -1, -1):  # one pass for all rows: free is read once
        run = run + 1 if free[t] > 0 else 0
        for k in range(durations.size):
            links[k, t] = t if run >= durations[k] else links[k, t + 1]
    return links


@njit(cache=True)
def first_start(links, k, t):
    """The first turnaround start ``>= t`` of length ``durations[k]`` (path halving)."""
    while links[k, t] != t:
        links[k, t] = links[k, links[k, t]]
        t = links[k, t]
    return t


@njit(cache=True)
def book(free, links, durations, u, minutes):
    """Take one operator for ``[u, u + minutes)``; starts whose span ran out of operators
    no longer link to themselves."""
    for m in range(u, u + minutes):
        free[m] -= 1
        if free[m] == 0:
            for k in range(durations.size):
                for s in range(max(0, m - durations[k] + 1), m + 1):
                    if links[k, s] == s:
                        links[k, s] = s + 1


@njit(cache=True)
def operator_earliest(links, horizon, k, t, duration):
    """The first ``u >= t`` with an operator free during ``[u, u + duration)``, -1 if none
    ends by the horizon (:meth:`farm.shifts.OperatorCalendar.earliest`); ``duration`` is
    ``durations[k]`` of the links."""
    u = max(t, 0)
    if duration <= 0:
        return u if u <= horizon else -1
    if u >= horizon:
        return -1
    u = first_start(links, k, u)
    return u if u + duration <= horizon else -1


@njit(cache=True)
def turnarounds(start_min, clear_min, swap_min):
    """Turnaround minutes by ``2·occupied + swap``."""
    out = np.empty(4, dtype=np.int64)
    for occupied in range(2):
        for swap in range(2):
            out[2 * occupied + swap] = start_min + clear_min * occupied + swap_min * swap
    return out


@njit(cache=True)
def earliest_slot(a, st, job, p, duration, not_before):
    """(turnaround start, end) of the job's task appended on printer ``p``; (-1, -1) if it
    would end past the horizon (:meth:`farm.placement.FarmState.earliest`)."""
    links, pfree, ploaded, poccupied = st[1], st[2], st[3], st[4]
    horizon, start_min, clear_min, swap_min = a[0], a[1], a[2], a[3]
    release, filament = a[4][job], a[5][job]
    maint_ptr, maint_start, maint_end = a[7], a[8], a[9]
    swap = 1 if ploaded[p] != filament else 0
    turnaround = start_min + clear_min * poccupied[p] + swap_min * swap
    k = 2 * poccupied[p] + swap  # row of the links (see turnarounds)
    t = max(pfree[p], release, not_before, 0)
    while True:
        u = operator_earliest(links, horizon, k, t, turnaround)
        if u < 0 or u + turnaround + duration > horizon:
            return -1, -1
        end = u + turnaround + duration
        blocked = -1
        for m in range(maint_ptr[p], maint_ptr[p + 1]):
            if u < maint_end[m] and maint_start[m] < end:
                blocked = max(blocked, maint_end[m])
        if blocked < 0:
            return u, end
        t = blocked


@njit(cache=True)
def best_slot(a, st, job, penalty, bounds):
    """(printer, turnaround start, end) of the job's next task with the earliest end +
    ``penalty`` for a swap; printer -1 if none fits.  ``bounds``: scratch, >= eligible."""
    pfree, ploaded, poccupied = st[2], st[3], st[4]
    horizon, start_min, clear_min, swap_min = a[0], a[1], a[2], a[3]
    release, filament, next_on_shift = a[4][job], a[5][job], a[6]
    elig_ptr, elig_printer, elig_duration = a[10], a[11], a[12]
    e0, e1 = elig_ptr[job], elig_ptr[job + 1]
    n = e1 - e0
    for k in range(n):
        p = elig_printer[e0 + k]
        t = min(max(max(pfree[p], release), 0), horizon)
        swap = 1 if ploaded[p] != filament else 0
        bounds[k] = (
            next_on_shift[t]
            + start_min
            + clear_min * poccupied[p]
            + elig_duration[e0 + k]
            + (swap_min + penalty) * swap
        )
    best_cost, best_p, best_u, best_end = _INF, -1, -1, -1
    for _ in range(n):
        k = 0
        for i in range(1, n):  # smallest untried bound, first on ties (a stable order)
            if bounds[i] < bounds[k]:
                k = i
        if bounds[k] == _INF or (best_p >= 0 and bounds[k] >= best_cost):
            break
        bounds[k] = _INF
        p = elig_printer[e0 + k]
        u, end = earliest_slot(a, st, job, p, elig_duration[e0 + k], 0)
        if u < 0:
            continue
        cost = end + (penalty if ploaded[p] != filament else 0)
        if cost < best_cost:
            best_cost, best_p, best_u, best_end = cost, p, u, end
    return best_p, best_u, best_end


@njit(cache=True)
def _pinned_slot(a, st, job, p, not_before):
    elig_ptr, elig_printer, elig_duration = a[10], a[11], a[12]
    for e in range(elig_ptr[job], elig_ptr[job + 1]):
        if elig_printer[e] == p:
            return earliest_slot(a, st, job, p, elig_duration[e], not_before)
    return -1, -1


@njit(cache=True)
def replay(a, task_job, order, begin, state, out, pins, snap_every, snaps, tardiness_bar):
    """Place ``order[begin:]`` (task indices) onto ``state`` = (free, printer free, loaded,
    occupied), updated in place; per position ``out`` = (printer, print start, end).
    ``pins`` = (printer or -1, not-before minute) per position.  With ``snap_every`` > 0,
    ``snaps`` (same four arrays with a leading snapshot axis) receives the state before
    every position that is a multiple of it.  Returns the first position that fits no
    printer before the horizon, -2 as soon as the weighted tardiness of the tasks placed
    so far (``out[:begin]`` included) exceeds ``tardiness_bar``, or -1."""
    free, pfree, ploaded, poccupied = state
    out_printer, out_start, out_end = out
    pin_printer, pin_not_before = pins
    start_min, clear_min, swap_min = a[1], a[2], a[3]
    job_filament, penalty, job_weight, job_due = a[5], a[13], a[14], a[15]
    bounds = np.empty(a[11].size + 1, dtype=np.int64)
    durations = turnarounds(start_min, clear_min, swap_min)
    st = (free, start_links(free, durations), pfree, ploaded, poccupied)
    done = np.zeros(job_weight.size, dtype=np.int64)
    tardiness = 0
    for i in range(order.size):
        if i >= begin:
            if snap_every > 0 and i % snap_every == 0:
                s = i // snap_every
                snaps[0][s, :] = free
                snaps[1][s, :] = pfree
                snaps[2][s, :] = ploaded
                snaps[3][s, :] = poccupied
            job = task_job[order[i]]
            p = -1
            if pin_printer[i] >= 0:
                p = pin_printer[i]
                u, end = _pinned_slot(a, st, job, p, pin_not_before[i])
                if u < 0:
                    p = -1
            if p < 0:
                p, u, end = best_slot(a, st, job, penalty, bounds)
            if p < 0:
                return i
            swap = 1 if ploaded[p] != job_filament[job] else 0
            turnaround = start_min + clear_min * poccupied[p] + swap_min * swap
            book(free, st[1], durations, u, turnaround)
            pfree[p], ploaded[p], poccupied[p] = end, job_filament[job], 1
            out_printer[i], out_start[i], out_end[i] = p, u + turnaround, end
        job = task_job[order[i]]
        if out_end[i] > done[job]:
            late = max(0, out_end[i] - job_due[job]) - max(0, done[job] - job_due[job])
            tardiness += job_weight[job] * late
            done[job] = out_end[i]
            if tardiness > tardiness_bar:
                return -2
    return -1


@njit(cache=True)
def objective(task_job, order, out_end, job_weight, job_due, n_jobs):
    """(weighted tardiness, makespan) of a placed order; completions per job into a
    fresh array (0 for a job without tasks)."""
    done = np.zeros(n_jobs, dtype=np.int64)
    makespan = 0
    for i in range(order.size):
        j = task_job[order[i]]
        done[j] = max(done[j], out_end[i])
        makespan = max(makespan, out_end[i])
    wt = 0
    for j in range(n_jobs):
        if job_due[j] != _INF:
            wt += job_weight[j] * max(0, done[j] - job_due[j])
    return wt, makespan, done
