"""Support material: overhangs (by angle, against the layer below) -> support areas of every
layer -> support toolpaths.

A layer overhangs where it reaches further out than ``layer height * tan(support_angle_deg)``
beyond the layer below (the angle is measured from the vertical, as CuraEngine's); the whole
new area next to such a piece is then supported.  Support areas grow downwards layer by layer
(``support_z_gap_mm`` below the overhang), stop where they meet the model (``auto``) or are
dropped above any part of the model (``buildplate_only``), and keep ``support_xy_gap_mm``
from the model's walls.  The top ``support_interface_layers`` under an overhang are dense
interface; the rest is sparse lines or a grid, the same on every layer so the lines stack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
# An overhang piece's edge rests on the layer below where it is this close to it, mm ...
ANCHOR_MM = 0.01
# ... along stretches at least this long; two such stretches this far apart: a bridge, mm.
MIN_ANCHOR_MM = 1.0
MIN_BRIDGE_SPAN_MM = 2.0
# Heights closer than this count as equal, mm.
Z_EPS_MM = 1e-6
# Detected overhang pieces are grown by this much more than the allowed step, mm.
GROW_SLACK_MM = 0.01
# Support lines join into a zigzag when the turn is shorter than this many support spacings.
JOIN_SPACINGS = 1.5
# Support areas are simplified this much before their slivers are removed, mm.
SIMPLIFY_MM = 0.05
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
    out = [EMPTY] * len(outlines)
    if angle_deg >= 90.0:
        return out
    for j in range(1, len(outlines)):
        below = outlines[j - 1]
        new = shapely.difference(outlines[j], below)
        if new.is_empty or new.area < MIN_OVERHANG_AREA_MM2:
            continue
        step = float(heights_mm[j]) * math.tan(math.radians(angle_deg))
        steep = shapely.difference(outlines[j], offset(below, step)) if step > 0 else new
        parts = shapely.get_parts(steep)
        parts = parts[shapely.area(parts) >= MIN_OVERHANG_AREA_MM2]
        if len(parts) == 0:
            continue
        grown = shapely.buffer(shapely.union_all(parts), step + GROW_SLACK_MM)
        out[j] = shapely.intersection(new, grown)
        if not support_bridges and not out[j].is_empty:
            out[j] = _without_bridges(out[j], below)
    return out


def _without_bridges(area: shapely.Geometry, below: shapely.Geometry) -> shapely.Geometry:
    """``area`` without its bridges: pieces whose edge rests on the layer below in separate
    stretches some way apart (a span between two supports), as PrusaSlicer's
    dont_support_bridges."""
    pieces = shapely.get_parts(area)
    rests = shapely.intersection(shapely.boundary(pieces), shapely.buffer(below, ANCHOR_MM))
    bridge = np.array([_is_bridge(rest) for rest in rests], dtype=bool)
    keep = pieces[~bridge]
    return shapely.union_all(keep) if len(keep) else EMPTY


@dataclass(frozen=True)
class SupportColumns:
    """The whole model's support before per-layer cleanup (computed once, before the layers
    are planned in parallel).

    areas : per layer, the area to support (not yet cleared of slivers), bottom first
    tops  : per layer, the overhangs its interface lies under
    """

    areas: list[shapely.Geometry]
    tops: list[shapely.Geometry]

    def layer(self, i: int, s: SliceSettings) -> LayerSupport:
        """Layer i's support: slivers narrower than a line dropped, interface split off."""
        if not self.areas or self.areas[i].is_empty:
            return NO_SUPPORT
        r = s.line_width_mm / 2.0
        area = shapely.simplify(self.areas[i], SIMPLIFY_MM)
        area = shapely.buffer(shapely.buffer(area, -r, quad_segs=2), r, quad_segs=2)
        if area.is_empty:
            return NO_SUPPORT
        top = self.tops[i]
        interface = EMPTY if top.is_empty else shapely.intersection(area, offset(top, r))
        return LayerSupport(shapely.difference(area, interface), interface)


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


def support_columns(
    outlines: list[shapely.Geometry], heights_mm: np.ndarray, s: SliceSettings
) -> SupportColumns:
    """Support of every layer, from the layers' cross-sections (bottom first)."""
    n = len(outlines)
    if s.support is SupportMode.OFF or n == 0:
        return SupportColumns([], [])
    over = overhangs(outlines, heights_mm, s.support_angle_deg, s.support_bridges)
    # The overhangs layer i supports start at first[i] (their bottom support_z_gap_mm above
    # its top); the model's layers lo[i]..i lie within that gap below it (adaptive layers too).
    top_mm = np.cumsum(heights_mm)
    bottom_mm = top_mm - heights_mm
    first = np.searchsorted(bottom_mm, top_mm + s.support_z_gap_mm - Z_EPS_MM)
    lo = np.searchsorted(top_mm, bottom_mm - s.support_z_gap_mm + Z_EPS_MM)
    areas = [EMPTY] * n
    need = EMPTY
    added = n
    for i in range(n - 1, -1, -1):
        for piece in over[first[i] : added]:
            if not piece.is_empty:
                need = shapely.union(need, piece)
        added = min(added, int(first[i]))
        if need.is_empty:
            continue
        need = shapely.difference(need, outlines[i])
        keep_off = shapely.union_all(outlines[lo[i] : i + 1])
        areas[i] = shapely.difference(need, offset(keep_off, s.support_xy_gap_mm))
    if s.support is SupportMode.BUILDPLATE_ONLY:
        areas = _on_buildplate(areas, outlines, s.support_xy_gap_mm)
    layers = s.support_interface_layers
    tops = [shapely.union_all(over[first[i] : first[i] + layers]) for i in range(n)]
    return SupportColumns(areas, tops)


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
    """Support toolpaths of one layer, interface last (nearest the part above)."""
    out: list[Toolpath] = []
    w = s.line_width_mm
    interface_angle = INTERFACE_ANGLES_DEG[layer_index % 2]
    jobs = (
        (support.base, BASE_ANGLES_DEG[s.support_pattern], s.support_spacing_mm, Feature.SUPPORT),
        (
            support.interface,
            (interface_angle,),
            s.support_interface_spacing_mm,
            Feature.SUPPORT_INTERFACE,
        ),
    )
    for area, angles, spacing, feature in jobs:
        if area.is_empty:
            continue
        lines: list[np.ndarray] = []
        for angle in angles:
            lines += parallel_lines(area, angle, spacing)
        ordered = order_lines(lines, cur)
        for line in join_lines(ordered, area, JOIN_SPACINGS * spacing, tolerance_mm=w / 2.0):
            out.append(Toolpath(line, feature, w, s.support_speed_mm_s))
            cur = line[-1]
    return out
