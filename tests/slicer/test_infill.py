"""Infill patterns: inside the region, density as asked, solid at 100 %."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from slicer.infill import parallel_lines, solid_lines, sparse_lines
from slicer.settings import InfillPattern

REGION = shapely.Point(0, 0).buffer(15).difference(shapely.box(-4, -6, 5, 3))
SPACING = 0.407


def _total_length(lines: list[np.ndarray]) -> float:
    return float(sum(np.hypot(*np.diff(line, axis=0).T).sum() for line in lines))


@pytest.mark.parametrize("pattern", list(InfillPattern))
@pytest.mark.parametrize("density", [0.1, 0.2, 0.5])
def test_pattern_inside_region_with_requested_density(pattern: InfillPattern, density: float):
    lines = sparse_lines(REGION, pattern, density, SPACING, layer_index=3, z_mm=0.8)
    assert lines
    geoms = np.array([shapely.linestrings(line) for line in lines])
    assert shapely.covered_by(geoms, REGION.buffer(1e-6)).all()
    covered = _total_length(lines) * SPACING / REGION.area
    assert covered == pytest.approx(density, rel=0.2)


def test_full_density_is_solid() -> None:
    lines = sparse_lines(REGION, InfillPattern.GRID, 1.0, SPACING, layer_index=0, z_mm=0.2)
    assert _total_length(lines) * SPACING / REGION.area == pytest.approx(1.0, rel=0.05)


def test_solid_alternates_plus_minus_45() -> None:
    for layer, expected in ((0, 45.0), (1, -45.0)):
        seg = solid_lines(shapely.box(0, 0, 10, 10), SPACING, layer)[5]
        d = seg[1] - seg[0]
        angle = np.degrees(np.arctan2(d[1], d[0]))
        assert angle % 180 == pytest.approx(expected % 180)


def test_parallel_lines_handle_vertices_on_scanlines() -> None:
    square = shapely.box(0, 0, 4, 4)  # corners exactly on scanlines at angle 0
    lines = parallel_lines(square, 0.0, 1.0)
    ys = sorted(float(line[0, 1]) for line in lines)
    assert ys == [0.0, 1.0, 2.0, 3.0]
    assert all(np.hypot(*(line[1] - line[0])) == pytest.approx(4.0) for line in lines)


def test_lines_are_not_joined_across_a_hole() -> None:
    from slicer.order import join_lines

    region = shapely.box(0, 0, 10, 10).difference(shapely.Point(5, 5).buffer(0.2))
    left = np.array([[1.0, 1.0], [1.0, 5.0]])
    right = np.array([[9.0, 5.0], [9.0, 9.0]])  # the connector (1,5)-(9,5) crosses the hole
    assert len(join_lines([left, right], region, max_gap_mm=20)) == 2
    above = np.array([[9.0, 6.0], [9.0, 9.0]])  # (1,5)-(9,6) passes above it
    assert len(join_lines([left, above], region, max_gap_mm=20)) == 1
