"""Printer commands: ``profiles``, ``ports``, ``send`` and ``virtual-printer``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from printers.profiles import (
    MaterialProfile,
    PrinterProfile,
    ProfileError,
    load_material,
    load_printer,
    load_toml_model,
    material_names,
    printer_names,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profiles",
        help="list the printer and material profiles, or check profile files",
        description="Without arguments: list the shipped printer and material profiles. "
        "With --check: validate TOML profile files and name the first bad field.",
    )
    parser.add_argument(
        "--check",
        nargs="+",
        metavar="FILE",
        help="profile files to validate (printer or material, told apart by their keys)",
    )
    parser.set_defaults(func=run_profiles)
    _register_ports(subparsers)
    _register_send(subparsers)
    _register_virtual(subparsers)


def _register_ports(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ports",
        help="list serial ports, likely printers first",
        description="List the serial ports of this machine with a board guess from USB VID:PID.",
    )
    parser.set_defaults(func=run_ports)


def _positive_or(
    word: str | None, kind: type[float] | type[int], what: str
) -> Callable[[str], Any]:
    """An argparse type: a positive ``kind`` number, or the literal ``word`` (if any)."""

    def convert(text: str) -> float | int | str:
        if word is not None and text == word:
            return text
        try:
            value = kind(text)
        except ValueError:
            alternative = f" or '{word}'" if word is not None else ""
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}{alternative}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{what} must be > 0, got {value}")
        return value

    return convert


def _register_send(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "send",
        help="stream a G-code file to a printer",
        description="Connect to the printer on PORT, stream FILE with a progress line, and "
        "exit 0 when it is printed.  Ctrl-C cancels with the profile's cancel script.",
    )
    parser.add_argument("file", metavar="FILE.gcode", type=Path)
    parser.add_argument("--port", required=True, help="/dev/ttyUSB0, /dev/pts/N, socket://...")
    parser.add_argument(
        "--baud",
        type=_positive_or("auto", int, "a baud rate"),
        default=None,
        help="rate or 'auto' (P26)",
    )
    parser.add_argument("--printer", default="ender3", help="printer profile name or TOML path")
    parser.set_defaults(func=run_send)


def _register_virtual(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "virtual-printer",
        help="run Marlin-like virtual printers on ptys until Ctrl-C",
        description="Start virtual printers and print their port paths, one per line "
        "('name path').  Faults: corrupt=RATE,drop=RATE,lost_ok=RATE,thermal_runaway=LINES,"
        "disconnect=LINES,hang=LINES,action_pause=LINES,garbage_on_boot=1.",
    )
    parser.add_argument("--count", type=int, default=1, help="how many printers (default 1)")
    parser.add_argument(
        "--speed",
        type=_positive_or("instant", float, "a speed factor"),
        default=1.0,
        help="time factor or 'instant'",
    )
    parser.add_argument("--fault", default="", help="faults to inject, e.g. corrupt=0.02")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault dice")
    parser.add_argument("--no-autoreport", action="store_true", help="no AUTOREPORT_TEMP")
    parser.add_argument(
        "--baud",
        type=_positive_or(None, int, "a baud rate"),
        default=115200,
        help="the rate the printers listen at; hosts at another rate read garbage (P26)",
    )
    parser.set_defaults(func=run_virtual)


def _error(message: str, code: int) -> int:
    print(f"slicefarm: error: {message}", file=sys.stderr)
    return code


def run_ports(args: argparse.Namespace) -> int:
    from printers.transport import list_serial_ports

    ports = list_serial_ports()
    if not ports:
        print("no serial ports found")
    for port in ports:
        ids = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None else "-"
        hint = f"  ({port.board_hint})" if port.board_hint else ""
        print(f"{port.device:<20} {ids:<10} {port.description}{hint}")
    return 0


def run_send(args: argparse.Namespace) -> int:
    from printers.send import send_file

    if not args.file.is_file():
        return _error(f"no such G-code file: {args.file}", 2)
    try:
        profile = load_printer(args.printer)
    except ProfileError as exc:
        return _error(str(exc), 2)
    baud = args.baud if args.baud is not None else profile.baud_rate
    outcome = asyncio.run(send_file(args.file, args.port, profile, baud))
    if outcome.exit_code == 0:
        print(outcome.message)
        return 0
    return _error(outcome.message, outcome.exit_code)


def run_virtual(args: argparse.Namespace) -> int:
    from printers.virtual import FaultConfig, FaultSpecError, VirtualPrinter

    if args.count < 1:
        return _error(f"--count must be at least 1, got {args.count}", 2)
    try:
        faults = FaultConfig.parse(args.fault)
    except FaultSpecError as exc:
        return _error(str(exc), 2)
    instant = args.speed == "instant"
    speed = 1.0 if instant else float(args.speed)
    printers = [
        VirtualPrinter(
            speed=speed,
            instant=instant,
            faults=faults,
            seed=args.seed + index,
            name=f"virtual{index + 1}",
            autoreport_temp=not args.no_autoreport,
            baud=args.baud,
        )
        for index in range(args.count)
    ]
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for printer in printers:
            print(f"{printer.name} {printer.start()}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for printer in printers:
            printer.stop()
    return 0


def _check_file(path: str) -> str:
    """Validate one profile file; returns a one-line description."""
    with open(path, "rb") as handle:
        is_printer = b"bed_x_mm" in handle.read()
    if is_printer:
        printer = load_toml_model(path, PrinterProfile)
        return f"{path}: printer '{printer.name}' ok"
    material = load_toml_model(path, MaterialProfile)
    return f"{path}: material '{material.name}' ok"


def run_profiles(args: argparse.Namespace) -> int:
    try:
        if args.check:
            for path in args.check:
                print(_check_file(path))
            return 0
        print("printers:")
        for name in printer_names():
            p = load_printer(name)
            print(
                f"  {name:<14} {p.model:<28} {p.bed_x_mm:g}x{p.bed_y_mm:g}x{p.max_z_mm:g} mm  "
                f"{p.firmware.value}, {p.kinematics.value}, {p.extruder.value}, "
                f"{p.nozzle_diameter_mm:g} mm nozzle"
            )
        print("materials:")
        for name in material_names():
            m = load_material(name)
            print(
                f"  {name:<14} {m.nozzle_temp_c:g}/{m.bed_temp_c:g} °C  "
                f"{m.density_g_cm3:g} g/cm3  {m.cost_per_kg:g} per kg"
            )
        return 0
    except (ProfileError, OSError) as exc:
        print(f"slicefarm: error: {exc}", file=sys.stderr)
        return 2
