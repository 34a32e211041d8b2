"""Seams parsed back from the G-code: where each wall loop starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.affinity

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings
from tests.slicer.gcode_reader import Layer, read

WALLS = ("External perimeter", "Perimeter")
# Half the outer wall's line width: its centre line runs this far inside the outline, mm.
HALF_WIDTH_MM = 0.225


def _slice(path: Path, *overrides: str) -> str:
    settings = SliceSettings.from_overrides(["skirt_loops=0", *overrides])
    return slice_models(
        [path], printer=load_printer(), material=load_material(), settings=settings
    ).gcode


def _loops(layer: Layer) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Wall loops of a layer: (vertices (k, 2) from the seam on, where the previous
    extrusion ended (None at the start of the layer))."""
    seg = layer.seg_array()
    out: list[tuple[list[np.ndarray], np.ndarray | None]] = []
    for i, feature in enumerate(layer.features):
        joined = i > 0 and np.allclose(seg[i, :2], seg[i - 1, 2:])
        if feature not in WALLS:
            continue
        if joined and layer.features[i - 1] == feature:
            out[-1][0].append(seg[i, :2])
        else:
            out.append(([seg[i, :2]], seg[i - 1, 2:] if i else None))
    return [(np.array(v), p) for v, p in out]


def _outer_seams(text: str) -> np.ndarray:
    """(layers, 2): where each layer's first external perimeter starts."""
    return np.array([layer.seg_array("External perimeter")[0, :2] for layer in read(text).layers])


def _prism(tmp_path: Path, outline: shapely.Polygon) -> Path:
    import trimesh

    path = tmp_path / "prism.stl"
    trimesh.creation.extrude_polygon(outline, 2.0).export(path)
    return path


# A 20 mm square with a notch 1 mm deep in its back edge, from x = 1.5 to 6 mm: the notch's
# inner corners are concave, the left one 1.5 mm from the square's rear left corner.
NOTCHED = shapely.Polygon(
    [(0, 0), (20, 0), (20, 20), (6, 20), (6, 19), (1.5, 19), (1.5, 20), (0, 20)]
)


@pytest.mark.parametrize("seam", ["rear", "aligned"])
def test_rear_and_aligned_seams_hide_in_a_concave_corner_near_the_rear(
    tmp_path: Path, seam: str
) -> None:
    text = _slice(_prism(tmp_path, NOTCHED), f"seam={seam}")
    corner = read(text).xy_min + np.array([1.5, 19.0]) - 2 * HALF_WIDTH_MM
    assert np.hypot(*(_outer_seams(text) - corner).T).max() < 0.05


def test_rear_seam_stays_at_the_rear_without_a_concave_corner_near_it(tmp_path: Path) -> None:
    # The notch 6 mm further right: its corners are too far from the rear left corner.
    far = shapely.affinity.translate(NOTCHED, 6.0, 0.0).union(shapely.box(0, 0, 7.5, 20))
    text = _slice(_prism(tmp_path, far), "seam=rear")
    rear_left = read(text).xy_min + np.array([0.0, 20.0 - 2 * HALF_WIDTH_MM])
    assert np.hypot(*(_outer_seams(text) - rear_left).T).max() < 0.05


def test_nearest_seam_starts_each_loop_at_its_vertex_nearest_the_nozzle(tmp_path: Path) -> None:
    text = _slice(_prism(tmp_path, NOTCHED.difference(shapely.box(8, 8, 12, 12))), "seam=nearest")
    checked = 0
    for layer in read(text).layers:
        for vertices, prev in _loops(layer):
            if prev is None:
                continue
            dist = np.hypot(*(vertices - prev).T)
            assert dist[0] <= dist.min() + 1e-3
            checked += 1
    assert checked >= 20
