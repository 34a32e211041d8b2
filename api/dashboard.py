"""The operator dashboard: serves ``GET /`` and the page's static files under ``/static/``.

The page is plain HTML, CSS and ES modules from ``api/static/`` (no build step). It needs no
API key to load; every data call it makes sends the key the operator typed or opened with
(``/#key=...``). The service includes :data:`router` in its app.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

log = logging.getLogger(__name__)

STATIC_DIR = (Path(__file__).parent / "static").resolve()

# Explicit types: ES modules must be served as JavaScript, whatever the host's mime.types says.
MEDIA_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}

# Revalidate every time (ETag/Last-Modified make that cheap): an operator never sees a stale page
# after an upgrade.
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def static_file(relative: str) -> Path:
    """The file ``relative`` inside :data:`STATIC_DIR`; 404 for anything outside it or missing."""
    candidate = (STATIC_DIR / relative).resolve()
    if not candidate.is_relative_to(STATIC_DIR) or not candidate.is_file():
        raise HTTPException(status_code=404, detail=f"no dashboard file {relative!r}")
    if candidate.suffix not in MEDIA_TYPES:
        raise HTTPException(status_code=404, detail=f"no dashboard file {relative!r}")
    return candidate


def file_response(path: Path) -> FileResponse:
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=NO_CACHE)


@router.get("/")
async def index() -> FileResponse:
    """The dashboard page."""
    return file_response(static_file("index.html"))


@router.get("/static/{relative:path}")
async def static(relative: str) -> FileResponse:
    """A file of the dashboard (scripts, styles, icons)."""
    return file_response(static_file(relative))
