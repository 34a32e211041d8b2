"""Skirt and brim loops around the first layer."""

from __future__ import annotations

import numpy as np
import shapely

from slicer.order import loop_from_seam, seam_index
from slicer.regions import line_spacing_mm
from slicer.settings import SeamPosition, SliceSettings
from slicer.toolpath import Feature, Toolpath


def _outer_rings(geom: shapely.Geometry) -> list[np.ndarray]:
    """Exterior rings of a (Multi)Polygon: (n, 2) float64, mm, unclosed."""
    return [
        np.asarray(p.exterior.coords)[:-1]
        for p in shapely.get_parts(geom)
        if p.geom_type == "Polygon" and not p.is_empty
    ]


def skirt_and_brim(
    first_layer: shapely.Geometry, settings: SliceSettings, height_mm: float
) -> list[Toolpath]:
    """Skirt loops (outermost first) then brim loops (outermost first) for layer 0."""
    if first_layer.is_empty:
        return []
    w = settings.line_width_mm
    spacing = line_spacing_mm(w, height_mm)
    speed = settings.first_layer_speed_mm_s
    brim_loops = round(settings.brim_width_mm / spacing)
    brim_rings: list[np.ndarray] = []
    for k in reversed(range(brim_loops)):
        grown = shapely.buffer(first_layer, w / 2.0 + k * spacing, quad_segs=4)
        brim_rings.extend(_outer_rings(grown))
    footprint = shapely.buffer(first_layer, brim_loops * spacing) if brim_loops else first_layer
    hull = shapely.convex_hull(footprint)
    skirt_rings: list[np.ndarray] = []
    for k in reversed(range(settings.skirt_loops)):
        distance = settings.skirt_distance_mm + w / 2.0 + k * spacing
        skirt_rings.extend(_outer_rings(shapely.buffer(hull, distance, quad_segs=4)))
    paths = []
    for ring, feature in [(r, Feature.SKIRT) for r in skirt_rings + brim_rings]:
        loop = loop_from_seam(ring, seam_index(ring, SeamPosition.REAR, ring[0]))
        paths.append(Toolpath(loop, feature, w, speed, retract_before=True))
    return paths
