"""Plans and time left of a sped-up virtual printer go at its pace; plan entries keep their
job's due date while printing."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from samples import sample_path
from tests.api.conftest import client_for
from tests.api.polling import wait_for

CUBE = sample_path("models", "xyz_cube_20mm.stl").read_bytes()
P1_SPEED = 10  # tests/api/conftest.py


@pytest.fixture
def instant() -> bool:
    return False  # P1 prints at x10


def _minutes(entry: dict) -> float:
    start, end = (
        dt.datetime.fromisoformat(entry[k].replace("Z", "+00:00")) for k in ("start", "end")
    )
    return (end - start).total_seconds() / 60


def test_sped_up_printer_is_planned_at_its_pace_and_printing_keeps_the_due(client: TestClient):
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = client.post(
        "/api/jobs",
        files={"file": ("cube.stl", CUBE)},
        data={"copies": "2", "due": due, "printer_model": "ender3"},
    )
    assert response.status_code == 201, response.text
    plan = wait_for(client, "/api/plan", lambda p: p["printers"][0]["prints"])
    job = client.get("/api/jobs/J0001").json()
    estimate_s = job["estimates"]["ender3"]["duration_s"]
    assert estimate_s > 10 * 60  # the slicer's real-world figure
    planned = [e for e in plan["printers"][0]["prints"] if e["state"] == "scheduled"]
    assert planned and all(e["due"] == due for e in planned)
    assert _minutes(planned[0]) == math.ceil(estimate_s / P1_SPEED / 60)

    plan = wait_for(
        client,
        "/api/plan",
        lambda p: any(e["state"] == "printing" for e in p["printers"][0]["prints"]),
    )
    printing = next(e for e in plan["printers"][0]["prints"] if e["state"] == "printing")
    assert printing["due"] == due and printing["tardy"] is False
    assert _minutes(printing) <= estimate_s / P1_SPEED / 60 + 0.1
    current = client.get("/api/printers/P1").json()["current"]
    assert 0 <= current["remaining_s"] <= estimate_s / P1_SPEED
    assert client.delete("/api/jobs/J0001").status_code == 200


MIXED_FARM = """
name = "mixed pace"
[operators]
always_present = true
[scheduling]
time_limit_s = 1
[[printers]]
id = "SLOW"
profile = "ender3"
port = "virtual"
self_clearing = true
virtual_speed = 10
[[printers]]
id = "FAST"
profile = "ender3"
port = "virtual"
self_clearing = true
virtual_speed = 30
"""


def test_two_printers_of_one_model_are_planned_each_at_its_own_pace(tmp_path: Path):
    with client_for(tmp_path, MIXED_FARM) as client:
        response = client.post(
            "/api/jobs", files={"file": ("cube.stl", CUBE)}, data={"copies": "6"}
        )
        assert response.status_code == 201, response.text
        plan = wait_for(
            client,
            "/api/plan",
            lambda p: all(
                any(e["state"] == "scheduled" for e in row["prints"]) for row in p["printers"]
            ),
        )
        estimate_s = client.get("/api/jobs/J0001").json()["estimates"]["ender3"]["duration_s"]
        for row, speed in zip(plan["printers"], (10, 30), strict=True):
            scheduled = [e for e in row["prints"] if e["state"] == "scheduled"]
            assert {_minutes(e) for e in scheduled} == {math.ceil(estimate_s / speed / 60)}, row
        assert client.delete("/api/jobs/J0001").status_code == 200
