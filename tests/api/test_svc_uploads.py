"""Uploads: bad input is a 4xx that names the file or field, and nothing is stored."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from farm.config import load_config
from farm.keys import create_key
from farm.service import FarmService
from samples import sample_path
from tests.api.conftest import write_config

CUBE = sample_path("models", "xyz_cube_20mm.stl")


def _jobs(client: TestClient) -> list[dict]:
    return client.get("/api/jobs").json()["jobs"]


def test_unknown_file_type_is_415_naming_the_file(client: TestClient):
    response = client.post("/api/jobs", files={"file": ("notes.txt", b"hello")})
    assert response.status_code == 415
    assert "notes.txt" in response.json()["detail"]
    assert _jobs(client) == []


def test_broken_mesh_is_422_with_the_reason(client: TestClient):
    response = client.post("/api/jobs", files={"file": ("broken.stl", b"solid x\nnonsense\n")})
    assert response.status_code == 422
    assert "broken.stl" in response.json()["detail"]
    assert _jobs(client) == []


def test_bad_fields_are_422_naming_the_field(client: TestClient):
    cube = CUBE.read_bytes()
    cases = {
        "copies": {"copies": "0"},
        "copies ": {"copies": "many"},
        "priority": {"priority": "3"},
        "material": {"material": "UNOBTAINIUM"},
        "due": {"due": "next tuesday"},
        "printer_model": {"printer_model": "bambu_x1"},
        "settings": {"settings": "layer_height_mm=banana"},
        "quantity": {"quantity": "2"},
    }
    for field, data in cases.items():
        response = client.post("/api/jobs", files={"file": ("cube.stl", cube)}, data=data)
        assert response.status_code == 422, field
        assert f"field '{field.strip()}'" in response.json()["detail"], response.json()
    assert _jobs(client) == []


def test_over_the_size_limit_is_413_before_storing(client: TestClient, service):
    big = b"G1 X1 Y1\n" * (6 * 1024 * 1024 // 9)  # limit is 5 MB in the test farm
    response = client.post("/api/jobs", files={"file": ("big.gcode", big)})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    blobs = [p for p in service.store.root.rglob("*") if p.is_file()]
    assert blobs == []
    assert _jobs(client) == []


def test_file_names_never_reach_the_file_system(client: TestClient, service):
    name = "../../etc/evil name.gcode"
    response = client.post("/api/jobs", files={"file": (name, b"G28\nG1 X10 Y10 E1\n")})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "evil name.gcode"
    for path in service.data_dir.rglob("*"):
        assert "evil" not in path.name


def test_unknown_job_is_404(client: TestClient):
    for method, path in (("get", "/api/jobs/J9999"), ("delete", "/api/jobs/nope")):
        response = client.request(method.upper(), path)
        assert response.status_code == 404
        assert "J9999" in response.json()["detail"] or "nope" in response.json()["detail"]


def test_an_stl_is_accepted_with_a_relative_data_dir(tmp_path, monkeypatch):
    """`make run` keeps its data in `.slicefarm`, a path relative to the working directory:
    the mesh check must still find the stored upload."""
    monkeypatch.chdir(tmp_path)
    service = FarmService(load_config(write_config(tmp_path)), "data")
    key = create_key(service.db, "test")
    with TestClient(create_app(service), headers={"X-Api-Key": key}) as client:
        response = client.post("/api/jobs", files={"file": ("cube.stl", CUBE.read_bytes())})
        assert response.status_code == 201, response.text
