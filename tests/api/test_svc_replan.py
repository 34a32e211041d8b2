"""Re-planning over HTTP: a new job leaves the next prints of the printers where they were;
a printer that goes down hands its queue to the others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from samples import sample_path
from tests.api.conftest import client_for
from tests.api.polling import wait_for
from tests.support import printer_toml

CUBE = sample_path("models", "xyz_cube_20mm.stl").read_bytes()


def farm_toml(faults: dict[str, str] | None = None) -> str:
    """Three PLA black enders that clear their own beds, a cube in about two minutes each."""
    faults = faults or {}
    head = "[operators]\nalways_present = true\n[scheduling]\ntime_limit_s = 1\n"
    return head + "".join(
        printer_toml(
            pid, "ender3", self_clearing=True, virtual_speed=10, virtual_faults=faults.get(pid, "")
        )
        for pid in ("P1", "P2", "P3")
    )


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[TestClient]:
    with client_for(tmp_path, farm_toml()) as client:
        yield client


def queued(plan: dict) -> dict[str, list[str]]:
    """Printer id -> the print ids the plan still has to start there, in order."""
    return {
        row["printer_id"]: [e["print_id"] for e in row["prints"] if e["state"] == "scheduled"]
        for row in plan["printers"]
    }


def six_cubes(client: TestClient) -> dict:
    """Six copies on three printers: one printing and one queued on each (the plan then)."""
    for pid in ("P1", "P2", "P3"):
        wait_for(client, f"/api/printers/{pid}", lambda p: p["state"] == "idle")
    response = client.post("/api/jobs", files={"file": ("cube.stl", CUBE)}, data={"copies": "6"})
    assert response.status_code == 201, response.text
    return wait_for(
        client,
        "/api/plan",
        lambda p: (
            all(len(q) == 1 for q in queued(p).values())
            and sum(e["state"] == "printing" for r in p["printers"] for e in r["prints"]) == 3
        ),
    )


def test_a_new_job_does_not_reshuffle_the_next_prints(farm: TestClient):
    before = queued(six_cubes(farm))
    # due now: printing it first somewhere would cut its lateness by a couple of minutes
    due = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = farm.post("/api/jobs", files={"file": ("rush.stl", CUBE)}, data={"due": due})
    assert response.status_code == 201
    plan = wait_for(farm, "/api/plan", lambda p: any("J0002-1" in q for q in queued(p).values()))
    after = queued(plan)
    assert {pid: q[:1] for pid, q in after.items()} == before
    assert sum(len(q) for q in after.values()) == 4
    assert all(e["kind"] != "clear" for e in plan["todo"])  # the beds clear themselves


def test_a_printer_going_down_moves_its_queue(tmp_path: Path):
    with client_for(tmp_path, farm_toml({"P3": "thermal_runaway=800"})) as client:
        before = queued(six_cubes(client))
        wait_for(client, "/api/printers/P3", lambda p: p["state"] == "error")
        plan = wait_for(
            client,
            "/api/plan",
            lambda p: not queued(p)["P3"] and sum(map(len, queued(p).values())) == 4,
        )
        after = queued(plan)
        # P3's queued print and its failed one go to the others; theirs stay first
        assert before["P3"][0] in after["P1"] + after["P2"]
        assert after["P1"][:1] == before["P1"] and after["P2"][:1] == before["P2"]
