"""Support material as seen in the G-code: under overhangs steeper than support_angle_deg and
nowhere else, clear of the part, interface on top, buildplate_only, off by default."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings
from tests.slicer.gcode_reader import Program, read

SUPPORT = "Support material"
INTERFACE = "Support material interface"
PART = ("External perimeter", "Perimeter")


def _slice(path: Path, *overrides: str) -> Program:
    settings = SliceSettings.from_overrides(list(overrides))
    text = slice_models([path], printer=load_printer(), material=load_material(), settings=settings)
    return read(text.gcode)


def _overhang(angle_deg: float, path: Path) -> Path:
    """A 10 mm deep block whose right side leans out at angle_deg from the vertical from
    z = 5 to z = 15."""
    import trimesh

    d = 10 * math.tan(math.radians(angle_deg))
    profile = shapely.Polygon([(0, 0), (10, 0), (10, 5), (10 + d, 15), (0, 15)])
    mesh = trimesh.creation.extrude_polygon(profile, 10)
    mesh.apply_transform(trimesh.transformations.rotation_matrix(math.pi / 2, [1, 0, 0]))
    mesh.export(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import trimesh

    d = tmp_path_factory.mktemp("support")
    out = {"oh60": _overhang(60, d / "oh60.stl"), "oh40": _overhang(40, d / "oh40.stl")}
    stem = trimesh.creation.box(extents=[6, 10, 12])
    stem.apply_translation([0, 0, 6])
    cap = trimesh.creation.box(extents=[30, 10, 3])
    cap.apply_translation([0, 0, 13.5])
    trimesh.util.concatenate([stem, cap]).export(d / "t.stl")
    plinth = trimesh.creation.box(extents=[40, 14, 3])
    plinth.apply_translation([0, 0, -1.5])
    trimesh.util.concatenate([stem, cap, plinth]).export(d / "t_plinth.stl")
    trimesh.creation.icosphere(subdivisions=4, radius=10).export(d / "sphere.stl")
    out.update(t=d / "t.stl", t_plinth=d / "t_plinth.stl", sphere=d / "sphere.stl")
    return out


def _points(prog: Program, features: tuple[str, ...]) -> list[np.ndarray]:
    """Per layer: (k, 2) end points of the extrusions of ``features``."""
    out = []
    for layer in prog.layers:
        sel = [i for i, f in enumerate(layer.features) if f in features]
        seg = np.array([layer.segments[i] for i in sel]).reshape(-1, 4)
        out.append(seg.reshape(-1, 2))
    return out


def _support_layers(prog: Program) -> list[int]:
    return [i for i, pts in enumerate(_points(prog, (SUPPORT, INTERFACE))) if len(pts)]


def test_off_by_default(models: dict[str, Path]) -> None:
    assert _support_layers(_slice(models["oh60"])) == []


def test_overhang_steeper_than_the_setting_is_supported(models: dict[str, Path]) -> None:
    prog = _slice(models["oh60"], "support=auto")
    layers = _support_layers(prog)
    # From the bed up to just under the leaning face's top (z gap 0.2 mm: one layer).
    assert layers[0] == 0 and 60 <= layers[-1] <= 74
    support = _points(prog, (SUPPORT, INTERFACE))
    part = _points(prog, PART)
    for i in layers:
        # Support only beside the part's lower block (right of x = 10), under the slope.
        model_x0 = part[i][:, 0].min() if i < 25 else part[60][:, 0].min()
        assert support[i][:, 0].min() >= model_x0 + 10 - 0.45 / 2 - 0.01
    # Interface on the top layers under the overhang.
    top = [i for i, pts in enumerate(_points(prog, (INTERFACE,))) if len(pts)]
    assert top and top[-1] == layers[-1]


@pytest.mark.parametrize(
    ("model", "overrides"), [("oh40", ()), ("oh60", ("support_angle_deg=70",))]
)
def test_overhang_within_the_setting_is_not_supported(
    models: dict[str, Path], model: str, overrides: tuple[str, ...]
) -> None:
    assert _support_layers(_slice(models[model], "support=auto", *overrides)) == []


def test_support_keeps_xy_gap_from_the_part(models: dict[str, Path]) -> None:
    prog = _slice(models["t"], "support=auto", "support_xy_gap_mm=0.8")
    support, part = _points(prog, (SUPPORT, INTERFACE)), _points(prog, PART)
    layers = _support_layers(prog)
    assert layers[0] == 0
    for i in layers:
        d = shapely.distance(shapely.multipoints(part[i]), shapely.points(support[i]))
        # Outer wall centre w/2 inside the outline, support lines' ends at the gap.
        assert d.min() >= 0.8 + 0.45 / 2 - 0.05


def test_sphere_supported_only_below_the_angle(models: dict[str, Path]) -> None:
    prog = _slice(models["sphere"], "support=auto")
    support = _points(prog, (SUPPORT, INTERFACE))
    layers = _support_layers(prog)
    assert layers[0] == 0
    # Faces more than 50 deg from vertical: below z = R (1 - sin 50 deg) from the bottom.
    assert prog.layers[layers[-1]].z_mm <= 10 * (1 - math.sin(math.radians(50))) + 0.4
    centre = _points(prog, PART)[50].mean(axis=0)
    r = np.hypot(*(np.vstack([support[i] for i in layers]) - centre).T)
    assert r.max() <= 10 * math.cos(math.radians(50)) + 0.45


def test_buildplate_only_drops_support_resting_on_the_part(models: dict[str, Path]) -> None:
    auto = _slice(models["t_plinth"], "support=auto")
    assert _support_layers(auto)[0] > 10  # under the cap, standing on the plinth
    plate = _slice(models["t_plinth"], "support=buildplate_only")
    assert _support_layers(plate) == []
    t = _slice(models["t"], "support=buildplate_only", "support_pattern=grid")
    assert _support_layers(t)[0] == 0


def test_support_setting_is_validated() -> None:
    from slicer.errors import SettingsError

    with pytest.raises(SettingsError, match="support"):
        SliceSettings.from_overrides(["support=everywhere"])
    with pytest.raises(SettingsError, match="support_angle_deg"):
        SliceSettings.from_overrides(["support_angle_deg=95"])


@pytest.mark.parametrize("adaptive", ["false", "true"])
def test_z_gap_in_mm_with_any_layer_heights(models: dict[str, Path], adaptive: str) -> None:
    prog = _slice(models["t"], "support=auto", f"adaptive_layer_height={adaptive}")
    top = prog.layers[_support_layers(prog)[-1]].z_mm
    # The cap's underside is at z = 12: support stops 0.2 mm below it, within one layer.
    assert 12.0 - 0.2 - 0.2 - 1e-6 <= top <= 12.0 - 0.2 + 1e-6
