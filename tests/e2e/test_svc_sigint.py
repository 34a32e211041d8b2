"""Ctrl-C stops ``slicefarm serve`` even while CP-SAT is solving (CP-SAT leaves SIGINT alone)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx

from samples import sample_path
from tests.e2e.conftest import SLICEFARM, farm_toml, free_port

CUBE = sample_path("models", "xyz_cube_20mm.stl")
TIME_LIMIT_S = 10


def _wait_for_line(log: Path, text: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def test_ctrl_c_during_a_solve_shuts_the_service_down(tmp_path: Path):
    config = farm_toml(tmp_path, instant=False, speed=1.0)
    config.write_text(
        config.read_text().replace("time_limit_s = 1", f"time_limit_s = {TIME_LIMIT_S}")
    )
    port, log = free_port(), tmp_path / "serve.log"
    command = [str(SLICEFARM), "-v", "serve", "--config", str(config)]
    command += ["--data-dir", str(tmp_path / "data"), "--port", str(port)]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert _wait_for_line(log, "Application startup complete", 60), log.read_text()
        key = (tmp_path / "data" / "demo-key").read_text().strip()
        for copies in ("7", "5"):
            response = httpx.post(
                f"http://127.0.0.1:{port}/api/jobs",
                headers={"X-Api-Key": key},
                files={"file": ("cube.stl", CUBE.read_bytes())},
                data={"copies": copies},
                timeout=30,
            )
            assert response.status_code == 201, response.text
        assert _wait_for_line(log, "farm.lns", 60), log.read_text()  # CP-SAT at work
        process.send_signal(signal.SIGINT)
        assert _wait_for_line(log, "Shutting down", 3), log.read_text()[-3000:]
        assert process.wait(timeout=TIME_LIMIT_S + 10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
