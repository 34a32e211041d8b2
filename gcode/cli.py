"""``slicefarm analyze``: what a G-code file needs, and whether a printer can run it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gcode.analyze import Analysis, analyze, read_gcode_text
from gcode.check import check_compatibility
from gcode.errors import GcodeError
from gcode.progress import add_m73
from gcode.thumbnail import extract_thumbnails
from printers.profiles import PrinterProfile, ProfileError, load_material, load_printer


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="report layers, size, filament, time and temperatures of a G-code file",
        description="Analyze a G-code file (PrusaSlicer, OrcaSlicer, SuperSlicer, Cura, "
        "Simplify3D, slicefarm): layers, bounding box, filament, estimated print time for a "
        "printer, the slicer's own estimate, temperatures, speeds, retractions, tool changes.",
    )
    parser.add_argument("file", metavar="FILE.gcode", help="the G-code file")
    parser.add_argument("--printer", help="printer profile name or TOML path (default ender3)")
    parser.add_argument("--material", help="material profile name or TOML path (default PLA)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--check",
        action="store_true",
        help="also list what keeps the file from running on the printer (exit 1 if anything)",
    )
    parser.add_argument(
        "--thumbnails", metavar="DIR", help="write the embedded thumbnails into DIR"
    )
    parser.add_argument(
        "--add-m73",
        metavar="OUT.gcode",
        help="write a copy with M73 progress lines at every layer (estimated for --printer)",
    )
    parser.set_defaults(func=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    try:
        printer = load_printer(args.printer) if args.printer else load_printer()
        material = load_material(args.material) if args.material else load_material()
        result = analyze(args.file, printer=printer, material=material)
    except (GcodeError, ProfileError) as exc:
        print(f"slicefarm: error: {exc}", file=sys.stderr)
        return 2
    problems = check_compatibility(result, printer, material) if args.check else []
    try:
        if args.thumbnails:
            _write_thumbnails(Path(args.file), Path(args.thumbnails))
        if args.add_m73:
            _write_with_m73(Path(args.file), Path(args.add_m73), printer)
    except OSError as exc:
        print(f"slicefarm: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.json:
        out = result.to_json()
        if args.check:
            out["problems"] = problems
        print(json.dumps(out, sort_keys=True))
    else:
        print(format_analysis(result))
        if args.check:
            print("check:        " + ("ok" if not problems else ""))
            for problem in problems:
                print(f"  - {problem}")
    return 1 if problems else 0


def _write_with_m73(source: Path, target: Path, printer: PrinterProfile) -> None:
    text = read_gcode_text(source)
    out, _ = add_m73(text, printer.limits, replace_existing=True)
    target.write_text(out, encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)


def _write_thumbnails(source: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = read_gcode_text(source)
    for k, thumb in enumerate(extract_thumbnails(text)):
        path = folder / f"{source.stem}.{k}.{thumb.width}x{thumb.height}.{thumb.format.lower()}"
        path.write_bytes(thumb.data)
        print(f"wrote {path}", file=sys.stderr)


def format_duration(seconds: float | None) -> str:
    """``1h 19m 2s`` style; ``-`` for None."""
    if seconds is None:
        return "-"
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return " ".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def format_analysis(a: Analysis) -> str:
    """The human-readable report of ``slicefarm analyze``."""
    slicer = " ".join(p for p in (a.slicer, a.slicer_version) if p) or "unknown"
    lines = [
        f"file:         {a.source}",
        f"slicer:       {slicer}" + (f", flavour {a.flavor}" if a.flavor else ""),
        f"lines:        {a.lines}",
        f"layers:       {a.layers} (height {_num(a.layer_height_mm, ' mm')}, "
        f"first {_num(a.first_layer_height_mm, ' mm')})",
    ]
    for label, box in (("extrusions:", a.bbox_mm), ("all moves:", a.bbox_all_mm)):
        if box is not None:
            (x0, y0, z0), (x1, y1, z1) = box
            lines.append(f"{label:<13} X {x0:g}..{x1:g}  Y {y0:g}..{y1:g}  Z {z0:g}..{z1:g} mm")
    slicer_filament = (
        f" (slicer: {a.slicer_filament_mm:g} mm)" if a.slicer_filament_mm is not None else ""
    )
    lines += [
        f"filament:     {a.filament_mm:g} mm, {a.filament_g:g} g, cost {a.filament_cost:g} "
        f"({a.material}, {a.filament_diameter_mm:g} mm){slicer_filament}",
        f"time:         {format_duration(a.estimated_time_s)} on {a.printer} "
        f"(slicer: {format_duration(a.slicer_estimated_time_s)})",
        f"first layer:  nozzle {_num(a.first_layer_nozzle_temp_c, ' °C')}, "
        f"bed {_num(a.first_layer_bed_temp_c, ' °C')}",
        f"nozzle:       {_num(a.nozzle_diameter_mm, ' mm')} stated",
        f"speeds:       extrude up to {_num(a.max_extrude_speed_mm_s, ' mm/s')}, "
        f"travel up to {_num(a.max_travel_speed_mm_s, ' mm/s')}, "
        f"flow up to {_num(a.max_volumetric_flow_mm3_s, ' mm³/s')}",
        f"retractions:  {a.retractions}",
        f"tool changes: {a.tool_changes} (tools {', '.join(f'T{t}' for t in a.tools)})",
        f"progress:     {'M73 present' if a.has_m73 else 'no M73'}",
        "thumbnails:   " + (", ".join(f"{w}x{h} {f}" for w, h, f in a.thumbnails) or "none"),
    ]
    if a.extended_commands:
        lines.append(f"macros:       {', '.join(a.extended_commands)}")
    if a.issue_count:
        lines.append(f"issues:       {a.issue_count} malformed line(s)")
        lines += [f"  - {issue}" for issue in a.issues]
    return "\n".join(lines)
