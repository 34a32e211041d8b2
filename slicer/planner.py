"""One layer's cross-section -> its LayerPlan: walls, skins, infill, print order, retraction,
cooling slowdown.  Layers are independent given their own slice and their neighbours' slices,
so the pipeline runs this function on several layers at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from slicer.combing import CombArea
from slicer.infill import bridge_lines, parallel_lines, solid_lines, sparse_lines
from slicer.order import (
    join_lines,
    nearest_order,
    order_lines,
    order_loops,
    order_loops_index,
    segments_inside,
)
from slicer.overhang import overhang_walls
from slicer.regions import (
    IslandWalls,
    Skins,
    island_walls,
    line_spacing_mm,
    offset,
    split_skins,
)
from slicer.settings import SliceSettings
from slicer.slicing import EMPTY
from slicer.support import NO_SUPPORT, LayerSupport, support_paths
from slicer.toolpath import Feature, LayerPlan, Toolpath

# Solid infill lines further apart than this many spacings are not joined.
JOIN_SOLID_SPACINGS = 3.0
JOIN_SPARSE_GAPS = 5.0
# Covers tests allow this much numerical slack, mm.
EPS_MM = 0.01
# Bridge strands are this much further apart than the nozzle is wide (as Slic3r), mm.
BRIDGE_GAP_MM = 0.05
SMALL_PERIMETER_MM = 2 * np.pi * 6.5  # loops this short take small_perimeter_speed_mm_s


@dataclass(frozen=True)
class LayerJob:
    """Everything one layer needs: its slice and the slices of its neighbours.

    prefix      : paths printed before the layer's own (skirt and brim on layer 0)
    below_beyond: the slice just below those in ``below`` (finds internal bridges)
    support     : the layer's support areas (printed before the part)
    above/below : the next top_layers/bottom_layers slices, nearest first; slices beyond the
                  model are empty polygons (so those layers get solid skins)
    """

    index: int
    z_mm: float
    height_mm: float
    outline: shapely.Geometry
    above: tuple[shapely.Geometry, ...]
    below: tuple[shapely.Geometry, ...]
    prefix: tuple[Toolpath, ...] = ()
    nozzle_mm: float = 0.4
    below_beyond: shapely.Geometry | None = None
    support: LayerSupport = NO_SUPPORT


def layer_walls(
    outline: shapely.Geometry, height_mm: float, settings: SliceSettings
) -> list[IslandWalls]:
    """Walls of every island of a layer (a function of the outline and height only)."""
    w = settings.line_width_mm
    overlap = settings.infill_overlap_percent / 100.0 * w
    return [
        island_walls(poly, settings.perimeters, w, height_mm, overlap)
        for poly in shapely.get_parts(outline)
        if poly.geom_type == "Polygon" and not poly.is_empty
    ]


def plan_layer(
    job: LayerJob, settings: SliceSettings, walls: list[IslandWalls] | None = None
) -> LayerPlan:
    """Toolpaths of one layer, in print order, with retraction flags and cooling applied.

    ``walls`` may pass in layer_walls(job.outline, ...) when it is known already (a layer
    with the same outline as the one below)."""
    w = settings.line_width_mm
    spacing = line_spacing_mm(w, job.height_mm)
    islands = walls if walls is not None else layer_walls(job.outline, job.height_mm, settings)
    infill_area = shapely.union_all([isl.infill_area for isl in islands]) if islands else None
    skins = None
    if infill_area is not None and not infill_area.is_empty:
        skins = split_skins(
            infill_area,
            list(job.above),
            list(job.below),
            w,
            on_bed=job.index == 0,
            below_beyond=job.below_beyond,
        )
    minx, _, _, maxy = job.outline.bounds if not job.outline.is_empty else (0, 0, 0, 0)
    cur = np.array([minx, maxy])
    paths: list[Toolpath] = list(job.prefix)
    if not job.support.is_empty:
        paths += support_paths(
            job.support, job.index, settings, paths[-1].points[-1] if paths else cur
        )
    if paths:
        cur = paths[-1].points[-1]
    for isl in _island_order(islands, cur):
        island_paths = _island_paths(isl, skins, job, settings, spacing, cur, len(islands) == 1)
        if island_paths:
            cur = island_paths[-1].points[-1]
        paths.extend(island_paths)
    if settings.overhang_wall_speed_mm_s is not None and job.index > 0 and job.below:
        paths = overhang_walls(paths, job.below[0], settings.overhang_wall_speed_mm_s)
    paths = _first_layer_speed(paths, job, settings)
    paths = _volumetric_limit(paths, job.height_mm, settings)
    support_area = shapely.union(job.support.base, job.support.interface)
    paths = _flag_retractions(paths, job.outline, settings, support_area)
    paths = _slow_down(paths, settings)
    return LayerPlan(job.index, job.z_mm, job.height_mm, tuple(paths))


def _island_order(islands: list[IslandWalls], start_xy: np.ndarray) -> list[IslandWalls]:
    """Islands in nearest-neighbour order of their rearmost outline point."""
    if len(islands) < 2:
        return islands
    anchors = [np.asarray(isl.outline.exterior.coords)[:-1] for isl in islands]
    starts = np.array([a[np.argmax(a[:, 1])] for a in anchors])
    order, _ = nearest_order(starts, starts, start_xy, reversible=False)
    return [islands[k] for k in order]


def _island_paths(
    isl: IslandWalls,
    skins: Skins | None,
    job: LayerJob,
    s: SliceSettings,
    spacing: float,
    cur: np.ndarray,
    single: bool,
) -> list[Toolpath]:
    w = s.line_width_mm
    out: list[Toolpath] = []
    for group in _loop_groups(isl.loops, s, cur, job.index):
        for loop, depth in group:
            feature = Feature.OUTER_WALL if depth == 0 else Feature.WALL
            speed = s.outer_wall_speed_mm_s if depth == 0 else s.wall_speed_mm_s
            if s.small_perimeter_speed_mm_s is not None and _is_small(loop):
                speed = s.small_perimeter_speed_mm_s
            out.append(Toolpath(loop, feature, w, speed))
            cur = loop[-1]
    for lines, feature, speed in (
        (isl.thin_lines, Feature.OUTER_WALL, s.outer_wall_speed_mm_s),
        (isl.gap_lines, Feature.WALL, s.wall_speed_mm_s),
    ):
        if not lines:
            continue
        starts = np.array([line[0] for line, _ in lines])
        ends = np.array([line[-1] for line, _ in lines])
        order, flipped = nearest_order(starts, ends, cur, reversible=True)
        for k, flip in zip(order, flipped, strict=True):
            line, width = lines[k]
            line = line[::-1] if flip else line
            out.append(Toolpath(line, feature, width, speed))
            cur = line[-1]
    if skins is None or isl.infill_area.is_empty:
        return out
    region = isl.infill_area
    spacing_bridge = job.nozzle_mm + BRIDGE_GAP_MM
    bridge = _clip(skins.bridge, region, single)
    if not bridge.is_empty:
        support = shapely.buffer(job.below[0], -w) if job.below else EMPTY
        lines = bridge_lines(bridge, support, spacing_bridge)
        out += _bridge_paths(lines, bridge, job, s, cur)
        cur = out[-1].points[-1] if out else cur
    internal = _clip(skins.internal_bridge, region, single)
    if not internal.is_empty:
        lines = solid_lines(internal, spacing_bridge, job.index)
        out += _bridge_paths(lines, internal, job, s, cur)
        cur = out[-1].points[-1] if out else cur
    fills = (
        (skins.solid, Feature.SOLID_INFILL, s.solid_infill_speed_mm_s),
        (skins.top, Feature.TOP_INFILL, s.top_infill_speed_mm_s),
        (skins.sparse, Feature.INFILL, s.infill_speed_mm_s),
    )
    for area, feature, speed in fills:
        part = _clip(area, region, single)
        if part.is_empty:
            continue
        if feature is Feature.INFILL:
            lines = sparse_lines(
                part, s.infill_pattern, s.infill_density, spacing, job.index, job.z_mm
            )
            gap = spacing / max(s.infill_density, 1e-6) * JOIN_SPARSE_GAPS
        else:
            lines = solid_lines(part, spacing, job.index)
            gap = spacing * JOIN_SOLID_SPACINGS
        lines = join_lines(order_lines(lines, cur), part, gap, tolerance_mm=w / 2.0)
        for line in lines:
            out.append(Toolpath(line, feature, w, speed))
        if lines:
            cur = lines[-1][-1]
    if s.ironing:
        out += _ironing(_clip(skins.top, region, single), job, s, cur)
    return out


def _ironing(
    top: shapely.Geometry, job: LayerJob, s: SliceSettings, cur: np.ndarray
) -> list[Toolpath]:
    """A second pass over the top surface: lines ironing_spacing_mm apart, across the top
    infill's, half a line inside its edges, extruding ironing_flow_percent of a layer."""
    area = offset(top, -s.line_width_mm / 2.0)
    if area.is_empty:
        return []
    angle = -45.0 if job.index % 2 == 0 else 45.0
    lines = order_lines(parallel_lines(area, angle, s.ironing_spacing_mm), cur)
    lines = join_lines(lines, area, 3 * s.ironing_spacing_mm, tolerance_mm=s.line_width_mm / 2)
    height = job.height_mm * s.ironing_flow_percent / 100.0
    return [
        Toolpath(
            line, Feature.IRONING, s.line_width_mm, s.ironing_speed_mm_s, flow_height_mm=height
        )
        for line in lines
    ]


