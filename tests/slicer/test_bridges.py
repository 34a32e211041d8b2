"""Bridges: the 20 mm gap of bridge_overhang.stl is printed as bridge strands across it,
anchored in the pillars on both sides, with or without supports (bridges are not supported
unless support_bridges)."""

from __future__ import annotations

import numpy as np
import pytest

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings
from tests.slicer.conftest import MODELS, sliced
from tests.slicer.gcode_reader import Program, read, segment_length

# bridge_overhang.stl centred on the 220 mm bed: pillars x 90-100 and 120-130, deck from z 17.
GAP_X_MM = (100.0, 120.0)
DECK_Z_MM = 17.0


def _bridge_overhang(*overrides: str) -> Program:
    if not overrides:
        return read(sliced("bridge_overhang").gcode)
    settings = SliceSettings.from_overrides(list(overrides))
    path = MODELS / "bridge_overhang.stl"
    result = slice_models(
        [path], printer=load_printer(), material=load_material(), settings=settings
    )
    return read(result.gcode)


@pytest.mark.parametrize("overrides", [(), ("support=auto",)])
def test_gap_is_bridged_across_and_anchored(overrides: tuple[str, ...]) -> None:
    prog = _bridge_overhang(*overrides)
    assert not any("Support material" in layer.features for layer in prog.layers)
    first_deck = next(layer for layer in prog.layers if layer.z_mm > DECK_Z_MM)
    seg = first_deck.seg_array("Bridge infill")
    length = segment_length(seg)
    long = seg[length > 5.0]
    # Strands run along x, across the whole gap, into the pillars at both ends.
    assert np.allclose(long[:, 1], long[:, 3])
    assert (long[:, [0, 2]].min(axis=1) < GAP_X_MM[0]).all()
    assert (long[:, [0, 2]].max(axis=1) > GAP_X_MM[1]).all()
    # They cover the deck's width inside its walls (10 mm less two walls and a strand on
    # each side), a strand width apart.
    y = np.sort(long[:, 1])
    assert y[-1] - y[0] > 10.0 - 2 * (0.9 + 0.45) and np.diff(y).max() < 0.6
    # Nothing else in the gap: the rest are short turns at the ends.
    assert length[length <= 5.0].max() < 1.0
    assert long.shape[0] * 20.0 >= 0.9 * length.sum() - 1e-6
    # No other infill over the gap on that layer.
    for feature in ("Internal infill", "Solid infill", "Top solid infill"):
        mid_x = first_deck.seg_array(feature)[:, [0, 2]].mean(axis=1)
        assert not ((mid_x > GAP_X_MM[0] + 1) & (mid_x < GAP_X_MM[1] - 1)).any()


def test_support_bridges_puts_support_under_the_deck() -> None:
    prog = _bridge_overhang("support=auto", "support_bridges=true")
    layers = [i for i, layer in enumerate(prog.layers) if "Support material" in layer.features]
    assert layers and prog.layers[layers[-1]].z_mm < DECK_Z_MM
    for i in layers:
        seg = prog.layers[i].seg_array("Support material")
        assert seg[:, [0, 2]].min() > GAP_X_MM[0] and seg[:, [0, 2]].max() < GAP_X_MM[1]


def test_bridge_fan_runs_over_bridges_only() -> None:
    settings = SliceSettings.from_overrides(["fan_percent=40", "bridge_fan_percent=100"])
    path = MODELS / "bridge_overhang.stl"
    text = slice_models(
        [path], printer=load_printer(), material=load_material(), settings=settings
    ).gcode
    body = text.split("; slicefarm_config = begin")[0]
    fan, feature, seen = None, "", set()
    for line in body.splitlines():
        if line.startswith("M106"):
            fan = int(line.split("S")[1])
        elif line.startswith("M107"):
            fan = 0
        elif line.startswith(";TYPE:"):
            feature = line[6:]
        elif line.startswith(";LAYER_CHANGE"):
            assert fan in (None, 0, 102)  # each layer ends at its base speed
        elif line.startswith("G1") and " E" in line and (" X" in line or " Y" in line):
            seen.add((feature, fan))
    bridge_fans = {f for feat, f in seen if feat == "Bridge infill"}
    other_fans = {f for feat, f in seen if feat not in ("Bridge infill", "Skirt/Brim")}
    assert bridge_fans == {255}
    assert 255 not in other_fans and 102 in other_fans
