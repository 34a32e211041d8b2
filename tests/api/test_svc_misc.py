"""Streaming uploads without a length, the keys command, the demo key, the farm overview."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.cli import main
from api.serve_cli import demo_key
from farm.db import Database


def test_chunked_upload_over_the_limit_is_413(client: TestClient, service):
    boundary = "xyzzy"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.gcode"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body():
        yield head
        for _ in range(6 * 16):  # 6 MB against a 5 MB limit, 64 kB at a time
            yield b"G1 X1\n" * (65536 // 6)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/api/jobs",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert client.get("/api/jobs").json()["jobs"] == []
    assert not [p for p in service.store.root.rglob("*") if p.is_file()]


def test_farm_overview(client: TestClient):
    farm = client.get("/api/farm").json()
    assert farm["name"] == "test farm" and farm["printers"] == 2 and farm["queue_length"] == 0
    assert farm["shifts"][0]["operators"] == 2


def test_keys_command(tmp_path: Path, capsys):
    data = str(tmp_path / "data")
    assert main(["keys", "--data-dir", data, "create", "ops"]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) > 20
    assert main(["keys", "--data-dir", data, "create", "ops"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["keys", "--data-dir", data, "list"]) == 0
    assert capsys.readouterr().out.startswith("ops\t")
    assert main(["keys", "--data-dir", data, "revoke", "ops"]) == 0
    assert main(["keys", "--data-dir", data, "revoke", "ops"]) == 2


def test_demo_key_is_stable_across_restarts(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'farm.db'}")
    first = demo_key(db, tmp_path)
    assert first and demo_key(db, tmp_path) == first
    assert (tmp_path / "demo-key").stat().st_mode & 0o077 == 0
