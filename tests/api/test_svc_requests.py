"""Operator requests: structured, and only as long as the current plan needs them."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from farm.config import load_config
from farm.db import PrinterRow
from farm.service import FarmService
from samples import sample_path
from tests.api.conftest import client_for, write_config
from tests.api.polling import wait_for
from tests.support import printer_toml

CUBE = sample_path("models", "xyz_cube_20mm.stl").read_bytes()


def test_a_load_request_is_structured_and_ends_when_the_plan_drops_it(client: TestClient):
    wait_for(client, "/api/printers/P1", lambda p: p["state"] == "idle")
    response = client.post(
        "/api/jobs",
        files={"file": ("cube.stl", CUBE)},
        data={"material": "PETG", "color": "blue", "printer_model": "ender3"},
    )
    assert response.status_code == 201, response.text
    load = {"kind": "load", "material": "PETG", "color": "blue", "print_id": "J0001-1"}
    printer = wait_for(client, "/api/printers/P1", lambda p: p["request"] == load)
    assert printer["state"] == "needs_operator" and "PETG blue" in printer["message"]
    assert client.get("/api/printers/P2").json()["request"] is None

    # in maintenance the dispatcher passes P1 by: only the new plan can drop the request
    on = client.post("/api/printers/P1/actions", json={"action": "maintenance_on"})
    assert on.status_code == 200 and on.json()["request"] is None
    assert client.delete("/api/jobs/J0001").status_code == 200
    printer = wait_for(client, "/api/printers/P1", lambda p: p["message"] is None, timeout_s=10)
    assert printer["state"] == "maintenance"
    off = client.post("/api/printers/P1/actions", json={"action": "maintenance_off"})
    assert off.status_code == 200
    printer = wait_for(client, "/api/printers/P1", lambda p: p["state"] != "offline")
    assert printer["state"] == "idle" and printer["request"] is None


def test_a_failed_print_asks_to_clear_the_bed_naming_the_print(client: TestClient):
    response = client.post(
        "/api/jobs",
        files={"file": ("cube.stl", CUBE)},
        data={"material": "PETG", "color": "red", "printer_model": "prusa_mk3s"},
    )
    assert response.status_code == 201, response.text
    printer = wait_for(client, "/api/printers/P2", lambda p: p["state"] == "needs_operator")
    assert printer["request"] == {
        "kind": "clear",
        "material": None,
        "color": None,
        "print_id": "J0001-1",
    }
    cleared = client.post("/api/printers/P2/actions", json={"action": "bed_cleared"})
    assert cleared.status_code == 200 and cleared.json()["request"] is None


def test_a_load_request_kept_by_an_older_version_is_dropped_on_start(tmp_path: Path):
    config = load_config(write_config(tmp_path))
    old = FarmService(config, tmp_path / "data")  # writes the printers' rows
    with old.db.session() as session:  # what an older version left in its database
        row = session.get(PrinterRow, "P1")
        row.needs_operator, row.message = 1, "load PLA black into P1 for J0001-3"
    old.db.close()
    with client_for(tmp_path, (tmp_path / "farm.toml").read_text()) as client:
        printer = wait_for(client, "/api/printers/P1", lambda p: p["state"] != "offline")
        assert printer["state"] == "idle" and printer["message"] is None
        assert printer["request"] is None


LATE_FARM = f"""
[operators]
always_present = true
[scheduling]
time_limit_s = 1
late_after_min = 0
{printer_toml("P1", "ender3", self_clearing=True, virtual_instant=True)}"""


def test_a_printer_whose_operator_is_late_prints_what_it_has_loaded(tmp_path: Path):
    # a load request is late as soon as it is made here
    with client_for(tmp_path, LATE_FARM) as client:
        wait_for(client, "/api/printers/P1", lambda p: p["state"] == "idle")
        urgent = {"material": "PETG", "color": "blue", "priority": "5", "due": "2026-01-01"}
        assert client.post("/api/jobs", files={"file": ("a.stl", CUBE)}, data=urgent).is_success
        wait_for(client, "/api/printers/P1", lambda p: (p["request"] or {}).get("kind") == "load")
        # the PETG print comes first in any plan; nobody loads it; P1 goes on with PLA black
        assert client.post("/api/jobs", files={"file": ("b.stl", CUBE)}).status_code == 201
        wait_for(client, "/api/jobs/J0002", lambda j: j["state"] == "done")
        assert client.get("/api/jobs/J0001").json()["state"] == "queued"
        printer = wait_for(client, "/api/printers/P1", lambda p: p["request"] is not None)
        assert printer["request"]["material"] == "PETG"  # asked again
