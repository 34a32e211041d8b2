"""Printer faults: a failed print goes back to the queue, a printer in ERROR waits for a person."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from samples import sample_path
from tests.api.conftest import client_for
from tests.api.polling import wait_for

FAULTY = """
name = "faulty farm"
[operators]
always_present = true
[scheduling]
time_limit_s = 1
max_attempts = 2
[[printers]]
id = "P1"
profile = "ender3"
port = "virtual"
virtual_instant = true
self_clearing = true
virtual_faults = "thermal_runaway=300"
"""


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[TestClient]:
    with client_for(tmp_path, FAULTY) as client:
        yield client


def test_failed_print_is_requeued_and_the_printer_waits_for_an_operator(faulty: TestClient):
    client = faulty
    wait_for(client, "/api/printers/P1", lambda p: p["state"] == "idle")
    cube = sample_path("models", "xyz_cube_20mm.stl").read_bytes()
    assert client.post("/api/jobs", files={"file": ("cube.stl", cube)}).status_code == 201

    printer = wait_for(client, "/api/printers/P1", lambda p: p["state"] == "error")
    assert "Thermal" in printer["message"] or "thermal" in printer["message"]
    job = wait_for(client, "/api/jobs/J0001", lambda j: j["prints"][0]["attempts"] == 1)
    assert job["state"] == "queued" and job["prints"][0]["state"] == "waiting"
    assert "attempt 1 failed" in job["error"]
    time.sleep(1.5)  # the dispatcher does not give a printer in ERROR new work
    job = client.get("/api/jobs/J0001").json()
    assert job["prints"][0]["attempts"] == 1 and job["prints"][0]["state"] == "waiting"
    assert client.post("/api/printers/P1/actions", json={"action": "pause"}).status_code == 409

    response = client.post("/api/printers/P1/actions", json={"action": "bed_cleared"})
    assert response.status_code == 200
    job = wait_for(client, "/api/jobs/J0001", lambda j: j["state"] == "failed")
    assert job["prints"][0]["attempts"] == 2 and job["prints"][0]["state"] == "failed"
    metrics = client.get("/metrics").text
    assert 'slicefarm_prints_total{result="failed"} 2.0' in metrics

    retried = client.post("/api/jobs/J0001/retry")
    assert retried.status_code == 200 and retried.json()["state"] == "queued"
    assert client.post("/api/jobs/J0001/retry").status_code == 409


def test_print_counts_survive_a_restart(tmp_path: Path):
    with client_for(tmp_path, FAULTY) as client:
        cube = sample_path("models", "xyz_cube_20mm.stl").read_bytes()
        assert client.post("/api/jobs", files={"file": ("cube.stl", cube)}).status_code == 201
        wait_for(client, "/api/jobs/J0001", lambda j: "attempt 1 failed" in (j["error"] or ""))
        metrics = client.get("/metrics").text
        assert 'slicefarm_prints_total{result="failed"} 1.0' in metrics
    with client_for(tmp_path, FAULTY, key_name="after restart") as client:
        metrics = client.get("/metrics").text
        assert 'slicefarm_prints_total{result="failed"} 1.0' in metrics
        assert 'slicefarm_prints_total{result="done"} 0.0' in metrics
