"""What a G-code file asks of the farm: size, material, time, temperatures, commands.

``analyze`` parses the file once, resolves its moves, runs the time estimate for
the given printer (the default printer when none is given), and reads the
slicer's own comments.  The result is a frozen :class:`Analysis`; its
``to_json()`` is what ``slicefarm analyze --json`` prints.
"""

from __future__ import annotations

import functools
import gzip
import logging
import math
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from gcode.errors import GcodeError, NotGcodeError
from gcode.estimate import estimate_parsed
from gcode.metadata import SlicerInfo, slicer_info
from gcode.motion import Moves, resolve_moves
from gcode.parse import ParsedGcode, named_arguments, parse
from gcode.progress import layer_marker_lines
from gcode.thumbnail import extract_thumbnails
from printers.profiles import (
    MaterialProfile,
    PrinterProfile,
    load_material,
    load_printer,
)

logger = logging.getLogger(__name__)

Bbox = tuple[tuple[float, float, float], tuple[float, float, float]]
MAX_REPORTED_ISSUES = 20
EARLY_CHECK_CHARS = 1 << 18  # a large file's first 256 kB are parsed first...
EARLY_CHECK_MIN_ISSUES = 100  # ...and refused if that many lines are malformed
LAYER_Z_DECIMALS = 3


@dataclass(frozen=True)
class Analysis:
    """Everything ``slicefarm analyze`` reports about one G-code file (units in names).

    bbox_mm / bbox_all_mm : ((xmin, ymin, zmin), (xmax, ymax, zmax)) of the print's
        extrusions (after the first layer marker, so not a start-script purge line) / of
        every move end, logical coordinates as the file gives them; None when there is none
    layer_height_mm : as the slicer states it, else the median step between layers
    layers : layer change markers (``;LAYER_CHANGE``, ``;LAYER:n``...), or without them the
        distinct heights at which the file extrudes while moving in X/Y
    filament_mm : high-water mark of the extruder position (retractions do not count)
    estimated_time_s : our planner model for ``printer``; slicer_* : what the slicer wrote
    first_layer_*_temp_c : last target set before the first extrusion; max_* : highest set
    max_volumetric_flow_mm3_s : exceeded over at most 0.1 % of the extruded length
    retractions : extruder-only moves backwards plus G10; tool_changes : T to another tool
    commands : distinct G/M/T commands; extended_commands : Klipper-style macro names
    issues : the first MAX_REPORTED_ISSUES malformed lines; issue_count : all of them
    """

    source: str | None
    lines: int
    layers: int
    layer_height_mm: float | None
    first_layer_height_mm: float | None
    bbox_mm: Bbox | None
    bbox_all_mm: Bbox | None
    filament_mm: float
    filament_g: float
    filament_cost: float
    filament_diameter_mm: float
    estimated_time_s: float
    slicer: str | None
    slicer_version: str | None
    slicer_estimated_time_s: float | None
    slicer_filament_mm: float | None
    first_layer_nozzle_temp_c: float | None
    first_layer_bed_temp_c: float | None
    max_nozzle_temp_c: float | None
    max_bed_temp_c: float | None
    nozzle_diameter_mm: float | None
    stated_filament_diameter_mm: float | None
    flavor: str | None
    max_extrude_speed_mm_s: float | None
    max_travel_speed_mm_s: float | None
    max_volumetric_flow_mm3_s: float | None
    retractions: int
    tool_changes: int
    tools: tuple[int, ...]
    commands: tuple[str, ...]
    extended_commands: tuple[str, ...]
    has_m73: bool
    thumbnails: tuple[tuple[int, int, str], ...]
    printer: str
    material: str
    issues: tuple[str, ...] = field(default=())
    issue_count: int = 0

    def to_json(self) -> dict:
        """A JSON-ready dict; bboxes as [[xmin,ymin,zmin],[xmax,ymax,zmax]]."""
        out = asdict(self)
        for key in ("bbox_mm", "bbox_all_mm"):
            if out[key] is not None:
                out[key] = [list(corner) for corner in out[key]]
        out["tools"] = list(self.tools)
        out["commands"] = list(self.commands)
        out["extended_commands"] = list(self.extended_commands)
        out["thumbnails"] = [{"width": w, "height": h, "format": f} for w, h, f in self.thumbnails]
        out["issues"] = list(self.issues)
        return out


