"""Placing parts on the bed: drop to z = 0, pack footprints without overlap, centre the lot.

Packing is a shelf algorithm over the footprints' bounding rectangles (tallest first, rows left
to right), deterministic for a given input; the packed group is centred on the bed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slicer.errors import PlateError
from slicer.mesh import Mesh


@dataclass(frozen=True)
class Placement:
    """Where one part goes: the offset added to its vertices ((3,) float64, mm)."""

    name: str
    offset_mm: np.ndarray


def arrange(
    meshes: list[Mesh],
    bed_x_mm: float,
    bed_y_mm: float,
    max_z_mm: float,
    gap_mm: float,
    margin_mm: float,
) -> list[Mesh]:
    """Meshes moved onto the bed: lowest point at z = 0, footprints apart by ``gap_mm``,
    the group centred, everything at least ``margin_mm`` (skirt/brim) inside the bed edge."""
    if not meshes:
        raise PlateError("nothing to slice: no models given")
    bounds = [m.bounds_mm for m in meshes]
    usable_x, usable_y = bed_x_mm - 2 * margin_mm, bed_y_mm - 2 * margin_mm
    bed = f"{bed_x_mm:g} x {bed_y_mm:g} x {max_z_mm:g} mm"
    for mesh, b in zip(meshes, bounds, strict=True):
        size = b[1] - b[0]
        if size[0] > usable_x or size[1] > usable_y or size[2] > max_z_mm:
            raise PlateError(
                f"part '{mesh.name}' ({size[0]:.1f} x {size[1]:.1f} x {size[2]:.1f} mm) does "
                f"not fit the bed ({bed}, {margin_mm:.1f} mm kept for skirt/brim)"
            )
    sizes = [b[1, :2] - b[0, :2] for b in bounds]
    corners = _shelf_pack(sizes, usable_x, usable_y, gap_mm, meshes, bed)
    extent = np.max(
        [c + (b[1, :2] - b[0, :2]) for c, b in zip(corners, bounds, strict=True)], axis=0
    )
    shift = np.array([bed_x_mm, bed_y_mm]) / 2.0 - extent / 2.0
    placed = []
    for mesh, b, corner in zip(meshes, bounds, corners, strict=True):
        xy = corner + shift - b[0, :2]
        placed.append(mesh.translated(np.array([xy[0], xy[1], -b[0, 2]])))
    return placed


def _shelf_pack(
    sizes: list[np.ndarray],
    width: float,
    depth: float,
    gap: float,
    meshes: list[Mesh],
    bed: str,
) -> list[np.ndarray]:
    """Lower-left corner of each rectangle ((2,) float64, mm) in a group starting at (0, 0)."""
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i][1], -sizes[i][0], i))
    corners: list[np.ndarray] = [np.zeros(2)] * len(sizes)
    x = y = row_depth = 0.0
    for i in order:
        sx, sy = float(sizes[i][0]), float(sizes[i][1])
        if x > 0 and x + sx > width:
            x, y = 0.0, y + row_depth + gap
            row_depth = 0.0
        if y + sy > depth:
            raise PlateError(
                f"part '{meshes[i].name}' does not fit: the plate is full "
                f"(bed {bed}, {len(sizes)} parts, {gap:g} mm apart)"
            )
        corners[i] = np.array([x, y])
        x += sx + gap
        row_depth = max(row_depth, sy)
    return corners
