"""One layer's cross-section -> walls, thin walls and the area left for infill.

Perimeter loops are inward offsets of the outline: the outer wall's centre line lies half a line
width inside, each further wall one line spacing further in.  Each offset is followed by a
morphological opening, so parts too narrow for a loop disappear from it; the parts of the
outline no loop covers become thin walls, printed as one line along their medial axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.polygon import orient

from slicer.slicing import EMPTY

# Offsets keep corners square (mitre) up to this ratio, like the anchors.
MITRE_LIMIT = 3.0
# A thin-wall piece must be at least this fraction of a line width thick to be printed.
THIN_MIN_FRACTION = 0.3
# Gap fill between walls: slots whose line would be shorter than this stay empty, mm.
SLOT_MIN_LENGTH_MM = 2.0
# Voronoi sampling step along thin-wall outlines, mm.
MEDIAL_STEP_MM = 0.1
# ... but no more points than this per piece.
MEDIAL_MAX_POINTS = 300


@dataclass(frozen=True)
class IslandWalls:
    """Walls of one connected part of a layer.

    loops       : closed rings ((n, 2) float64, mm, first point not repeated) with their depth
                  (0 = outer wall), outermost first
    thin_lines  : open polylines ((n, 2) float64, mm) with their line width in mm
    gap_lines   : the same for gaps between walls too narrow for infill (gap fill)
    infill_area : the area to fill, already overlapping the innermost wall
    outline     : the island's cross-section
    """

    outline: shapely.Geometry
    loops: tuple[tuple[np.ndarray, int], ...]
    thin_lines: tuple[tuple[np.ndarray, float], ...]
    infill_area: shapely.Geometry
    gap_lines: tuple[tuple[np.ndarray, float], ...] = ()


def line_spacing_mm(width_mm: float, height_mm: float) -> float:
    """Centre distance of two touching lines (Slic3r's flow model: rectangle, round ends)."""
    return width_mm - height_mm * (1.0 - math.pi / 4.0)


def offset(geom: shapely.Geometry, distance_mm: float) -> shapely.Geometry:
    """Mitred offset: negative shrinks, positive grows."""
    if geom.is_empty:
        return geom
    return shapely.buffer(geom, distance_mm, join_style="mitre", mitre_limit=MITRE_LIMIT)


def opened(geom: shapely.Geometry, shrink_mm: float, radius_mm: float) -> shapely.Geometry:
    """Shrink by ``shrink_mm`` while removing parts narrower than ``2 * radius_mm``."""
    return offset(offset(geom, -(shrink_mm + radius_mm)), radius_mm)


def island_walls(
    island: shapely.Polygon,
    perimeters: int,
    width_mm: float,
    height_mm: float,
    overlap_mm: float,
) -> IslandWalls:
    """Walls and infill area of one island (a Polygon with holes)."""
    spacing = line_spacing_mm(width_mm, height_mm)
    radius = spacing / 2.0
    loops: list[tuple[np.ndarray, int]] = []
    current = island
    inner = island
    covered = island if perimeters == 0 else EMPTY
    for depth in range(perimeters):
        shrink = width_mm / 2.0 if depth == 0 else spacing
        current = opened(current, shrink, radius)
        if current.is_empty:
            break
        if depth == 0:
            covered = offset(current, width_mm / 2.0 + 1e-3)
        loops.extend((ring, depth) for ring in _rings(current))
        inner = current
    if perimeters == 0:
        infill = offset(island, -width_mm / 2.0 + overlap_mm)
    elif loops:
        # Areas narrower than one line get no infill (they would only be over-extruded).
        # (an opening by spacing / 2 followed by a growth by the overlap: one growth)
        infill = offset(offset(inner, -spacing), spacing / 2.0 + overlap_mm)
    else:
        infill = EMPTY
    thin = _thin_lines(island, covered, width_mm)
    slots = _slot_lines(offset(inner, -width_mm / 2.0), infill, width_mm) if loops else []
    infill, gaps = _split_gaps(infill, spacing, overlap_mm)
    return IslandWalls(island, tuple(loops), tuple(thin), infill, tuple(slots + gaps))


def _slot_lines(
    inside_walls: shapely.Geometry, infill: shapely.Geometry, width_mm: float
) -> list[tuple[np.ndarray, float]]:
    """Gap fill for the slots between walls that neither another loop nor the infill
    reaches (walls a little more than two lines apart): one line along each long straight
    slot, as wide as the slot.  ``inside_walls`` is the area inside the innermost loop's lines."""
    rest = inside_walls.difference(infill) if not infill.is_empty else inside_walls
    out = []
    for piece in _printable_pieces(rest, width_mm):
        rect = _rectangle_axis(piece)
        # Curved slots stay empty, as curved narrow infill does; short ones too (each line
        # costs a travel, often a retraction, for little plastic).
        if rect is not None and np.hypot(*(rect[0][1] - rect[0][0])) >= SLOT_MIN_LENGTH_MM:
            out.append(rect)
    return out


def _split_gaps(
    infill: shapely.Geometry, spacing_mm: float, overlap_mm: float
) -> tuple[shapely.Geometry, list[tuple[np.ndarray, float]]]:
    """Infill pieces too narrow for two infill lines become single gap-fill lines."""
    if infill.is_empty:
        return infill, []
    parts = shapely.get_parts(infill)
    narrow = shapely.is_empty(
        shapely.buffer(parts, -spacing_mm, join_style="mitre", mitre_limit=MITRE_LIMIT)
    )
    if not narrow.any():
        return infill, []
    gaps: list[tuple[np.ndarray, float]] = []
    for piece in parts[narrow]:
        rect = _rectangle_axis(piece)
        if rect is not None:
            line, thickness = rect
            gaps.append((line, max(thickness - overlap_mm, spacing_mm * THIN_MIN_FRACTION)))
        # Curved narrow pieces stay unfilled: their medial axes cost more than they add.
    return shapely.union_all(parts[~narrow]), gaps


def _thin_lines(
    island: shapely.Polygon, covered: shapely.Geometry, width_mm: float
) -> list[tuple[np.ndarray, float]]:
    """Single lines along the parts of ``island`` that no loop covers."""
    rest = island.difference(covered) if not covered.is_empty else island
    if rest.is_empty:
        return []
    out = []
    for piece in _printable_pieces(rest, width_mm):
        rect = _rectangle_axis(piece)
        if rect is not None:
            out.append(rect)
            continue
        lines = medial_axis(piece, width_mm)
        length = sum(float(shapely.length(shapely.linestrings(line))) for line in lines)
        if length <= 0:
            continue
        thickness = min(piece.area / length, 2.0 * width_mm)
        out.extend((line, max(thickness, width_mm * THIN_MIN_FRACTION)) for line in lines)
    return out


def _printable_pieces(rest: shapely.Geometry, width_mm: float) -> list[shapely.Polygon]:
    """The pieces of ``rest`` at least THIN_MIN_FRACTION of a line width thick."""
    return [
        piece
        for piece in shapely.get_parts(rest)
        if piece.area >= (width_mm * THIN_MIN_FRACTION) * width_mm
        and not offset(piece, -width_mm * THIN_MIN_FRACTION / 2.0).is_empty
    ]


def _rectangle_axis(piece: shapely.Polygon) -> tuple[np.ndarray, float] | None:
    """Long centre line and thickness of a nearly rectangular piece, else None."""
    rect = shapely.oriented_envelope(piece)
    if rect.geom_type != "Polygon" or piece.area < 0.9 * rect.area:
        return None
    c = np.asarray(rect.exterior.coords)[:4]
    side_a, side_b = c[1] - c[0], c[2] - c[1]
    if np.hypot(*side_a) < np.hypot(*side_b):
        c = np.roll(c, -1, axis=0)
        side_a, side_b = side_b, side_a
    thickness = float(np.hypot(*side_b))
    mid0 = (c[0] + c[3]) / 2.0
    mid1 = (c[1] + c[2]) / 2.0
    direction = (mid1 - mid0) / max(float(np.hypot(*(mid1 - mid0))), 1e-9)
    inset = min(thickness / 2.0, float(np.hypot(*side_a)) / 4.0)
    return np.array([mid0 + direction * inset, mid1 - direction * inset]), thickness


def medial_axis(piece: shapely.Polygon, width_mm: float) -> list[np.ndarray]:
    """Centre lines of a thin polygon: (n, 2) float64 polylines, mm.

    Voronoi edges of points sampled along the outline that lie inside the piece form its
    medial axis; branches shorter than a line width (towards corners) are dropped.
    """
    thickness = 2.0 * piece.area / max(piece.length, 1e-9)
    step = max(MEDIAL_STEP_MM, 0.5 * thickness, piece.length / MEDIAL_MAX_POINTS)
    boundary = shapely.segmentize(shapely.simplify(piece.boundary, 0.02), step)
    points = shapely.points(shapely.get_coordinates(boundary))
    edges = shapely.voronoi_polygons(shapely.multipoints(points), only_edges=True)
    parts = shapely.get_parts(edges)
    inside = parts[shapely.within(parts, piece)]
    if len(inside) == 0:
        return []
    merged = shapely.line_merge(shapely.union_all(inside))
    lines = [g for g in shapely.get_parts(merged) if g.length >= width_mm]
    if not lines:
        return []
    return [shapely.get_coordinates(shapely.simplify(g, 0.02)) for g in lines]


def _rings(region: shapely.Geometry) -> list[np.ndarray]:
    """Exterior and interior rings of a (Multi)Polygon, outermost first, unclosed coords."""
    out = []
    for poly in shapely.get_parts(region):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        poly = orient(poly, 1.0)  # exterior counter-clockwise, holes clockwise
        out.append(np.asarray(poly.exterior.coords)[:-1])
        out.extend(np.asarray(hole.coords)[:-1] for hole in poly.interiors)
    return out


@dataclass(frozen=True)
class Skins:
    """Solid parts of a layer's infill area.

    top   : exposed from above (top surface), solid
    solid : other solid infill (bottom surfaces and layers near top/bottom)
    sparse: the rest, printed with the sparse pattern
    """

    top: shapely.Geometry
    solid: shapely.Geometry
    sparse: shapely.Geometry
    bridge: shapely.Geometry
    internal_bridge: shapely.Geometry


def split_skins(
    infill_area: shapely.Geometry,
    above: list[shapely.Geometry],
    below: list[shapely.Geometry],
    width_mm: float,
    on_bed: bool,
    below_beyond: shapely.Geometry | None = None,
) -> Skins:
    """Split the infill area by the slices ``above`` (next layers up, nearest first; shorter
    than top_layers at the top of the model) and ``below``.  Solid parts over nothing (not
    ``on_bed`` and outside the slice below) are bridges; the first solid layer over sparse
    infill (the layer below is sparse where the slices from ``below_beyond``, the one past
    ``below``, up to the second-last of ``above`` all cover it) is an internal bridge."""
    if infill_area.is_empty:
        return Skins(infill_area, infill_area, infill_area, infill_area, infill_area)
    top = infill_area.difference(above[0]) if above else infill_area
    covered = infill_area
    for geom in above + below:
        covered = covered.intersection(geom)
        if covered.is_empty:
            break
    solid = infill_area.difference(covered)
    # Let skins reach a little into the sparse area, to anchor them.
    solid = offset(solid, width_mm).intersection(infill_area)
    top = opened(top, 0.0, width_mm / 2.0).intersection(solid)
    bridge = EMPTY
    if not on_bed and below:
        bridge = opened(solid.difference(below[0]), 0.0, width_mm)
        if not bridge.is_empty:
            bridge = offset(bridge, width_mm).intersection(solid)
    solid = solid.difference(top)
    if not bridge.is_empty:
        solid, top = solid.difference(bridge), top.difference(bridge)
    internal = EMPTY
    if not on_bed and below_beyond is not None and above and not solid.is_empty:
        internal = solid
        for geom in [*below, below_beyond, *above[:-1]]:
            internal = internal.intersection(geom)
            if internal.is_empty:
                break
        internal = opened(internal, 0.0, width_mm) if not internal.is_empty else internal
        if not internal.is_empty:
            solid = solid.difference(internal)
    used = shapely.union_all([solid, top, bridge, internal])
    return Skins(top, solid, infill_area.difference(used), bridge, internal)
