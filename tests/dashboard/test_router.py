"""The dashboard router on its own: the page and its files, nothing outside api/static."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.dashboard import STATIC_DIR, router


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_the_page_is_served_at_the_root(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/js/main.js">' in response.text
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/js/main.js", "text/javascript"),
        ("/static/app.css", "text/css"),
        ("/static/icon.svg", "image/svg+xml"),
    ],
)
def test_static_files_have_their_media_type(client, path, media_type):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)


def test_every_module_the_page_imports_is_served(client):
    modules = sorted(p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*.js"))
    assert "js/main.js" in modules
    for module in modules:
        assert client.get(f"/static/{module}").status_code == 200, module


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/dashboard.py",
        "/static/..%2Fdashboard.py",
        "/static/js/../../dashboard.py",
        "/static/nothing.js",
        "/static/js",
    ],
)
def test_nothing_outside_the_static_files_is_served(client, path):
    assert client.get(path).status_code == 404
