"""Can this G-code run on this printer with this material?

``check_compatibility`` returns the problems in words (an empty list means the
job may be routed there): the print must fit the bed (0..size on every axis),
temperatures must lie within the printer's and the material's limits and the
flow within the material's volumetric limit, the nozzle and filament diameters
the file states must match the printer, the material must be one the printer is
set up for, and the flavour and commands must be ones its firmware understands.
"""

from __future__ import annotations

from gcode.analyze import Analysis
from printers.profiles import Firmware, MaterialProfile, PrinterProfile

BED_TOLERANCE_MM = 0.5  # extrusion may touch the bed edge
TRAVEL_TOLERANCE_MM = 10.0  # purge and park moves often leave the bed a little
NOZZLE_TOLERANCE_MM = 0.01
FILAMENT_TOLERANCE_MM = 0.05
FLOW_TOLERANCE = 1.05  # 5 % over the material's volumetric limit

# Flavours (PrusaSlicer/Orca ``gcode_flavor``, Cura ``;FLAVOR:``) each firmware runs.
_MARLIN_LIKE = ("marlin", "marlin2", "marlinlegacy", "reprap (marlin/sprinter)", "sprinter")
FLAVORS: dict[Firmware, tuple[str, ...]] = {
    Firmware.MARLIN: _MARLIN_LIKE,
    Firmware.KLIPPER: (*_MARLIN_LIKE, "klipper"),
    Firmware.REPRAPFIRMWARE: (*_MARLIN_LIKE, "reprapfirmware", "reprap (reprap)", "reprap"),
}
# Commands only another firmware knows.
RRF_ONLY = frozenset({"M98", "M350", "M557", "M566", "M572", "M584", "M669", "M950"})
FOREIGN_COMMANDS: dict[Firmware, frozenset[str]] = {
    Firmware.MARLIN: RRF_ONLY,
    Firmware.KLIPPER: RRF_ONLY,
    Firmware.REPRAPFIRMWARE: frozenset(),
}


def check_compatibility(
    analysis: Analysis, printer: PrinterProfile, material: MaterialProfile | None = None
) -> list[str]:
    """Problems that keep this file from printing on ``printer`` (with ``material``)."""
    problems: list[str] = []
    problems += _fit(analysis, printer)
    problems += _temperatures(analysis, printer, material)
    problems += _hardware(analysis, printer)
    problems += _firmware(analysis, printer)
    if material is not None:
        problems += _material(printer, material)
    if analysis.issue_count:
        first = analysis.issues[0] if analysis.issues else ""
        problems.append(f"{analysis.issue_count} malformed line(s) in the file ({first})")
    return problems


def _fit(analysis: Analysis, printer: PrinterProfile) -> list[str]:
    problems: list[str] = []
    size = (printer.bed_x_mm, printer.bed_y_mm, printer.max_z_mm)
    names = ("X", "Y", "Z")
    for label, box, slack in (
        ("print", analysis.bbox_mm, BED_TOLERANCE_MM),
        ("moves", analysis.bbox_all_mm, TRAVEL_TOLERANCE_MM),
    ):
        if box is None:
            continue
        lo, hi = box
        for axis in range(3):
            if lo[axis] < -slack or hi[axis] > size[axis] + slack:
                problems.append(
                    f"{label} spans {names[axis]} {lo[axis]:g}..{hi[axis]:g} mm, outside the "
                    f"printer's 0..{size[axis]:g} mm"
                )
    return problems


def _temperatures(
    analysis: Analysis, printer: PrinterProfile, material: MaterialProfile | None
) -> list[str]:
    problems: list[str] = []
    nozzle, bed = analysis.max_nozzle_temp_c, analysis.max_bed_temp_c
    if nozzle is not None and nozzle > printer.max_hotend_temp_c:
        problems.append(
            f"nozzle temperature {nozzle:g} °C above the printer's maximum "
            f"{printer.max_hotend_temp_c:g} °C"
        )
    if bed is not None and bed > 0 and not printer.heated_bed:
        problems.append(f"bed temperature {bed:g} °C set but the printer has no heated bed")
    elif bed is not None and bed > printer.max_bed_temp_c:
        problems.append(
            f"bed temperature {bed:g} °C above the printer's maximum {printer.max_bed_temp_c:g} °C"
        )
    if material is None:
        return problems
    flow = analysis.max_volumetric_flow_mm3_s
    if flow is not None and flow > material.max_volumetric_speed_mm3_s * FLOW_TOLERANCE:
        problems.append(
            f"extrudes up to {flow:g} mm³/s, more than {material.name}'s "
            f"{material.max_volumetric_speed_mm3_s:g} mm³/s"
        )
    lo, hi = material.min_nozzle_temp_c, material.max_nozzle_temp_c
    for label, value in (
        ("first-layer nozzle", analysis.first_layer_nozzle_temp_c),
        ("maximum nozzle", nozzle),
    ):
        if value is not None and value > 0 and not lo <= value <= hi:
            problems.append(
                f"{label} temperature {value:g} °C outside {material.name}'s {lo:g}..{hi:g} °C"
            )
    return problems


def _hardware(analysis: Analysis, printer: PrinterProfile) -> list[str]:
    problems: list[str] = []
    nozzle = analysis.nozzle_diameter_mm
    if nozzle is not None and abs(nozzle - printer.nozzle_diameter_mm) > NOZZLE_TOLERANCE_MM:
        problems.append(
            f"sliced for a {nozzle:g} mm nozzle, the printer has {printer.nozzle_diameter_mm:g} mm"
        )
    filament = analysis.stated_filament_diameter_mm
    if (
        filament is not None
        and abs(filament - printer.filament_diameter_mm) > FILAMENT_TOLERANCE_MM
    ):
        problems.append(
            f"sliced for {filament:g} mm filament, the printer takes "
            f"{printer.filament_diameter_mm:g} mm"
        )
    extra_tools = [t for t in analysis.tools if t != 0]
    if extra_tools:
        names = ", ".join(f"T{t}" for t in extra_tools)
        problems.append(f"uses extruders {names}; the printer has one extruder")
    return problems


def _firmware(analysis: Analysis, printer: PrinterProfile) -> list[str]:
    problems: list[str] = []
    firmware = printer.firmware
    flavor = (analysis.flavor or "").strip().lower()
    if flavor and flavor not in FLAVORS[firmware]:
        problems.append(f"G-code flavour '{analysis.flavor}' is not for {firmware.value} firmware")
    if analysis.extended_commands and firmware is not Firmware.KLIPPER:
        names = ", ".join(analysis.extended_commands[:5])
        problems.append(f"uses Klipper macros ({names}) that {firmware.value} does not know")
    foreign = sorted(set(analysis.commands) & FOREIGN_COMMANDS[firmware])
    if foreign:
        problems.append(f"uses {', '.join(foreign)}, not understood by {firmware.value}")
    return problems


def _material(printer: PrinterProfile, material: MaterialProfile) -> list[str]:
    problems: list[str] = []
    if material.name.lower() not in {m.lower() for m in printer.materials}:
        problems.append(f"{printer.name} is not set up for {material.name}")
    if material.needs_enclosure and not printer.enclosed:
        problems.append(f"{material.name} needs an enclosed printer")
    return problems
