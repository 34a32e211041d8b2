"""Property tests (hypothesis) for pure functions of the slicer and writer."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gcode.writer import format_duration
from slicer.infill import parallel_lines
from slicer.order import loop_from_seam, nearest_order
from slicer.slicing import _rank_in_group
from tests.slicer.gcode_reader import parse_duration_s


@given(st.floats(min_value=0, max_value=10 * 86400, allow_nan=False))
def test_duration_round_trips(seconds: float) -> None:
    assert parse_duration_s(format_duration(seconds)) == round(seconds)


@given(st.lists(st.integers(0, 5), max_size=60))
def test_rank_in_group_counts_equal_keys(keys: list[int]) -> None:
    arr = np.sort(np.array(keys, dtype=np.int64))
    rank = _rank_in_group(arr)
    for i in range(len(arr)):
        assert rank[i] == int((arr[:i] == arr[i]).sum())


@settings(max_examples=40, deadline=None)
@given(st.floats(0, 180), st.floats(0.2, 3.0), st.floats(1, 20), st.floats(1, 20), st.floats(-5, 5))
def test_parallel_lines_fill_a_box(angle: float, spacing: float, w: float, h: float, x0: float):
    box = shapely.box(x0, 0, x0 + w, h)
    lines = parallel_lines(box, angle, spacing)
    if not lines:
        return
    seg = np.array(lines)
    geoms = shapely.linestrings(seg)
    assert shapely.covered_by(geoms, box.buffer(1e-6)).all()
    total = float(shapely.length(geoms).sum())
    assert abs(total * spacing - box.area) <= 2 * spacing * (w + h) + 1e-6


@given(st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=1, max_size=20))
def test_nearest_order_is_a_permutation(points: list[tuple[float, float]]) -> None:
    pts = np.array(points)
    order, flipped = nearest_order(pts, pts[::-1].copy(), np.zeros(2), reversible=True)
    assert sorted(order.tolist()) == list(range(len(pts)))
    assert flipped.dtype == bool


@given(st.integers(3, 12), st.integers(0, 11))
def test_loop_from_seam_closes_the_ring(n: int, seam: int) -> None:
    ring = np.random.default_rng(n).random((n, 2))
    loop = loop_from_seam(ring, seam % n)
    assert len(loop) == n + 1 and np.array_equal(loop[0], loop[-1])
    assert np.array_equal(loop[0], ring[seam % n])