def _is_small(loop: np.ndarray) -> bool:
    """A wall loop no longer than a circle of 6.5 mm radius (PrusaSlicer's small perimeter)."""
    closed = np.vstack([loop, loop[:1]])
    return float(np.linalg.norm(np.diff(closed, axis=0), axis=1).sum()) <= SMALL_PERIMETER_MM


def _loop_groups(
    loops: tuple[tuple[np.ndarray, int], ...], s: SliceSettings, cur: np.ndarray, layer: int
) -> list[list[tuple[np.ndarray, int]]]:
    """Wall loops grouped by the outer-wall ring they surround (a hole's walls together),
    groups in nearest-neighbour order, each group innermost loop first, seams applied."""
    if not loops:
        return []
    outer = [ring for ring, depth in loops if depth == 0]
    deeper = [(ring, depth) for ring, depth in loops if depth > 0]
    members: list[list[tuple[np.ndarray, int]]] = [[] for _ in outer]
    if deeper and outer:
        outer_geoms = np.array([shapely.linearrings(r) for r in outer]) if len(outer) > 1 else None
        for ring, depth in deeper:
            k = 0
            if outer_geoms is not None:
                k = int(np.argmin(shapely.distance(outer_geoms, shapely.linearrings(ring))))
            members[k].append((ring, depth))
    groups = []
    for ring in order_loops_index(outer, s.seam, cur, layer):
        groups.append([*sorted(members[ring], key=lambda m: -m[1]), (outer[ring], 0)])
    out = []
    for group in groups:
        seamed = []
        for ring, depth in group:
            loop = order_loops([ring], s.seam, cur, layer)[0]
            seamed.append((loop, depth))
            cur = loop[-1]
        out.append(seamed)
    return out


