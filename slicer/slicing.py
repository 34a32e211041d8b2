"""Mesh -> per-layer cross-sections, all layer planes against all triangles at once.

Every (triangle, plane) crossing is found with array arithmetic; each crossing is a segment
from one mesh edge to another, so segments chain into contours through the mesh's edge
topology (no coordinate matching).  The chains are ordered in one depth-first pass of scipy's
csgraph over all layers together, then turned into shapely rings and, per layer, into
polygons with holes (non-zero winding: overlapping bodies are united).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely

from slicer.mesh import Mesh

log = logging.getLogger(__name__)

# Contour points closer than this to the line through their neighbours are dropped.
SIMPLIFY_TOLERANCE_MM = 0.025
# Open contour ends (holes in the mesh) closer than this are joined before closing.
JOIN_GAP_MM = 2.0
# Polygons smaller than this are noise.
MIN_AREA_MM2 = 1e-4
# The empty geometry, made once (geometries are immutable; building one parses WKT).
EMPTY = shapely.Polygon()


@dataclass(frozen=True)
class Contours:
    """Closed contours of all layers, as flat arrays.

    points  : (n, 2) float64, mm, ring after ring (rings not explicitly closed)
    offsets : (r + 1,) int64, ring i is points[offsets[i]:offsets[i + 1]]
    layer   : (r,) int64, layer index of each ring
    """

    points: np.ndarray
    offsets: np.ndarray
    layer: np.ndarray


def slice_mesh(
    mesh: Mesh, plane_z_mm: np.ndarray, simplify_mm: float = SIMPLIFY_TOLERANCE_MM
) -> list[shapely.Geometry]:
    """Cross-sections of ``mesh`` at ``plane_z_mm`` ((k,) float64, ascending, mm), their
    contours simplified by at most ``simplify_mm``.

    Returns one (Multi)Polygon per plane, possibly empty.
    """
    segments = _segments(mesh, plane_z_mm)
    contours = _chain(segments)
    return _polygons(contours, len(plane_z_mm), simplify_mm)


def _segments(mesh: Mesh, plane_z_mm: np.ndarray) -> dict[str, np.ndarray]:
    """All plane/triangle crossings: start/end points (s, 2), edge ids (s,), layer (s,)."""
    v, f = mesh.vertices, mesh.faces
    fz = v[:, 2][f]  # (m, 3)
    lo = np.searchsorted(plane_z_mm, fz.min(axis=1), side="right")
    hi = np.searchsorted(plane_z_mm, fz.max(axis=1), side="right")
    counts = hi - lo
    face = np.repeat(np.arange(len(f)), counts)
    starts = np.cumsum(counts) - counts
    layer = lo[face] + (np.arange(len(face)) - starts[face])
    zp = plane_z_mm[layer]
    above = fz[face] >= zp[:, None]  # (s, 3)
    n_above = above.sum(axis=1)
    # The lonely vertex is the one on its own side of the plane.
    lonely = np.where(n_above == 1, np.argmax(above, axis=1), np.argmin(above, axis=1))
    nxt, prv = (lonely + 1) % 3, (lonely + 2) % 3
    fv = f[face]
    rows = np.arange(len(face))
    a, b, c = fv[rows, lonely], fv[rows, nxt], fv[rows, prv]
    # Edge (a, b) and edge (c, a) cross the plane; orientation depends on the lonely side.
    pa, pb = _cross(v, a, b, zp), _cross(v, c, a, zp)
    up = n_above == 1
    start = np.where(up[:, None], pa, pb)
    end = np.where(up[:, None], pb, pa)
    edge_ab, edge_ca = _edge_ids(mesh, a, b), _edge_ids(mesh, c, a)
    return {
        "start": start,
        "end": end,
        "start_edge": np.where(up, edge_ab, edge_ca),
        "end_edge": np.where(up, edge_ca, edge_ab),
        "layer": layer,
    }


def _cross(v: np.ndarray, i: np.ndarray, j: np.ndarray, zp: np.ndarray) -> np.ndarray:
    """(s, 2) points where edges v[i]-v[j] cross heights zp, mm."""
    pi, pj = v[i], v[j]
    dz = pj[:, 2] - pi[:, 2]
    t = (zp - pi[:, 2]) / np.where(dz == 0, 1.0, dz)
    return pi[:, :2] + t[:, None] * (pj[:, :2] - pi[:, :2])


def _edge_ids(mesh: Mesh, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Undirected edge key of vertex pairs (i, j): (s,) int64."""
    n = np.int64(len(mesh.vertices))
    return np.minimum(i, j) * n + np.maximum(i, j)


