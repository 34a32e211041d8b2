"""Loading and repairing triangle meshes (STL binary/ASCII, OBJ, 3MF).

Binary STL, the common case, is read with numpy directly (trimesh's import alone costs about a
second); every other format goes through trimesh, imported lazily.  Repair: vertices closer
than ``MERGE_QUANTUM_MM`` are merged, degenerate and duplicate faces dropped, and inconsistent
winding fixed.  Holes are not patched here: the slicer closes open contours per layer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slicer.errors import MeshError

log = logging.getLogger(__name__)

MERGE_QUANTUM_MM = 1e-4
_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("v", "<f4", (9,)), ("attr", "<u2")])
SUPPORTED_SUFFIXES = (".stl", ".obj", ".3mf")


@dataclass(frozen=True)
class Mesh:
    """An indexed triangle mesh.

    vertices : (n, 3) float64, mm
    faces    : (m, 3) int64, indices into vertices, counter-clockwise seen from outside
    """

    name: str
    vertices: np.ndarray
    faces: np.ndarray

    @property
    def bounds_mm(self) -> np.ndarray:
        """(2, 3) float64: min and max corner, mm."""
        return np.array([self.vertices.min(axis=0), self.vertices.max(axis=0)])

    def translated(self, offset_mm: np.ndarray) -> Mesh:
        """A copy moved by ``offset_mm`` ((3,) float64, mm)."""
        return Mesh(self.name, self.vertices + np.asarray(offset_mm, dtype=np.float64), self.faces)


def load_mesh(path: str | Path) -> Mesh:
    """Read and repair one model file; raises MeshError naming the file and the problem."""
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise MeshError(path, f"unsupported file type '{path.suffix}' (use STL, OBJ or 3MF)")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MeshError(path, "file not found") from None
    except OSError as exc:
        raise MeshError(path, f"cannot read file ({exc.strerror or exc})") from None
    if not data.strip():
        raise MeshError(path, "empty file")
    triangles = _binary_stl_triangles(data) if path.suffix.lower() == ".stl" else None
    if triangles is None:
        triangles = _trimesh_triangles(path)
    return repair(path, triangles)


def _binary_stl_triangles(data: bytes) -> np.ndarray | None:
    """(m, 3, 3) float32 triangles if ``data`` is a well-formed binary STL, else None."""
    if len(data) < 84:
        return None
    count = int(np.frombuffer(data, dtype="<u4", count=1, offset=80)[0])
    if count == 0 or len(data) != 84 + count * _STL_RECORD.itemsize:
        return None
    records = np.frombuffer(data, dtype=_STL_RECORD, count=count, offset=84)
    return records["v"].reshape(count, 3, 3)  # float32, as stored


def _trimesh_triangles(path: Path) -> np.ndarray:
    import trimesh  # lazy: heavy import, only needed for non-binary-STL input

    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for garbage input
        detail = " ".join(str(exc).split())[:200]  # one line, whatever the loader said
        raise MeshError(path, f"not a readable mesh ({type(exc).__name__}: {detail})") from None
    faces = np.asarray(getattr(loaded, "faces", np.empty((0, 3))), dtype=np.int64)
    vertices = np.asarray(getattr(loaded, "vertices", np.empty((0, 3))), dtype=np.float64)
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise MeshError(path, "not a mesh (no triangles found)")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshError(path, "not a mesh (face indices out of range)")
    return vertices[faces]


def repair(path: Path | str, triangles: np.ndarray) -> Mesh:
    """Index, clean and validate ``triangles`` ((m, 3, 3) float32 or float64, mm) into a Mesh."""
    if len(triangles) == 0:
        raise MeshError(path, "not a mesh (no triangles found)")
    if not np.isfinite(triangles).all():
        raise MeshError(path, "vertex coordinates contain NaN or infinity")
    flat = triangles.reshape(-1, 3)
    extent = flat.max(axis=0) - flat.min(axis=0)
    if (extent < MERGE_QUANTUM_MM * 10).any():
        axis = "XYZ"[int(np.argmin(extent))]
        raise MeshError(path, f"flat model (zero size along {axis}): a 2D shape has no volume")
    vertices, faces = _merge_vertices(flat)
    faces = _drop_bad_faces(faces)
    if len(faces) == 0:
        raise MeshError(path, "zero volume (every triangle is degenerate)")
    faces = _fix_winding(vertices, faces)
    volume = _signed_volume(vertices, faces)
    if abs(volume) < 1e-9 * float(np.prod(extent)) or abs(volume) < 1e-6:
        raise MeshError(path, "zero volume (the surface encloses nothing)")
    if volume < 0:
        faces = faces[:, ::-1].copy()
    return Mesh(Path(path).stem, vertices, faces)


def _merge_vertices(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge points on a MERGE_QUANTUM_MM grid: ((n, 3) float64 mm, (m, 3) int64)."""
    lo = points.min(axis=0)
    q = np.round((points - lo) / np.float32(MERGE_QUANTUM_MM)).astype(np.int64)
    bits = max(int(q.max()).bit_length(), 1)
    if bits > 21:
        shift = bits - 21
        q >>= shift
    key = (q[:, 0] << 42) | (q[:, 1] << 21) | q[:, 2]
    order = np.argsort(key)  # introsort: fast and deterministic
    sorted_key = key[order]
    new = np.empty(len(key), dtype=bool)
    new[0] = True
    new[1:] = sorted_key[1:] != sorted_key[:-1]
    inverse = np.empty(len(key), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return points[order[new]].astype(np.float64), inverse.reshape(-1, 3)


def _drop_bad_faces(faces: np.ndarray) -> np.ndarray:
    """Remove faces with repeated vertices and exact duplicate faces (same vertex set)."""
    ok = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])
    faces = faces[ok]
    s = np.sort(faces, axis=1)
    if s.max(initial=0) < (1 << 21):
        key = (s[:, 0] << 42) | (s[:, 1] << 21) | s[:, 2]
        order = np.argsort(key)
        dup = np.zeros(len(faces), dtype=bool)
        dup[order[1:]] = key[order[1:]] == key[order[:-1]]
        return faces[~dup] if dup.any() else faces
    _, keep = np.unique(s, axis=0, return_index=True)
    return faces[np.sort(keep)] if len(keep) != len(faces) else faces


def _fix_winding(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Make neighbouring faces agree on winding; uses trimesh only when they do not."""
    directed = np.stack([faces, np.roll(faces, -1, axis=1)], axis=-1).reshape(-1, 2)
    n = np.int64(len(vertices))
    key = np.sort(directed[:, 0] * n + directed[:, 1])
    if not (key[1:] == key[:-1]).any():
        return faces
    import trimesh  # lazy: only for inconsistent meshes

    mesh = trimesh.Trimesh(vertices, faces, process=False)
    trimesh.repair.fix_winding(mesh)
    log.info("fixed inconsistent face winding")
    return np.asarray(mesh.faces, dtype=np.int64)


def _signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Signed enclosed volume, mm³ (divergence theorem; positive when normals face out)."""
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)
