"""Support material: overhangs (by angle) -> contact areas -> support areas of every layer ->
support toolpaths.

Overhangs: a layer overhangs where it reaches out further than the model's slope may
(``tan(support_angle_deg)`` per mm of height; the angle is measured from the vertical, as
CuraEngine's), measured against the layer just below and against the layer SLOPE_WINDOW_MM
below (a slope just past the angle whose per-layer steps drown in slicing noise); the whole new
area next to such a piece is supported, bridges only if ``support_bridges``.
Contacts: each overhang grown by ``support_offset_mm`` into the air beside it (PrusaSlicer's
margin, CuraEngine's support_offset), never into the layer below it.
Columns: contacts grow downwards layer by layer (``support_z_gap_mm`` below them), closed with
``support_closing_radius_mm`` where new contacts join (nearby columns merge into one block),
stop where they meet the model (``auto``) or are dropped above any part of the model
(``buildplate_only``), and keep ``support_xy_gap_mm`` from the model on every layer.
Interface: the ``support_interface_layers`` under every contact and the
``support_bottom_interface_layers`` standing on the model are dense; the rest is sparse lines or
a grid, the same on every layer so the lines stack, inside ``support_walls`` loops (a sheath).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from slicer.infill import parallel_lines
from slicer.order import join_lines, order_lines
from slicer.regions import offset
from slicer.settings import SliceSettings, SupportMode, SupportPattern
from slicer.slicing import EMPTY
from slicer.toolpath import Feature, Toolpath

# Overhang pieces smaller than this are not supported (slicing noise on curved walls), mm².
MIN_OVERHANG_AREA_MM2 = 0.05
# The slope is also measured against the layer this far below, mm.
SLOPE_WINDOW_MM = 0.6
# An overhang piece's edge rests on the layer below where it is this close to it, mm ...
ANCHOR_MM = 0.01
# ... along stretches at least this long; two such stretches this far apart: a bridge, mm.
MIN_ANCHOR_MM = 1.0
MIN_BRIDGE_SPAN_MM = 2.0
# Heights closer than this count as equal, mm.
Z_EPS_MM = 1e-6
# Detected overhang pieces are grown by this much more than the allowed step, mm.
GROW_SLACK_MM = 0.01
# Contacts grow by support_offset_mm in this many steps (so they do not jump thin walls).
EXPAND_STEPS = 2
# Segments per quarter circle of the round offsets (contact growth, closing).
QUAD_SEGS = 3
# Support lines join into a zigzag when the turn is shorter than this many support spacings.
JOIN_SPACINGS = 1.5
# Support areas are simplified this much before their slivers are removed, mm.
SIMPLIFY_MM = 0.05
# Sheath loops shorter than this many line widths are left out.
MIN_LOOP_WIDTHS = 4.0
# Angles of the base lines (lines, grid) and of the interface lines (alternating), degrees.
BASE_ANGLES_DEG = {SupportPattern.LINES: (0.0,), SupportPattern.GRID: (0.0, 90.0)}
INTERFACE_ANGLES_DEG = (90.0, 0.0)


@dataclass(frozen=True)
class LayerSupport:
    """One layer's support: sparse ``base`` and dense ``interface`` areas (disjoint)."""

    base: shapely.Geometry = EMPTY
    interface: shapely.Geometry = EMPTY

    @property
    def is_empty(self) -> bool:
        return self.base.is_empty and self.interface.is_empty


NO_SUPPORT = LayerSupport()


