"""Combing: fewer retractions, and every travel left unretracted stays over the part."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import shapely

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings

_WORD = re.compile(r"([XYZE])(-?\d*\.?\d+)")


def _slice(path: Path, *overrides: str) -> str:
    settings = SliceSettings.from_overrides(list(overrides))
    return slice_models(
        [path], printer=load_printer(), material=load_material(), settings=settings
    ).gcode


def _sections(path: Path, z_mm: list[float]) -> list[shapely.Geometry]:
    """Cross-sections half a layer below each z, placed as the slicer places one part."""
    import trimesh

    tm = trimesh.load_mesh(path)
    lo, hi = tm.bounds
    bed = load_printer()
    shift = np.array([bed.bed_x_mm / 2, bed.bed_y_mm / 2]) - (lo[:2] + hi[:2]) / 2
    planes = np.array(z_mm) - 0.1
    lines, _, _ = trimesh.intersections.mesh_multiplane(tm, [0, 0, lo[2]], [0, 0, 1], planes)
    return [_even_odd(np.asarray(segs)[:, :, :2] + shift) for segs in lines]


def _even_odd(segments: np.ndarray) -> shapely.Geometry:
    """Even-odd fill of closed contours given as (k, 2, 2) segments: the symmetric
    difference of the discs bounded by the faces' outer rings."""
    noded = shapely.union_all(shapely.linestrings(segments), grid_size=1e-4)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    out = shapely.Polygon()
    for disc in shapely.polygons(shapely.get_exterior_ring(faces)):
        out = shapely.symmetric_difference(out, disc)
    return out


def _moves(text: str) -> tuple[int, list[tuple[float, np.ndarray]]]:
    """(retractions, per layer (z, unretracted travel segments (k, 4)))."""
    x = y = 0.0
    retracted = False
    retractions = 0
    layers: list[tuple[float, list]] = []
    for line in text.splitlines():
        if line.startswith(";Z:"):
            layers.append((float(line[3:]), []))
        if not line.startswith("G1") or not layers:
            continue
        words = dict(_WORD.findall(line.split(";")[0]))
        nx, ny = float(words.get("X", x)), float(words.get("Y", y))
        e = float(words.get("E", 0.0))
        if e < 0:
            retracted, retractions = True, retractions + 1
        elif e > 0 and (nx, ny) == (x, y):
            retracted = False
        elif (nx, ny) != (x, y) and e == 0 and not retracted:
            layers[-1][1].append((x, y, nx, ny))
        x, y = nx, ny
    return retractions, [(z, np.array(b).reshape(-1, 4)) for z, b in layers]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import trimesh

    d = tmp_path_factory.mktemp("comb")
    trimesh.creation.annulus(r_min=6, r_max=12, height=3).export(d / "ring.stl")
    c = shapely.Polygon([(0, 0), (20, 0), (20, 5), (5, 5), (5, 15), (20, 15), (20, 20), (0, 20)])
    trimesh.creation.extrude_polygon(c, 3).export(d / "c.stl")
    return {"ring": d / "ring.stl", "c": d / "c.stl"}


@pytest.mark.parametrize("name", ["ring", "c"])
def test_combing_lowers_retractions_and_stays_over_the_part(
    models: dict[str, Path], name: str
) -> None:
    plain, _ = _moves(_slice(models[name]))
    combed, layers = _moves(_slice(models[name], "combing=true"))
    assert combed <= 0.6 * plain
    sections = _sections(models[name], [z for z, _ in layers])
    unretracted = 0
    for part, (_, travels) in zip(sections, layers, strict=True):
        part = shapely.buffer(part, 0.02)
        for x0, y0, x1, y1 in travels:
            t = np.linspace(0.0, 1.0, max(int(np.hypot(x1 - x0, y1 - y0) / 0.2), 2))
            pts = np.column_stack([x0 + t * (x1 - x0), y0 + t * (y1 - y0)])
            assert shapely.contains_xy(part, pts[:, 0], pts[:, 1]).all(), (x0, y0, x1, y1)
            unretracted += 1
    assert unretracted > 0


def test_combing_off_by_default_and_same_bytes_when_off(models: dict[str, Path]) -> None:
    assert _slice(models["ring"]) == _slice(models["ring"], "combing=false")


def _air_mm(part: shapely.Geometry, travel: np.ndarray) -> float:
    """Length of the travel segment (x0, y0, x1, y1) outside ``part``, mm."""
    segment = shapely.LineString(travel.reshape(2, 2))
    return segment.length - shapely.intersection(segment, part).length


@pytest.mark.parametrize(("gap_mm", "crossings_retract"), [(1.0, False), (6.0, True)])
def test_travels_between_islands_cross_short_gaps_unretracted(
    tmp_path: Path, gap_mm: float, crossings_retract: bool
) -> None:
    """Two blocks side by side: travels from one to the other go through the blocks and
    over the gap between them, retracted only if the gap is wider than
    retract_min_travel_mm (2 mm)."""
    import trimesh

    blocks = shapely.MultiPolygon(
        [shapely.box(0, 0, 10, 10), shapely.box(10 + gap_mm, 0, 20 + gap_mm, 10)]
    )
    path = tmp_path / "blocks.stl"
    trimesh.util.concatenate(
        [trimesh.creation.extrude_polygon(b, 2.0) for b in blocks.geoms]
    ).export(path)
    retractions, layers = _moves(_slice(path, "combing=true"))
    sections = _sections(path, [z for z, _ in layers])
    crossings = 0
    for part, (_, travels) in zip(sections, layers, strict=True):
        part = shapely.buffer(part, 0.02)
        for travel in travels:
            air = _air_mm(part, travel)
            assert air <= 2.0, travel
            crossings += air > 0
    if crossings_retract:
        assert crossings == 0
        assert retractions > 2 * len(layers)
    else:
        assert crossings >= len(layers)  # each layer goes from one block to the other
        assert retractions <= len(layers) + 2  # layer changes, skirt to part, the end


def test_route_between_the_arms_of_a_c_goes_round_through_the_part() -> None:
    """Both ends just outside the comb area (on the walls), the straight line between them
    across the C's open mouth: the route goes round through the C's back."""
    from slicer.combing import CombArea
    from slicer.order import segments_inside

    c = shapely.Polygon([(0, 0), (20, 0), (20, 5), (5, 5), (5, 15), (20, 15), (20, 20), (0, 20)])
    comb = CombArea(c, 0.45)
    a, b = np.array([19.0, 4.8]), np.array([19.0, 15.2])
    via = comb.route(a, b)
    assert via is not None and len(via) >= 2
    points = np.vstack([a, via, b])
    assert segments_inside(c, points[:-1], points[1:]).all()
    assert points[:, 0].min() < 5.0  # round the back of the C


def test_nearest_point_at_the_start_of_a_hole_ring() -> None:
    """Where a hole's ring starts, measuring along the boundary is ambiguous (end of the
    exterior or start of the hole): the nearest point must still be that corner."""
    from slicer.combing import _nearest_point

    # An L-shaped hole whose ring starts at its inner (reflex) corner, (10, 10).
    hole = [(10, 10), (10, 15), (5, 15), (5, 5), (15, 5), (15, 10)]
    frame = shapely.Polygon([(0, 0), (20, 0), (20, 20), (0, 20)], [hole])
    assert np.allclose(_nearest_point(frame, np.array([9.5, 9.5])), (10.0, 10.0))
