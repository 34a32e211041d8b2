"""OctoPrint's upload endpoint, so a slicer's "send to printer" puts the G-code in the queue.

PrusaSlicer, OrcaSlicer and Cura post multipart ``file`` (with ``print`` and ``path``) to
``/api/files/local`` with the ``X-Api-Key`` header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from api.deps import KeyDep, ServiceDep
from api.uploads import create_job

router = APIRouter(tags=["octoprint"])


@router.post("/api/files/local", status_code=201, dependencies=[KeyDep])
async def files_local(
    service: ServiceDep,
    file: Annotated[UploadFile, File()],
    print_: Annotated[str | None, Form(alias="print")] = None,
    path: Annotated[str | None, Form()] = None,
    select: Annotated[str | None, Form()] = None,
) -> dict:
    job = await create_job(service, file)
    return {
        "done": True,
        "files": {"local": {"name": job["name"], "origin": "local"}},
        "job": job,
    }