def overhangs(
    outlines: list[shapely.Geometry],
    heights_mm: np.ndarray,
    angle_deg: float,
    support_bridges: bool = True,
) -> list[shapely.Geometry]:
    """Areas of each layer that need support (layer 0 lies on the bed: none); bridges
    only if ``support_bridges``."""
    n = len(outlines)
    out = [EMPTY] * n
    if angle_deg >= 90.0 or n < 2:
        return out
    tan = math.tan(math.radians(angle_deg))
    top_mm = np.cumsum(heights_mm)
    # The slope's baseline: the highest layer whose top is SLOPE_WINDOW_MM below this one's.
    base = np.searchsorted(top_mm, top_mm - SLOPE_WINDOW_MM + Z_EPS_MM, side="right") - 1
    for j in range(1, n):
        below = outlines[j - 1]
        new = shapely.difference(outlines[j], below)
        if new.is_empty or new.area < MIN_OVERHANG_AREA_MM2:
            continue
        step = float(heights_mm[j]) * tan
        steep = _beyond(outlines[j], below, step)
        m = int(base[j])
        if 0 <= m < j - 1:
            rise_mm = float(top_mm[j] - top_mm[m])
            steep = shapely.union(steep, _beyond(outlines[j], outlines[m], rise_mm * tan))
        parts = shapely.get_parts(steep)
        parts = parts[shapely.area(parts) >= MIN_OVERHANG_AREA_MM2]
        if len(parts) == 0:
            continue
        grown = shapely.buffer(shapely.union_all(parts), step + GROW_SLACK_MM)
        out[j] = shapely.intersection(new, grown)
        if not support_bridges and not out[j].is_empty:
            out[j] = _without_bridges(out[j], below)
    return out


def _beyond(
    outline: shapely.Geometry, lower: shapely.Geometry, allowed_mm: float
) -> shapely.Geometry:
    """The part of ``outline`` more than ``allowed_mm`` outside ``lower``."""
    return shapely.difference(outline, offset(lower, allowed_mm) if allowed_mm > 0 else lower)


def _without_bridges(area: shapely.Geometry, below: shapely.Geometry) -> shapely.Geometry:
    """``area`` without its bridges: pieces whose edge rests on the layer below in separate
    stretches some way apart (a span between two supports), as PrusaSlicer's
    dont_support_bridges."""
    pieces = shapely.get_parts(area)
    rests = shapely.intersection(shapely.boundary(pieces), shapely.buffer(below, ANCHOR_MM))
    bridge = np.array([_is_bridge(rest) for rest in rests], dtype=bool)
    keep = pieces[~bridge]
    return shapely.union_all(keep) if len(keep) else EMPTY


def _is_bridge(rest: shapely.Geometry) -> bool:
    """``rest`` (where a piece's edge rests on the layer below) holds two stretches at least
    MIN_ANCHOR_MM long and at least MIN_BRIDGE_SPAN_MM apart."""
    parts = shapely.get_parts(rest)
    lines = parts[shapely.get_type_id(parts) == 1]
    if len(lines) < 2:
        return False
    merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(lines)))
    merged = merged[shapely.length(merged) >= MIN_ANCHOR_MM]
    if len(merged) < 2:
        return False
    return bool((shapely.distance(merged[:, None], merged[None, :]) >= MIN_BRIDGE_SPAN_MM).any())


def contacts(
    over: list[shapely.Geometry], outlines: list[shapely.Geometry], offset_mm: float
) -> list[shapely.Geometry]:
    """Each layer's overhang grown by ``offset_mm`` into the air around it (not into the
    layer below), in EXPAND_STEPS steps so that it does not reach around thin walls."""
    if offset_mm <= 0:
        return list(over)
    out = []
    for j, area in enumerate(over):
        below = outlines[j - 1] if j else EMPTY
        for _ in range(0 if area.is_empty else EXPAND_STEPS):
            area = shapely.buffer(area, offset_mm / EXPAND_STEPS, quad_segs=QUAD_SEGS)
            area = shapely.difference(area, below)
        out.append(area)
    return out


