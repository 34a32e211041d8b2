"""The virtual printer itself, spoken to through pyserial exactly like hardware (P2–P27)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import serial

from gcode.framing import frame, reset_line
from printers.virtual import FaultConfig, FaultSpecError, VirtualPrinter

Factory = Callable[..., VirtualPrinter]


def talk(port: serial.SerialBase, *lines: str, wait_s: float = 0.3) -> list[str]:
    for line in lines:
        port.write(line.encode() + b"\n")
    deadline = time.monotonic() + wait_s
    data = b""
    while time.monotonic() < deadline or (data and not data.endswith(b"\n")):
        data += port.read(port.in_waiting or 1)
    return data.decode("latin-1").splitlines()


@pytest.fixture
def opened(virtual: Factory) -> Callable[..., tuple[VirtualPrinter, serial.SerialBase]]:
    ports: list[serial.SerialBase] = []

    def make(**kwargs: object) -> tuple[VirtualPrinter, serial.SerialBase]:
        printer = virtual(**kwargs)
        port = serial.serial_for_url(printer.port, 115200, timeout=0.05)
        ports.append(port)
        time.sleep(0.15)  # boot window (P25)
        return printer, port

    yield make
    for port in ports:
        port.close()


@pytest.mark.timeout(20)
def test_p25_boot_banner_on_open(opened: Callable) -> None:
    _, port = opened(instant=True)
    lines = talk(port, wait_s=0.2)
    assert lines[0] == "start"


@pytest.mark.timeout(20)
def test_p2_p12_p13_checksum_and_line_number_errors(opened: Callable) -> None:
    printer, port = opened(instant=True)
    talk(port, wait_s=0.1)
    assert talk(port, reset_line(0), frame(1, "G1 X5")) == ["ok", "ok"]
    good = frame(2, "G1 X6")
    bad = good[:-1] + ("1" if good.endswith("0") else "0")
    assert talk(port, bad) == ["Error:checksum mismatch, Last Line: 1", "Resend: 2", "ok"]
    assert talk(port, frame(3, "G1 X7"))[:2] == [
        "Error:Line Number is not Last Line Number+1, Last Line: 1",
        "Resend: 2",
    ]
    assert talk(port, "N2 G1 X6")[0].startswith("Error:No Checksum")
    assert talk(port, frame(2, "G1 X6")) == ["ok"]
    assert printer.executed == ["M110 N0", "G1 X5", "G1 X6"]
    assert printer.position_mm["X"] == 6.0


@pytest.mark.timeout(20)
def test_p6_m110_sets_the_last_line_number(opened: Callable) -> None:
    _, port = opened(instant=True)
    talk(port, wait_s=0.1)
    assert talk(port, frame(-1, "M110 N-1"), frame(0, "G4 P0")) == ["ok", "ok"]  # Printrun style


@pytest.mark.timeout(20)
def test_p24_m115_lists_capabilities(opened: Callable) -> None:
    _, port = opened(instant=True, autoreport_temp=False)
    talk(port, wait_s=0.1)
    lines = talk(port, "M115")
    assert lines[0].startswith("FIRMWARE_NAME:Marlin")
    assert "Cap:AUTOREPORT_TEMP:0" in lines
    assert "Cap:EMERGENCY_PARSER:1" in lines
    assert lines[-1] == "ok"


@pytest.mark.timeout(20)
def test_p19_busy_during_dwell_and_temperatures_during_m109(opened: Callable) -> None:
    _, port = opened(speed=1.0, busy_interval_s=0.1)
    talk(port, wait_s=0.1)
    assert "echo:busy: processing" in talk(port, "G4 P500", wait_s=0.7)
    heating = talk(port, "M109 S30", wait_s=1.5)
    assert any(line.startswith(" T:") for line in heating)


@pytest.mark.timeout(20)
def test_motion_takes_time_from_feedrate(opened: Callable) -> None:
    _, port = opened(speed=1.0)
    talk(port, wait_s=0.1)
    started = time.monotonic()
    first = talk(port, "G1 X10 F1200", "M400", wait_s=0.2)
    assert [line for line in first if "busy" not in line] == ["ok"]  # M400 still waits
    lines = talk(port, wait_s=0.6)
    assert lines[-1] == "ok"
    assert time.monotonic() - started >= 0.5  # 10 mm at 20 mm/s


@pytest.mark.timeout(20)
def test_p26_wrong_baud_rate_reads_garbage(virtual: Factory) -> None:
    printer = virtual(instant=True, baud=57600)
    with serial.serial_for_url(printer.port, 115200, timeout=0.05) as port:
        time.sleep(0.15)
        lines = talk(port, "M105")
    assert lines and all("ok" not in line for line in lines)


def test_fault_spec_parsing() -> None:
    faults = FaultConfig.parse("corrupt=0.02, drop=0.003,thermal_runaway=500,garbage_on_boot=1")
    assert faults == FaultConfig(
        corrupt_rate=0.02, drop_rate=0.003, thermal_runaway_after_lines=500, garbage_on_boot=True
    )
    with pytest.raises(FaultSpecError, match="unknown fault 'smoke'"):
        FaultConfig.parse("smoke=1")
    with pytest.raises(FaultSpecError, match="must lie in"):
        FaultConfig.parse("drop=2")
