"""Infill patterns: families of lines clipped to a region.

Every pattern is built from straight parallel lines on a grid fixed to the bed origin (so
layers line up) or, for gyroid, from sampled wave lines; clipping is one vectorized shapely
intersection.  Lines come back as open polylines ((n, 2) float64, mm), in scan order.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from slicer.settings import InfillPattern

# Gyroid waves are sampled this often along their length, mm.
GYROID_STEP_MM = 0.4


def _rotate(points: np.ndarray, angle_rad: float) -> np.ndarray:
    """(n, 2) points rotated counter-clockwise about the origin."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return points @ np.array([[c, s], [-s, c]])


def parallel_lines(
    region: shapely.Geometry, angle_deg: float, spacing_mm: float
) -> list[np.ndarray]:
    """Lines at ``angle_deg`` every ``spacing_mm``, clipped to ``region``: (2, 2) segments.

    Scanline clipping in numpy: every ring edge is crossed with the scanlines it spans, the
    crossings are sorted along each scanline and paired (even-odd, as rings of a valid
    polygon nest).  Segments come in scan order: by scanline, then along it.
    """
    if region.is_empty or spacing_mm <= 0:
        return []
    angle = math.radians(angle_deg)
    coords, ring_index = shapely.get_coordinates(
        shapely.get_rings(shapely.get_parts(region)), return_index=True
    )
    if len(coords) < 3:
        return []
    local = _rotate(coords, -angle)
    same_ring = ring_index[1:] == ring_index[:-1]
    a, b = local[:-1][same_ring], local[1:][same_ring]  # rings are closed: last == first
    y0, y1 = a[:, 1], b[:, 1]
    lo_y, hi_y = np.minimum(y0, y1), np.maximum(y0, y1)
    k_lo = np.ceil(lo_y / spacing_mm).astype(np.int64)
    k_hi = np.ceil(hi_y / spacing_mm).astype(np.int64)  # half-open: lo <= y < hi
    counts = np.maximum(k_hi - k_lo, 0)
    edge = np.repeat(np.arange(len(a)), counts)
    if len(edge) == 0:
        return []
    first = np.cumsum(counts) - counts
    k = k_lo[edge] + (np.arange(len(edge)) - first[edge])
    y = k * spacing_mm
    t = (y - y0[edge]) / (y1[edge] - y0[edge])
    x = a[edge, 0] + t * (b[edge, 0] - a[edge, 0])
    order = np.lexsort((x, k))
    k, x, y = k[order], x[order], y[order]
    if len(k) % 2:
        return []
    start, end = np.arange(0, len(k), 2), np.arange(1, len(k), 2)
    ok = (k[start] == k[end]) & (x[end] - x[start] > 1e-6)
    seg = np.empty((int(ok.sum()), 2, 2))
    seg[:, 0, 0], seg[:, 1, 0] = x[start][ok], x[end][ok]
    seg[:, :, 1] = y[start][ok][:, None]
    seg = _rotate(seg.reshape(-1, 2), angle).reshape(-1, 2, 2)
    return list(seg)


def wave_lines(region: shapely.Geometry, spacing_mm: float, z_mm: float) -> list[np.ndarray]:
    """Gyroid-like infill: the z-section of a gyroid approximated by phase-shifted sine waves."""
    if region.is_empty:
        return []
    period = 2.0 * spacing_mm
    phase = 2.0 * math.pi * z_mm / period
    vertical = math.sin(phase) ** 2 > 0.5
    angle = math.pi / 2.0 if vertical else 0.0
    local = shapely.transform(region, lambda p: _rotate(p, -angle))
    minx, miny, maxx, maxy = local.bounds
    x = np.arange(minx - GYROID_STEP_MM, maxx + 2 * GYROID_STEP_MM, GYROID_STEP_MM)
    amplitude = spacing_mm / 2.0 * abs(math.cos(phase)) + 0.1 * spacing_mm
    wave = amplitude * np.sin(2.0 * math.pi * x / period + phase)
    # Waves are longer than straight lines: space them wider to keep the density.
    stretch = float(np.hypot(np.diff(x), np.diff(wave)).sum() / max(x[-1] - x[0], 1e-9))
    pitch = spacing_mm * stretch
    k = np.arange(math.floor(miny / pitch) - 1, math.ceil(maxy / pitch) + 2)
    coords = np.empty((len(k), len(x), 2))
    coords[:, :, 0] = x
    coords[:, :, 1] = k[:, None] * pitch + wave[None, :]
    return _clip(shapely.linestrings(coords), local, angle)


def _clip(lines: np.ndarray, local: shapely.Geometry, angle_rad: float) -> list[np.ndarray]:
    clipped = shapely.intersection(lines, local)
    parts = shapely.get_parts(clipped)
    parts = parts[shapely.get_type_id(parts) == 1]
    coords, index = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return []
    coords = _rotate(coords, angle_rad)
    cuts = np.flatnonzero(np.diff(index)) + 1
    return [c for c in np.split(coords, cuts) if len(c) >= 2]


def solid_lines(region: shapely.Geometry, spacing_mm: float, layer_index: int) -> list[np.ndarray]:
    """Solid infill: lines one spacing apart, at +45° and -45° on alternate layers."""
    return parallel_lines(region, 45.0 if layer_index % 2 == 0 else -45.0, spacing_mm)


# Candidate bridge directions, degrees.
BRIDGE_ANGLES_DEG = (0.0, 22.5, 45.0, 67.5, 90.0, 112.5, 135.0, 157.5)


def bridge_lines(
    region: shapely.Geometry, support: shapely.Geometry, spacing_mm: float
) -> list[np.ndarray]:
    """Bridge infill: parallel lines in the direction whose lines most often end on
    ``support`` at both ends (anchored), tried every 22.5°."""
    if region.is_empty:
        return []
    best: tuple[float, list[np.ndarray]] = (-1.0, [])
    shapely.prepare(support)
    for angle in BRIDGE_ANGLES_DEG:
        lines = parallel_lines(region, angle, spacing_mm)
        if not lines:
            continue
        seg = np.array(lines)
        ends = np.concatenate([seg[:, 0], seg[:, 1]])
        ok = shapely.contains_xy(support, ends[:, 0], ends[:, 1]).reshape(2, -1).all(axis=0)
        length = np.hypot(*(seg[:, 1] - seg[:, 0]).T)
        score = float(length[ok].sum() / max(length.sum(), 1e-9))
        if score > best[0] + 1e-9:
            best = (score, lines)
    return best[1]


def sparse_lines(
    region: shapely.Geometry,
    pattern: InfillPattern,
    density: float,
    spacing_mm: float,
    layer_index: int,
    z_mm: float,
) -> list[np.ndarray]:
    """Sparse infill of ``density`` (0..1; 1 = solid) with the given pattern."""
    if density <= 0 or region.is_empty:
        return []
    if density >= 0.999:
        return solid_lines(region, spacing_mm, layer_index)
    gap = spacing_mm / density
    if pattern is InfillPattern.LINES:
        return parallel_lines(region, 45.0 if layer_index % 2 == 0 else -45.0, gap)
    if pattern is InfillPattern.GRID:
        return parallel_lines(region, 45.0, 2 * gap) + parallel_lines(region, -45.0, 2 * gap)
    if pattern is InfillPattern.TRIANGLES:
        out: list[np.ndarray] = []
        for angle in (0.0, 60.0, 120.0):
            out += parallel_lines(region, angle, 3 * gap)
        return out
    return wave_lines(region, gap, z_mm)
