"""analyze(): invariants over real PrusaSlicer, CuraEngine and slicefarm files."""

from __future__ import annotations

import json

import pytest

from gcode.analyze import analyze, analyze_text
from gcode.errors import GcodeError, NotGcodeError
from printers.profiles import load_material, load_printer

REQUIRED = (
    "layers",
    "layer_height_mm",
    "filament_mm",
    "filament_g",
    "estimated_time_s",
    "slicer",
    "slicer_estimated_time_s",
    "bbox_mm",
)


@pytest.mark.parametrize("slicer", ["PrusaSlicer", "Cura", "slicefarm"])
def test_real_files(fixture_paths, slicer):
    a = analyze(fixture_paths[slicer])
    assert a.slicer == slicer
    # thin_walls_varying: 5 mm tall at 0.2 mm, centred on the 220 mm ender3 bed
    assert a.layers == 25
    assert a.layer_height_mm == pytest.approx(0.2)
    (x0, y0, z0), (x1, y1, z1) = a.bbox_mm
    assert z0 == pytest.approx(0.2) and z1 == pytest.approx(5.0)
    assert 70 < x0 < x1 < 150 and 90 < y0 < y1 < 130
    assert 380 < a.filament_mm < 440
    # 1.75 mm PLA: 1.24 g/cm3 -> about 3 g per metre
    assert a.filament_g == pytest.approx(a.filament_mm * 0.00298, rel=0.01)
    assert a.first_layer_nozzle_temp_c == 210 and a.first_layer_bed_temp_c == 60
    assert a.max_extrude_speed_mm_s == pytest.approx(50)
    assert a.retractions > 100
    assert a.tool_changes == 0
    assert a.slicer_estimated_time_s == pytest.approx(a.estimated_time_s, rel=0.1)
    assert a.issue_count == 0


def test_filament_matches_prusaslicer_own_figure(fixture_paths):
    a = analyze(fixture_paths["PrusaSlicer"])
    assert a.slicer_filament_mm == 397.56
    assert a.filament_mm == pytest.approx(397.56, abs=0.01)
    assert a.nozzle_diameter_mm == 0.4
    assert a.stated_filament_diameter_mm == 1.75
    assert a.flavor == "marlin2"


def test_json_has_the_promised_keys(fixture_paths):
    out = analyze(fixture_paths["Cura"]).to_json()
    for key in REQUIRED:
        assert key in out
    assert len(out["bbox_mm"]) == 2 and len(out["bbox_mm"][0]) == 3
    json.dumps(out)


def test_printer_and_material_change_time_and_cost(fixture_paths):
    path = fixture_paths["PrusaSlicer"]
    ender = analyze(path)
    voron = analyze(path, printer=load_printer("voron24_300"), material=load_material("PETG"))
    assert voron.printer == "voron24_300" and voron.material == "PETG"
    assert voron.estimated_time_s != ender.estimated_time_s
    assert voron.filament_mm == ender.filament_mm
    assert voron.filament_g != ender.filament_g


def test_synthetic_file_without_slicer_comments():
    text = "M104 S200\nM140 S55\nG28\nG1 Z0.3 F600\nG1 X10 Y10 E1 F1200\nT1\nG1 X20 E2\nT0\n"
    a = analyze_text(text)
    assert a.slicer is None and a.slicer_estimated_time_s is None
    assert a.to_json()["slicer_estimated_time_s"] is None
    assert a.layers == 1 and a.layer_height_mm is None
    assert a.bbox_mm == ((0.0, 0.0, 0.3), (20.0, 10.0, 0.3))
    assert a.tools == (0, 1) and a.tool_changes == 2
    assert a.filament_mm == 2
    assert a.first_layer_nozzle_temp_c == 200 and a.first_layer_bed_temp_c == 55


def test_prusa_printer_checks_state_the_nozzle():
    text = 'M862.3 P "MK3S" ; printer model check\nM862.1 P0.6 ; nozzle check\nG1 X5 E1\n'
    a = analyze_text(text)
    assert a.nozzle_diameter_mm == 0.6
    assert a.issue_count == 0


