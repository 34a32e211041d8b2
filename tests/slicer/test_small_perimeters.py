"""Small perimeters (PrusaSlicer's ``small_perimeter_speed``): wall loops no longer than a
circle of 6.5 mm radius print at ``small_perimeter_speed_mm_s``; parsed back from the G-code."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import trimesh

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings

SMALL_LOOP_MM = 2 * math.pi * 6.5


@pytest.fixture(scope="module")
def plate(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A 3 mm radius pin (18.8 mm around) and a 20 mm cube (80 mm around), 10 mm tall."""
    folder = tmp_path_factory.mktemp("small")
    pin = trimesh.creation.cylinder(radius=3, height=10, sections=64)
    cube = trimesh.creation.box((20, 20, 10))
    paths = [folder / "pin.stl", folder / "cube.stl"]
    for mesh, path in zip((pin, cube), paths, strict=True):
        mesh.export(path)
    return paths


def _outer_loops(gcode: str) -> list[tuple[float, float]]:
    """(length mm, slowest speed mm/s) of every outer-wall loop above the first layer."""
    loops: list[tuple[float, float]] = []
    x = y = 0.0
    feed = 0.0
    feature, layer, current = "", 0, None
    for line in gcode.splitlines():
        if line.startswith(";LAYER_CHANGE"):
            layer += 1
        if line.startswith(";TYPE:"):
            feature = line[6:]
        words = dict(re.findall(r"([XYEF])(-?\d*\.?\d+)", line.split(";", 1)[0]))
        if not line.startswith("G1"):
            continue
        nx, ny = float(words.get("X", x)), float(words.get("Y", y))
        feed = float(words.get("F", feed))
        extruding = float(words.get("E", 0)) > 0 and (nx, ny) != (x, y)
        if extruding and feature == "External perimeter" and layer > 1:
            if current is None:
                current = [0.0, math.inf]
                loops.append(current)
            current[0] += math.hypot(nx - x, ny - y)
            current[1] = min(current[1], feed / 60)
        elif not extruding or feature != "External perimeter":
            current = None
        x, y = nx, ny
    return [(length, speed) for length, speed in loops]


def _slice(paths: list[Path], *overrides: str) -> str:
    settings = SliceSettings.from_overrides(["skirt_loops=0", *overrides])
    return slice_models(
        paths, printer=load_printer(), material=load_material(), settings=settings
    ).gcode


def test_small_loops_take_their_own_speed(plate: list[Path]):
    loops = _outer_loops(_slice(plate, "small_perimeter_speed_mm_s=50"))
    small = [speed for length, speed in loops if length < SMALL_LOOP_MM - 1]
    large = [speed for length, speed in loops if length > SMALL_LOOP_MM + 1]
    assert small and large
    assert min(small) >= 45  # 50 mm/s, less any cooling slowdown
    assert max(large) <= 25


def test_off_by_default(plate: list[Path]):
    loops = _outer_loops(_slice(plate))
    assert loops
    assert max(speed for _, speed in loops) <= 25
