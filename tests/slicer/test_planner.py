"""Per-layer planning as seen in the G-code: skirt, brim, first layer, fan, cooling, seams."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import shapely

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings
from tests.slicer.conftest import MODELS
from tests.slicer.gcode_reader import read, segment_length


def _slice(paths: list[Path], *overrides: str, copies: int = 1) -> str:
    settings = SliceSettings.from_overrides(list(overrides))
    return slice_models(
        paths, printer=load_printer(), material=load_material(), settings=settings, copies=copies
    ).gcode


@pytest.fixture(scope="module")
def small_box(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import trimesh

    path = tmp_path_factory.mktemp("box") / "box.stl"
    trimesh.creation.box(extents=[8, 8, 2]).export(path)
    return path


def _first_layer_part(prog) -> shapely.Geometry:
    layer = prog.layers[0]
    seg = layer.seg_array()[[f == "External perimeter" for f in layer.features]]
    return shapely.convex_hull(shapely.multipoints(seg.reshape(-1, 2)))


def test_skirt_at_its_distance_and_first_layer_slow(small_box: Path) -> None:
    prog = read(_slice([small_box]))
    layer = prog.layers[0]
    skirt = layer.seg_array("Skirt/Brim")
    assert len(skirt)
    part = _first_layer_part(prog)
    d = shapely.distance(part, shapely.points(skirt[:, :2]))
    # wall centre 0.225 inside the part edge, skirt centre 6 + 0.225 outside it
    assert d.min() == pytest.approx(6.45, abs=0.1)
    feeds = [int(c.split("F")[1]) for c in prog.commands if " E" in c and "F" in c]
    assert feeds  # extrusion feeds appear on their own lines; first layer is 20 mm/s
    text = _slice([small_box])
    first = text.split(";LAYER_CHANGE")[1]
    assert all(int(f) <= 1200 for f in re.findall(r"^G1 F(\d+)$", first, re.M))


def test_brim_surrounds_first_layer_only(small_box: Path) -> None:
    prog = read(_slice([small_box], "brim_width_mm=3", "skirt_loops=0"))
    brim = prog.layers[0].seg_array("Skirt/Brim")
    part = _first_layer_part(prog)
    d = shapely.distance(part, shapely.points(brim[:, :2]))
    assert d.min() < 0.8 and d.max() < 3.5
    loops = round(3 / 0.407)
    assert segment_length(brim).sum() == pytest.approx(loops * 4 * (8 + 3), rel=0.25)
    assert all("Skirt/Brim" not in layer.features for layer in prog.layers[1:])


def test_fan_off_on_first_layer_then_on(small_box: Path) -> None:
    text = _slice([small_box])
    layers = text.split(";LAYER_CHANGE")
    assert "M106" not in layers[0] and "M106" not in layers[1]
    assert "M106 S255" in layers[2]
    assert layers[0].index("M107") < layers[0].index("M109")


def test_short_layers_are_slowed_down(small_box: Path) -> None:
    prog = read(_slice([small_box], "min_layer_time_s=20"))
    text = _slice([small_box], "min_layer_time_s=20")
    layer_texts = text.split(";LAYER_CHANGE")[2:]
    for layer, chunk in zip(prog.layers[1:], layer_texts, strict=False):
        feeds = [int(f) for f in re.findall(r"^G1 F(\d+)$", chunk, re.M)]
        assert max(feeds) < 50 * 60
        assert min(feeds) >= 10 * 60  # min_print_speed_mm_s
        del layer


@pytest.mark.parametrize("seam", ["rear", "aligned", "nearest", "random"])
def test_seam_modes(small_box: Path, seam: str) -> None:
    prog = read(_slice([small_box], f"seam={seam}"))
    assert len(prog.layers) == 10


def test_two_models_on_one_plate() -> None:
    prog = read(_slice([MODELS / "xyz_cube_20mm.stl", MODELS / "thin_walls_varying.stl"]))
    assert len(prog.layers) == 100
    low = prog.layers[5].seg_array()
    mids = (low[:, :2] + low[:, 2:]) / 2
    assert np.ptp(mids[:, 0]) > 20 + 52  # both parts, side by side
    assert prog.comments["models"].startswith("xyz_cube_20mm.stl, thin_walls_varying.stl")


def test_flow_stays_under_the_materials_volumetric_limit(small_box: Path) -> None:
    import math

    tpu = load_material("TPU")
    text = slice_models([small_box], printer=load_printer(), material=tpu).gcode
    prog = read(text)
    area = 0.2 * (0.45 - 0.2 * (1 - math.pi / 4))
    limit_mm_min = tpu.max_volumetric_speed_mm3_s / area * 60
    feeds = [int(f) for f in re.findall(r"^G1 F(\d+)$", text, re.M)]
    assert feeds and max(feeds) <= limit_mm_min + 1
    assert prog.comments["max_volumetric_speed_mm3_s"] == str(tpu.max_volumetric_speed_mm3_s)


def _seams(text: str) -> np.ndarray:
    """(layers, 2): the first point of each layer's first external perimeter."""
    out = []
    for layer in read(text).layers:
        seg = layer.seg_array("External perimeter")
        out.append(seg[0, :2])
    return np.array(out)


@pytest.fixture(scope="module")
def l_shape(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import trimesh

    path = tmp_path_factory.mktemp("l") / "l.stl"
    outline = shapely.Polygon([(0, 0), (20, 0), (20, 8), (8, 8), (8, 20), (0, 20)])
    trimesh.creation.extrude_polygon(outline, 2).export(path)
    return path


def test_aligned_seam_hides_in_the_concave_corner(l_shape: Path) -> None:
    text = _slice([l_shape], "seam=aligned", "skirt_loops=0")
    prog = read(text)
    # The outer wall runs 0.225 mm inside the outline: from xy_min, its concave corner
    # (the L's inner corner at 8, 8) is 8 - 2 * 0.225 mm away in x and y.
    corner = prog.xy_min + 8 - 2 * 0.225
    assert np.hypot(*(_seams(text) - corner).T).max() < 0.05


def test_random_seams_move_between_layers_deterministically(l_shape: Path) -> None:
    text = _slice([l_shape], "seam=random")
    seams = _seams(text)
    assert len(np.unique(seams.round(2), axis=0)) >= len(seams) // 2
    assert _slice([l_shape], "seam=random") == text


def test_ironing_passes_over_the_top_surface_only(small_box: Path) -> None:
    assert "Ironing" not in _slice([small_box])
    prog = read(_slice([small_box], "ironing=true"))
    ironed = [i for i, layer in enumerate(prog.layers) if "Ironing" in layer.features]
    assert ironed == [len(prog.layers) - 1]
    top = prog.layers[-1]
    seg = top.seg_array("Ironing")
    length = segment_length(seg)
    # 0.1 mm apart over the top (8 mm square less a wall and a half on each side).
    inner = 8 - 2 * 0.45 - 0.45 - 2 * 0.45
    assert length.sum() == pytest.approx(inner**2 / 0.1, rel=0.25)
    solid = top.seg_array("Top solid infill")
    assert seg[:, [0, 2]].min() >= solid[:, [0, 2]].min() - 0.01
    assert seg[:, [1, 3]].max() <= solid[:, [1, 3]].max() + 0.01
    e = np.array(top.e_mm)
    features = np.array(top.features)
    per_mm = e[features == "Ironing"].sum() / length.sum()
    solid_per_mm = e[features == "Top solid infill"].sum() / segment_length(solid).sum()
    assert 0.1 < per_mm / solid_per_mm < 0.2
