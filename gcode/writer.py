"""The G-code writer: the one place that turns toolpaths into G-code text.

All number formatting lives here (XYZ 3 decimals, E 5, F integer mm/min).  The body is
written first; the caller then lets the estimator insert M73 progress lines and appends the
footer (``footer``) with the estimate, the filament used and the resolved settings.
Comments follow PrusaSlicer's, so its viewers and our own parser read the layers and roles.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from printers.profiles import PrinterProfile
from slicer.arcs import Arc, fit_arcs, straight_runs
from slicer.settings import SliceSettings
from slicer.toolpath import Feature, LayerPlan, Toolpath

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Segments shorter than this are merged into the next one, mm.
MIN_SEGMENT_MM = 0.001


def filament_area_mm2(diameter_mm: float) -> float:
    return math.pi * diameter_mm**2 / 4.0


def fill_template(text: str, values: dict[str, object]) -> str:
    """Replace ``{name}`` placeholders whose name is known; leave others untouched."""

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        return _fmt_value(values[key]) if key in values else match.group(0)

    return _PLACEHOLDER.sub(sub, text)


def _fmt_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


@dataclass(frozen=True)
class WrittenGcode:
    """The G-code body and what it consumed."""

    text: str
    filament_mm: float
    layers: int


class GcodeWriter:
    """Stateful emitter of moves; tracks position, feed rate, E and retraction."""

    def __init__(self, settings: SliceSettings, filament_diameter_mm: float):
        self.s = settings
        self.lines: list[str] = []
        self.x = self.y = self.z = math.nan
        self.feed_mm_min = -1.0
        self.e_abs = 0.0
        self.filament_mm = 0.0
        self.retracted = False
        self.hopped = False
        self.filament_area = filament_area_mm2(filament_diameter_mm)

    # -- formatting -------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append(line)

    def _e_word(self, delta: float) -> str:
        if self.s.relative_e:
            return f"E{delta:.5f}"
        self.e_abs += delta
        return f"E{self.e_abs:.5f}"

    def _feed(self, speed_mm_s: float) -> str:
        feed = round(speed_mm_s * 60.0)
        if feed == self.feed_mm_min:
            return ""
        self.feed_mm_min = feed
        return f" F{feed}"

    # -- moves ------------------------------------------------------------------------------
    def move_z(self, z_mm: float, speed_mm_s: float) -> None:
        if f"{z_mm:.3f}" == f"{self.z:.3f}":
            return
        self.z = z_mm
        self.emit(f"G1 Z{z_mm:.3f}{self._feed(speed_mm_s)}")

    def travel(self, x_mm: float, y_mm: float) -> None:
        words = self._xy_words(x_mm, y_mm)
        if words:
            self.emit(f"G1{words}{self._feed(self.s.travel_speed_mm_s)}")

    def _xy_words(self, x_mm: float, y_mm: float) -> str:
        sx, sy = f"{x_mm:.3f}", f"{y_mm:.3f}"
        words = ""
        if sx != f"{self.x:.3f}":
            words += f" X{sx}"
        if sy != f"{self.y:.3f}":
            words += f" Y{sy}"
        self.x, self.y = x_mm, y_mm
        return words

    def retract(self) -> None:
        length = self.s.retract_length_mm or 0.0
        if self.retracted or length <= 0:
            return
        self.emit(f"G1 {self._e_word(-length)}{self._feed(self.s.retract_speed_mm_s or 40)}")
        self.retracted = True
        if self.s.z_hop_mm > 0:
            self.move_z(self.z + self.s.z_hop_mm, self.s.travel_speed_z_mm_s)
            self.hopped = True

    def unretract(self, layer_z_mm: float) -> None:
        if self.hopped:
            self.move_z(layer_z_mm, self.s.travel_speed_z_mm_s)
            self.hopped = False
        if self.retracted:
            length = self.s.retract_length_mm or 0.0
            self.emit(f"G1 {self._e_word(length)}{self._feed(self.s.retract_speed_mm_s or 40)}")
            self.retracted = False

    def extrude_path(self, path: Toolpath, height_mm: float) -> None:
        """Extrusion moves along path.points[1:], from the current position (= points[0]);
        with arc_fitting, runs of points on a circle become one G2/G3 each."""
        pts = path.points
        e_per_mm = path.area_mm2(height_mm) / self.filament_area
        feed = self._feed(path.speed_mm_s)
        if feed:
            self.emit(f"G1{feed}")
        if not self.s.arc_fitting:
            self._extrude_lines(pts, e_per_mm)
            return
        arcs = fit_arcs(pts)
        runs = straight_runs(pts, arcs)
        for run, arc in zip(runs, arcs, strict=False):
            self._extrude_lines(run, e_per_mm)
            self._extrude_arc(pts[arc.end], arc, e_per_mm)
        self._extrude_lines(runs[-1], e_per_mm)

    def _extrude_arc(self, end: np.ndarray, arc: Arc, e_per_mm: float) -> None:
        i, j = arc.center_mm - (self.x, self.y)
        words = self._xy_words(float(end[0]), float(end[1]))
        if not words:
            return
        delta = arc.length_mm * e_per_mm
        self.filament_mm += delta
        head = "G3" if arc.ccw else "G2"
        self.emit(f"{head}{words} I{i:.3f} J{j:.3f} {self._e_word(delta)}")

    def _extrude_lines(self, pts: np.ndarray, e_per_mm: float) -> None:
        """G1 extrusions along pts[1:] ((n, 2) float64, mm) from the current position."""
        if len(pts) < 2:
            return
        seg = np.hypot(*np.diff(pts, axis=0).T).tolist()
        xs = [f"{v:.3f}" for v in pts[1:, 0].tolist()]
        ys = [f"{v:.3f}" for v in pts[1:, 1].tolist()]
        last_x, last_y = f"{self.x:.3f}", f"{self.y:.3f}"
        relative = self.s.relative_e
        lines = self.lines
        pending = 0.0
        total = 0.0
        for sx, sy, length in zip(xs, ys, seg, strict=True):
            pending += length
            if pending < MIN_SEGMENT_MM or (sx == last_x and sy == last_y):
                continue
            words = (f" X{sx}" if sx != last_x else "") + (f" Y{sy}" if sy != last_y else "")
            last_x, last_y = sx, sy
            delta = pending * e_per_mm
            total += delta
            pending = 0.0
            if relative:
                lines.append(f"G1{words} E{delta:.5f}")
            else:
                self.e_abs += delta
                lines.append(f"G1{words} E{self.e_abs:.5f}")
        self.filament_mm += total
        self.x, self.y = float(last_x), float(last_y)


def write_layer(
    plan: LayerPlan, settings: SliceSettings, filament_diameter_mm: float
) -> tuple[str, float]:
    """G-code of one layer, independent of the layers around it: the first travel names X, Y
    and Z in full, the feed rate is restated and absolute E restarts at 0 (G92), so layers
    can be written in parallel.  Returns (text, filament mm)."""
    w = GcodeWriter(settings, filament_diameter_mm)
    _write_layer(w, plan, settings)
    return "\n".join(w.lines) + "\n", w.filament_mm


def write_body(
    layers: Sequence[tuple[str, float]],
    printer: PrinterProfile,
    settings: SliceSettings,
    header: Iterable[str] = (),
) -> WrittenGcode:
    """The whole program without the footer: header comments, heat-up and start script, the
    layers' texts (from write_layer), a final retraction and the end script."""
    s = settings
    w = GcodeWriter(s, printer.filament_diameter_mm)
    values = template_values(printer, s)
    for line in header:
        w.emit(f"; {line}")
    w.emit(f"; layer_count = {len(layers)}")
    w.emit("M107")
    _heat_up(w, fill_template(printer.gcode.start, values), s)
    w.emit("G21 ; millimetres")
    w.emit("G90 ; absolute XYZ")
    w.emit("M83 ; relative E" if s.relative_e else "M82 ; absolute E")
    head = "\n".join(w.lines) + "\n"
    tail = GcodeWriter(s, printer.filament_diameter_mm)
    if not s.relative_e:
        tail.emit("G92 E0")
    tail.retract()
    tail.emit(";TYPE:Custom")
    tail.lines.extend(fill_template(printer.gcode.end, values).strip().splitlines())
    text = head + "".join(t for t, _ in layers) + "\n".join(tail.lines) + "\n"
    return WrittenGcode(text, sum(f for _, f in layers), len(layers))


