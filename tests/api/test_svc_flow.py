"""A part goes through the real app: sliced, planned, printed on virtual printers, done."""

from __future__ import annotations

from fastapi.testclient import TestClient

from farm.check import check_plan
from samples import sample_path
from tests.api.polling import wait_for

CUBE = sample_path("models", "xyz_cube_20mm.stl")


def test_cube_is_sliced_planned_printed_and_done(client: TestClient, service):
    wait_for(
        client,
        "/api/printers",
        lambda b: all(p["state"] == "idle" for p in b["printers"]),
    )
    response = client.post(
        "/api/jobs", files={"file": ("cube.stl", CUBE.read_bytes())}, data={"copies": "2"}
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["id"] == "J0001" and job["state"] == "slicing" and len(job["prints"]) == 2

    wait_for(client, "/api/plan", lambda p: any(x["prints"] for x in p["printers"]))
    farm_plan = service.dispatcher.plan
    assert check_plan(farm_plan.problem, farm_plan.plan) == []
    job = wait_for(client, "/api/jobs/J0001", lambda j: j["state"] == "done")
    assert job["copies_done"] == 2
    assert set(job["estimates"]) == {"ender3", "prusa_mk3s"}  # PLA: both models
    assert all(p["printer_id"] == "P1" for p in job["prints"])  # P2 holds PETG
    assert all(p["attempts"] == 1 and p["state"] == "done" for p in job["prints"])

    gcode = client.get("/api/jobs/J0001/gcode?printer_model=prusa_mk3s")
    assert gcode.status_code == 200 and "G1" in gcode.text
    assert client.get("/api/jobs/J0001/gcode?printer_model=voron").status_code == 404
    preview = client.get("/api/jobs/J0001/preview")
    assert preview.status_code == 200 and preview.headers["content-type"].startswith("image/")

    metrics = client.get("/metrics").text
    assert 'slicefarm_prints_total{result="done"} 2.0' in metrics
    plan = client.get("/api/plan").json()
    assert plan["solver"] in ("cp-sat", "greedy")
    assert [p["printer_id"] for p in plan["printers"]] == ["P1", "P2"]


def test_petg_job_waits_for_a_filament_swap_on_the_todo_list(client: TestClient):
    response = client.post(
        "/api/jobs",
        files={"file": ("cube.stl", CUBE.read_bytes())},
        data={"material": "PETG", "color": "blue", "printer_model": "ender3"},
    )
    assert response.status_code == 201, response.text
    plan = wait_for(client, "/api/plan", lambda p: p["todo"])
    load = [t for t in plan["todo"] if t["kind"] == "load"]
    assert load and load[0]["printer_id"] == "P1" and "PETG blue" in load[0]["text"]
    printer = wait_for(client, "/api/printers/P1", lambda p: p["state"] == "needs_operator")
    assert "PETG" in printer["message"]

    bad = client.post("/api/printers/P1/actions", json={"action": "filament_loaded"})
    assert bad.status_code == 409 and "material" in bad.json()["detail"]
    done = client.post(
        "/api/printers/P1/actions",
        json={"action": "filament_loaded", "material": "PETG", "color": "blue"},
    )
    assert done.status_code == 200 and done.json()["material"] == "PETG"
    job = wait_for(client, "/api/jobs/J0001", lambda j: j["state"] == "done")
    assert job["prints"][0]["printer_id"] == "P1"


def test_a_printer_in_maintenance_takes_no_work(client: TestClient):
    wait_for(client, "/api/printers/P1", lambda p: p["state"] == "idle")
    on = client.post("/api/printers/P1/actions", json={"action": "maintenance_on"})
    assert on.status_code == 200 and on.json()["state"] == "maintenance"
    assert 'slicefarm_printers{state="maintenance"} 1.0' in client.get("/metrics").text
    response = client.post(
        "/api/jobs",
        files={"file": ("cube.stl", CUBE.read_bytes())},
        data={"printer_model": "ender3", "priority": "5", "due": "2026-01-01T00:00:00Z"},
    )
    assert response.status_code == 201
    wait_for(client, "/api/jobs/J0001", lambda j: j["state"] == "queued")
    plan = wait_for(client, "/api/plan", lambda p: p["generated"] >= response.json()["created"])
    assert not any(x["prints"] for x in plan["printers"])
    assert client.get("/api/farm").json()["queue_length"] == 1

    off = client.post("/api/printers/P1/actions", json={"action": "maintenance_off"})
    assert off.status_code == 200 and off.json()["state"] != "maintenance"
    job = wait_for(client, "/api/jobs/J0001", lambda j: j["state"] == "done")
    assert job["priority"] == 5 and job["due"] == "2026-01-01T00:00:00Z"