def read_gcode_text(source: str | Path) -> str:
    """The text of a G-code file (gzip-compressed too).

    NotGcodeError for binary data (Prusa's binary ``.bgcode`` included),
    GcodeError if the file cannot be read.
    """
    path = Path(source)
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise GcodeError(f"cannot read: {reason}", path=path) from None
    if data[:4] == b"GCDE":
        raise NotGcodeError(
            "binary G-code (.bgcode) is not supported; export text G-code", path=path
        )
    if b"\x00" in data[:65536]:
        raise NotGcodeError("not G-code: binary data", path=path)
    return data.decode("utf-8", "replace")


def analyze(
    source: str | Path,
    *,
    printer: PrinterProfile | None = None,
    material: MaterialProfile | None = None,
) -> Analysis:
    """Analyze G-code for scheduling and checking.

    ``source`` is a file path; a str holding several lines is taken as the G-code itself.
    """
    if isinstance(source, str) and "\n" in source:
        return analyze_text(source, printer=printer, material=material)
    text = read_gcode_text(source)
    return analyze_text(text, printer=printer, material=material, source=str(source))


def analyze_text(
    text: str,
    *,
    printer: PrinterProfile | None = None,
    material: MaterialProfile | None = None,
    source: str | None = None,
) -> Analysis:
    """Analyze G-code given as text; ``source`` names it in errors.

    What does not depend on the printer is kept for the last two texts, so checking
    one upload against several printers parses it once.
    """
    printer = printer or load_printer()
    material = material or load_material()
    _refuse_junk_early(text, source)
    facts = _facts(text)
    _require_gcode(facts.parsed, source)
    est = estimate_parsed(facts.parsed, printer.limits, facts.moves)
    diameter = facts.info.filament_diameter_mm or printer.filament_diameter_mm
    area_mm2 = math.pi * (diameter / 2) ** 2
    grams = facts.filament_mm * area_mm2 / 1000.0 * material.density_g_cm3
    flow = None if facts.max_e_speed_mm_s is None else round(facts.max_e_speed_mm_s * area_mm2, 2)
    logger.debug("%s: %.0f s on %s", source or "text", est.total_s, printer.name)
    return Analysis(
        source=source,
        filament_g=round(grams, 2),
        filament_cost=round(grams / 1000.0 * material.cost_per_kg, 2),
        filament_diameter_mm=diameter,
        estimated_time_s=round(est.total_s, 1),
        max_volumetric_flow_mm3_s=flow,
        printer=printer.name,
        material=material.name,
        **facts.fields,
    )


@dataclass(frozen=True, eq=False)
class _Facts:
    """The printer-independent part of an analysis."""

    parsed: ParsedGcode
    moves: Moves
    info: SlicerInfo
    filament_mm: float
    max_e_speed_mm_s: float | None  # filament speed of the fastest extrusion of 1 mm or more
    fields: dict


@functools.lru_cache(maxsize=2)
def _facts(text: str) -> _Facts:
    parsed = parse(text)
    if not np.count_nonzero(parsed.cmd_letter):
        return _Facts(parsed, resolve_moves(parsed)[0], slicer_info(""), 0.0, None, {})
    moves, _ = resolve_moves(parsed)
    info = slicer_info(text)
    markers = layer_marker_lines(text)
    geo = _geometry(moves, markers)
    filament_mm = _filament_mm(moves)
    tools, changes = _tools(parsed)
    fields = dict(
        lines=parsed.n_lines,
        layers=_layer_count(markers, geo.layer_z),
        layer_height_mm=info.layer_height_mm or geo.layer_height_mm,
        first_layer_height_mm=geo.first_layer_height_mm,
        bbox_mm=geo.bbox_extrude,
        bbox_all_mm=geo.bbox_all,
        filament_mm=round(filament_mm, 2),
        slicer=info.name,
        slicer_version=info.version,
        slicer_estimated_time_s=info.estimated_time_s,
        slicer_filament_mm=info.filament_mm,
        nozzle_diameter_mm=info.nozzle_diameter_mm or _nozzle_check_mm(parsed),
        stated_filament_diameter_mm=info.filament_diameter_mm,
        flavor=info.flavor,
        max_extrude_speed_mm_s=geo.max_extrude_speed,
        max_travel_speed_mm_s=geo.max_travel_speed,
        retractions=_retractions(parsed, moves),
        tool_changes=changes,
        tools=tools,
        commands=_commands(parsed),
        extended_commands=tuple(sorted({name for _, name, _ in parsed.extended})),
        has_m73=bool(parsed.is_cmd("M", 73).any()),
        thumbnails=tuple((t.width, t.height, t.format) for t in extract_thumbnails(text)),
        issues=tuple(str(i) for i in parsed.issues[:MAX_REPORTED_ISSUES]),
        issue_count=len(parsed.issues),
        **_temperatures(parsed, moves),
    )
    return _Facts(parsed, moves, info, filament_mm, _max_e_speed_mm_s(moves), fields)


