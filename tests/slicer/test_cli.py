"""``slicefarm slice``: output file, exit codes, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main
from tests.slicer.conftest import MODELS
from tests.slicer.gcode_reader import read


def test_slice_writes_gcode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sub" / "bridge.gcode"
    code = main(
        [
            "slice",
            str(MODELS / "bridge_overhang.stl"),
            "-o",
            str(out),
            "--set",
            "infill_density=0.3",
            "--set",
            "infill_pattern=grid",
        ]
    )
    assert code == 0
    prog = read(out.read_text())
    assert len(prog.layers) == 100
    assert prog.comments["infill_pattern"] == "grid"
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--set", "bogus_mm=1"], "bogus_mm"),
        (["--set", "perimeters=-1"], "perimeters"),
        (["--printer", "no_such_printer"], "no_such_printer"),
        (["--material", "unobtainium"], "unobtainium"),
        (["--copies", "0"], "copies"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code = main(
        ["slice", str(MODELS / "xyz_cube_20mm.stl"), "-o", str(tmp_path / "x.gcode"), *args]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_model_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.stl"
    bad.write_bytes(b"")
    assert main(["slice", str(bad), "-o", str(tmp_path / "x.gcode")]) == 2
    assert "bad.stl: empty file" in capsys.readouterr().err


def test_plate_too_small_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "slice",
            str(MODELS / "tiny_holes.stl"),
            "-o",
            str(tmp_path / "x.gcode"),
            "--copies",
            "40",
            "--quiet",
        ]
    )
    assert code == 2
    assert "tiny_holes" in capsys.readouterr().err


def test_python_m_slicer_entry(tmp_path: Path) -> None:
    from slicer.__main__ import main as module_main

    out = tmp_path / "cube.gcode"
    assert module_main([str(MODELS / "xyz_cube_20mm.stl"), "-o", str(out), "--quiet"]) == 0
    assert len(read(out.read_text()).layers) == 100


def test_progress_bar_only_when_enabled_and_slow(capsys: pytest.CaptureFixture[str]) -> None:
    from slicer.cli import ProgressBar

    quiet = ProgressBar(enabled=False, delay_s=0.0)
    quiet(5, 10)
    quiet.close()
    fast = ProgressBar(enabled=True, delay_s=60.0)  # a slice shorter than the delay: no bar
    fast(5, 10)
    fast.close()
    assert capsys.readouterr().err == ""
    bar = ProgressBar(enabled=True, delay_s=0.0)
    bar(5, 10)
    bar(10, 10)
    bar.close()
    err = capsys.readouterr().err
    assert "5/10 layers" in err and "10/10 layers" in err and err.endswith("\n")


def test_no_progress_bar_when_stderr_is_not_a_tty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "t.gcode"
    assert main(["slice", str(MODELS / "thin_walls_varying.stl"), "-o", str(out)]) == 0
    assert "layers" not in capsys.readouterr().err
