"""Keys: every route but /health, /api/version and the dashboard needs a valid key."""

from __future__ import annotations

from fastapi.testclient import TestClient

from farm.keys import create_key, list_keys, revoke_key


def test_open_routes_need_no_key(client: TestClient):
    bare = {"X-Api-Key": ""}
    assert client.get("/health", headers=bare).json() == {"status": "ok"}
    version = client.get("/api/version", headers=bare).json()
    assert version["server"] == "1.10.0" and "OctoPrint" in version["text"]


def test_wrong_or_missing_key_is_401(client: TestClient):
    for path in ("/api/jobs", "/api/printers", "/api/plan", "/api/farm", "/metrics"):
        response = client.get(path, headers={"X-Api-Key": "nope"})
        assert response.status_code == 401, path
        assert "key" in response.json()["detail"]
    assert client.get("/api/events?key=nope", headers={"X-Api-Key": ""}).status_code == 401


def test_metrics_take_the_key_as_a_query_parameter(client: TestClient, api_key: str):
    response = client.get(f"/metrics?key={api_key}", headers={"X-Api-Key": ""})
    assert response.status_code == 200 and "slicefarm_queue_length 0.0" in response.text


def test_revoked_key_stops_working(client: TestClient, service):
    key = create_key(service.db, "temp")
    assert client.get("/api/farm", headers={"X-Api-Key": key}).status_code == 200
    revoke_key(service.db, "temp")
    service.keys.reload()
    assert client.get("/api/farm", headers={"X-Api-Key": key}).status_code == 401
    assert [k.name for k in list_keys(service.db)] == ["test"]


def test_keys_are_stored_hashed(service, api_key):
    from sqlalchemy import text

    with service.db.engine.connect() as connection:
        stored = [row[0] for row in connection.execute(text("SELECT key_hash FROM api_keys"))]
    assert api_key not in stored and len(stored[0]) == 64