def template_values(printer: PrinterProfile, s: SliceSettings) -> dict[str, object]:
    """Values for the ``{placeholder}`` names of the printer's G-code templates."""
    return {
        "nozzle_temp_c": s.nozzle_temp_c,
        "bed_temp_c": s.bed_temp_c,
        "first_layer_nozzle_temp_c": s.first_layer_nozzle_temp_c,
        "first_layer_bed_temp_c": s.first_layer_bed_temp_c,
        "bed_x_mm": printer.bed_x_mm,
        "bed_y_mm": printer.bed_y_mm,
        "max_z_mm": printer.max_z_mm,
    }


def _heat_up(w: GcodeWriter, start: str, s: SliceSettings) -> None:
    """M140, M104, M190, M109 (bed and hotend set, then waited for) before the start script,
    unless the start script waits for them itself."""
    bed, nozzle = s.first_layer_bed_temp_c or 0, s.first_layer_nozzle_temp_c or 0
    waits_bed = re.search(r"^\s*M190\b", start, re.M) is not None
    waits_nozzle = re.search(r"^\s*M109\b", start, re.M) is not None
    if not waits_bed and bed > 0:
        w.emit(f"M140 S{bed:g} ; set bed temperature")
    if not waits_nozzle:
        w.emit(f"M104 S{nozzle:g} ; set hotend temperature")
    if not waits_bed and bed > 0:
        w.emit(f"M190 S{bed:g} ; wait for bed temperature")
    if not waits_nozzle:
        w.emit(f"M109 S{nozzle:g} ; wait for hotend temperature")
    w.emit(";TYPE:Custom")
    w.lines.extend(start.strip().splitlines())