def closed(area: shapely.Geometry, radius_mm: float) -> shapely.Geometry:
    """Morphological closing: gaps and notches narrower than 2 * radius_mm filled."""
    if radius_mm <= 0 or area.is_empty:
        return area
    grown = shapely.buffer(area, radius_mm, quad_segs=QUAD_SEGS)
    shrunk = shapely.buffer(grown, -radius_mm, quad_segs=QUAD_SEGS)
    return shapely.simplify(shapely.union(shrunk, area), SIMPLIFY_MM / 2.0)


@dataclass(frozen=True)
class SupportColumns:
    """The whole model's support before per-layer cleanup (computed once, before the layers
    are planned in parallel).

    areas  : per layer, the area to support (not yet cleared of slivers), bottom first
    tops   : per layer, the contacts its top interface lies under
    floors : per layer, the model its bottom interface stands on (empty list: none)
    """

    areas: list[shapely.Geometry]
    tops: list[shapely.Geometry]
    floors: list[shapely.Geometry] = field(default_factory=list)

    def layer(self, i: int, s: SliceSettings) -> LayerSupport:
        """Layer i's support: slivers narrower than a line dropped, interface split off."""
        if not self.areas or self.areas[i].is_empty:
            return NO_SUPPORT
        r = s.line_width_mm / 2.0
        area = shapely.simplify(self.areas[i], SIMPLIFY_MM)
        area = _opened(area, r)
        if area.is_empty:
            return NO_SUPPORT
        dense = shapely.union(self.tops[i], self.floors[i] if self.floors else EMPTY)
        if dense.is_empty:
            return LayerSupport(area, EMPTY)
        # Slivers of base between interface and the edge become interface too.
        base = _opened(shapely.difference(area, offset(dense, r)), r)
        return LayerSupport(base, shapely.difference(area, base))


def _opened(area: shapely.Geometry, radius_mm: float) -> shapely.Geometry:
    """``area`` without the parts narrower than ``2 * radius_mm``."""
    return shapely.buffer(shapely.buffer(area, -radius_mm, quad_segs=2), radius_mm, quad_segs=2)


def support_columns(
    outlines: list[shapely.Geometry],
    heights_mm: np.ndarray,
    s: SliceSettings,
    over: list[shapely.Geometry] | None = None,
) -> SupportColumns:
    """Support of every layer, from the layers' cross-sections (bottom first); ``over``
    replaces the overhangs found by angle (support blockers/enforcers: slicer.modifiers)."""
    n = len(outlines)
    if (s.support is SupportMode.OFF and over is None) or n == 0:
        return SupportColumns([], [])
    if over is None:
        over = overhangs(outlines, heights_mm, s.support_angle_deg, s.support_bridges)
    touch = contacts(over, outlines, s.support_offset_mm)
    # The contacts layer i supports start at first[i] (their bottom support_z_gap_mm above
    # its top); the model's layers lo[i]..i lie within that gap below it (adaptive layers too).
    top_mm = np.cumsum(heights_mm)
    bottom_mm = top_mm - heights_mm
    first = np.searchsorted(bottom_mm, top_mm + s.support_z_gap_mm - Z_EPS_MM)
    lo = np.searchsorted(top_mm, bottom_mm - s.support_z_gap_mm + Z_EPS_MM)
    areas = [EMPTY] * n
    need = EMPTY
    added = n
    for i in range(n - 1, -1, -1):
        fresh = [piece for piece in touch[first[i] : added] if not piece.is_empty]
        added = min(added, int(first[i]))
        if fresh:
            need = closed(shapely.union_all([need, *fresh]), s.support_closing_radius_mm)
        if need.is_empty:
            continue
        need = shapely.difference(need, outlines[i])
        keep_off = shapely.union_all(outlines[lo[i] : i + 1])
        areas[i] = shapely.difference(need, offset(keep_off, s.support_xy_gap_mm))
    if s.support is SupportMode.BUILDPLATE_ONLY:
        areas = _on_buildplate(areas, outlines, s.support_xy_gap_mm)
    layers = s.support_interface_layers
    tops = [shapely.union_all(touch[first[i] : first[i] + layers]) for i in range(n)]
    return SupportColumns(areas, tops, _floors(areas, outlines, lo, s))


