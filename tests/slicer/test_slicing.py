"""Cross-sections: nesting, overlapping bodies, open meshes, layer planes."""

from __future__ import annotations

import numpy as np
import pytest

from printers.profiles import load_material, load_printer
from slicer.api import layer_tops_mm, slice_models
from slicer.mesh import Mesh, load_mesh
from slicer.settings import SliceSettings
from slicer.slicing import slice_mesh
from tests.slicer.conftest import MODELS


def _mesh(*parts) -> Mesh:
    """One Mesh of several trimesh bodies, kept as separate (possibly overlapping) shells."""
    vertices, faces, offset = [], [], 0
    for part in parts:
        vertices.append(np.asarray(part.vertices, dtype=np.float64))
        faces.append(np.asarray(part.faces, dtype=np.int64) + offset)
        offset += len(part.vertices)
    return Mesh("test", np.vstack(vertices), np.vstack(faces))


def _box(size, center):
    import trimesh

    return trimesh.creation.box(
        extents=size, transform=trimesh.transformations.translation_matrix(center)
    )


def test_island_inside_hole_is_kept() -> None:
    import trimesh

    tube = trimesh.boolean.difference(
        [_box([20, 20, 10], [0, 0, 5]), _box([10, 10, 12], [0, 0, 5])], engine="manifold"
    )
    mesh = _mesh(tube, _box([4, 4, 10], [0, 0, 5]))
    (section,) = slice_mesh(mesh, np.array([5.0]))
    assert section.area == pytest.approx(400 - 100 + 16)
    assert len(section.geoms) == 2


def test_overlapping_bodies_are_united() -> None:
    mesh = _mesh(_box([10, 10, 10], [0, 0, 5]), _box([10, 10, 10], [5, 0, 5]))
    (section,) = slice_mesh(mesh, np.array([5.0]))
    assert section.area == pytest.approx(150)
    assert section.geom_type == "Polygon"


def test_open_mesh_slices_completely() -> None:
    mesh = load_mesh(MODELS / "broken_missing_triangle.stl")
    z = mesh.bounds_mm[0, 2] + np.arange(0.1, 10, 0.2)
    sections = slice_mesh(mesh, z)
    areas = np.array([s.area for s in sections])
    assert (areas > 0).all()
    # no layer loses its cross-section where the triangle is missing
    assert np.abs(np.diff(areas)).max() < 0.1 * areas.max()


def test_layer_tops_reach_the_model_top() -> None:
    s = SliceSettings.from_overrides(["first_layer_height_mm=0.3", "layer_height_mm=0.2"])
    tops = layer_tops_mm(10.0, s)
    assert tops[0] == pytest.approx(0.3) and tops[-1] >= 10.0 - 1e-9
    assert np.diff(tops) == pytest.approx(np.full(len(tops) - 1, 0.2))


def test_progress_reports_every_layer() -> None:
    calls: list[tuple[int, int]] = []
    result = slice_models(
        [MODELS / "thin_walls_varying.stl"],
        printer=load_printer(),
        material=load_material(),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[-1] == (result.layers, result.layers)
    done = [d for d, _ in calls]
    assert done == sorted(set(done)) and all(t == result.layers for _, t in calls)


def test_self_intersecting_contour_keeps_its_area() -> None:
    from slicer.slicing import Contours, _polygons

    # crosses itself at (5.71, 2.86): lobes of 11.4 and 71.4 mm² (this one anticlockwise)
    bowtie = np.array([[0, 4], [20, 0], [20, 10], [0, 0]], dtype=float)
    square = np.array([[30, 0], [40, 0], [40, 10], [30, 10]], dtype=float)
    hole = square[::-1] * 0.5 + [17.5, 2.5]  # clockwise 5 x 5 hole inside the square
    contours = Contours(
        np.vstack([bowtie, square, hole]), np.array([0, 4, 8, 12]), np.array([0, 0, 0])
    )
    (section,) = _polygons(contours, 1)
    assert section.is_valid
    assert 71.4 + 75 - 0.1 < section.area < 82.9 + 75 + 0.1
