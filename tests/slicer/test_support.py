"""Support material as seen in the G-code: under overhangs steeper than support_angle_deg and
nowhere else (within support_offset_mm), clear of the part by the XY gap on every layer and by
the Z gap, interface right under the contact and on the part it stands on, a sheath,
buildplate_only, off by default."""

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
ANY_SUPPORT = (SUPPORT, INTERFACE)
PART = ("External perimeter", "Perimeter")
OUTER = ("External perimeter", "Overhang perimeter")
W = 0.45  # line width
OFFSET = 1.0  # support_offset_mm
GAP = 0.6  # support_xy_gap_mm


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


def _box(extents: list[float], centre: list[float]):
    import trimesh

    box = trimesh.creation.box(extents=extents)
    box.apply_translation(centre)
    return box


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import trimesh

    d = tmp_path_factory.mktemp("support")
    out = {"oh60": _overhang(60, d / "oh60.stl"), "oh40": _overhang(40, d / "oh40.stl")}
    stem, cap = _box([6, 10, 12], [0, 0, 6]), _box([30, 10, 3], [0, 0, 13.5])
    plinth = _box([40, 14, 3], [0, 0, -1.5])
    parts = {
        "t": [stem, cap],
        "t_plinth": [stem, cap, plinth],
        # A 6 mm pillar with a 10 mm horizontal ledge out to the right at z = 8..10.
        "ledge": [_box([6, 8, 10], [3, 4, 5]), _box([10, 8, 2], [11, 4, 9])],
        "sphere": [trimesh.creation.icosphere(subdivisions=3, radius=8)],
        # A wall with two 4 mm wide fins 3 mm apart sticking out 8 mm at z = 8..10.
        "fins": [_box([11, 3, 10], [5.5, 1.5, 5]), *(_box([4, 8, 2], [x, 7, 9]) for x in (2, 9))],
    }
    for name, meshes in parts.items():
        trimesh.util.concatenate(meshes).export(d / f"{name}.stl")
        out[name] = d / f"{name}.stl"
    return out


def _segments(prog: Program, features: tuple[str, ...]) -> list[np.ndarray]:
    """Per layer: (k, 4) extrusion segments x0, y0, x1, y1 of ``features``."""
    out = []
    for layer in prog.layers:
        sel = [i for i, f in enumerate(layer.features) if f in features]
        out.append(np.array([layer.segments[i] for i in sel]).reshape(-1, 4))
    return out


def _points(prog: Program, features: tuple[str, ...]) -> list[np.ndarray]:
    """Per layer: (2k, 2) end points of the extrusions of ``features``."""
    return [seg.reshape(-1, 2) for seg in _segments(prog, features)]


def _lines(seg: np.ndarray) -> shapely.Geometry:
    return shapely.multilinestrings(shapely.linestrings(seg.reshape(-1, 2, 2)))


def _layers_with(prog: Program, features: tuple[str, ...]) -> list[int]:
    return [i for i, seg in enumerate(_segments(prog, features)) if len(seg)]


def test_off_by_default(models: dict[str, Path]) -> None:
    assert _layers_with(_slice(models["oh60"]), ANY_SUPPORT) == []


def test_overhang_steeper_than_the_setting_is_supported(models: dict[str, Path]) -> None:
    prog = _slice(models["oh60"], "support=auto")
    layers = _layers_with(prog, ANY_SUPPORT)
    # From the bed up to just under the leaning face's top (z gap 0.2 mm: one layer).
    assert layers == list(range(layers[0], layers[-1] + 1))
    assert layers[0] == 0 and layers[-1] == 72
    support, part = _points(prog, ANY_SUPPORT), _points(prog, PART)
    x0 = part[10][:, 0].min() - W / 2  # the block's left side (x = 0)
    y0, y1 = part[10][:, 1].min() - W / 2, part[10][:, 1].max() + W / 2
    d = 10 * math.tan(math.radians(60))
    block = shapely.box(x0, y0, x0 + 10, y1)
    slope = shapely.box(x0 + 10, y0, x0 + 10 + d, y1)
    for i in layers:
        pts = shapely.points(support[i])
        # Under the slope (grown by the support offset), clear of the block, nowhere else.
        assert shapely.distance(pts, slope).max() <= OFFSET + 0.01
        assert shapely.distance(pts, block).min() >= GAP + W / 2 - 0.05
    # Below the slope the support covers all of it: from the gap to the slope's top edge.
    x = support[10][:, 0]
    assert x.min() <= x0 + 10 + GAP + W and x.max() >= x0 + 10 + d
    # Interface on the top layers under the overhang.
    assert _layers_with(prog, (INTERFACE,))[-1] == layers[-1]