def _chain(seg: dict[str, np.ndarray]) -> Contours:
    """Join segments into contours through shared mesh edges.

    Pointer jumping (list ranking) orders all chains of all layers at once in
    O(n log L) array operations, L being the longest chain.
    """
    n = len(seg["layer"])
    if n == 0:
        return Contours(np.empty((0, 2)), np.zeros(1, dtype=np.int64), np.empty(0, np.int64))
    succ = _match(seg["layer"], seg["end_edge"], seg["start_edge"])
    has_pred = np.zeros(n, dtype=bool)
    has_pred[succ[succ >= 0]] = True
    rounds = int(np.ceil(np.log2(np.bincount(seg["layer"]).max() + 1))) + 1
    # Cycles: every member reaches the cycle's smallest index; break each cycle before it.
    idx = np.arange(n)
    nxt = np.where(succ >= 0, succ, idx)
    low = idx.copy()
    for _ in range(rounds):
        low = np.minimum(low, low[nxt])
        nxt = nxt[nxt]
    on_cycle = succ[nxt] >= 0  # path nodes end on their tail, whose successor is -1
    breaks = on_cycle & (succ >= 0) & (low[np.maximum(succ, 0)] == succ)
    open_succ = np.where(breaks, -1, succ)
    # Rank = distance to the chain's tail; tail = where the chain ends.
    tail = np.where(open_succ >= 0, open_succ, idx)
    rank = (open_succ >= 0).astype(np.int64)
    for _ in range(rounds):
        rank = rank + rank[tail]
        tail = tail[tail]
    order = np.lexsort((-rank, tail))
    ring_start = np.flatnonzero(np.r_[True, tail[order][1:] != tail[order][:-1]])
    head = order[ring_start]
    is_open = ~has_pred[head]
    points = seg["start"][order]
    offsets = np.append(ring_start, n).astype(np.int64)
    layer = seg["layer"][head]
    if is_open.any():
        points, offsets, layer = _close_open_chains(
            points, offsets, layer, is_open, seg["end"][order]
        )
    return Contours(points, offsets, layer)


def _match(layer: np.ndarray, end_edge: np.ndarray, start_edge: np.ndarray) -> np.ndarray:
    """successor[i] = the segment starting on the edge where segment i ends (same layer), or -1.

    Where more than two faces share an edge (touching bodies), ends and starts are paired
    one-to-one in index order.
    """
    n = len(layer)
    big = np.int64(end_edge.max() if n else 0) + 1
    end_key = layer * big + end_edge
    start_key = layer * big + start_edge
    e_order = np.argsort(end_key, kind="stable")
    s_order = np.argsort(start_key, kind="stable")
    e_sorted, s_sorted = end_key[e_order], start_key[s_order]
    e_rank = _rank_in_group(e_sorted)
    s_rank = _rank_in_group(s_sorted)
    mult = np.int64(max(e_rank.max(initial=0), s_rank.max(initial=0)) + 1)
    s_comp = s_sorted * mult + s_rank
    e_comp = e_sorted * mult + e_rank
    pos = np.searchsorted(s_comp, e_comp)
    pos_c = np.minimum(pos, n - 1)
    found = s_comp[pos_c] == e_comp
    succ = np.full(n, -1, dtype=np.int64)
    succ[e_order[found]] = s_order[pos_c[found]]
    return succ


