"""``slicefarm profiles``: list and check printer and material profiles."""

from __future__ import annotations

import argparse
import sys

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
