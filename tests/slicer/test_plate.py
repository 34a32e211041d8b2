"""Arranging parts: drop to z = 0, no overlap, centred, errors naming part and bed."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.errors import PlateError
from slicer.mesh import Mesh, load_mesh
from slicer.plate import arrange
from tests.slicer.conftest import MODELS
from tests.slicer.gcode_reader import read


def _footprint(mesh: Mesh) -> shapely.Geometry:
    return shapely.box(*mesh.bounds_mm[0, :2], *mesh.bounds_mm[1, :2])


def test_copies_do_not_overlap_and_group_is_centred() -> None:
    cube = load_mesh(MODELS / "xyz_cube_20mm.stl")
    bridge = load_mesh(MODELS / "bridge_overhang.stl")
    placed = arrange([cube, cube, cube, bridge], 220, 220, 250, gap_mm=5, margin_mm=7)
    boxes = [_footprint(m) for m in placed]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert boxes[i].distance(boxes[j]) >= 5 - 1e-6
    lo = np.min([m.bounds_mm[0] for m in placed], axis=0)
    hi = np.max([m.bounds_mm[1] for m in placed], axis=0)
    assert (lo[:2] + hi[:2]) / 2 == pytest.approx([110, 110])
    assert all(m.bounds_mm[0, 2] == pytest.approx(0) for m in placed)
    assert lo[:2].min() >= 7 and hi[:2].max() <= 220 - 7


def test_part_larger_than_bed_is_named() -> None:
    cube = load_mesh(MODELS / "tiny_holes.stl")  # 100 mm long
    with pytest.raises(PlateError) as err:
        arrange([cube], 80, 80, 100, gap_mm=5, margin_mm=0)
    assert "tiny_holes" in str(err.value) and "80 x 80 x 100 mm" in str(err.value)


def test_too_many_copies_fill_the_plate() -> None:
    bar = load_mesh(MODELS / "tiny_holes.stl")
    with pytest.raises(PlateError, match=r"tiny_holes.*plate is full"):
        arrange([bar] * 30, 220, 220, 250, gap_mm=5, margin_mm=7)


def test_copies_are_all_printed() -> None:
    one = slice_models(
        [MODELS / "thin_walls_varying.stl"], printer=load_printer(), material=load_material()
    )
    three = slice_models(
        [MODELS / "thin_walls_varying.stl"],
        printer=load_printer(),
        material=load_material(),
        copies=3,
    )
    assert three.filament_mm == pytest.approx(3 * one.filament_mm, rel=0.05)
    prog = read(three.gcode)
    assert len(prog.layers) == 25
    assert (prog.xy_min >= 0).all() and (prog.xy_max <= 220).all()
