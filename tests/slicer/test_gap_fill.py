"""Gap fill between walls, checked on the G-code's extrusions: every wall of
thin_walls_varying (0.5 to 1.5 mm thick) is filled across, without piling plastic up."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from tests.slicer.conftest import MODELS, sliced
from tests.slicer.gcode_reader import Layer, read, segment_length
from tests.slicer.test_combing import _sections


def _walls(layer: Layer) -> list[tuple[float, float, float]]:
    """Per wall of the layer's cross-section, left to right: (thickness mm, share of its
    area the extruded lines cover, extruded line area / wall area)."""
    seg = layer.seg_array()
    widths = np.array(layer.widths)
    lines = shapely.buffer(shapely.linestrings(seg.reshape(-1, 2, 2)), widths / 2.0)
    printed = shapely.union_all(lines)
    (section,) = _sections(MODELS / "thin_walls_varying.stl", [layer.z_mm])
    out = []
    for wall in sorted(shapely.get_parts(section), key=lambda g: g.bounds[0]):
        mine = shapely.intersects(lines, wall)
        extruded = float((segment_length(seg[mine]) * widths[mine]).sum())
        covered = shapely.intersection(printed, wall).area
        out.append((wall.bounds[2] - wall.bounds[0], covered / wall.area, extruded / wall.area))
    return out


@pytest.mark.parametrize("layer_index", [12, 20])
def test_walls_are_filled_across(layer_index: int) -> None:
    layer = read(sliced("thin_walls_varying").gcode).layers[layer_index]
    walls = _walls(layer)
    assert len(walls) == 11
    for thickness_mm, covered, extruded in walls:
        # A wall 1.0 mm thick keeps a 0.1 mm slot between its two lines (too thin to fill);
        # every thicker wall gets a line down the slot between its walls (gap fill).
        assert covered >= (0.9 if thickness_mm < 1.05 else 0.98), thickness_mm
        assert 0.85 <= extruded <= 1.1, thickness_mm