def _floors(
    areas: list[shapely.Geometry],
    outlines: list[shapely.Geometry],
    lo: np.ndarray,
    s: SliceSettings,
) -> list[shapely.Geometry]:
    """Per layer: the model within support_bottom_interface_layers below its z gap that its
    support stands on."""
    out = [EMPTY] * len(areas)
    layers = s.support_bottom_interface_layers
    for i, area in enumerate(areas):
        start = max(int(lo[i]) - layers, 0)
        if area.is_empty or layers == 0 or start >= lo[i]:
            continue
        out[i] = shapely.intersection(area, shapely.union_all(outlines[start : lo[i]]))
    return out


def _on_buildplate(
    areas: list[shapely.Geometry], outlines: list[shapely.Geometry], xy_gap_mm: float
) -> list[shapely.Geometry]:
    """Support only where it stands on the bed: nothing above any layer of the model below."""
    blocked = EMPTY
    out = []
    for area, outline in zip(areas, outlines, strict=True):
        blocked = shapely.union(blocked, outline)
        out.append(area if area.is_empty else shapely.difference(area, offset(blocked, xy_gap_mm)))
    return out


def support_paths(
    support: LayerSupport, layer_index: int, s: SliceSettings, cur: np.ndarray
) -> list[Toolpath]:
    """Support toolpaths of one layer: the sheath loops round the base, the base, the
    interface last (nearest the part above).  Every line keeps within the support areas."""
    w = s.line_width_mm
    out = [
        Toolpath(loop, Feature.SUPPORT, w, s.support_speed_mm_s)
        for loop in _sheath(support.base, s.support_walls, w, cur)
    ]
    if out:
        cur = out[-1].points[-1]
    overlap = s.infill_overlap_percent / 100.0 * w if s.support_walls else 0.0
    base_inset = s.support_walls * w + w / 2.0 - overlap
    jobs = (
        (
            offset(support.base, -base_inset),
            BASE_ANGLES_DEG[s.support_pattern],
            s.support_spacing_mm,
            Feature.SUPPORT,
        ),
        (
            offset(support.interface, -w / 2.0),
            (INTERFACE_ANGLES_DEG[layer_index % 2],),
            s.support_interface_spacing_mm,
            Feature.SUPPORT_INTERFACE,
        ),
    )
    for fill, angles, spacing, feature in jobs:
        if fill.is_empty:
            continue
        lines: list[np.ndarray] = []
        for angle in angles:
            lines += parallel_lines(fill, angle, spacing)
        ordered = order_lines(lines, cur)
        for line in join_lines(ordered, fill, JOIN_SPACINGS * spacing, tolerance_mm=w / 2.0):
            out.append(Toolpath(line, feature, w, s.support_speed_mm_s))
            cur = line[-1]
    return out


def _sheath(
    area: shapely.Geometry, walls: int, width_mm: float, cur: np.ndarray
) -> list[np.ndarray]:
    """``walls`` closed loops inside the edge of ``area``, each starting nearest the previous
    end: list of (n, 2) float64 point arrays, mm."""
    rings: list[np.ndarray] = []
    for k in range(walls):
        inset = offset(area, -(k + 0.5) * width_mm)
        if inset.is_empty:
            break
        polys = shapely.get_parts(inset)
        edges = shapely.get_parts(shapely.boundary(polys))
        edges = edges[shapely.length(edges) >= MIN_LOOP_WIDTHS * width_mm]
        rings += [shapely.get_coordinates(edge) for edge in edges]
    out = []
    for ring in order_lines(rings, cur):
        start = int(np.argmin(np.hypot(*(ring[:-1] - cur).T)))
        loop = np.vstack([ring[start:-1], ring[: start + 1]])
        out.append(loop)
        cur = loop[-1]
    return out
