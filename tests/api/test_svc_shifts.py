"""Operators: with nobody on shift the dispatcher starts nothing; the plan waits for the shift."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from samples import sample_path
from tests.api.conftest import client_for
from tests.api.polling import wait_for
from tests.support import printer_toml


def test_nothing_starts_before_the_shift_and_the_plan_says_when(tmp_path: Path):
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    end = start + dt.timedelta(hours=1)
    farm = f"""
name = "night farm"
[operators]
timezone = "UTC"
[[operators.shifts]]
start = "{start:%H:%M}"
end = "{end:%H:%M}"
operators = 1
[scheduling]
time_limit_s = 1
{printer_toml("P1", "ender3", virtual_instant=True)}"""
    with client_for(tmp_path, farm) as client:
        shifts = client.get("/api/farm").json()["shifts"]
        assert shifts[0]["start"] == f"{start:%Y-%m-%dT%H:%M}:00Z" and len(shifts) == 7
        cube = sample_path("models", "xyz_cube_20mm.stl").read_bytes()
        assert client.post("/api/jobs", files={"file": ("cube.stl", cube)}).status_code == 201
        plan = wait_for(client, "/api/plan", lambda p: p["printers"][0]["prints"])
        planned = plan["printers"][0]["prints"][0]
        assert planned["start"] > f"{start:%Y-%m-%dT%H:%M}" and planned["state"] == "scheduled"
        todo = plan["todo"]
        assert todo[-1]["kind"] == "start" and todo[-1]["at"] >= f"{start:%Y-%m-%dT%H:%M}"
        time.sleep(1.5)
        job = client.get("/api/jobs/J0001").json()
        assert job["state"] == "queued" and job["prints"][0]["attempts"] == 0
