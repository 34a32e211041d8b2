"""The first solid layer over sparse infill: printed as bridge infill (round strands as wide
as the nozzle, bridge speed) across the whole inside, parsed back from the G-code."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import shapely

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings
from slicer.toolpath import extrusion_area_mm2
from tests.slicer.gcode_reader import read, segment_length


@pytest.fixture(scope="module")
def box_gcode(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 20 x 20 x 6 mm box: 3 bottom and 3 top solid layers, sparse infill between."""
    import trimesh

    path = tmp_path_factory.mktemp("box") / "box.stl"
    trimesh.creation.box(extents=[20, 20, 6]).export(path)
    return slice_models([Path(path)], printer=load_printer(), material=load_material()).gcode


def test_only_the_first_solid_layer_over_sparse_infill_is_bridged(box_gcode: str) -> None:
    layers = read(box_gcode).layers
    s = SliceSettings()
    bridged = [i for i, layer in enumerate(layers) if "Bridge infill" in layer.features]
    first_top = len(layers) - s.top_layers
    assert bridged == [first_top]
    assert "Internal infill" in layers[first_top - 1].features  # sparse below it
    for layer in layers[first_top + 1 :]:
        assert "Internal infill" not in layer.features


def test_internal_bridge_has_bridge_flow_speed_and_covers_the_inside(box_gcode: str) -> None:
    layers = read(box_gcode).layers
    layer = layers[len(layers) - SliceSettings().top_layers]
    printer = load_printer()
    nozzle = printer.nozzle_diameter_mm
    seg = layer.seg_array("Bridge infill")
    e = np.array(layer.e_mm)[[f == "Bridge infill" for f in layer.features]]
    filament_mm2 = math.pi * printer.filament_diameter_mm**2 / 4.0
    # Round strands: E per mm of a line as wide and as high as the nozzle, not the layer.
    e_per_mm = e / segment_length(seg)
    assert e_per_mm == pytest.approx(extrusion_area_mm2(nozzle, nozzle) / filament_mm2, rel=0.02)
    assert set(np.array(layer.widths)[[f == "Bridge infill" for f in layer.features]]) == {nozzle}
    # The bridge covers the inside of the walls.
    walls = shapely.union_all(
        shapely.buffer(shapely.linestrings(layer.seg_array("Perimeter").reshape(-1, 2, 2)), 0.2)
    )
    inside = shapely.buffer(shapely.polygons(shapely.get_exterior_ring(walls)), -0.5)
    strands = shapely.union_all(shapely.buffer(shapely.linestrings(seg.reshape(-1, 2, 2)), 0.25))
    assert shapely.intersection(strands, inside).area >= 0.97 * inside.area
    # Printed at the bridge speed.
    chunk = box_gcode.split(";TYPE:Bridge infill", 1)[1].split(";TYPE:", 1)[0]
    feeds = {int(f) for f in re.findall(r"^G1 F(\d+)$", chunk, re.M)}
    assert feeds == {round(SliceSettings().bridge_speed_mm_s * 60)}


def _main_direction_deg(seg: np.ndarray) -> float:
    """The direction (mod 180, whole degrees) most of the segments' length runs in."""
    angle = np.degrees(np.arctan2(seg[:, 3] - seg[:, 1], seg[:, 2] - seg[:, 0])) % 180.0
    length = np.bincount(np.round(angle).astype(int) % 180, weights=segment_length(seg))
    return float(np.argmax(length))


def test_internal_bridge_crosses_the_sparse_lines_below(box_gcode: str) -> None:
    layers = read(box_gcode).layers
    i = len(layers) - SliceSettings().top_layers
    strands = _main_direction_deg(layers[i].seg_array("Bridge infill"))
    below = _main_direction_deg(layers[i - 1].seg_array("Internal infill"))
    assert abs(strands - below) == pytest.approx(90.0, abs=1.0)
