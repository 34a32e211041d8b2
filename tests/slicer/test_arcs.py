"""Arc fitting: G2/G3 arcs replace runs of points on a circle and stay within 0.01 mm of the
path they replace (parsed back with gcode.parse, arcs sampled densely)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from gcode.motion import resolve_moves
from gcode.parse import parse
from printers.profiles import load_material, load_printer
from slicer.api import place, plan_layers, slice_models
from slicer.arcs import MIN_RADIUS_MM, fit_arcs
from slicer.mesh import load_mesh
from slicer.settings import SliceSettings
from slicer.slicing import SIMPLIFY_TOLERANCE_MM

TOLERANCE_MM = 0.01
# G-code coordinates have 3 decimals, mm.
ROUNDING_MM = 0.001


def _slice(path: Path, *overrides: str) -> str:
    settings = SliceSettings.from_overrides(list(overrides))
    return slice_models(
        [path], printer=load_printer(), material=load_material(), settings=settings
    ).gcode


def test_circle_is_one_arc_and_a_line_none() -> None:
    t = np.linspace(0.0, 1.5 * np.pi, 60)
    circle = np.column_stack([5 + 10 * np.cos(t), 10 * np.sin(t)])
    (arc,) = fit_arcs(circle)
    assert (arc.start, arc.end, arc.ccw) == (0, 59, True)
    assert np.allclose(arc.center_mm, [5, 0], atol=0.01)
    assert arc.length_mm == pytest.approx(15 * np.pi, rel=1e-3)
    assert fit_arcs(circle[::-1])[0].ccw is False
    assert fit_arcs(np.column_stack([np.arange(10.0), np.zeros(10)])) == []
    zigzag = np.column_stack([np.arange(10.0), np.arange(10) % 2 * 0.5])
    assert fit_arcs(zigzag) == []


def _paths_by_z(text: str, arcs_only: bool = False) -> dict[float, shapely.Geometry]:
    """Extruded path of each layer (arcs sampled every 0.05 mm) as one MultiLineString;
    only its G2/G3 moves if ``arcs_only``."""
    parsed = parse(text)
    pos = resolve_moves(parsed)[1]
    before = np.vstack([np.zeros((1, 4)), pos[:-1]])
    num = parsed.cmd_number
    rows = np.flatnonzero(
        (parsed.cmd_letter == ord("G"))
        & np.isin(num, (1.0, 2.0, 3.0))
        & (pos[:, 3] > before[:, 3])
        & (~arcs_only | (num != 1.0))
        & np.any(pos[:, :2] != before[:, :2], axis=1)
    )
    lines: dict[float, list[np.ndarray]] = {}
    i_word, j_word = parsed.param("I"), parsed.param("J")
    for r in rows.tolist():
        a, b = before[r, :2], pos[r, :2]
        if num[r] == 1.0:
            pts = np.array([a, b])
        else:
            c = a + np.array([i_word[r], j_word[r]])
            a0 = np.arctan2(*(a - c)[::-1])
            sweep = (np.arctan2(*(b - c)[::-1]) - a0) % (2 * np.pi)
            if num[r] == 2.0:
                sweep -= 2 * np.pi
            radius = np.hypot(*(a - c))
            t = a0 + np.linspace(0, sweep, max(int(abs(sweep) * radius / 0.05), 2))
            pts = c + radius * np.column_stack([np.cos(t), np.sin(t)])
        lines.setdefault(round(float(pos[r, 2]), 3), []).append(pts)
    return {
        z: shapely.multilinestrings([shapely.LineString(p) for p in v]) for z, v in lines.items()
    }


def _one_way(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Largest distance from a point of ``a`` (sampled every 0.05 mm) to ``b``, mm."""
    points = shapely.points(shapely.get_coordinates(shapely.segmentize(a, 0.05)))
    coords, line = shapely.get_coordinates(shapely.get_parts(b), return_index=True)
    same = np.flatnonzero(line[1:] == line[:-1])
    segments = shapely.linestrings(np.stack([coords[same], coords[same + 1]], axis=1))
    tree = shapely.STRtree(segments)
    _, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    return float(dist.max())


