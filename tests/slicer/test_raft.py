"""Raft: raft_layers of support material under the part's footprint (grown by its margin),
the part raised by the raft plus raft_z_gap_mm, its layers keeping their heights."""

from __future__ import annotations

import numpy as np
import pytest

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings
from tests.slicer.conftest import MODELS
from tests.slicer.gcode_reader import read

RAFT = {"Support material", "Support material interface"}


def test_raft_under_the_part() -> None:
    settings = SliceSettings.from_overrides(["raft_layers=3", "raft_margin_mm=2"])
    path = MODELS / "xyz_cube_20mm.stl"
    result = slice_models(
        [path], printer=load_printer(), material=load_material(), settings=settings
    )
    prog = read(result.gcode)
    plain = read(slice_models([path], printer=load_printer(), material=load_material()).gcode)
    assert len(prog.layers) == len(plain.layers) + 3
    for layer in prog.layers[:3]:
        assert set(layer.features) - {"Skirt/Brim"} <= RAFT
    assert set(prog.layers[2].features) == {"Support material interface"}
    assert not RAFT & set().union(*(set(layer.features) for layer in prog.layers[3:]))
    # The part starts 0.1 mm above the raft's top (0.6 mm), with its own first layer height.
    first = prog.layers[3]
    assert (first.z_mm, first.height_mm) == (pytest.approx(0.9), pytest.approx(0.2))
    # The raft spans the part's footprint plus the margin on every side.
    part = first.seg_array("External perimeter").reshape(-1, 2)
    raft = prog.layers[2].seg_array("Support material interface").reshape(-1, 2)
    grow = raft.max(axis=0) - part.max(axis=0), part.min(axis=0) - raft.min(axis=0)
    assert np.all(np.abs(np.array(grow) - 2.0) < 0.5)
