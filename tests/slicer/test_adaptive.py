"""Adaptive layer height: thin layers where the surface is shallow, full ones where it is
steep, finer with a higher adaptive_quality; off by default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from printers.profiles import load_material, load_printer
from slicer.api import slice_models
from slicer.settings import SliceSettings
from tests.slicer.gcode_reader import read


def _layers(path: Path, *overrides: str) -> tuple[np.ndarray, np.ndarray]:
    """(z, height) of every layer, mm."""
    settings = SliceSettings.from_overrides(list(overrides))
    text = slice_models([path], printer=load_printer(), material=load_material(), settings=settings)
    prog = read(text.gcode)
    z = np.array([layer.z_mm for layer in prog.layers])
    return z, np.array([layer.height_mm for layer in prog.layers])


@pytest.fixture(scope="module")
def sphere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import trimesh

    path = tmp_path_factory.mktemp("adaptive") / "sphere.stl"
    trimesh.creation.icosphere(subdivisions=4, radius=10).export(path)
    return path


def test_thin_where_shallow_thick_where_steep(sphere: Path) -> None:
    z0, h0 = _layers(sphere)
    assert np.allclose(h0, 0.2)
    z, h = _layers(sphere, "adaptive_layer_height=true")
    assert h[0] == pytest.approx(0.2) and h[1:].min() >= 0.08 - 1e-9 and h.max() <= 0.2 + 1e-9
    assert np.allclose(np.diff(z), h[1:], atol=1e-6)  # layers stack without gaps
    assert z[-1] == pytest.approx(20.0, abs=0.08)
    # Near the poles (shallow) thinner than at the equator (steep).
    equator = h[np.abs(z - 10.0) < 1.0].mean()
    poles = h[1:][(z[1:] < 2.0) | (z[1:] > 18.0)].mean()
    assert equator > 0.18 and poles < 0.1
    assert len(z) > len(z0)


def test_quality_sets_how_fine(sphere: Path) -> None:
    coarse = len(_layers(sphere, "adaptive_layer_height=true", "adaptive_quality=0")[0])
    fine = len(_layers(sphere, "adaptive_layer_height=true", "adaptive_quality=1")[0])
    assert coarse < fine
