"""Support blockers and enforcers (extra meshes): where support lands, parsed from G-code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings
from tests.slicer.gcode_reader import read

SUPPORT = ("Support material", "Support material interface")


@pytest.fixture(scope="module")
def meshes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A T: a 6 mm pillar 8 mm high under a 26 mm slab, arms reaching 10 mm out on either
    side (x < -3 and x > 3); boxes around the left and the right arm."""
    import trimesh

    d = tmp_path_factory.mktemp("modifiers")
    pillar = trimesh.creation.box(extents=[6, 6, 8])
    pillar.apply_translation([0, 0, 4])
    slab = trimesh.creation.box(extents=[26, 6, 2])
    slab.apply_translation([0, 0, 9])
    trimesh.util.concatenate([pillar, slab]).export(d / "t.stl")
    for name, x in (("left", -8.5), ("right", 8.5)):
        box = trimesh.creation.box(extents=[11, 8, 4])
        box.apply_translation([x, 0, 9])
        box.export(d / f"{name}.stl")
    return {p.stem: p for p in d.iterdir()}


def _support_sides(meshes: dict[str, Path], *overrides: str, **modifiers: list[Path]) -> set:
    """Which arms ('left', 'right') have support extrusions under them."""
    settings = SliceSettings.from_overrides(["skirt_loops=0", *overrides])
    text = slice_models(
        [meshes["t"]],
        printer=load_printer(),
        material=load_material(),
        settings=settings,
        **modifiers,
    ).gcode
    prog = read(text)
    centre_x = (prog.xy_min[0] + prog.xy_max[0]) / 2.0
    sides = set()
    for layer in prog.layers:
        seg = layer.seg_array()
        support = seg[np.isin(layer.features, SUPPORT)]
        x = (support[:, 0] + support[:, 2]) / 2.0 - centre_x
        sides |= {"left"} if (x < -3).any() else set()
        sides |= {"right"} if (x > 3).any() else set()
    return sides


def test_both_arms_supported_without_modifiers(meshes: dict[str, Path]) -> None:
    assert _support_sides(meshes, "support=auto") == {"left", "right"}
    assert _support_sides(meshes) == set()


def test_blocker_removes_the_support_under_its_arm(meshes: dict[str, Path]) -> None:
    sides = _support_sides(meshes, "support=auto", support_blockers=[meshes["left"]])
    assert sides == {"right"}


def test_enforcer_supports_its_arm_even_with_support_off(meshes: dict[str, Path]) -> None:
    assert _support_sides(meshes, support_enforcers=[meshes["right"]]) == {"right"}
    # An overhang that support_angle_deg leaves unsupported is supported inside an enforcer.
    shallow = ("support=auto", "support_angle_deg=89")
    assert _support_sides(meshes, *shallow) == set()
    assert _support_sides(meshes, *shallow, support_enforcers=[meshes["left"]]) == {"left"}
