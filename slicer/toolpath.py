"""Toolpaths: what the G-code writer receives, one frozen value per extrusion path."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np


def extrusion_area_mm2(width_mm: float, height_mm: float) -> float:
    """Cross-section of a line: a rectangle with round ends (Slic3r's model), mm²."""
    return height_mm * (width_mm - height_mm * (1.0 - math.pi / 4.0))


class Feature(StrEnum):
    """Extrusion roles; the values are PrusaSlicer's ``;TYPE:`` names."""

    OUTER_WALL = "External perimeter"
    OVERHANG_WALL = "Overhang perimeter"
    WALL = "Perimeter"
    SOLID_INFILL = "Solid infill"
    TOP_INFILL = "Top solid infill"
    INFILL = "Internal infill"
    BRIDGE = "Bridge infill"
    SKIRT = "Skirt/Brim"
    IRONING = "Ironing"
    SUPPORT = "Support material"
    SUPPORT_INTERFACE = "Support material interface"


@dataclass(frozen=True)
class Toolpath:
    """One continuous extrusion.

    points        : (n, 2) float64, mm, in print order (closed loops repeat their first point)
    width_mm      : line width
    speed_mm_s    : feed rate while extruding
    retract_before: the travel to points[0] retracts (and z-hops if configured)
    flow_height_mm: extrude as if the layer were this high (bridges: a round strand as wide
                    as the nozzle); None = the layer height
    travel_via    : (k, 2) float64, mm: waypoints of the travel to points[0] (combing);
                    None = a straight travel
    """

    points: np.ndarray
    feature: Feature
    width_mm: float
    speed_mm_s: float
    retract_before: bool = False
    flow_height_mm: float | None = None
    travel_via: np.ndarray | None = None

    @property
    def length_mm(self) -> float:
        d = np.diff(self.points, axis=0)
        return float(np.hypot(d[:, 0], d[:, 1]).sum())

    def with_speed(self, speed_mm_s: float) -> Toolpath:
        return replace(self, speed_mm_s=speed_mm_s)

    def area_mm2(self, layer_height_mm: float) -> float:
        """Cross-section of this path's line on a layer of the given height, mm²."""
        return extrusion_area_mm2(self.width_mm, self.flow_height_mm or layer_height_mm)

    def with_retract(self, retract_before: bool, travel_via: np.ndarray | None = None) -> Toolpath:
        return replace(self, retract_before=retract_before, travel_via=travel_via)


@dataclass(frozen=True)
class LayerPlan:
    """All toolpaths of one layer in print order; z_mm is the nozzle height (layer top)."""

    index: int
    z_mm: float
    height_mm: float
    paths: tuple[Toolpath, ...]