def _refuse_junk_early(text: str, source: str | None) -> None:
    """A large file whose first lines are mostly not G-code is refused before the full parse.

    Only malformed lines count against it: a header of comments or thumbnails does not.
    """
    if len(text) <= 2 * EARLY_CHECK_CHARS:
        return
    head = parse(text[:EARLY_CHECK_CHARS])
    if len(head.issues) >= EARLY_CHECK_MIN_ISSUES:
        _require_gcode(head, source)


def _require_gcode(parsed: ParsedGcode, source: str | None) -> None:
    """NotGcodeError unless the text has G/M/T commands and mostly well-formed lines."""
    commands = int(np.count_nonzero(parsed.cmd_letter))
    if commands == 0:
        raise NotGcodeError("not G-code: no G-code commands found", path=source)
    if len(parsed.issues) + len(parsed.extended) > commands:
        first = parsed.issues[0] if parsed.issues else None
        where = f", first: {first.message}" if first else ""
        raise NotGcodeError(
            f"not G-code: {len(parsed.issues)} malformed lines and {len(parsed.extended)} "
            f"unknown words against {commands} commands{where}",
            line=first.line if first else None,
            path=source,
        )


@dataclass(frozen=True)
class _Geometry:
    layer_z: np.ndarray
    layer_height_mm: float | None
    first_layer_height_mm: float | None
    bbox_extrude: Bbox | None
    bbox_all: Bbox | None
    max_extrude_speed: float | None
    max_travel_speed: float | None


def _bbox(*points: np.ndarray) -> Bbox | None:
    """Bounding box of (n, 3) point arrays, mm rounded to 3 decimals; None if all empty."""
    points = tuple(p for p in points if len(p))
    if not points:
        return None
    lo = np.min([p.min(axis=0) for p in points], axis=0)
    hi = np.max([p.max(axis=0) for p in points], axis=0)
    lo_mm = tuple(float(v) + 0.0 for v in np.round(lo, 3))
    hi_mm = tuple(float(v) + 0.0 for v in np.round(hi, 3))
    return (lo_mm, hi_mm)  # type: ignore[return-value]


def _geometry(moves: Moves, markers: np.ndarray) -> _Geometry:
    """Layers, boxes and speeds of the print.

    When the slicer marks its layers, extrusions before the first marker belong to the
    start script (a purge line, often outside the bed, as on the Prusa MK3S) and do not
    count as the print.
    """
    ext = moves.extruding()
    if len(markers):
        ext &= moves.line > markers[0]
    layer_z = np.unique(np.round(moves.end[ext, 2], LAYER_Z_DECIMALS))
    steps = np.diff(layer_z)
    layer_height = float(np.round(np.median(steps), 3)) if len(steps) else None
    first_height = float(layer_z[0]) if len(layer_z) else None
    travel = ~ext & np.any(moves.delta[:, :3] != 0, axis=1)
    return _Geometry(
        layer_z=layer_z,
        layer_height_mm=layer_height if layer_height is None else float(layer_height),
        first_layer_height_mm=first_height,
        bbox_extrude=_bbox(moves.start[ext, :3], moves.end[ext, :3]),
        bbox_all=_bbox(moves.end[:, :3]),
        max_extrude_speed=_max(moves.feedrate_mm_s[ext]),
        max_travel_speed=_max(moves.feedrate_mm_s[travel]),
    )


def _layer_count(markers: np.ndarray, layer_z: np.ndarray) -> int:
    """Layer change markers when the slicer wrote them (spiral vases rise continuously),
    else the distinct extrusion heights."""
    return len(markers) if len(markers) else len(layer_z)


def _max(values: np.ndarray) -> float | None:
    return round(float(values.max()), 2) if len(values) else None


def _max_e_speed_mm_s(moves: Moves, min_length_mm: float = 1.0) -> float | None:
    """Top commanded filament speed, mm/s: exceeded over at most 0.1 % of the extruded
    length (moves of ``min_length_mm`` or more), so a few short bursts do not count."""
    delta = moves.delta
    length = np.hypot(delta[:, 0], delta[:, 1])
    use = moves.extruding() & (length >= min_length_mm)
    if not use.any():
        return None
    speed = delta[use, 3] / length[use] * moves.feedrate_mm_s[use]
    order = np.argsort(speed, kind="stable")
    share = np.cumsum(length[use][order]) / length[use].sum()
    return float(speed[order][min(np.searchsorted(share, 0.999), len(order) - 1)])