@pytest.mark.parametrize(
    ("model", "overrides"), [("oh40", ()), ("oh60", ("support_angle_deg=70",))]
)
def test_overhang_within_the_setting_is_not_supported(
    models: dict[str, Path], model: str, overrides: tuple[str, ...]
) -> None:
    assert _layers_with(_slice(models[model], "support=auto", *overrides), ANY_SUPPORT) == []


@pytest.mark.parametrize(("angle_deg", "supported"), [(51, True), (49, False)])
def test_slope_just_past_the_angle_on_thin_layers(
    tmp_path: Path, angle_deg: float, supported: bool
) -> None:
    # On 0.1 mm layers a 51 deg slope steps out 0.004 mm per layer more than 50 deg allows:
    # lost in slicing noise layer by layer, found against the layer 0.6 mm below.
    thin = ("layer_height_mm=0.1", "first_layer_height_mm=0.1")
    prog = _slice(_overhang(angle_deg, tmp_path / "slope.stl"), "support=auto", *thin)
    layers = _layers_with(prog, ANY_SUPPORT)
    assert bool(layers) is supported
    if supported:  # from the bed to under the slope's top (z = 15)
        assert layers[0] == 0 and prog.layers[layers[-1]].z_mm >= 14.5


@pytest.mark.parametrize(
    ("model", "gap"), [("t", 0.8), ("ledge", 0.6), ("sphere", 0.6), ("oh60", 0.3)]
)
def test_support_keeps_xy_gap_from_the_part_on_every_layer(
    models: dict[str, Path], model: str, gap: float
) -> None:
    prog = _slice(models[model], "support=auto", f"support_xy_gap_mm={gap}")
    support, outer = _segments(prog, ANY_SUPPORT), _segments(prog, OUTER)
    layers = _layers_with(prog, ANY_SUPPORT)
    assert layers
    for i in layers:
        if len(outer[i]):
            # Line centres: the support's w/2 inside its area, the outer wall's w/2 inside the
            # part's outline, the gap between them.
            assert shapely.distance(_lines(support[i]), _lines(outer[i])) >= gap + W - 0.06


def test_horizontal_ledge_gets_support_with_interface_under_it(models: dict[str, Path]) -> None:
    prog = _slice(models["ledge"], "support=auto")
    layers = _layers_with(prog, ANY_SUPPORT)
    # The ledge's underside is at z = 8: support up to the z gap (0.2 mm) below it.
    assert layers[0] == 0 and prog.layers[layers[-1]].z_mm == pytest.approx(7.8)
    part = _points(prog, PART)
    x0 = part[5][:, 0].min() - W / 2
    x1 = part[45][:, 0].max() + W / 2  # the ledge's tip (x = 16)
    y0, y1 = part[5][:, 1].min() - W / 2, part[5][:, 1].max() + W / 2
    iface = _points(prog, (INTERFACE,))
    # support_interface_layers=3: the top three layers are interface over the whole contact
    # (from the pillar's gap to the ledge's tip), the ones below base only (on the bed).
    assert _layers_with(prog, (INTERFACE,)) == layers[-3:]
    for i in layers[-3:]:
        x = iface[i][:, 0]
        spacing = 0.65  # support_interface_spacing_mm
        assert x.min() <= x0 + 6 + GAP + W / 2 + spacing and x.max() >= x1 - W
    pillar = shapely.box(x0, y0, x0 + 6, y1)
    ledge = shapely.box(x0 + 6, y0, x1, y1)
    for i in layers:
        pts = shapely.points(_points(prog, ANY_SUPPORT)[i])
        assert shapely.distance(pts, ledge).max() <= OFFSET + 0.01
        assert shapely.distance(pts, pillar).min() >= GAP + W / 2 - 0.05


def test_support_stands_on_the_part_with_bottom_interface(models: dict[str, Path]) -> None:
    prog = _slice(models["t_plinth"], "support=auto")
    layers = _layers_with(prog, ANY_SUPPORT)
    # The plinth's top is z = 3 (layer 14); support starts one layer (the z gap) above it.
    assert prog.layers[layers[0]].z_mm == pytest.approx(3.4)
    iface = _layers_with(prog, (INTERFACE,))
    # support_bottom_interface_layers=2 on the plinth, support_interface_layers=3 under the cap.
    assert iface == layers[:2] + layers[-3:]
    none = _slice(models["t_plinth"], "support=auto", "support_bottom_interface_layers=0")
    assert _layers_with(none, (INTERFACE,)) == _layers_with(none, ANY_SUPPORT)[-3:]


def test_z_gap_below_the_contact(models: dict[str, Path]) -> None:
    for gap in (0.2, 0.4):
        prog = _slice(models["ledge"], "support=auto", f"support_z_gap_mm={gap}")
        top = prog.layers[_layers_with(prog, ANY_SUPPORT)[-1]]
        assert top.z_mm == pytest.approx(8.0 - gap)