def _write_layer(w: GcodeWriter, plan: LayerPlan, s: SliceSettings) -> None:
    w.emit(";LAYER_CHANGE")
    if not s.relative_e:
        w.emit("G92 E0")
    w.emit(f";Z:{plan.z_mm:g}")
    w.emit(f";HEIGHT:{plan.height_mm:g}")
    if plan.index == 1:
        if s.nozzle_temp_c != s.first_layer_nozzle_temp_c:
            w.emit(f"M104 S{s.nozzle_temp_c:g}")
        if s.bed_temp_c != s.first_layer_bed_temp_c and (s.bed_temp_c or 0) > 0:
            w.emit(f"M140 S{s.bed_temp_c:g}")
    if plan.index == (s.fan_off_layers or 0) and (s.fan_percent or 0) > 0:
        w.emit(f"M106 S{round((s.fan_percent or 0) * 255 / 100)}")
    if plan.paths and plan.paths[0].retract_before:
        w.retract()
    w.move_z(plan.z_mm + (s.z_hop_mm if w.hopped else 0.0), s.travel_speed_z_mm_s)
    feature = None
    width = None
    base_fan = (s.fan_percent or 0) if plan.index >= (s.fan_off_layers or 0) else 0.0
    fan = base_fan
    for path in plan.paths:
        want = _fan_override(path, s, base_fan)
        if want != fan:
            w.emit(_fan_command(want))
            fan = want
        if path.retract_before:
            w.retract()
        if path.travel_via is not None:
            for x, y in path.travel_via.tolist():
                w.travel(x, y)
        w.travel(float(path.points[0, 0]), float(path.points[0, 1]))
        w.unretract(plan.z_mm)
        if path.feature != feature:
            feature = path.feature
            w.emit(f";TYPE:{feature.value}")
        if path.width_mm != width:
            width = path.width_mm
            w.emit(f";WIDTH:{width:.3f}".rstrip("0").rstrip("."))
        w.extrude_path(path, plan.height_mm)
    if fan != base_fan:  # each layer starts from its base fan speed
        w.emit(_fan_command(base_fan))


def _fan_override(path: Toolpath, s: SliceSettings, base_percent: float) -> float:
    """Fan percent while printing ``path``: bridge_fan_percent on bridges,
    overhang_fan_percent on overhanging walls (from the layers where the fan runs)."""
    if base_percent <= 0:
        return base_percent
    override = {
        Feature.BRIDGE: s.bridge_fan_percent,
        Feature.OVERHANG_WALL: s.overhang_fan_percent,
    }.get(path.feature)
    return base_percent if override is None else override


def _fan_command(percent: float) -> str:
    return f"M106 S{round(percent * 255 / 100)}" if percent > 0 else "M107"


def format_duration(seconds: float) -> str:
    """PrusaSlicer's duration style: ``1h 19m 2s``, ``24m 7s``, ``9s``."""
    total = round(seconds)
    d, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    parts = [f"{d}d"] if d else []
    if d or h:
        parts.append(f"{h}h")
    if d or h or m:
        parts.append(f"{m}m")
    parts.append(f"{sec}s")
    return " ".join(parts)


def footer(
    *,
    estimated_time_s: float,
    filament_mm: float,
    filament_diameter_mm: float,
    density_g_cm3: float,
    layers: int,
    settings_lines: Iterable[str],
) -> str:
    """The closing comment block: estimate, filament, layer count and the resolved settings."""
    volume_cm3 = filament_mm * filament_area_mm2(filament_diameter_mm) / 1000.0
    lines = [
        "",
        f"; filament used [mm] = {filament_mm:.2f}",
        f"; filament used [cm3] = {volume_cm3:.2f}",
        f"; filament used [g] = {volume_cm3 * density_g_cm3:.2f}",
        f"; estimated printing time (normal mode) = {format_duration(estimated_time_s)}",
        f"; layer_count = {layers}",
        "",
        "; slicefarm_config = begin",
        *settings_lines,
        "; slicefarm_config = end",
    ]
    return "\n".join(lines) + "\n"


def filament_grams(filament_mm: float, filament_diameter_mm: float, density_g_cm3: float) -> float:
    """Mass of ``filament_mm`` of filament, g."""
    return filament_mm * filament_area_mm2(filament_diameter_mm) / 1000.0 * density_g_cm3
