"""Loading and repair: formats, bad input with one-line errors, winding fixes."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from slicer.errors import MeshError
from slicer.mesh import load_mesh
from tests.slicer.conftest import MODELS


def _box(size: float = 10.0):
    import trimesh

    return trimesh.creation.box(extents=[size, size, size])


def _binary_stl(path: Path, triangles: np.ndarray) -> Path:
    data = bytearray(b"\0" * 80 + struct.pack("<I", len(triangles)))
    for tri in triangles:
        data += struct.pack("<12fH", 0, 0, 0, *tri.ravel(), 0)
    path.write_bytes(bytes(data))
    return path


def test_binary_stl_is_indexed_and_closed() -> None:
    mesh = load_mesh(MODELS / "xyz_cube_20mm.stl")
    assert mesh.faces.shape == (260, 3) and mesh.faces.dtype == np.int64
    assert np.ptp(mesh.vertices, axis=0) == pytest.approx([20, 20, 20], abs=1e-3)


@pytest.mark.parametrize("suffix", ["obj", "3mf", "stl"])
def test_other_formats_load_the_same_solid(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"box.{suffix}"
    file_type = "stl_ascii" if suffix == "stl" else suffix
    _box().export(path, file_type=file_type)
    mesh = load_mesh(path)
    assert len(mesh.faces) == 12
    assert np.ptp(mesh.vertices, axis=0) == pytest.approx([10, 10, 10])


def test_inverted_and_inconsistent_winding_is_fixed(tmp_path: Path) -> None:
    box = _box()
    tris = box.vertices[box.faces][:, ::-1].copy()  # all inverted
    tris[0] = tris[0][::-1]  # and one face the other way round
    mesh = load_mesh(_binary_stl(tmp_path / "flipped.stl", tris))
    a, b, c = (mesh.vertices[mesh.faces[:, i]] for i in range(3))
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6
    assert volume == pytest.approx(1000)


def test_duplicate_and_degenerate_faces_are_dropped(tmp_path: Path) -> None:
    box = _box()
    tris = box.vertices[box.faces]
    degenerate = np.array([[[0, 0, 0], [0, 0, 0], [1, 1, 1]]], dtype=float)
    tris = np.concatenate([tris, tris[:2], degenerate])
    mesh = load_mesh(_binary_stl(tmp_path / "dups.stl", tris))
    assert len(mesh.faces) == 12


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.stl", b"", "empty file"),
        ("text.stl", b"hello, I am not a mesh\n", "not a"),
        ("garbage.obj", b"\x00\x01\x02 nothing here", "not a"),
        ("part.step", b"ISO-10303-21;", "unsupported file type"),
        ("broken.3mf", b"PK\x03\x04 not really a zip", "not a readable mesh"),
        ("bad_index.obj", b"v 0 0 0\nv 1 0 0\nf 1 2 3\n", "not a"),
        ("no_facets.stl", b"solid a\nendsolid a\n", "no triangles"),
    ],
)
def test_bad_files_fail_with_one_line_naming_the_file(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MeshError) as err:
        load_mesh(path)
    message = str(err.value)
    assert name in message and problem in message and "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="file not found"):
        load_mesh(tmp_path / "nope.stl")


def test_nan_vertices(tmp_path: Path) -> None:
    tris = _box().vertices[_box().faces].copy()
    tris[3, 1, 2] = np.nan
    with pytest.raises(MeshError, match="NaN"):
        load_mesh(_binary_stl(tmp_path / "nan.stl", tris))


def test_flat_model_is_rejected(tmp_path: Path) -> None:
    tris = np.array([[[0, 0, 0], [10, 0, 0], [0, 10, 0]], [[10, 0, 0], [10, 10, 0], [0, 10, 0]]])
    with pytest.raises(MeshError, match="flat"):
        load_mesh(_binary_stl(tmp_path / "flat.stl", tris.astype(float)))


def test_open_surface_without_volume_is_rejected(tmp_path: Path) -> None:
    tris = np.array([[[0, 0, 0], [10, 0, 0], [0, 10, 10]]], dtype=float)
    with pytest.raises(MeshError, match="zero volume"):
        load_mesh(_binary_stl(tmp_path / "sheet.stl", tris))


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.stl"
    path.mkdir()
    with pytest.raises(MeshError, match="cannot read"):
        load_mesh(path)
