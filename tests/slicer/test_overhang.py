"""Overhanging walls: printed at overhang_wall_speed_mm_s as ``Overhang perimeter`` where the
wall's centre line is beyond the layer below, and nowhere else; off by default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings
from tests.slicer.gcode_reader import read
from tests.slicer.test_support import _overhang

OVERHANG = "Overhang perimeter"


def _slice(path: Path, *overrides: str) -> str:
    settings = SliceSettings.from_overrides(list(overrides))
    return slice_models(
        [path], printer=load_printer(), material=load_material(), settings=settings
    ).gcode


@pytest.mark.parametrize(("angle", "expect"), [(60, True), (40, False)])
def test_only_walls_over_air_are_slowed(tmp_path: Path, angle: float, expect: bool) -> None:
    path = _overhang(angle, tmp_path / "oh.stl")
    assert OVERHANG not in _slice(path)
    text = _slice(path, "overhang_wall_speed_mm_s=10")
    prog = read(text)
    layers = [i for i, layer in enumerate(prog.layers) if OVERHANG in layer.features]
    assert bool(layers) is expect
    if not expect:  # 40 deg: each layer steps out 0.17 mm, less than half a line
        return
    # Only on the leaning side (from z = 5 mm up), only on the right of the block.
    assert prog.layers[layers[0]].z_mm > 5.0
    x0 = prog.layers[0].seg_array("External perimeter")[:, [0, 2]].min()
    for i in layers:
        seg = prog.layers[i].seg_array(OVERHANG)
        assert seg[:, [0, 2]].min() > x0 + 10.0 - 0.45
    # Printed at 10 mm/s (the feed rate line right after the feature comment).
    feeds = re.findall(r";TYPE:Overhang perimeter\n(?:;WIDTH:[\d.]+\n)?G1 F(\d+)", text)
    assert feeds and set(feeds) == {"600"}


def test_overhang_fan_while_overhanging(tmp_path: Path) -> None:
    path = _overhang(60, tmp_path / "oh.stl")
    text = _slice(path, "overhang_wall_speed_mm_s=10", "fan_percent=50", "overhang_fan_percent=100")
    chunks = text.split("M106 S255\n")[1:]
    assert chunks
    for chunk in chunks:  # full fan only for the overhang, then back to 50 %
        during, _, _ = chunk.partition("M106 S128\n")
        types = set(re.findall(r";TYPE:(.*)", during))
        assert types == {OVERHANG}
