"""Shared fixtures of the G-code toolkit tests: small real slicer outputs in data/."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def prusa_text() -> str:
    return (DATA / "thin_walls_varying.prusa.gcode").read_text()


@pytest.fixture(scope="session")
def cura_text() -> str:
    return (DATA / "thin_walls_varying.cura.gcode").read_text()


@pytest.fixture(scope="session")
def slicefarm_path() -> Path:
    return DATA / "thin_walls_varying.slicefarm.gcode"


@pytest.fixture(scope="session")
def fixture_paths() -> dict[str, Path]:
    return {
        "PrusaSlicer": DATA / "thin_walls_varying.prusa.gcode",
        "Cura": DATA / "thin_walls_varying.cura.gcode",
        "slicefarm": DATA / "thin_walls_varying.slicefarm.gcode",
    }
