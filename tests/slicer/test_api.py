"""slice_models internals: blocks, workers and caches do not change the bytes."""

from __future__ import annotations

from printers.profiles import load_material, load_printer
from slicer import api
from slicer.mesh import load_mesh
from slicer.settings import SliceSettings
from tests.slicer.conftest import MODELS


def test_blocks_with_wall_reuse_equal_one_pass_over_all_layers() -> None:
    from gcode.writer import write_layer

    printer = load_printer()
    s = SliceSettings().resolve(printer, load_material())
    mesh = api.place([load_mesh(MODELS / "bridge_overhang.stl")], printer, s)
    work = api._LayerWork(mesh, s, printer)
    whole = [write_layer(plan, s, 1.75)[0] for plan in work.plans()]
    blocks: list[str] = []
    for lo in range(0, work.n_layers, 7):
        blocks += [text for text, _, _ in work.block(lo, min(lo + 7, work.n_layers))]
    assert blocks == whole


def test_workers_and_single_process_give_the_same_bytes(monkeypatch) -> None:
    path = [MODELS / "thin_walls_varying.stl"]
    kwargs = {"printer": load_printer(), "material": load_material()}
    pooled = api.slice_models(path, **kwargs).gcode
    monkeypatch.setattr(api, "MIN_LAYERS_FOR_WORKERS", 10**9)
    single = api.slice_models(path, **kwargs).gcode
    assert pooled == single


def test_plan_layers_gives_every_layer_in_order() -> None:
    printer = load_printer()
    s = SliceSettings().resolve(printer, load_material())
    mesh = api.place([load_mesh(MODELS / "thin_walls_varying.stl")], printer, s)
    plans = api.plan_layers(mesh, s, printer)
    assert [p.index for p in plans] == list(range(25))
    assert all(p.paths for p in plans)
    assert plans[0].paths[0].feature.value == "Skirt/Brim"


def test_without_the_estimator_the_slice_still_completes(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "gcode.progress", None)  # import raises ImportError
    result = api.slice_models(
        [MODELS / "thin_walls_varying.stl"], printer=load_printer(), material=load_material()
    )
    assert result.estimated_time_s == 0.0
    assert "M73" not in result.gcode and result.layers == 25
