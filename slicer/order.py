"""Print order inside a layer: nearest-neighbour chaining, seams, joining infill lines."""

from __future__ import annotations

import numpy as np
import shapely

from slicer.settings import SeamPosition


def nearest_order(
    starts: np.ndarray, ends: np.ndarray, start_xy: np.ndarray, reversible: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy nearest-neighbour tour over paths.

    starts, ends : (n, 2) float64, mm, first/last point of each path
    Returns (order (n,) int64, flipped (n,) bool): visit path order[i], reversed if flipped[i].
    """
    n = len(starts)
    order = np.empty(n, dtype=np.int64)
    flipped = np.zeros(n, dtype=bool)
    # Points as complex numbers: one subtraction and one abs per step; used ones move away.
    z_start = starts[:, 0] + 1j * starts[:, 1]
    z_end = ends[:, 0] + 1j * ends[:, 1]
    cand = np.concatenate([z_start, z_end]) if reversible else z_start.copy()
    far = 1e12 + 1e12j
    cur = complex(start_xy[0], start_xy[1])
    for i in range(n):
        k = int(np.argmin(np.abs(cand - cur)))
        flip = k >= n
        if flip:
            k -= n
        order[i], flipped[i] = k, flip
        cand[k] = far
        if reversible:
            cand[k + n] = far
        cur = z_start[k] if flip else z_end[k]
    return order, flipped


def order_lines(lines: list[np.ndarray], start_xy: np.ndarray) -> list[np.ndarray]:
    """Open polylines in nearest-neighbour order, each possibly reversed."""
    if not lines:
        return []
    starts = np.array([line[0] for line in lines])
    ends = np.array([line[-1] for line in lines])
    order, flipped = nearest_order(starts, ends, start_xy, reversible=True)
    return [lines[k][::-1] if f else lines[k] for k, f in zip(order, flipped, strict=True)]


def join_lines(
    lines: list[np.ndarray],
    region: shapely.Geometry,
    max_gap_mm: float,
    tolerance_mm: float = 0.0,
) -> list[np.ndarray]:
    """Merge consecutive polylines whose connecting segment is short and inside ``region``
    (or less than ``tolerance_mm`` outside it, e.g. over the wall next to an infill area)."""
    if len(lines) < 2:
        return lines
    a = np.array([line[-1] for line in lines[:-1]])
    b = np.array([line[0] for line in lines[1:]])
    gap = np.hypot(*(b - a).T)
    near = np.flatnonzero(gap <= max_gap_mm)
    ok = np.zeros(len(gap), dtype=bool)
    if len(near):
        ok[near] = segments_inside(region, a[near], b[near], tolerance_mm)
    out = [lines[0]]
    for line, joined in zip(lines[1:], ok, strict=True):
        if joined:
            out[-1] = np.vstack([out[-1], line])
        else:
            out.append(line)
    return out


# Segments may stray this far outside a region and still count as inside, mm.
INSIDE_TOLERANCE_MM = 0.01


# Segments are tested for lying inside a region at points this far apart, mm.
INSIDE_SAMPLE_MM = 0.3


def segments_inside(
    region: shapely.Geometry, a: np.ndarray, b: np.ndarray, tolerance_mm: float = 0.0
) -> np.ndarray:
    """(k,) bool: segments a[i]-b[i] ((k, 2) float64, mm) lie inside ``region``: points
    along them every INSIDE_SAMPLE_MM (at least three) are inside, or within
    INSIDE_TOLERANCE_MM or ``tolerance_mm`` (whichever is larger) of it."""
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    length = np.hypot(*(b - a).T)
    n = np.maximum(np.ceil(length / INSIDE_SAMPLE_MM).astype(np.int64), 4) - 1
    seg = np.repeat(np.arange(len(a)), n)
    first = np.cumsum(n) - n
    t = (np.arange(len(seg)) - first[seg] + 1) / (n[seg] + 1)
    pts = a[seg] + t[:, None] * (b - a)[seg]
    shapely.prepare(region)
    inside = shapely.contains_xy(region, pts[:, 0], pts[:, 1])
    if not inside.all():
        out = np.flatnonzero(~inside)
        limit = max(INSIDE_TOLERANCE_MM, tolerance_mm)
        near = shapely.distance(region, shapely.points(pts[out])) <= limit
        inside[out[near]] = True
    return np.bincount(seg, weights=~inside, minlength=len(a)) == 0


def seam_index(ring: np.ndarray, mode: SeamPosition, current_xy: np.ndarray, salt: int = 0) -> int:
    """Index of the seam vertex of a ring ((n, 2) float64, mm; the part on its left, as the
    walls are oriented).  ``salt`` (the layer index) varies random seams between layers."""
    if mode is SeamPosition.NEAREST:
        return int(np.argmin(((ring - current_xy) ** 2).sum(axis=1)))
    if mode is SeamPosition.RANDOM:
        # Deterministic: seeded by the layer and the ring's size (same input, same bytes).
        seed = (salt * 1_000_003 + len(ring)) % (2**32)
        return int(np.random.default_rng(seed).integers(len(ring)))
    # Rear: the vertex furthest back (max y), leftmost among ties, or the rearmost concave
    # corner at most REAR_CONCAVE_MM from it (where the seam hides).
    score = ring[:, 1] - 1e-3 * ring[:, 0]
    if len(ring) < 3:
        return int(np.argmax(score))
    sharp, concave = _corners(ring)
    if mode is SeamPosition.ALIGNED:
        # Aligned: the sharpest corner (the same one on every layer of a prismatic part),
        # a concave one before any convex one, rear first among equally sharp ones.
        score = (sharp + 2.0 * concave) * 1e6 + score
    else:
        rear = ring[int(np.argmax(score))]
        hidden = concave & (np.hypot(*(ring - rear).T) <= REAR_CONCAVE_MM)
        if hidden.any():
            score = np.where(hidden, score, -np.inf)
    return int(np.argmax(score))


def _corners(ring: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per vertex of a ring ((n, 2) float64, mm, the part on its left): how sharply it
    turns ((n,) float64, 1 - cos of the turn, rounded to 0.01) and whether it is a concave
    corner that hides a seam ((n,) bool: a right turn of CONCAVE_MIN_SHARPNESS or more)."""
    d_in = ring - np.roll(ring, 1, axis=0)
    d_out = np.roll(ring, -1, axis=0) - ring
    cos_turn = (d_in * d_out).sum(axis=1) / np.maximum(
        np.hypot(*d_in.T) * np.hypot(*d_out.T), 1e-12
    )
    sharp = np.round(1.0 - cos_turn, 2)
    right = d_in[:, 0] * d_out[:, 1] - d_in[:, 1] * d_out[:, 0] < 0
    return sharp, right & (sharp >= CONCAVE_MIN_SHARPNESS)


# A rear seam moves this far at most to hide in a concave corner, mm.
REAR_CONCAVE_MM = 2.0
# A concave corner hides the seam when it turns at least this much (1 - cos of the turn).
CONCAVE_MIN_SHARPNESS = 0.3


def loop_from_seam(ring: np.ndarray, seam: int) -> np.ndarray:
    """The ring rotated to start at ``seam`` and closed: (n + 1, 2) float64, mm."""
    return np.concatenate([ring[seam:], ring[: seam + 1]])


def order_loops_index(
    rings: list[np.ndarray], mode: SeamPosition, start_xy: np.ndarray, salt: int = 0
) -> list[int]:
    """Indices of ``rings`` in nearest-neighbour order of their seam points."""
    if not rings:
        return []
    points = np.array([r[seam_index(r, mode, start_xy, salt)] for r in rings])
    order, _ = nearest_order(points, points, start_xy, reversible=False)
    return [int(k) for k in order]


def order_loops(
    rings: list[np.ndarray], mode: SeamPosition, start_xy: np.ndarray, salt: int = 0
) -> list[np.ndarray]:
    """Closed loops in nearest-neighbour order, each rotated to start at its seam."""
    if not rings:
        return []
    seams = [seam_index(r, mode, start_xy, salt) for r in rings]
    points = np.array([r[s] for r, s in zip(rings, seams, strict=True)])
    order, _ = nearest_order(points, points, start_xy, reversible=False)
    out = []
    cur = np.asarray(start_xy, dtype=np.float64)
    for k in order:
        s = seam_index(rings[k], mode, cur) if mode is SeamPosition.NEAREST else seams[k]
        loop = loop_from_seam(rings[k], s)
        out.append(loop)
        cur = loop[-1]
    return out
