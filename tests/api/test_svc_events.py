"""Server-sent events: the printers first, then changes as they happen, pings in between."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from samples import sample_path


def test_event_stream_starts_with_the_printers_and_pings(client: TestClient, api_key: str):
    client.app.state.sse_ping_s = 0.2
    cube = sample_path("models", "xyz_cube_20mm.stl").read_bytes()
    seen: list[str] = []
    with client.stream("GET", f"/api/events?key={api_key}", headers={"X-Api-Key": ""}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            seen.append(line)
            if line == ": ping" and not any("event: job" in s for s in seen):
                client.post("/api/jobs", files={"file": ("cube.stl", cube)})
            if line.startswith("data: ") and '"state":"slicing"' in line:
                break
    kinds = [line[7:] for line in seen if line.startswith("event: ")]
    assert kinds[:2] == ["printer", "printer"] and "job" in kinds
    assert ": ping" in seen
    job = json.loads(seen[-1][6:])
    assert job["id"] == "J0001" and job["name"] == "cube.stl"
