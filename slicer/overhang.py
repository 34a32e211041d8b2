"""Overhanging walls: the stretches of outer wall whose centre line lies beyond the layer
below (more than half the line over air) are split off, printed slower as their own feature
(PrusaSlicer's ``Overhang perimeter``)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import shapely

from slicer.toolpath import Feature, Toolpath

# Walls are tested for overhang in pieces no longer than this, mm.
OVERHANG_STEP_MM = 1.0


def overhang_walls(
    paths: list[Toolpath], below: shapely.Geometry, speed_mm_s: float
) -> list[Toolpath]:
    """``paths`` with every outer wall split into supported and overhanging runs."""
    shapely.prepare(below)
    out: list[Toolpath] = []
    for path in paths:
        if path.feature is not Feature.OUTER_WALL:
            out.append(path)
            continue
        out.extend(_split(path, below, speed_mm_s))
    return out


def _split(path: Toolpath, below: shapely.Geometry, speed_mm_s: float) -> list[Toolpath]:
    pts = path.points
    mid = (pts[1:] + pts[:-1]) / 2.0
    if shapely.contains_xy(below, mid[:, 0], mid[:, 1]).all() and _short(pts):
        return [path]
    pts = shapely.get_coordinates(shapely.segmentize(shapely.linestrings(pts), OVERHANG_STEP_MM))
    mid = (pts[1:] + pts[:-1]) / 2.0
    over = ~shapely.contains_xy(below, mid[:, 0], mid[:, 1])
    if not over.any():
        return [path]
    cuts = np.flatnonzero(np.diff(over)) + 1  # segment indices where a run starts
    bounds = np.concatenate([[0], cuts, [len(over)]])
    out = []
    for k, (a, b) in enumerate(itertools.pairwise(bounds.tolist())):
        run = pts[a : b + 1]
        if over[a]:
            piece = replace(path, points=run, feature=Feature.OVERHANG_WALL, speed_mm_s=speed_mm_s)
        else:
            piece = replace(path, points=run)
        out.append(piece if k == 0 else replace(piece, retract_before=False, travel_via=None))
    return out


def _short(pts: np.ndarray) -> bool:
    """Every segment is at most OVERHANG_STEP_MM long (its midpoint speaks for it)."""
    return bool((np.hypot(*np.diff(pts, axis=0).T) <= OVERHANG_STEP_MM).all())
