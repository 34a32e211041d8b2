"""Shared fixtures: the small shared models (copied here) sliced once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from printers.profiles import load_material, load_printer
from slicer.api import SliceResult, slice_models

MODELS = Path(__file__).parent / "models"
SHARED_MODELS = Path("/work/shared/models")

# PrusaSlicer 2.5 with the anchor settings (shared anchors README): filament mm, time s.
PRUSA = {
    "xyz_cube_20mm": (1386.0, 24 * 60 + 7),
    "bridge_overhang": (1184.0, 22 * 60 + 6),
    "thin_walls_varying": (398.0, 9 * 60 + 33),
    "tiny_holes": (2077.0, 43 * 60 + 13),
    "broken_missing_triangle": (477.0, 8 * 60 + 16),
    "3dbenchy": (3968.0, 79 * 60 + 2),
}
SMALL = [
    "xyz_cube_20mm",
    "bridge_overhang",
    "thin_walls_varying",
    "tiny_holes",
    "broken_missing_triangle",
]

_CACHE: dict[str, SliceResult] = {}


def sliced(name: str) -> SliceResult:
    """Default-settings slice of a test model, computed once per session."""
    if name not in _CACHE:
        _CACHE[name] = slice_models(
            [MODELS / f"{name}.stl"], printer=load_printer(), material=load_material()
        )
    return _CACHE[name]


@pytest.fixture(params=SMALL)
def model_name(request: pytest.FixtureRequest) -> str:
    return request.param