def _planned_by_z(path: Path, *overrides: str) -> dict[float, shapely.Geometry]:
    """The planner's extrusion paths of each layer (what the writer receives)."""
    printer = load_printer()
    s = SliceSettings.from_overrides(list(overrides)).resolve(printer, load_material())
    mesh = place([load_mesh(path)], printer, s)
    return {
        round(plan.z_mm, 3): shapely.multilinestrings(
            [shapely.LineString(p.points) for p in plan.paths if len(p.points) > 1]
        )
        for plan in plan_layers(mesh, s, printer)
        if plan.paths
    }


def _arc_radii(text: str) -> np.ndarray:
    parsed = parse(text)
    arcs = np.isin(parsed.cmd_number, (2.0, 3.0)) & (parsed.cmd_letter == ord("G"))
    return np.hypot(parsed.param("I")[arcs], parsed.param("J")[arcs])


@pytest.fixture(scope="module")
def cylinder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tube of 80 sections: its chords bulge 0.0077 mm, little enough for arcs within
    0.01 mm."""
    import trimesh

    path = tmp_path_factory.mktemp("arcs") / "tube.stl"
    trimesh.creation.annulus(r_min=6, r_max=10, height=2, sections=80).export(path)
    return path


@pytest.fixture(scope="module")
def fine_cylinder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cylinder of 256 sections: simplified by the default contour tolerance (0.025 mm),
    its outline keeps one vertex in five, whose chords bulge 0.025 mm: no arc within 0.01
    mm would fit without the finer contours of arc fitting."""
    import trimesh

    path = tmp_path_factory.mktemp("arcs") / "fine_cylinder.stl"
    trimesh.creation.cylinder(radius=10, height=2, sections=256).export(path)
    return path


def test_arc_fitted_gcode_stays_within_tolerance(cylinder: Path) -> None:
    plain = _slice(cylinder)
    fitted = _slice(cylinder, "arc_fitting=true")
    assert sum(line.startswith(("G2 ", "G3 ")) for line in fitted.splitlines()) > 20
    assert len(fitted) < 0.6 * len(plain)
    planned, after = _planned_by_z(cylinder, "arc_fitting=true"), _paths_by_z(fitted)
    assert planned.keys() == after.keys()
    for z, path in after.items():
        # Both ways: the fitted path near the planned one, the planned one near the fitted.
        assert _one_way(path, planned[z]) <= TOLERANCE_MM, z
        assert _one_way(planned[z], path) <= TOLERANCE_MM, z
    filament = [float(t.split("; filament used [mm] = ")[1].split()[0]) for t in (plain, fitted)]
    assert filament[1] == pytest.approx(filament[0], rel=0.005)


def test_arcs_on_fine_contours_shrink_gcode_without_slowing_it(fine_cylinder: Path) -> None:
    plain = slice_models([fine_cylinder], printer=load_printer(), material=load_material())
    settings = SliceSettings.from_overrides(["arc_fitting=true"])
    fitted = slice_models(
        [fine_cylinder], printer=load_printer(), material=load_material(), settings=settings
    )
    assert len(fitted.gcode) < 0.6 * len(plain.gcode)
    assert fitted.gcode.count("\n") < 0.6 * plain.gcode.count("\n")
    assert fitted.estimated_time_s <= plain.estimated_time_s * 1.001
    assert fitted.filament_mm == pytest.approx(plain.filament_mm, rel=0.005)
    # No arc the firmware would cut into chords coarser than the polyline it replaces.
    assert _arc_radii(fitted.gcode).min() >= MIN_RADIUS_MM - 0.01
    planned, after = _planned_by_z(fine_cylinder, "arc_fitting=true"), _paths_by_z(fitted.gcode)
    for z, path in after.items():
        # Arcs within 0.01 mm, the straight stretches within the usual contour tolerance.
        assert _one_way(path, planned[z]) <= SIMPLIFY_TOLERANCE_MM + ROUNDING_MM, z
        assert _one_way(planned[z], path) <= SIMPLIFY_TOLERANCE_MM + ROUNDING_MM, z
    arcs_only = _paths_by_z(fitted.gcode, arcs_only=True)
    assert arcs_only.keys() == after.keys()  # the walls of every layer are arcs
    for z, path in arcs_only.items():
        assert _one_way(path, planned[z]) <= TOLERANCE_MM, z
