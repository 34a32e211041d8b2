"""Fixtures: a farm of virtual printers in a temporary data dir, served by the real app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from farm.config import load_config
from farm.keys import create_key
from farm.service import FarmService
from tests.support import write_farm_toml


def write_config(folder: Path, limit_mb: float = 5, instant: bool = True) -> Path:
    """The test farm (tests/support.py); P1 prints the cube in about two minutes (motion
    x10) unless ``instant``; P2 prints at once."""
    return write_farm_toml(
        folder,
        name="test farm",
        head=f"upload_limit_mb = {limit_mb}",
        instant=instant,
        speed=10,
        p2_instant=True,
    )


@pytest.fixture
def instant() -> bool:
    """Override in a module to get a P1 that takes its time (x10 speed)."""
    return True


@pytest.fixture
def service(tmp_path: Path, instant: bool) -> FarmService:
    config = load_config(write_config(tmp_path, instant=instant))
    return FarmService(config, tmp_path / "data")


@pytest.fixture
def api_key(service: FarmService) -> str:
    return create_key(service.db, "test")


@pytest.fixture
def client(service: FarmService, api_key: str) -> Iterator[TestClient]:
    with TestClient(create_app(service), headers={"X-Api-Key": api_key}) as test_client:
        yield test_client


@contextmanager
def client_for(folder: Path, farm_toml: str, key_name: str = "test") -> Iterator[TestClient]:
    """A client of the farm configured by ``farm_toml`` with its data in ``folder`` (fresh,
    or kept from an earlier client: then give another ``key_name``)."""
    (folder / "farm.toml").write_text(farm_toml, encoding="utf-8")
    service = FarmService(load_config(folder / "farm.toml"), folder / "data")
    key = create_key(service.db, key_name)
    with TestClient(create_app(service), headers={"X-Api-Key": key}) as test_client:
        yield test_client
