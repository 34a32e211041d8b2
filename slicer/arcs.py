"""Arc fitting: runs of polyline points that lie on one circle become G2/G3 arcs.

Greedy from the start of the path: each arc is grown as far as it stays a valid fit (found by
doubling, then bisecting, the number of points it covers); the check of one candidate is
vectorized over its points.  A fit is valid when every point and every segment midpoint lies
within ARC_TOLERANCE_MM of a circle through the run's first and last points (its radius
chosen near the three-point circle's to balance vertices against chords), all turns go the
same way, and the radius is within [MIN_RADIUS_MM, MAX_RADIUS_MM].

With arc fitting on, the slicer keeps finer contours (ARC_CONTOUR_TOLERANCE_MM instead of
0.025 mm): a tessellated curve simplified by 0.025 mm bulges too far between its vertices for
any arc within 0.01 mm.  The stretches between arcs are simplified here instead, by the
slicer's usual contour tolerance, so they cost no more lines than without arc fitting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gcode.motion import ARC_SEGMENT_MM
from slicer.slicing import SIMPLIFY_TOLERANCE_MM

# With arc fitting the slicer simplifies contours only this much (instead of 0.025 mm), so
# tessellated curves keep the vertices an arc can be fitted to, mm.
ARC_CONTOUR_TOLERANCE_MM = 0.005
# Points and segment midpoints stay this close to the fitted arc, mm.
ARC_TOLERANCE_MM = 0.009
# Arcs cover at least this many segments.
MIN_ARC_SEGMENTS = 3
# Radii tried per fit, within two tolerances of the three-point circle's.
RADIUS_STEPS = 33
_RADIUS_OFFSETS = np.linspace(-2.0, 2.0, RADIUS_STEPS) * ARC_TOLERANCE_MM
# Firmware cuts arcs into chords ARC_SEGMENT_MM long (Marlin's MM_PER_ARC_SEGMENT, Klipper's
# resolution; gcode.motion times them so).
FIRMWARE_ARC_SEGMENT_MM = ARC_SEGMENT_MM
# Those chords stray r - sqrt(r² - (chord/2)²) ~ chord² / 8r from the arc: from this radius
# on no more than the contours without arc fitting stray (SIMPLIFY_TOLERANCE_MM), so the
# printed path is no coarser than the polyline (smaller arcs would print as coarse polygons,
# and slower: sharper turns at the chord joints), mm.
MIN_RADIUS_MM = FIRMWARE_ARC_SEGMENT_MM**2 / (8.0 * SIMPLIFY_TOLERANCE_MM)
MAX_RADIUS_MM = 500.0
# An arc sweeps less than this, radians (G2/G3 with equal ends is a full circle).
MAX_SWEEP_RAD = 1.9 * np.pi


@dataclass(frozen=True)
class Arc:
    """An arc from points[start] to points[end] around ``center_mm`` ((2,) float64, mm)."""

    start: int
    end: int
    center_mm: np.ndarray
    ccw: bool
    length_mm: float


def fit_arcs(points: np.ndarray) -> list[Arc]:
    """Arcs over ``points`` ((n, 2) float64, mm), in order and disjoint (they may share an
    end point); the segments not covered stay straight."""
    n = len(points)
    out: list[Arc] = []
    starts = _possible_starts(points)
    i = 0
    while True:
        k = int(np.searchsorted(starts, i))
        if k == len(starts):
            break
        i = int(starts[k])
        best = _fit(points, i, i + MIN_ARC_SEGMENTS)
        if best is None:
            i += 1
            continue
        step = MIN_ARC_SEGMENTS
        while best.end + 1 < n:  # double while the fit holds, then bisect
            cand = _fit(points, i, min(i + 2 * step, n - 1))
            if cand is None:
                best = _bisect(points, i, best, min(i + 2 * step, n - 1))
                break
            best, step = cand, 2 * step
        out.append(best)
        i = best.end
    return out


def straight_runs(points: np.ndarray, arcs: list[Arc]) -> list[np.ndarray]:
    """The stretches of ``points`` ((n, 2) float64, mm) before, between and after ``arcs``
    (len(arcs) + 1 of them, each (k, 2) with k >= 1), simplified within ARC_TOLERANCE_MM:
    the fine contours arcs are fitted to need no more vertices where they run straight."""
    bounds = [0, *(x for arc in arcs for x in (arc.start, arc.end)), len(points) - 1]
    pieces = [points[lo : hi + 1] for lo, hi in zip(bounds[::2], bounds[1::2], strict=True)]
    long = [k for k, piece in enumerate(pieces) if len(piece) > 2]
    if not long:
        return pieces
    lines = shapely.linestrings(
        np.vstack([pieces[k] for k in long]),
        indices=np.repeat(np.arange(len(long)), [len(pieces[k]) for k in long]),
    )
    simple = shapely.simplify(lines, SIMPLIFY_TOLERANCE_MM, preserve_topology=False)
    coords, owner = shapely.get_coordinates(simple, return_index=True)
    cuts = np.searchsorted(owner, np.arange(1, len(long)))
    for k, piece in zip(long, np.split(coords, cuts), strict=True):
        pieces[k] = piece
    return pieces


def _possible_starts(points: np.ndarray) -> np.ndarray:
    """(k,) int64: indices whose next MIN_ARC_SEGMENTS - 1 vertices all turn the same way
    with a circumradius in range (where an arc may start)."""
    n = len(points)
    if n <= MIN_ARC_SEGMENTS:
        return np.empty(0, dtype=np.int64)
    d = np.diff(points, axis=0)
    a, b = d[:-1], d[1:]
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    la, lb, lc = np.hypot(*a.T), np.hypot(*b.T), np.hypot(*(a + b).T)
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = la * lb * lc / (2.0 * np.abs(cross))
    ok = (radius >= MIN_RADIUS_MM) & (radius <= MAX_RADIUS_MM)
    sign = np.sign(cross) * ok  # per interior vertex 1..n-2
    w = MIN_ARC_SEGMENTS - 1
    win = np.lib.stride_tricks.sliding_window_view(sign, w)
    good = (win == 1).all(axis=1) | (win == -1).all(axis=1)
    return np.flatnonzero(good & _first_run_fits(points))


def _first_run_fits(points: np.ndarray) -> np.ndarray:
    """(n - MIN_ARC_SEGMENTS,) bool: the run of MIN_ARC_SEGMENTS segments from each index
    might fit (its points and midpoints spread at most 4 tolerances around the circle through
    its first, middle and last points): all runs at once."""
    k = MIN_ARC_SEGMENTS
    runs = np.lib.stride_tricks.sliding_window_view(points, k + 1, axis=0)  # (m, 2, k+1)
    runs = runs.transpose(0, 2, 1)
    a, m, b = runs[:, 0], runs[:, (k + 1) // 2], runs[:, -1]
    d = 2.0 * (a[:, 0] * (m[:, 1] - b[:, 1]) + m[:, 0] * (b[:, 1] - a[:, 1]))
    d += 2.0 * b[:, 0] * (a[:, 1] - m[:, 1])
    sa, sm, sb = (a**2).sum(axis=1), (m**2).sum(axis=1), (b**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ux = (sa * (m[:, 1] - b[:, 1]) + sm * (b[:, 1] - a[:, 1]) + sb * (a[:, 1] - m[:, 1])) / d
        uy = (sa * (b[:, 0] - m[:, 0]) + sm * (a[:, 0] - b[:, 0]) + sb * (m[:, 0] - a[:, 0])) / d
    center = np.stack([ux, uy], axis=1)[:, None, :]
    probes = np.concatenate([runs, (runs[:, 1:] + runs[:, :-1]) / 2.0], axis=1)
    dist = np.hypot(*(probes - center).transpose(2, 0, 1))
    with np.errstate(invalid="ignore"):
        spread = dist.max(axis=1) - dist.min(axis=1)
        return spread <= 4.0 * ARC_TOLERANCE_MM


def _bisect(points: np.ndarray, i: int, good: Arc, bad_end: int) -> Arc:
    lo, hi = good.end, bad_end
    while hi - lo > 1:
        mid = (lo + hi) // 2
        cand = _fit(points, i, mid)
        if cand is None:
            hi = mid
        else:
            good, lo = cand, mid
    return good


def _fit(points: np.ndarray, i: int, j: int) -> Arc | None:
    run = points[i : j + 1]
    center = _best_center(run)
    if center is None:
        return None
    r = float(np.hypot(*(run[0] - center)))
    if not MIN_RADIUS_MM <= r <= MAX_RADIUS_MM:
        return None
    v = run - center
    cross = v[:-1, 0] * v[1:, 1] - v[:-1, 1] * v[1:, 0]
    dot = (v[:-1] * v[1:]).sum(axis=1)
    turns = np.arctan2(cross, dot)
    if not ((turns > 0).all() or (turns < 0).all()):
        return None
    sweep = float(abs(turns.sum()))
    if sweep >= MAX_SWEEP_RAD:
        return None
    return Arc(i, j, center, bool(turns[0] > 0), r * sweep)


def _best_center(run: np.ndarray) -> np.ndarray | None:
    """Centre of the circle through the run's ends that keeps its points and segment
    midpoints closest (the polyline's chords lie inside the circle through its vertices):
    radii around the three-point circle's are tried at once; None if none is within
    ARC_TOLERANCE_MM."""
    a, b = run[0], run[-1]
    c0 = _circumcenter(a, run[len(run) // 2], b)
    if c0 is None:
        return None
    # Quick rejection: moving the centre along the bisector cannot fix a vertex this far off.
    r_vertices = np.hypot(*(run - c0).T)
    if np.abs(r_vertices - r_vertices[0]).max() > 4.0 * ARC_TOLERANCE_MM:
        return None
    half = float(np.hypot(*(b - a))) / 2.0
    if half < 1e-6:
        return None
    mid = (a + b) / 2.0
    normal = np.array([a[1] - b[1], b[0] - a[0]]) / (2.0 * half)
    s0 = float((c0 - mid) @ normal)
    r0 = float(np.hypot(half, s0))
    radii = r0 + _RADIUS_OFFSETS
    radii = radii[radii > half]
    s = np.sign(s0 or 1.0) * np.sqrt(radii**2 - half**2)
    centers = mid + s[:, None] * normal  # (m, 2)
    probes = np.vstack([run, (run[1:] + run[:-1]) / 2.0])  # (k, 2)
    dist = np.hypot(*(probes[None] - centers[:, None]).transpose(2, 0, 1))
    error = np.abs(dist - radii[:, None]).max(axis=1)
    best = int(np.argmin(error))
    return centers[best] if error[best] <= ARC_TOLERANCE_MM else None


def _circumcenter(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray | None:
    d = 2.0 * (a[0] * (b[1] - c[1]) + b[0] * (c[1] - a[1]) + c[0] * (a[1] - b[1]))
    if abs(d) < 1e-9:
        return None
    sa, sb, sc = (a**2).sum(), (b**2).sum(), (c**2).sum()
    ux = (sa * (b[1] - c[1]) + sb * (c[1] - a[1]) + sc * (a[1] - b[1])) / d
    uy = (sa * (c[0] - b[0]) + sb * (a[0] - c[0]) + sc * (b[0] - a[0])) / d
    return np.array([ux, uy])
