"""check_compatibility: each rule on its own, then the real files on the shipped printers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gcode.analyze import analyze, analyze_text
from gcode.check import check_compatibility
from printers.profiles import load_material, load_printer

ENDER = load_printer("ender3")
PLA = load_material("PLA")
BASE = analyze_text(
    "M140 S60\nM104 S210\nG28\nG1 Z0.2 F600\nG1 X50 Y50 F6000\nG1 X100 Y100 E5 F1200\n"
)


def test_clean_job_has_no_problems():
    assert check_compatibility(BASE, ENDER, PLA) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"bbox_mm": ((10.0, 10.0, 0.2), (230.0, 100.0, 5.0))}, "X 10..230"),
        ({"bbox_mm": ((10.0, 10.0, 0.2), (100.0, 100.0, 260.0))}, "Z 0.2..260"),
        ({"bbox_all_mm": ((-30.0, 0.0, 0.0), (100.0, 100.0, 5.0))}, "moves spans X"),
        ({"max_nozzle_temp_c": 280.0}, "above the printer's maximum 260"),
        ({"max_bed_temp_c": 110.0}, "bed temperature 110"),
        ({"first_layer_nozzle_temp_c": 250.0}, "outside PLA's"),
        ({"max_volumetric_flow_mm3_s": 20.0}, "more than PLA's 15 mm³/s"),
        ({"nozzle_diameter_mm": 0.6}, "0.6 mm nozzle"),
        ({"stated_filament_diameter_mm": 2.85}, "2.85 mm filament"),
        ({"flavor": "Griffin"}, "flavour 'Griffin'"),
        ({"extended_commands": ("PRINT_START",)}, "Klipper macros (PRINT_START)"),
        ({"commands": ("G1", "M566")}, "M566"),
        ({"tools": (0, 1)}, "T1"),
        ({"issue_count": 3, "issues": ("line 4: malformed number",)}, "3 malformed"),
    ],
)
def test_each_rule(change, words):
    material = PLA if "PLA" in words else None
    problems = check_compatibility(replace(BASE, **change), ENDER, material)
    assert len(problems) == 1, problems
    assert words in problems[0]


def test_material_rules():
    voron = load_printer("voron24_300")
    abs_ = load_material("ABS")
    assert any("not set up for ABS" in p for p in check_compatibility(BASE, ENDER, abs_))
    assert any("enclosed" in p for p in check_compatibility(BASE, ENDER, abs_))
    problems = check_compatibility(replace(BASE, max_nozzle_temp_c=245.0), voron, abs_)
    assert not any("enclosed" in p for p in problems)


def test_klipper_printer_accepts_macros():
    klipper = load_printer("voron24_300")
    job = replace(BASE, extended_commands=("PRINT_START",), flavor="klipper")
    problems = check_compatibility(job, klipper)
    if klipper.firmware.value == "klipper":
        assert problems == []


def test_tpu_is_refused_for_a_fast_print(fixture_paths):
    a = analyze(fixture_paths["PrusaSlicer"], material=load_material("TPU"))
    # 0.45 mm x 0.2 mm lines at 50 mm/s: about 4.5 mm³/s, TPU takes 2.5
    assert 4 < a.max_volumetric_flow_mm3_s < 6
    problems = check_compatibility(a, ENDER, load_material("TPU"))
    assert any("mm³/s" in p for p in problems)


def test_start_script_purge_line_outside_the_bed_is_not_the_print():
    text = (
        "G28\nG1 Z0.2 F720\nG1 Y-3 F1000\nG1 X60 E9 F1000\nG1 X100 E12.5\n"  # MK3S intro line
        ";LAYER_CHANGE\n;Z:0.2\nG92 E0\nG1 X110 Y90 F6000\nG1 X130 Y90 E1 F1200\n"
    )
    a = analyze_text(text)
    assert a.bbox_mm == ((110.0, 90.0, 0.2), (130.0, 90.0, 0.2))
    assert a.bbox_all_mm[0][1] == -3.0
    assert check_compatibility(a, load_printer("prusa_mk3s"), PLA) == []


def test_real_files_fit_the_ender(fixture_paths):
    for path in fixture_paths.values():
        assert check_compatibility(analyze(path), ENDER, PLA) == []


def test_small_bed_refuses_the_big_print(fixture_paths):
    tiny = ENDER.model_copy(update={"bed_x_mm": 100.0, "bed_y_mm": 100.0})
    problems = check_compatibility(analyze(fixture_paths["PrusaSlicer"]), tiny, PLA)
    assert any(p.startswith("print spans X") for p in problems)
