"""Parse-back invariants over the G-code of every small shared model (default settings)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from printers.profiles import load_printer
from slicer.mesh import load_mesh
from tests.slicer.conftest import MODELS, PRUSA, SHARED_MODELS, sliced
from tests.slicer.gcode_reader import parse_duration_s, read, segment_length

W = 0.45
FILAMENT_AREA = math.pi * 1.75**2 / 4


def _sections(name: str, z_mid: list[float]) -> list[shapely.Geometry]:
    """Independent cross-sections (trimesh), placed as the slicer places a single part."""
    import trimesh

    mesh = load_mesh(MODELS / f"{name}.stl")
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    lo, hi = tm.bounds
    bed = load_printer()
    shift = np.array(
        [bed.bed_x_mm / 2 - (lo[0] + hi[0]) / 2, bed.bed_y_mm / 2 - (lo[1] + hi[1]) / 2]
    )
    out = []
    lines, _, _ = trimesh.intersections.mesh_multiplane(tm, [0, 0, lo[2]], [0, 0, 1], z_mid)
    for segs in lines:
        out.append(_even_odd(np.asarray(segs)[:, :, :2] + shift))
    return out


def _even_odd(segments: np.ndarray) -> shapely.Geometry:
    """Even-odd fill of the contours formed by (k, 2, 2) segments: the faces of the noded
    segment soup whose interior point sees an odd number of segments along a ray to +x."""
    if len(segments) == 0:
        return shapely.Polygon()
    faces = shapely.get_parts(
        shapely.polygonize(shapely.get_parts(shapely.union_all(shapely.linestrings(segments))))
    )
    if len(faces) == 0:
        return shapely.Polygon()
    probe = shapely.get_coordinates(shapely.point_on_surface(faces))
    (x0, y0), (x1, y1) = segments[:, 0].T, segments[:, 1].T
    filled = []
    for px, py in probe:
        straddle = (y0 > py) != (y1 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        filled.append(int((straddle & (xc > px)).sum()) % 2 == 1)
    return shapely.union_all(faces[np.array(filled)])


def test_layer_count_matches_height(model_name: str) -> None:
    prog = read(sliced(model_name).gcode)
    mesh = load_mesh(MODELS / f"{model_name}.stl")
    height = float(np.ptp(mesh.vertices[:, 2]))
    assert abs(len(prog.layers) - math.ceil(height / 0.2 - 1e-6)) <= 1
    zs = [layer.z_mm for layer in prog.layers]
    assert zs == sorted(zs) and zs[0] == pytest.approx(0.2)


def test_heats_and_waits_before_first_extrusion(model_name: str) -> None:
    prog = read(sliced(model_name).gcode)
    before = [c.split()[0] for c in prog.commands[: prog.first_extrusion_command]]
    heat = [c for c in before if c in ("M140", "M104", "M190", "M109")]
    assert heat == ["M140", "M104", "M190", "M109"]
    assert "M83" in before


def test_every_move_inside_bed(model_name: str) -> None:
    prog = read(sliced(model_name).gcode)
    bed = load_printer()
    assert (prog.xy_min >= 0).all()
    assert prog.xy_max[0] <= bed.bed_x_mm and prog.xy_max[1] <= bed.bed_y_mm


def test_filament_within_ten_percent_of_prusaslicer(model_name: str) -> None:
    result = sliced(model_name)
    prog = read(result.gcode)
    prusa_mm, _ = PRUSA[model_name]
    assert prog.filament_mm == pytest.approx(result.filament_mm, rel=1e-3)
    assert abs(result.filament_mm / prusa_mm - 1) <= 0.10
    assert float(prog.comments["filament used [mm]"]) == pytest.approx(result.filament_mm, abs=0.01)


def test_estimated_time_within_fifteen_percent_of_prusaslicer(model_name: str) -> None:
    pytest.importorskip("gcode.progress")
    result = sliced(model_name)
    _, prusa_s = PRUSA[model_name]
    assert abs(result.estimated_time_s / prusa_s - 1) <= 0.15
    comment = read(result.gcode).comments["estimated printing time (normal mode)"]
    assert parse_duration_s(comment) == pytest.approx(result.estimated_time_s, abs=1)


def test_extrusions_inside_cross_section_and_outline_covered(model_name: str) -> None:
    prog = read(sliced(model_name).gcode)
    z_mid = [layer.z_mm - layer.height_mm / 2 for layer in prog.layers]
    sections = _sections(model_name, z_mid)
    for layer, section in zip(prog.layers, sections, strict=True):
        if section.is_empty:
            continue
        seg = layer.seg_array()
        keep = np.array([f != "Skirt/Brim" for f in layer.features])
        seg = seg[keep]
        grown = shapely.buffer(section, W / 2 + 0.05)
        shapely.prepare(grown)
        mids = (seg[:, :2] + seg[:, 2:]) / 2
        for pts in (seg[:, :2], seg[:, 2:], mids):
            inside = shapely.contains_xy(grown, pts[:, 0], pts[:, 1])
            assert inside.all(), f"z={layer.z_mm}: extrusion at {pts[~inside][:3]} outside"
        outer = np.array([f == "External perimeter" for f in layer.features])
        walls = layer.seg_array()[outer]
        half = np.array(layer.widths)[outer] / 2 * math.sqrt(2) + 0.05  # reaches corners
        lines = shapely.linestrings(walls.reshape(-1, 2, 2))
        cover = shapely.union_all(shapely.buffer(lines, half))
        # Slits narrower than a line (engraved letters) cannot be followed: close them first.
        boundary = shapely.buffer(shapely.buffer(section, W / 2), -W / 2).boundary
        covered = shapely.intersection(boundary, cover).length / boundary.length
        assert covered > 0.95, f"z={layer.z_mm}: only {covered:.1%} of the outline has walls"


def test_bottom_and_top_layers_are_solid(model_name: str) -> None:
    """Extruded volume of the first and last three layers fills their cross-section."""
    prog = read(sliced(model_name).gcode)
    z_mid = [layer.z_mm - layer.height_mm / 2 for layer in prog.layers]
    sections = _sections(model_name, z_mid)
    for i in [0, 1, 2, -3, -2, -1]:
        layer, section = prog.layers[i], sections[i]
        if section.is_empty or section.area < 1:
            continue
        e = np.array(layer.e_mm)
        keep = np.array([f not in ("Skirt/Brim",) for f in layer.features])
        assert "Internal infill" not in set(layer.features)
        bridge = np.array([f == "Bridge infill" for f in layer.features])
        # a bridge strand is round (0.4 mm) and covers 0.45 mm: count the area it covers
        bridge_area = e[bridge].sum() * FILAMENT_AREA / (math.pi * 0.2**2) * 0.45
        volume = e[keep & ~bridge].sum() * FILAMENT_AREA + bridge_area * layer.height_mm
        fill = volume / (section.area * layer.height_mm)
        assert 0.85 < fill < 1.15, f"layer {i}: {fill:.2f} of the cross-section filled"


def test_same_input_same_bytes() -> None:
    from printers.profiles import load_material
    from slicer.api import slice_models

    first = sliced("bridge_overhang").gcode
    again = slice_models(
        [MODELS / "bridge_overhang.stl"], printer=load_printer(), material=load_material()
    ).gcode
    assert first == again


def test_no_skins_at_touching_faces() -> None:
    """bridge_overhang is four boxes face to face: inner layers of a pillar are sparse."""
    prog = read(sliced("bridge_overhang").gcode)
    # base 0-2 mm, pillars 2-17 mm: layers around z = 2 and z = 17 inside must not be solid
    for z in (2.2, 2.4, 2.6, 16.4, 16.6, 16.8):
        layer = next(lay for lay in prog.layers if lay.z_mm == pytest.approx(z))
        feats = set(layer.features)
        assert "Solid infill" not in feats and "Top solid infill" not in feats, z


def test_thin_walls_all_printed() -> None:
    """All eleven walls of thin_walls_varying.stl get extrusions on every wall layer."""
    prog = read(sliced("thin_walls_varying").gcode)
    layer = prog.layers[15]  # z = 3.2, walls only
    seg = layer.seg_array()
    mids = (seg[:, :2] + seg[:, 2:]) / 2
    x = np.sort(np.unique(np.round(mids[:, 0] - mids[:, 0].min())))
    half = np.array(layer.widths) / 2 + 0.01  # each line as wide as it is printed
    walls = shapely.union_all(shapely.buffer(shapely.linestrings(seg.reshape(-1, 2, 2)), half))
    assert len(shapely.get_parts(walls)) == 11
    assert len(x) > 0
    assert segment_length(seg).sum() > 11 * 10 - 1


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED_MODELS / "3dbenchy.stl").exists(), reason="shared 3DBenchy model not present"
)
def test_benchy_matches_prusaslicer_totals() -> None:
    from printers.profiles import load_material
    from slicer.api import slice_models

    result = slice_models(
        [SHARED_MODELS / "3dbenchy.stl"], printer=load_printer(), material=load_material()
    )
    prog = read(result.gcode)
    prusa_mm, prusa_s = PRUSA["3dbenchy"]
    assert abs(len(prog.layers) - 240) <= 1
    assert abs(result.filament_mm / prusa_mm - 1) <= 0.10
    if result.estimated_time_s > 0:  # the estimator is present
        assert abs(result.estimated_time_s / prusa_s - 1) <= 0.15
    assert (prog.xy_min >= 0).all() and (prog.xy_max <= 220).all()
    lo, hi = np.array(result.bbox_mm)
    assert hi - lo == pytest.approx([60.0, 31.0, 48.0], abs=0.1)
