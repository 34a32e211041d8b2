"""Job sources: progress, layers, M73 hints, modal state for resume (P30), scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from printers.job import ModalState, count_lines, fill_script, open_job, resume_lines
from printers.profiles import PrinterProfile
from printers.responses import Position


def drain(lines: list[str]) -> tuple[int, int | None, float | None, ModalState]:
    job = open_job(lines, None)
    for _ in job:
        pass
    return job.lines_read, job.layer, job.remaining_s_hint, job.modal


def test_layers_m73_and_modes_are_followed() -> None:
    lines = [";LAYER_CHANGE", "G1 X1 F1200", "M73 P10 R7", ";LAYER_CHANGE", "G91", "M83"]
    read, layer, remaining_s, modal = drain(lines)
    assert (read, layer, remaining_s) == (6, 1, 420.0)
    assert (modal.absolute_xyz, modal.absolute_e, modal.feedrate_mm_min) == (False, False, 1200)


def test_cura_layer_numbers() -> None:
    assert drain([";LAYER:0", "G1 X1", ";LAYER:41"])[1] == 41


@pytest.mark.parametrize(
    ("commands", "absolute_xyz", "absolute_e"),
    [
        (["G91"], False, False),
        (["G91", "G90"], True, True),
        (["M83"], True, False),
        (["G91", "M82"], False, True),
    ],
)
def test_modal_state(commands: list[str], absolute_xyz: bool, absolute_e: bool) -> None:
    modal = ModalState()
    for command in commands:
        modal.follow(command)
    assert (modal.absolute_xyz, modal.absolute_e) == (absolute_xyz, absolute_e)


def test_p30_resume_restores_position_then_modes_then_feed() -> None:
    modal = ModalState(absolute_xyz=False, absolute_e=False, last_feed_command="G1 X1 F1800")
    assert resume_lines(Position(1, 2, 3, 4), modal) == [
        "G90",
        "G1 X1.000 Y2.000 F6000",
        "G1 Z3.000 F600",
        "M82",
        "G92 E4.00000",
        "G91",
        "M83",
        "G1 F1800",
    ]
    assert resume_lines(None, ModalState()) == ["G90", "M82"]


def test_scripts_fill_profile_placeholders(profile: PrinterProfile) -> None:
    pause = fill_script("G91\nG1 Z5 ; lift\n\nG90\nG1 X0 Y{bed_y_mm} {unknown}", profile)
    assert pause == ["G91", "G1 Z5", "G90", f"G1 X0 Y{profile.bed_y_mm:g} {{unknown}}"]


def test_open_job_from_path_text_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.gcode"
    path.write_text("G28\nG1 X1\nG1 X2", encoding="utf-8")  # no final newline
    assert count_lines(path) == 3
    assert open_job(path, None).total_lines == 3
    assert open_job(str(path), None).total_lines == 3
    assert open_job("G28\nG1 X1\n", None).total_lines == 2
    assert open_job(["G28"], None).total_lines == 1
    assert open_job(iter(["G28"]), None).total_lines is None
    with pytest.raises(FileNotFoundError, match="no such G-code file"):
        open_job(tmp_path / "missing.gcode", None)