@pytest.mark.parametrize("offset_mm", [0.0, OFFSET])
def test_sphere_supported_only_below_the_angle(models: dict[str, Path], offset_mm: float) -> None:
    prog = _slice(models["sphere"], "support=auto", f"support_offset_mm={offset_mm}")
    support = _points(prog, ANY_SUPPORT)
    layers = _layers_with(prog, ANY_SUPPORT)
    assert layers[0] == 0
    r_mm = 8
    # Faces more than 50 deg from vertical: below z = R (1 - sin 50 deg) from the bottom.
    assert prog.layers[layers[-1]].z_mm <= r_mm * (1 - math.sin(math.radians(50))) + 0.4
    centre = _points(prog, PART)[40].mean(axis=0)
    r = np.hypot(*(np.vstack([support[i] for i in layers]) - centre).T)
    assert r.max() <= r_mm * math.cos(math.radians(50)) + offset_mm + W / 2
    # ... and it reaches out that far (the whole steep cap is supported).
    assert r.max() >= r_mm * math.cos(math.radians(50)) - W


def test_sheath_loops_round_the_base(models: dict[str, Path]) -> None:
    def loops(prog: Program) -> int:
        """Layers whose first support path closes on itself."""
        out = 0
        for seg in _segments(prog, (SUPPORT,)):
            if len(seg):
                back = np.hypot(*(seg[:, 2:] - seg[0, :2]).T)
                out += int((back[2:] < 1e-3).any())
        return out

    layers = _layers_with(_slice(models["t"], "support=auto"), (SUPPORT,))
    assert loops(_slice(models["t"], "support=auto")) == len(layers)
    assert loops(_slice(models["t"], "support=auto", "support_walls=0")) == 0


def test_closing_merges_nearby_columns(models: dict[str, Path]) -> None:
    def in_gap(*overrides: str) -> int:
        """Support points on layer 20 between the two fins (x = 4..7 from the wall's end)."""
        prog = _slice(models["fins"], "support=auto", "support_offset_mm=0", *overrides)
        x0 = _points(prog, PART)[5][:, 0].min() - W / 2
        x = _points(prog, ANY_SUPPORT)[20][:, 0]
        return int(((x > x0 + 4 + 0.5) & (x < x0 + 7 - 0.5)).sum())

    # The fins are 3 mm apart: a 2 mm closing radius fills the gap, none leaves it empty.
    assert in_gap() > 0
    assert in_gap("support_closing_radius_mm=0") == 0


def test_buildplate_only_drops_support_resting_on_the_part(models: dict[str, Path]) -> None:
    auto = _slice(models["t_plinth"], "support=auto")
    assert _layers_with(auto, ANY_SUPPORT)[0] > 10  # under the cap, standing on the plinth
    plate = _slice(models["t_plinth"], "support=buildplate_only")
    assert _layers_with(plate, ANY_SUPPORT) == []
    t = _slice(models["t"], "support=buildplate_only", "support_pattern=grid")
    assert _layers_with(t, ANY_SUPPORT)[0] == 0


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("support=everywhere", "support"),
        ("support_angle_deg=95", "support_angle_deg"),
        ("support_offset_mm=-1", "support_offset_mm"),
        ("support_closing_radius_mm=11", "support_closing_radius_mm"),
        ("support_walls=9", "support_walls"),
        ("support_bottom_interface_layers=-1", "support_bottom_interface_layers"),
    ],
)
def test_support_setting_is_validated(override: str, key: str) -> None:
    from slicer.errors import SettingsError

    with pytest.raises(SettingsError, match=key):
        SliceSettings.from_overrides([override])


@pytest.mark.parametrize("adaptive", ["false", "true"])
def test_z_gap_in_mm_with_any_layer_heights(models: dict[str, Path], adaptive: str) -> None:
    prog = _slice(models["t"], "support=auto", f"adaptive_layer_height={adaptive}")
    top = prog.layers[_layers_with(prog, ANY_SUPPORT)[-1]].z_mm
    # The cap's underside is at z = 12: support stops 0.2 mm below it, within one layer.
    assert 12.0 - 0.2 - 0.2 - 1e-6 <= top <= 12.0 - 0.2 + 1e-6


def test_no_retraction_on_travels_within_the_support(models: dict[str, Path]) -> None:
    settings = SliceSettings.from_overrides(["support=auto"])
    gcode = slice_models(
        [models["t"]], printer=load_printer(), material=load_material(), settings=settings
    ).gcode
    layers = gcode.split(";LAYER_CHANGE")[1:]
    prog = read(gcode)
    for i in (5, 30):
        # Layer change, the travels to the two columns under the cap's arms and to the stem
        # (the sheath, base lines and interface of a column follow each other unretracted).
        assert len(_segments(prog, ANY_SUPPORT)[i]) > 2
        assert layers[i].count("\nG1 E-") <= 4
