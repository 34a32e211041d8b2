"""``slicefarm send``, ``ports`` and ``virtual-printer``: exit codes and one-line errors."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from api.cli import main
from printers.virtual import FaultConfig, VirtualPrinter

Factory = Callable[..., VirtualPrinter]


@pytest.fixture
def gcode_file(tmp_path: Path) -> Path:
    path = tmp_path / "part.gcode"
    moves = "\n".join(f"G1 X{i % 50} F6000 ; move" for i in range(300))
    path.write_text(f"G28\nM104 S200\n;LAYER_CHANGE\nG90\n{moves}\nM104 S0\n", encoding="utf-8")
    return path


@pytest.mark.timeout(30)
def test_send_prints_and_exits_0(
    virtual: Factory, gcode_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printer = virtual(instant=True)
    assert main(["send", str(gcode_file), "--port", printer.port]) == 0
    assert "printed part.gcode" in capsys.readouterr().out
    assert sum(command.startswith("G1 X") for command in printer.executed) == 300


@pytest.mark.timeout(30)
def test_send_printer_fault_exits_1(
    virtual: Factory, gcode_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printer = virtual(instant=True, faults=FaultConfig(thermal_runaway_after_lines=20))
    assert main(["send", str(gcode_file), "--port", printer.port]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("slicefarm: error: job failed: printer error: Thermal Runaway")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["send", "missing.gcode", "--port", "/dev/null"], 2, "no such G-code file"),
        (["send", "README.md", "--port", "/dev/nonexistent"], 1, "cannot connect"),
        (["send", "README.md", "--port", "x", "--printer", "nope"], 2, "no such printer"),
        (["virtual-printer", "--fault", "smoke=1"], 2, "unknown fault 'smoke'"),
        (["virtual-printer", "--count", "0"], 2, "--count must be at least 1"),
    ],
)
def test_bad_input_is_one_line(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert message in err


def test_bad_baud_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["send", "README.md", "--port", "x", "--baud", "fast"])
    assert exit_info.value.code == 2
    assert "'fast' is not a baud rate" in capsys.readouterr().err


def test_ports_lists_without_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ports"]) == 0
    assert capsys.readouterr().out


@pytest.mark.timeout(30)
def test_virtual_printer_command_prints_ports_and_stops_on_ctrl_c() -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "printers.virtual", "--count", "2", "--speed", "instant"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines = [child.stdout.readline().split() for _ in range(2)]
    assert [name for name, _ in lines] == ["virtual1", "virtual2"]
    assert all(Path(port).exists() for _, port in lines)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=10) == 0
