"""Combing (avoid crossing perimeters): travels that stay over the part, so they need no
retraction and leave no strings outside it.

A travel that already lies inside the layer's cross-section goes straight.  Otherwise it is
routed through the *comb area* (the cross-section shrunk by one line width, so the nozzle
stays off the outer walls): onto the comb area, along the boundary ring it would cross (the
shorter way round) until it is past it, and so on, then the route is pulled tight (each
waypoint joined to the furthest later one it can reach inside the part).  A travel that cannot
be routed this way (it leaves the part's island) keeps its straight line and its retraction.
"""

from __future__ import annotations

import numpy as np
import shapely

from slicer.order import segments_inside
from slicer.regions import offset

# Comb rings are simplified this much (fewer waypoints to pull tight), mm.
RING_SIMPLIFY_MM = 0.1
# A travel is routed past at most this many boundary rings.
MAX_RINGS = 6
# Crossings closer than this to a route's ends are where it starts or stops, mm.
EPS_MM = 1e-6


class CombArea:
    """One layer's comb area.

    outline : the layer's cross-section; routes must lie inside it
    area    : the cross-section shrunk by one line width, simplified
    """

    def __init__(self, outline: shapely.Geometry, width_mm: float):
        self.outline = outline
        self.area = shapely.simplify(offset(outline, -width_mm), RING_SIMPLIFY_MM)
        self.parts = shapely.get_parts(self.area)
        shapely.prepare(self.outline)

    def route(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        """Waypoints ((k, 2) float64, mm, k >= 0, without a and b) of a travel from a to b
        inside the part, or None when there is none."""
        if segments_inside(self.outline, a[None], b[None])[0]:
            return np.empty((0, 2))
        if len(self.parts) == 0:
            return None
        dist_a = shapely.distance(self.parts, shapely.Point(a))
        k = int(np.argmin(dist_a))
        part = self.parts[k]
        # Both ends must be next to the same comb-area piece (the same island).
        if int(np.argmin(shapely.distance(self.parts, shapely.Point(b)))) != k:
            return None
        start = _nearest_point(part, a)
        end = _nearest_point(part, b)
        middle = _walk(part, start, end)
        if middle is None:
            return None
        points = np.vstack([a, start, middle, end, b])
        return _pull_tight(self.outline, points)


def _nearest_point(part: shapely.Geometry, xy: np.ndarray) -> np.ndarray:
    """xy itself if inside ``part``, else the nearest point of its boundary."""
    p = shapely.Point(xy)
    if shapely.contains(part, p):
        return np.asarray(xy, dtype=np.float64)
    ring = part.boundary
    return np.asarray(ring.interpolate(ring.project(p)).coords[0])


def _walk(part: shapely.Polygon, start: np.ndarray, end: np.ndarray) -> np.ndarray | None:
    """Points from start to end (both in ``part``) that go round every ring of ``part`` the
    straight line would cross: (k, 2) float64, mm."""
    rings = shapely.get_rings(part)
    out = [start]
    cur = start
    for _ in range(MAX_RINGS):
        seg = shapely.LineString([cur, end])
        hits = shapely.intersection(seg, rings)
        pts, ring_of = shapely.get_coordinates(hits, return_index=True)
        if len(pts) == 0:
            break
        t = shapely.line_locate_point(seg, shapely.points(pts))
        inner = (t > EPS_MM) & (t < seg.length - EPS_MM)
        if not inner.any():
            break
        pts, ring_of, t = pts[inner], ring_of[inner], t[inner]
        first = int(ring_of[np.argmin(t)])
        on_ring = ring_of == first
        entry = pts[on_ring][np.argmin(t[on_ring])]
        exit_ = pts[on_ring][np.argmax(t[on_ring])]
        out += [*_arc(rings[first], entry, exit_), exit_]
        cur = exit_
    else:
        return None
    out.append(end)
    return np.array(out)


def _arc(ring: shapely.LinearRing, p: np.ndarray, q: np.ndarray) -> list[np.ndarray]:
    """The ring's vertices strictly between p and q (both on it), the shorter way round."""
    coords = np.asarray(ring.coords)[:-1]
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    length = ring.length
    d0, d1 = ring.project(shapely.Point(p)), ring.project(shapely.Point(q))
    forward = (d1 - d0) % length
    if forward > length / 2.0:  # go backwards: the forward arc from q to p, reversed
        return _forward(coords, s, d1, d0)[::-1]
    return _forward(coords, s, d0, d1)


def _forward(coords: np.ndarray, s: np.ndarray, d0: float, d1: float) -> list[np.ndarray]:
    if d1 >= d0:
        return list(coords[(s > d0) & (s < d1)])
    return list(coords[s > d0]) + list(coords[s < d1])


def _pull_tight(outline: shapely.Geometry, points: np.ndarray) -> np.ndarray | None:
    """The waypoints between points[0] and points[-1] after joining each kept point to the
    furthest later one it reaches inside ``outline``; None if some step leaves it."""
    keep = []
    i, last = 0, len(points) - 1
    while i < last:
        later = points[i + 1 :]
        ok = segments_inside(outline, np.repeat(points[i : i + 1], len(later), axis=0), later)
        if not ok.any():
            return None
        i = i + 1 + int(np.flatnonzero(ok)[-1])
        if i < last:
            keep.append(points[i])
    return np.array(keep).reshape(-1, 2)
