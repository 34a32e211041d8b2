"""End to end: ``slicefarm serve`` as a process, virtual printers on ptys, over HTTP."""

from __future__ import annotations

import json
import threading

import httpx

from samples import sample_path
from tests.api.polling import wait_for

CUBE = sample_path("models", "xyz_cube_20mm.stl")


def collect_events(url: str, key: str, events: list[tuple[str, dict]], stop: threading.Event):
    with httpx.stream("GET", f"{url}/api/events?key={key}", timeout=None) as response:
        kind = None
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind:
                events.append((kind, json.loads(line[6:])))


def test_stl_is_sliced_scheduled_printed_and_done(make_server):
    server = make_server(instant=True)
    server.start()
    events: list[tuple[str, dict]] = []
    stop = threading.Event()
    threading.Thread(
        target=collect_events, args=(server.url, server.key, events, stop), daemon=True
    ).start()
    with server.client() as client:
        wait_for(
            client, "/api/printers", lambda b: all(p["state"] == "idle" for p in b["printers"])
        )
        response = client.post("/api/jobs", files={"file": ("cube.stl", CUBE.read_bytes())})
        assert response.status_code == 201, response.text
        job = wait_for(client, "/api/jobs/J0001", lambda j: j["state"] == "done")
        assert job["prints"][0]["printer_id"] == "P1" and job["copies_done"] == 1
        printers = client.get("/api/printers").json()["printers"]
        assert printers[0]["state"] == "idle" and printers[0]["current"] is None
        stop.set()

        job_states = [data["state"] for kind, data in events if kind == "job"]
        assert job_states[0] == "slicing" and job_states[-1] == "done"
        assert "queued" in job_states and "printing" in job_states
        p1_states = [
            data["state"] for kind, data in events if kind == "printer" and data["id"] == "P1"
        ]
        assert "printing" in p1_states and p1_states[-1] == "idle"
        assert any(kind == "plan" for kind, _ in events)

        # What PrusaSlicer's "send to printer" posts to an OctoPrint host.
        gcode = client.get("/api/jobs/J0001/gcode").content
        response = client.post(
            "/api/files/local",
            files={"file": ("cube_0.2mm_PLA.gcode", gcode, "application/octet-stream")},
            data={"print": "false", "path": ""},
            headers={"User-Agent": "PrusaSlicer/2.7.1"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["done"] is True and body["files"]["local"]["origin"] == "local"
        assert body["job"]["source"] == "gcode"
        job = wait_for(client, f"/api/jobs/{body['job']['id']}", lambda j: j["state"] == "done")
        assert job["name"] == "cube_0.2mm_PLA.gcode" and "ender3" in job["estimates"]
        assert client.get("/api/version").json()["server"] == "1.10.0"


def test_restart_during_a_print_requeues_it_and_marks_the_bed(make_server):
    server = make_server(instant=False, speed=1.0)
    server.start()
    with server.client() as client:
        wait_for(
            client, "/api/printers", lambda b: all(p["state"] == "idle" for p in b["printers"])
        )
        client.post(
            "/api/jobs", files={"file": ("cube.stl", CUBE.read_bytes())}, data={"copies": "2"}
        )
        wait_for(client, "/api/jobs/J0001", lambda j: j["state"] == "printing", timeout_s=60)
    server.kill()  # kill -9 in the middle of the print

    server.start()
    with server.client() as client:
        job = client.get("/api/jobs/J0001").json()
        states = sorted(p["state"] for p in job["prints"])
        assert states == ["interrupted", "waiting"], job
        assert "interrupted" in job["error"]
        printer = wait_for(client, "/api/printers/P1", lambda p: p["connection"] == "IDLE")
        assert printer["bed_clear"] is False and printer["state"] == "needs_operator"
        assert "interrupted" in printer["message"]
        prints = client.get("/api/jobs/J0001").json()["prints"]
        interrupted_id = next(p["id"] for p in prints if p["state"] == "interrupted")
        assert printer["request"] == {
            "kind": "clear",
            "material": None,
            "color": None,
            "print_id": interrupted_id,
        }
        todo = client.get("/api/plan").json()["todo"]
        assert any(t["kind"] == "clear" and t["printer_id"] == "P1" for t in todo)
        prints = client.get("/api/jobs/J0001").json()["prints"]
        interrupted = next(p for p in prints if p["state"] == "interrupted")
        assert interrupted["attempts"] == 1  # not restarted on the part-filled bed

        response = client.post("/api/printers/P1/actions", json={"action": "bed_cleared"})
        assert response.status_code == 200 and response.json()["bed_clear"] is True
        job = wait_for(client, "/api/jobs/J0001", lambda j: j["state"] == "printing")
        again = [p for p in job["prints"] if p["state"] == "printing"]
        assert again and again[0]["printer_id"] == "P1"
