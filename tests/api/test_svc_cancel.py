"""Cancelling a job stops its print on the printer; operator actions check the state."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from samples import sample_path
from tests.api.polling import wait_for


@pytest.fixture
def instant() -> bool:
    return False  # P1 takes minutes: the print is still running when we pause and cancel


def test_pause_resume_then_cancel_stops_the_print(client: TestClient):
    wait_for(client, "/api/printers/P1", lambda p: p["state"] == "idle")
    cube = sample_path("models", "xyz_cube_20mm.stl").read_bytes()
    assert client.post("/api/jobs", files={"file": ("cube.stl", cube)}).status_code == 201
    printer = wait_for(client, "/api/printers/P1", lambda p: p["state"] == "printing")
    assert printer["current"]["job_id"] == "J0001" and printer["current"]["layers"] > 10
    assert client.post("/api/printers/P1/actions", json={"action": "resume"}).status_code == 409
    assert client.post("/api/printers/P2/actions", json={"action": "pause"}).status_code == 409
    paused = client.post("/api/printers/P1/actions", json={"action": "pause"})
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    resumed = client.post("/api/printers/P1/actions", json={"action": "resume"})
    assert resumed.status_code == 200 and resumed.json()["state"] == "printing"
    bad = client.post("/api/printers/P1/actions", json={"action": "explode"})
    assert bad.status_code == 422 and "field 'action'" in bad.json()["detail"]

    job = client.delete("/api/jobs/J0001")
    assert job.status_code == 200 and job.json()["state"] == "cancelled"
    printer = wait_for(client, "/api/printers/P1", lambda p: p["current"] is None)
    assert printer["state"] == "idle"
    job = client.get("/api/jobs/J0001").json()
    assert job["state"] == "cancelled" and job["prints"][0]["state"] == "cancelled"
    assert client.delete("/api/jobs/J0001").status_code == 409
    plan = wait_for(client, "/api/plan", lambda p: not any(x["prints"] for x in p["printers"]))
    assert plan["todo"] == []