def _bridge_paths(
    lines: list[np.ndarray],
    area: shapely.Geometry,
    job: LayerJob,
    s: SliceSettings,
    cur: np.ndarray,
) -> list[Toolpath]:
    """Bridge strands: as wide and as high as the nozzle (a round strand), joined where the
    turn stays inside ``area``."""
    joined = join_lines(order_lines(lines, cur), area, 3 * s.line_width_mm)
    return [
        Toolpath(
            line, Feature.BRIDGE, job.nozzle_mm, s.bridge_speed_mm_s, flow_height_mm=job.nozzle_mm
        )
        for line in joined
    ]


def _clip(area: shapely.Geometry, region: shapely.Geometry, single: bool) -> shapely.Geometry:
    """``area`` within one island's ``region`` (no work when the layer has one island)."""
    if single or area.is_empty:
        return area
    return area.intersection(region)


def _first_layer_speed(paths: list[Toolpath], job: LayerJob, s: SliceSettings) -> list[Toolpath]:
    if job.index != 0:
        return paths
    return [p.with_speed(min(p.speed_mm_s, s.first_layer_speed_mm_s)) for p in paths]


def _volumetric_limit(paths: list[Toolpath], height_mm: float, s: SliceSettings) -> list[Toolpath]:
    """Slow paths whose flow would exceed the material's max_volumetric_speed_mm3_s."""
    if not s.max_volumetric_speed_mm3_s:
        return paths
    out = []
    for p in paths:
        limit = s.max_volumetric_speed_mm3_s / p.area_mm2(height_mm)
        out.append(p.with_speed(limit) if p.speed_mm_s > limit else p)
    return out


def _flag_retractions(
    paths: list[Toolpath],
    outline: shapely.Geometry,
    s: SliceSettings,
    support_area: shapely.Geometry = EMPTY,
) -> list[Toolpath]:
    """Retract before the first path (layer change), before travels longer than
    retract_min_travel_mm, and before shorter travels that leave the part; never on travels
    within the support areas (as PrusaSlicer)."""
    if not paths:
        return paths
    ends = np.array([p.points[-1] for p in paths[:-1]]).reshape(-1, 2)
    starts = np.array([p.points[0] for p in paths[1:]]).reshape(-1, 2)
    length = np.hypot(*(starts - ends).T) if len(ends) else np.empty(0)
    retract = np.concatenate([[True], length > s.retract_min_travel_mm])
    short = np.flatnonzero((length > EPS_MM) & (length <= s.retract_min_travel_mm))
    if len(short) and not outline.is_empty:
        retract[short + 1] = ~segments_inside(outline, ends[short], starts[short])
    over_support = np.flatnonzero(retract[1:]) if not support_area.is_empty else []
    if len(over_support):
        inside = segments_inside(support_area, ends[over_support], starts[over_support])
        retract[over_support[inside] + 1] = False
    via: list[np.ndarray | None] = [None] * len(paths)
    if s.combing and not outline.is_empty:
        comb = CombArea(outline, s.line_width_mm)
        for k in np.flatnonzero(retract[1:]):
            route = comb.route(ends[k], starts[k], s.retract_min_travel_mm)
            if route is not None:
                retract[k + 1] = False
                via[k + 1] = route if len(route) else None
    return [p.with_retract(bool(r), v) for p, r, v in zip(paths, retract, via, strict=True)]


def _slow_down(paths: list[Toolpath], s: SliceSettings) -> list[Toolpath]:
    """Scale extrusion speeds so the layer takes at least min_layer_time_s (not below
    min_print_speed_mm_s)."""
    if not paths or s.min_layer_time_s <= 0:
        return paths
    extrude_s = sum(p.length_mm / p.speed_mm_s for p in paths)
    if extrude_s <= 0 or extrude_s >= s.min_layer_time_s:
        return paths
    factor = extrude_s / s.min_layer_time_s
    return [
        p.with_speed(max(min(p.speed_mm_s, s.min_print_speed_mm_s), p.speed_mm_s * factor))
        for p in paths
    ]
