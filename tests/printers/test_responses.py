"""Response parsers, table-driven (serial-protocol P9–P33)."""

from __future__ import annotations

import pytest

from printers.responses import (
    Action,
    Busy,
    Capability,
    ErrorKind,
    FirmwareError,
    FirmwareInfo,
    Ok,
    Other,
    Position,
    Resend,
    Start,
    TemperatureReading,
    TemperatureReport,
    Wait,
    parse_response,
    parse_temperatures,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ok", Ok()),
        ("ok\r\n", Ok()),
        ("ok N12 P15 B3", Ok("N12 P15 B3")),  # P9 ADVANCED_OK
        ("Resend: 42", Resend(42)),  # P13
        ("Resend:N42", Resend(42)),
        ("rs N42", Resend(42)),
        ("rs 7", Resend(7)),
        ("Resend: N:9", Resend(9)),
        ("echo:busy: processing", Busy("processing")),  # P19
        ("busy: paused for user", Busy("paused for user")),
        ("wait", Wait()),  # P10
        ("start", Start()),  # P25
        ("//action:pause", Action("pause")),  # P32
        ("//action:notification Filament out", Action("notification", "Filament out")),
        ("Cap:AUTOREPORT_TEMP:1", Capability("AUTOREPORT_TEMP", True)),  # P24
        ("Cap:EMERGENCY_PARSER:0", Capability("EMERGENCY_PARSER", False)),
        ("X:10.00 Y:-2.50 Z:0.30 E:1.20 Count X:800 Y:0 Z:120", Position(10, -2.5, 0.3, 1.2)),
        ("echo:SD card ok", Other("echo:SD card ok")),  # P27
        ("\x80\x81garbage", Other("\x80\x81garbage")),
        ("", Other("")),
    ],
)
def test_parse_response_table(line: str, expected: object) -> None:
    assert parse_response(line) == expected


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Error:checksum mismatch, Last Line: 41", ErrorKind.TRANSPORT),  # P12
        ("Error:Line Number is not Last Line Number+1, Last Line: 41", ErrorKind.TRANSPORT),
        ("Error: expected line 42 got 43", ErrorKind.TRANSPORT),
        ("Error: Missing checksum", ErrorKind.TRANSPORT),
        ("Error:No Line Number with checksum, Last Line: 3", ErrorKind.NO_LINE_NUMBER),  # P17
        ("Error:open failed, File: x.gco", ErrorKind.SD_CARD),  # P28 exceptions
        ("Error:Unknown command: G999", ErrorKind.UNKNOWN_COMMAND),
        ("Error:Thermal Runaway, system stopped! Heater_ID: 0", ErrorKind.FATAL),  # P28
        ("Error:Printer halted. kill() called!", ErrorKind.FATAL),
        ("Error:MAXTEMP triggered, system stopped! Heater_ID: E0", ErrorKind.FATAL),
        ("!! Lost communication with MCU", ErrorKind.FATAL),
        ("fatal: heater decoupled", ErrorKind.FATAL),
    ],
)
def test_p12_p17_p28_error_classes(line: str, kind: ErrorKind) -> None:
    response = parse_response(line)
    assert isinstance(response, FirmwareError)
    assert response.kind is kind


def test_p9_p23_ok_with_temperatures() -> None:
    response = parse_response("ok T:21.3 /0.0 B:21.3 /60.0 @:0 B@:0")
    assert isinstance(response, Ok)
    assert response.temperatures == TemperatureReport(
        (TemperatureReading(21.3, 0.0),), TemperatureReading(21.3, 60.0)
    )


@pytest.mark.parametrize(
    ("line", "hotends", "bed"),
    [
        ("T:210.5 /210.0 B:60.1 /60.0 @:127 B@:0", [(210.5, 210.0)], (60.1, 60.0)),
        ("T:21.30/ 0.00 B:20.00 /0.00", [(21.3, 0.0)], (20.0, 0.0)),  # P23 spacing
        (
            "T:200.0 /200.0 B:60.0 /60.0 T0:200.0 /200.0 T1:150.0 /0.0 @:0",
            [(200.0, 200.0), (150.0, 0.0)],
            (60.0, 60.0),
        ),  # P23 multi-tool
        ("T:180.3 E:0 W:?", [(180.3, None)], None),  # P20 M109 progress
    ],
)
def test_p23_temperature_grammar(line: str, hotends: list, bed: tuple | None) -> None:
    report = parse_response(line)
    assert isinstance(report, TemperatureReport)
    assert [(r.actual_c, r.target_c) for r in report.hotends] == hotends
    assert (None if report.bed is None else (report.bed.actual_c, report.bed.target_c)) == bed


def test_p23_no_temperature_is_none() -> None:
    assert parse_temperatures("N12 P15 B") is None


def test_p24_firmware_info_fields() -> None:
    line = (
        "FIRMWARE_NAME:Marlin 2.1.2 (Github) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
        "PROTOCOL_VERSION:1.0 MACHINE_TYPE:Ender-3 EXTRUDER_COUNT:1"
    )
    info = parse_response(line)
    assert isinstance(info, FirmwareInfo)
    assert info.firmware_name == "Marlin 2.1.2 (Github)"
    assert info.fields["EXTRUDER_COUNT"] == "1"
    assert info.fields["MACHINE_TYPE"] == "Ender-3"
