"""Combing (avoid crossing perimeters): travels that stay over the part, so they need no
retraction and leave no strings outside it.

A travel that already lies inside the layer's cross-section goes straight.  Otherwise it is
routed through the *comb area* (the cross-section shrunk by one line width, so the nozzle
stays off the outer walls): onto the comb area, along the boundary ring it would cross (the
shorter way round) until it is past it, and so on, then the route is pulled tight (each
waypoint joined to the furthest later one it can reach inside the part).  A travel to another
island goes through its own island to the point closest to the other one, across the gap and
on through the other island: unretracted if the gap is no wider than retract_min_travel_mm.
A travel that cannot be routed either way keeps its straight line and its retraction.
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
# Travels between islands are combed if no longer than this many times the straight line,
# plus MAX_DETOUR_MM.
MAX_DETOUR_FACTOR = 2.0
MAX_DETOUR_MM = 5.0
# Routes start and end this far inside the comb area, mm.
NUDGE_MM = 0.01
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
        # Routes start and end strictly inside their piece, so that the first boundary a
        # straight line crosses is where it leaves the piece.
        cores = shapely.buffer(self.parts, -NUDGE_MM)
        self.cores = np.where(shapely.is_empty(cores), self.parts, cores)
        shapely.prepare(self.outline)

    def route(self, a: np.ndarray, b: np.ndarray, max_air_mm: float = 0.0) -> np.ndarray | None:
        """Waypoints ((k, 2) float64, mm, k >= 0, without a and b) of a travel from a to b
        that needs no retraction: inside the part, or from island to island across at most
        ``max_air_mm`` of air (the islands' closest points); None when there is none."""
        if segments_inside(self.outline, a[None], b[None])[0]:
            return np.empty((0, 2))
        if len(self.parts) == 0:
            return None
        p = shapely.points([a, b])
        ka, kb = (int(np.argmin(shapely.distance(self.parts, q))) for q in p)
        if ka == kb:
            return self._within(ka, a, b)
        return self._across(ka, kb, a, b, max_air_mm)

    def _within(self, k: int, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        """Waypoints from a to b through comb-area piece k (both ends next to it)."""
        part = self.parts[k]
        start = _nearest_point(self.cores[k], a)
        end = _nearest_point(self.cores[k], b)
        middle = _walk(part, start, end)
        if middle is None:
            return None
        points = np.vstack([a, start, middle, end, b])
        return _pull_tight(self.outline, points)

    def _across(
        self, ka: int, kb: int, a: np.ndarray, b: np.ndarray, max_air_mm: float
    ) -> np.ndarray | None:
        """Waypoints from a (by piece ka) to b (by piece kb): through ka to a point facing
        kb, across the gap, through kb; None if more than ``max_air_mm`` of the gap lies
        outside the outline or the detour is too long.  The gap is crossed where the pieces
        come closest, or from ka's point nearest to b, whichever makes the shorter travel."""
        part_a, part_b = self.parts[ka], self.parts[kb]
        near_b = _nearest_point(part_a, b)
        gaps = [
            shapely.get_coordinates(shapely.shortest_line(part_a, part_b)),
            np.array([near_b, _nearest_point(part_b, near_b)]),
        ]
        best, best_mm = None, MAX_DETOUR_FACTOR * float(np.hypot(*(b - a))) + MAX_DETOUR_MM
        for exit_, entry in gaps:
            gap = shapely.LineString([exit_, entry])
            if gap.length - shapely.intersection(gap, self.outline).length > max_air_mm:
                continue
            first, second = self._within(ka, a, exit_), self._within(kb, entry, b)
            if first is None or second is None:
                continue
            points = np.vstack([a, first, exit_, entry, second, b])
            length = float(np.hypot(*np.diff(points, axis=0).T).sum())
            if length <= best_mm:
                best, best_mm = points[1:-1], length
        return best


def _nearest_point(part: shapely.Geometry, xy: np.ndarray) -> np.ndarray:
    """xy itself if inside ``part``, else the nearest point of its boundary."""
    p = shapely.Point(xy)
    if shapely.contains(part, p):
        return np.asarray(xy, dtype=np.float64)
    return shapely.get_coordinates(shapely.shortest_line(part, p))[0]


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