def _filament_mm(moves: Moves) -> float:
    """Filament consumed: high-water mark of the cumulative extruder position."""
    if not len(moves):
        return 0.0
    net = np.cumsum(moves.delta[:, 3])
    return float(max(net.max(), 0.0))


def _retractions(parsed: ParsedGcode, moves: Moves) -> int:
    """Extruder-only moves backwards, plus firmware retractions (G10)."""
    delta = moves.delta
    e_only = ~np.any(delta[:, :3] != 0, axis=1)
    firmware = np.count_nonzero(parsed.is_cmd("G", 10))
    return int(np.count_nonzero(e_only & (delta[:, 3] < 0)) + firmware)


def _tools(parsed: ParsedGcode) -> tuple[tuple[int, ...], int]:
    """Tools selected, and how many T commands switch to a different tool."""
    rows = np.flatnonzero(parsed.cmd_letter == ord("T"))
    numbers = parsed.cmd_number[rows]
    numbers = numbers[numbers >= 0].astype(int)
    if not len(numbers):
        return (0,), 0
    changes = int(np.count_nonzero(numbers[1:] != numbers[:-1]))
    if numbers[0] != 0:
        changes += 1
    return tuple(sorted(set(numbers.tolist()) | {0})), changes


def _nozzle_check_mm(parsed: ParsedGcode) -> float | None:
    """Nozzle diameter from Prusa's ``M862.1 P<mm>`` nozzle check, if the file has one."""
    values = parsed.param("P")[parsed.is_cmd("M", 862.1)]
    values = values[~np.isnan(values)]
    return float(values[0]) if len(values) else None


def _commands(parsed: ParsedGcode) -> tuple[str, ...]:
    """Distinct commands used, as ``G1``, ``M104``, ``T0``..."""
    rows = parsed.cmd_letter != 0
    keys = np.unique(parsed.cmd_letter[rows] * 1_000_000.0 + parsed.cmd_number[rows])
    names = {f"{chr(int(k // 1_000_000))}{k % 1_000_000:g}" for k in keys.tolist()}
    return tuple(sorted(names))


def _temperatures(parsed: ParsedGcode, moves: Moves) -> dict[str, float | None]:
    """First-layer nozzle/bed targets (last set before the first extrusion) and maxima."""
    ext = moves.extruding()
    first_row = int(moves.line[ext][0]) if ext.any() else parsed.n_lines
    s = parsed.param("S")
    r = parsed.param("R")
    value = np.where(np.isnan(s), r, s)
    out: dict[str, float | None] = {}
    for key, numbers in (("nozzle", (104.0, 109.0)), ("bed", (140.0, 190.0))):
        rows = (parsed.cmd_letter == ord("M")) & np.isin(parsed.cmd_number, numbers)
        rows &= ~np.isnan(value)
        set_rows = np.flatnonzero(rows)
        before = set_rows[(set_rows <= first_row) & (value[set_rows] > 0)]
        out[f"first_layer_{key}_temp_c"] = float(value[before[-1]]) if len(before) else None
        out[f"max_{key}_temp_c"] = float(value[set_rows].max()) if len(set_rows) else None
    for key, value_c in _start_macro_temperatures(parsed, first_row).items():
        if out[f"first_layer_{key}_temp_c"] is None:
            out[f"first_layer_{key}_temp_c"] = value_c
        out[f"max_{key}_temp_c"] = max(out[f"max_{key}_temp_c"] or 0.0, value_c)
    return out


START_MACROS = frozenset({"PRINT_START", "START_PRINT"})
_MACRO_TEMPERATURES = {
    "nozzle": ("EXTRUDER", "EXTRUDER_TEMP", "HOTEND", "HOTEND_TEMP", "NOZZLE", "NOZZLE_TEMP"),
    "bed": ("BED", "BED_TEMP"),
}


def _start_macro_temperatures(parsed: ParsedGcode, first_row: int) -> dict[str, float]:
    """Temperatures handed to a Klipper start macro (``PRINT_START EXTRUDER=215 BED=60``)."""
    out: dict[str, float] = {}
    for row, name, args in parsed.extended:
        if name not in START_MACROS or row > first_row:
            continue
        values = named_arguments(args)
        for key, names in _MACRO_TEMPERATURES.items():
            for arg in names:
                try:
                    out[key] = float(values[arg])
                    break
                except (KeyError, ValueError):
                    continue
    return out
