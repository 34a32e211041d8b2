"""A real ``slicefarm serve`` process on a free port, with virtual printers on ptys."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, write_farm_toml

SLICEFARM = Path(sys.executable).parent / "slicefarm"


class Server:
    """One ``slicefarm serve`` process; ``start`` again after ``kill`` is a restart."""

    def __init__(self, config: Path, data_dir: Path):
        self.config, self.data_dir = config, data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.log = data_dir.parent / "serve.log"

    def start(self, timeout_s: float = 60.0) -> None:
        command = [str(SLICEFARM), "serve", "--config", str(self.config)]
        command += ["--data-dir", str(self.data_dir), "--port", str(self.port)]
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"serve did not come up:\n{self.log.read_text()}")

    @property
    def key(self) -> str:
        return (self.data_dir / "demo-key").read_text().strip()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-Api-Key": self.key}, timeout=10)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=20)


def farm_toml(folder: Path, *, instant: bool, speed: float = 1.0) -> Path:
    """The test farm of tests/support.py, both printers at one pace."""
    return write_farm_toml(
        folder, name="e2e farm", instant=instant, speed=speed, p2_instant=instant, p2_speed=speed
    )


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator:
    servers: list[Server] = []

    def make(*, instant: bool, speed: float = 1.0) -> Server:
        server = Server(farm_toml(tmp_path, instant=instant, speed=speed), tmp_path / "data")
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.kill(signal.SIGTERM)
