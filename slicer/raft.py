"""Raft: raft_layers layers under the part, the part raised by their height plus raft_z_gap_mm.

The raft covers the part's first layer grown by raft_margin_mm: sparse lines (0 and 90 degrees
on alternate layers) below, one solid top layer the part rests on.  Printed as support
material (PrusaSlicer's names), so viewers show it as such.
"""

from __future__ import annotations

import numpy as np
import shapely

from slicer.infill import parallel_lines
from slicer.order import join_lines, order_lines
from slicer.regions import line_spacing_mm, offset
from slicer.settings import SliceSettings
from slicer.toolpath import Feature, Toolpath

# The raft's lower layers have lines this many line spacings apart.
BASE_SPACINGS = 2.5


def raft_tops_mm(s: SliceSettings) -> np.ndarray:
    """(raft_layers,) float64: top z of each raft layer, mm."""
    return s.first_layer_height_mm + np.arange(s.raft_layers) * s.layer_height_mm


def raft_area(first_layer: shapely.Geometry, s: SliceSettings) -> shapely.Geometry:
    """The raft's outline: the part's first layer grown by raft_margin_mm."""
    return offset(first_layer, s.raft_margin_mm)


def raft_paths(
    area: shapely.Geometry, index: int, height_mm: float, s: SliceSettings, cur: np.ndarray
) -> list[Toolpath]:
    """Toolpaths of raft layer ``index`` over ``area``."""
    w = s.line_width_mm
    inner = offset(area, -w / 2.0)
    if inner.is_empty:
        return []
    spacing = line_spacing_mm(w, height_mm)
    top = index == s.raft_layers - 1
    angle = 90.0 if index % 2 else 0.0
    lines = parallel_lines(inner, angle, spacing if top else BASE_SPACINGS * spacing)
    feature = Feature.SUPPORT_INTERFACE if top else Feature.SUPPORT
    joined = join_lines(order_lines(lines, cur), area, 3 * BASE_SPACINGS * spacing, w / 2.0)
    return [Toolpath(line, feature, w, s.support_speed_mm_s) for line in joined]
