"""Micro-goldens for the writer's formatting and G-code structure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gcode.writer import GcodeWriter, fill_template, format_duration, write_layer
from slicer.settings import SliceSettings
from slicer.toolpath import Feature, LayerPlan, Toolpath, extrusion_area_mm2

S = SliceSettings().model_copy(update={"retract_length_mm": 5.0, "retract_speed_mm_s": 40.0})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4742, "1h 19m 2s"), (1447, "24m 7s"), (9, "9s"), (90061, "1d 1h 1m 1s"), (3600, "1h 0m 0s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_extrusion_area_is_slic3r_rectangle_with_round_ends() -> None:
    assert extrusion_area_mm2(0.45, 0.2) == pytest.approx(0.2 * (0.45 - 0.2 * (1 - math.pi / 4)))


def test_fill_template_replaces_only_known_names() -> None:
    text = fill_template(
        "M190 S{bed_temp_c}\nG1 Y{bed_y_mm}\n{unknown}", {"bed_temp_c": 60.0, "bed_y_mm": 220}
    )
    assert text == "M190 S60\nG1 Y220\n{unknown}"


def test_moves_use_fixed_decimals_and_no_redundant_words() -> None:
    w = GcodeWriter(S, 1.75)
    w.travel(1.0, 2.0)
    w.travel(1.0, 3.0)
    path = Toolpath(
        np.array([[1.0, 3.0], [11.0, 3.0], [11.0, 3.0], [11.0, 13.0]]), Feature.WALL, 0.45, 50.0
    )
    w.extrude_path(path, 0.2)
    e = 10 * extrusion_area_mm2(0.45, 0.2) / (math.pi * 1.75**2 / 4)
    assert w.lines == [
        "G1 X1.000 Y2.000 F9000",
        "G1 Y3.000",
        "G1 F3000",
        f"G1 X11.000 E{e:.5f}",
        f"G1 Y13.000 E{e:.5f}",
    ]


def test_layer_has_prusa_comments_retraction_and_fan() -> None:
    path = Toolpath(np.array([[0.0, 0.0], [10.0, 0.0]]), Feature.OUTER_WALL, 0.45, 25.0, True)
    plan = LayerPlan(1, 0.4, 0.2, (path,))
    s = S.model_copy(update={"fan_off_layers": 1, "fan_percent": 100.0})
    text, filament = write_layer(plan, s, 1.75)
    lines = text.splitlines()
    assert lines[:3] == [";LAYER_CHANGE", ";Z:0.4", ";HEIGHT:0.2"]
    assert "M106 S255" in lines
    assert lines.index("G1 E-5.00000 F2400") < lines.index("G1 Z0.400 F300")
    assert ";TYPE:External perimeter" in lines and ";WIDTH:0.45" in lines
    assert filament == pytest.approx(10 * extrusion_area_mm2(0.45, 0.2) / (math.pi * 1.75**2 / 4))


def test_z_hop_lifts_during_travel() -> None:
    path = Toolpath(np.array([[0.0, 0.0], [10.0, 0.0]]), Feature.WALL, 0.45, 50.0, True)
    s = S.model_copy(update={"z_hop_mm": 0.4})
    text, _ = write_layer(LayerPlan(3, 0.8, 0.2, (path, path)), s, 1.75)
    lines = text.splitlines()
    assert "G1 Z1.200 F300" in lines
    hop = lines.index("G1 Z1.200 F300")
    assert lines[hop - 1].startswith("G1 E-5") and any(
        line.startswith("G1 Z0.800") for line in lines[hop:]
    )


def test_absolute_e_resets_per_layer() -> None:
    path = Toolpath(np.array([[0.0, 0.0], [10.0, 0.0]]), Feature.WALL, 0.45, 50.0, False)
    s = S.model_copy(update={"relative_e": False})
    text, _ = write_layer(LayerPlan(3, 0.8, 0.2, (path, path)), s, 1.75)
    assert text.splitlines()[1] == "G92 E0"
    e_values = [float(w[1:]) for line in text.splitlines() for w in line.split() if w[0] == "E"]
    assert e_values == sorted(e_values)
