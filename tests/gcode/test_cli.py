"""``slicefarm analyze`` as a user runs it."""

from __future__ import annotations

import json

from api.cli import main


def test_json_output(fixture_paths, capsys):
    assert main(["analyze", str(fixture_paths["PrusaSlicer"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["layers"] == 25
    assert out["slicer"] == "PrusaSlicer"
    assert out["slicer_estimated_time_s"] == 573


def test_text_output_and_check(fixture_paths, capsys):
    assert main(["analyze", str(fixture_paths["Cura"]), "--check", "--printer", "ender3"]) == 0
    out = capsys.readouterr().out
    assert "layers:       25" in out
    assert "check:        ok" in out


def test_check_failure_exits_1(fixture_paths, capsys):
    code = main(["analyze", str(fixture_paths["slicefarm"]), "--check", "--material", "ABS"])
    assert code == 1
    assert "not set up for ABS" in capsys.readouterr().out


def test_not_gcode_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "model.stl"
    path.write_bytes(b"\x00\x00binary stl")
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert str(path) in err and "not G-code" in err


def test_unknown_printer_exits_2(fixture_paths, capsys):
    assert main(["analyze", str(fixture_paths["Cura"]), "--printer", "nope"]) == 2
    assert "no such printer profile" in capsys.readouterr().err


def test_thumbnails_are_written(tmp_path, capsys):
    from tests.gcode.test_thumbnail import block, tiny_png

    path = tmp_path / "t.gcode"
    path.write_text(block(tiny_png(3, 2), 3, 2) + "G28\nG1 X1 Y1 E1\n")
    assert main(["analyze", str(path), "--thumbnails", str(tmp_path / "out")]) == 0
    written = list((tmp_path / "out").iterdir())
    assert [p.name for p in written] == ["t.0.3x2.png"]


def test_add_m73_writes_a_copy(fixture_paths, tmp_path, capsys):
    out = tmp_path / "with_m73.gcode"
    assert main(["analyze", str(fixture_paths["Cura"]), "--add-m73", str(out)]) == 0
    text = out.read_text()
    assert text.count("\nM73 P") >= 25
    assert "\nM73 P100 R0\n" in text


def test_unwritable_output_exits_2(fixture_paths, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = blocker / "out.gcode"  # a file is in the way of the folder
    assert main(["analyze", str(fixture_paths["Cura"]), "--add-m73", str(target)]) == 2
    assert "out.gcode" in capsys.readouterr().err
