"""A tiny independent reader of the slicer's G-code, for parse-back tests.

It knows only what the tests assert on: G0/G1 moves with relative or absolute E, G92, layer and
type comments, temperature commands.  It deliberately shares no code with gcode.writer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

_WORD = re.compile(r"([A-Z])(-?\d*\.?\d+)")


@dataclass
class Layer:
    z_mm: float
    height_mm: float
    # (k, 4) segments x0, y0, x1, y1 with their E (mm of filament), feature and width
    segments: list[tuple[float, float, float, float]] = field(default_factory=list)
    e_mm: list[float] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)

    def seg_array(self, feature: str | None = None) -> np.ndarray:
        sel = [i for i, f in enumerate(self.features) if feature is None or f == feature]
        return np.array([self.segments[i] for i in sel]).reshape(-1, 4)


@dataclass
class Program:
    layers: list[Layer]
    commands: list[str]  # every non-comment command, in order
    first_extrusion_command: int  # index into commands
    filament_mm: float  # high-water mark of cumulative E
    xy_min: np.ndarray
    xy_max: np.ndarray
    comments: dict[str, str]


def read(text: str) -> Program:
    x = y = z = 0.0
    e_total = e_high = 0.0
    relative = False
    feature = ""
    width = 0.45
    layers: list[Layer] = []
    commands: list[str] = []
    first_ext = -1
    pending_z = pending_h = None
    xs, ys = [], []
    comments: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(";"):
            if line.startswith(";Z:"):
                pending_z = float(line[3:])
            elif line.startswith(";HEIGHT:"):
                pending_h = float(line[8:])
                layers.append(Layer(pending_z, pending_h))
            elif line.startswith(";TYPE:"):
                feature = line[6:]
            elif line.startswith(";WIDTH:"):
                width = float(line[7:])
            elif " = " in line:
                key, _, value = line[1:].partition(" = ")
                comments[key.strip()] = value.strip()
            continue
        cmd = line.split(";", 1)[0].strip()
        if not cmd:
            continue
        commands.append(cmd)
        head = cmd.split()[0]
        words = {k: float(v) for k, v in _WORD.findall(cmd[len(head) :])}
        if head == "M83":
            relative = True
        elif head == "M82":
            relative = False
        elif head == "G92" and "E" in words:
            e_total = words["E"] if not relative else e_total
        elif head in ("G0", "G1"):
            nx, ny = words.get("X", x), words.get("Y", y)
            z = words.get("Z", z)
            de = 0.0
            if "E" in words:
                de = words["E"] if relative else words["E"] - e_total
                e_total += de
                e_high = max(e_high, e_total) if not relative else e_high
            if relative:
                e_high += max(de, 0.0) if (nx, ny) != (x, y) else 0.0
            if de > 0 and (nx, ny) != (x, y):
                if first_ext < 0:
                    first_ext = len(commands) - 1
                if layers:
                    lay = layers[-1]
                    lay.segments.append((x, y, nx, ny))
                    lay.e_mm.append(de)
                    lay.features.append(feature)
                    lay.widths.append(width)
            if "X" in words or "Y" in words:
                xs.append(nx)
                ys.append(ny)
            x, y = nx, ny
    return Program(
        layers=layers,
        commands=commands,
        first_extrusion_command=first_ext,
        filament_mm=e_high,
        xy_min=np.array([min(xs), min(ys)]) if xs else np.zeros(2),
        xy_max=np.array([max(xs), max(ys)]) if xs else np.zeros(2),
        comments=comments,
    )


def parse_duration_s(text: str) -> float:
    total = 0.0
    for num, unit in re.findall(r"(\d+)\s*([dhms])", text):
        total += int(num) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
    return total


def segment_length(seg: np.ndarray) -> np.ndarray:
    return np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])


__all__ = ["Layer", "Program", "math", "parse_duration_s", "read", "segment_length"]