def test_spiral_vase_counts_layer_markers():
    turns = []
    for layer in range(3):
        turns.append(";LAYER_CHANGE")
        for k in range(1, 21):  # one turn of a square, rising 0.2 mm
            z = 0.2 + layer * 0.2 + k * 0.01
            x, y = [(20, 0), (20, 20), (0, 20), (0, 0)][k % 4]
            turns.append(f"G1 X{x} Y{y} Z{z:.3f} E{layer * 20 + k}")
    a = analyze_text("G28\nG1 Z0.2 F600\n" + "\n".join(turns) + "\n")
    assert a.layers == 3


def test_klipper_start_macro_temperatures():
    a = analyze_text("PRINT_START EXTRUDER=240 BED=85\nG28\nG1 Z0.2 F600\nG1 X10 E1\n")
    assert (a.first_layer_nozzle_temp_c, a.first_layer_bed_temp_c) == (240, 85)
    assert (a.max_nozzle_temp_c, a.max_bed_temp_c) == (240, 85)


def test_relative_e_and_retractions_count_filament_once():
    text = "M83\nG1 X10 E5 F600\nG1 E-2\nG1 X20\nG1 E2\nG1 X30 E5\nG1 E-2\n"
    a = analyze_text(text)
    assert a.filament_mm == 10
    assert a.retractions == 2


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01\x02binary", b"hello world\n", b"solid cube\n facet normal 0 0 1\n", b""],
)
def test_not_gcode_is_refused(tmp_path, content):
    path = tmp_path / "x.gcode"
    path.write_bytes(content)
    with pytest.raises(NotGcodeError) as info:
        analyze(path)
    assert str(path) in str(info.value)


def test_gzip_and_binary_gcode(fixture_paths, tmp_path):
    import gzip

    packed = tmp_path / "part.gcode.gz"
    packed.write_bytes(gzip.compress(fixture_paths["Cura"].read_bytes()))
    assert analyze(packed).layers == 25
    bgcode = tmp_path / "part.bgcode"
    bgcode.write_bytes(b"GCDE\x01\x00\x00\x00" + bytes(64))
    with pytest.raises(NotGcodeError, match="bgcode"):
        analyze(bgcode)
    broken = tmp_path / "broken.gcode.gz"
    broken.write_bytes(b"\x1f\x8b\x08junk")
    with pytest.raises(GcodeError, match="cannot read"):
        analyze(broken)


def test_large_junk_is_refused_from_its_first_lines(tmp_path):
    path = tmp_path / "data.gcode"
    path.write_text("id,x,y,label\n" + "17,1.5,2.5,hello world\n" * 60_000)
    with pytest.raises(NotGcodeError, match="not G-code"):
        analyze(path)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(GcodeError, match=r"missing\.gcode"):
        analyze(tmp_path / "missing.gcode")


def test_text_source_is_accepted(fixture_paths):
    text = fixture_paths["Cura"].read_text()
    assert analyze(text).layers == analyze(fixture_paths["Cura"]).layers


def test_orca_style_file_with_arcs_thumbnail_and_klipper_macros():
    from pathlib import Path

    from gcode.check import check_compatibility

    path = Path(__file__).parent / "data" / "orca_arcs_klipper.gcode"
    a = analyze(path)
    assert (a.slicer, a.slicer_version, a.slicer_estimated_time_s) == ("OrcaSlicer", "2.1.1", 10)
    assert a.layers == 3
    # three layers of one circle of radius 10 about (110, 110), printed as G2/G3 arcs
    lo, hi = a.bbox_mm
    assert lo + hi == pytest.approx((100, 100, 0.2, 120, 120, 0.6), abs=0.01)
    assert a.filament_mm == pytest.approx(a.slicer_filament_mm, abs=0.01)
    assert a.thumbnails == ((16, 12, "png"),)
    assert "PRINT_START" in a.extended_commands
    assert check_compatibility(a, load_printer("voron24_300")) == []
    problems = check_compatibility(a, load_printer("ender3"))
    assert any("Klipper macros" in p for p in problems)
    # 3 x 1.25 circles of 62.8 mm at 30 mm/s, plus moves: about 8 to 12 s
    assert 7.8 < a.estimated_time_s < 12
