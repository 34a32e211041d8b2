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
from slicer.api import slice_models
from slicer.arcs import fit_arcs
from slicer.settings import SliceSettings

TOLERANCE_MM = 0.01


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


def _paths_by_z(text: str) -> dict[float, shapely.Geometry]:
    """Extruded path of each layer (arcs sampled every 0.05 mm) as one MultiLineString."""
    parsed = parse(text)
    pos = resolve_moves(parsed)[1]
    before = np.vstack([np.zeros((1, 4)), pos[:-1]])
    num = parsed.cmd_number
    rows = np.flatnonzero(
        (parsed.cmd_letter == ord("G"))
        & np.isin(num, (1.0, 2.0, 3.0))
        & (pos[:, 3] > before[:, 3])
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
    tree = shapely.STRtree(shapely.get_parts(shapely.segmentize(b, 0.5)))
    _, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    return float(dist.max())


@pytest.fixture(scope="module")
def cylinder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tube of 80 sections: its chords bulge 0.0077 mm, enough for the slicer to keep
    every vertex (it simplifies at 0.025 mm) and little enough for arcs within 0.01 mm."""
    import trimesh

    path = tmp_path_factory.mktemp("arcs") / "tube.stl"
    trimesh.creation.annulus(r_min=6, r_max=10, height=2, sections=80).export(path)
    return path


def test_arc_fitted_gcode_stays_within_tolerance(cylinder: Path) -> None:
    plain = _slice(cylinder)
    fitted = _slice(cylinder, "arc_fitting=true")
    assert sum(line.startswith(("G2 ", "G3 ")) for line in fitted.splitlines()) > 20
    assert len(fitted) < 0.6 * len(plain)
    before, after = _paths_by_z(plain), _paths_by_z(fitted)
    assert before.keys() == after.keys()
    for z, path in after.items():
        # Both ways: the fitted path near the original, the original near the fitted path.
        assert _one_way(path, before[z]) <= TOLERANCE_MM, z
        assert _one_way(before[z], path) <= TOLERANCE_MM, z
    filament = [float(t.split("; filament used [mm] = ")[1].split()[0]) for t in (plain, fitted)]
    assert filament[1] == pytest.approx(filament[0], rel=0.005)