def _rank_in_group(sorted_keys: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal keys: (n,) int64."""
    n = len(sorted_keys)
    new = np.ones(n, dtype=bool)
    new[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group_start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    return np.arange(n) - group_start


def _close_open_chains(
    points: np.ndarray,
    offsets: np.ndarray,
    layer: np.ndarray,
    is_open: np.ndarray,
    end_points: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join open chains (mesh holes) end to start within JOIN_GAP_MM, per layer, then close."""
    rings = [points[offsets[i] : offsets[i + 1]] for i in range(len(layer))]
    keep_rings = [r for r, o in zip(rings, is_open, strict=True) if not o]
    keep_layers = list(layer[~is_open])
    open_idx = np.flatnonzero(is_open)
    for lay in np.unique(layer[open_idx]):
        chains = []
        for i in open_idx[layer[open_idx] == lay]:
            tail = end_points[offsets[i + 1] - 1]
            chains.append(np.vstack([rings[i], tail]))
        for joined in _join_chains(chains):
            keep_rings.append(joined)
            keep_layers.append(lay)
    lens = np.array([len(r) for r in keep_rings], dtype=np.int64)
    new_offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    new_points = np.vstack(keep_rings) if keep_rings else np.empty((0, 2))
    return new_points, new_offsets, np.asarray(keep_layers, dtype=np.int64)


def _join_chains(chains: list[np.ndarray]) -> list[np.ndarray]:
    """Greedily append the chain whose start is nearest to the current end."""
    out = []
    remaining = list(range(len(chains)))
    while remaining:
        current = chains[remaining.pop(0)]
        while remaining:
            starts = np.array([chains[i][0] for i in remaining])
            d = np.hypot(*(starts - current[-1]).T)
            k = int(np.argmin(d))
            closing = float(np.hypot(*(current[0] - current[-1])))
            if d[k] > JOIN_GAP_MM or d[k] > closing:
                break
            current = np.vstack([current, chains[remaining.pop(k)]])
        out.append(current)
    return out


def _polygons(
    contours: Contours, n_layers: int, simplify_mm: float = SIMPLIFY_TOLERANCE_MM
) -> list[shapely.Geometry]:
    """Per-layer (Multi)Polygons from the contours, non-zero winding."""
    empty = EMPTY
    result: list[shapely.Geometry] = [empty] * n_layers
    lens = np.diff(contours.offsets)
    ok = lens >= 3
    if not ok.any():
        return result
    ring_id = np.repeat(np.arange(len(lens)), lens)
    area = _signed_areas(contours.points, contours.offsets)
    keep = ok & (np.abs(area) > MIN_AREA_MM2)
    mask = keep[ring_id]
    ids = np.repeat(np.arange(int(keep.sum())), lens[keep])
    rings = shapely.linearrings(contours.points[mask], indices=ids)
    polys = shapely.polygons(rings)
    polys = shapely.simplify(polys, simplify_mm, preserve_topology=False)
    bad = ~shapely.is_valid(polys)
    if bad.any():  # self-touching contours: keep their polygonal parts only
        polys[bad] = shapely.buffer(shapely.make_valid(polys[bad]), 0)
    layer = contours.layer[keep]
    ccw = area[keep] > 0
    probes = contours.points[contours.offsets[:-1][keep]]  # each ring's first vertex
    order = np.argsort(layer, kind="stable")
    bounds = np.searchsorted(layer[order], np.arange(n_layers + 1))
    for k in range(n_layers):
        idx = order[bounds[k] : bounds[k + 1]]
        if len(idx):
            result[k] = _nonzero_fill(polys[idx], ccw[idx], probes[idx])
    return result


def _signed_areas(points: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Shoelace area of each ring: (r,) float64, mm², positive for counter-clockwise."""
    if len(points) == 0:
        return np.empty(0)
    x, y = points[:, 0], points[:, 1]
    idx = np.arange(len(points))
    ring = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    nxt = idx + 1
    last = offsets[1:] - 1
    nxt[last[np.diff(offsets) > 0]] = offsets[:-1][np.diff(offsets) > 0]
    cross = x * y[nxt] - x[nxt] * y
    return np.bincount(ring, weights=cross, minlength=len(offsets) - 1) / 2.0


def _nonzero_fill(polys: np.ndarray, ccw: np.ndarray, probes: np.ndarray) -> shapely.Geometry:
    """Fill of one layer's rings: outer rings minus holes, nested levels handled in turn.

    polys  : (r,) shapely (Multi)Polygons, one per ring (unsigned)
    ccw    : (r,) bool, True for outer rings
    probes : (r, 2) float64, mm, a vertex of each ring (an interior point could fall into
             one of the ring's own holes); a ring is inside the holes containing its vertex
    """
    if ccw.all():
        return shapely.union_all(polys)
    holes = polys[~ccw]
    tree = shapely.STRtree(holes)
    pairs = tree.query(shapely.points(probes), predicate="within")
    depth = np.bincount(pairs[0], minlength=len(polys))
    hole_idx = np.flatnonzero(~ccw)
    self_hit = hole_idx[pairs[1]] == pairs[0]
    depth -= np.bincount(pairs[0][self_hit], minlength=len(polys))
    filled = EMPTY
    for level in range(int(depth.max()) + 1):
        at = depth == level
        outer = polys[at & ccw]
        inner = polys[at & ~ccw]
        if len(outer):
            filled = shapely.union(filled, shapely.union_all(outer))
        if len(inner):
            filled = shapely.difference(filled, shapely.union_all(inner))
    return filled
