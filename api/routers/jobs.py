"""Jobs: upload a part, list, inspect, cancel, retry; its G-code and preview image."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response

from api.deps import KeyDep, KeyOrQueryDep, ServiceDep
from api.preview import svg_preview
from api.schemas import JobList, JobPublic
from api.uploads import create_job
from farm.service_slicing import UploadError

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
UPLOAD_FIELDS = frozenset(
    {"file", "copies", "material", "color", "priority", "due", "printer_model", "settings"}
)


@router.post("", status_code=201, response_model=JobPublic, dependencies=[KeyDep])
async def upload_job(
    request: Request,
    service: ServiceDep,
    file: Annotated[UploadFile, File(description="STL, 3MF, OBJ or G-code")],
    copies: Annotated[int, Form()] = 1,
    material: Annotated[str | None, Form()] = None,
    color: Annotated[str | None, Form()] = None,
    priority: Annotated[int, Form()] = 1,
    due: Annotated[str | None, Form()] = None,
    printer_model: Annotated[str | None, Form()] = None,
    settings: Annotated[str, Form()] = "",
) -> dict:
    unknown = sorted(set((await request.form()).keys()) - UPLOAD_FIELDS)
    if unknown:  # a typo ("quantity" for "copies") must not pass silently
        fields = ", ".join(sorted(UPLOAD_FIELDS))
        raise UploadError(f"field '{unknown[0]}': not a field of an upload ({fields})")
    return await create_job(
        service,
        file,
        copies=copies,
        material=material,
        color=color,
        priority=priority,
        due=due,
        printer_model=printer_model,
        settings=settings,
    )


@router.get("", response_model=JobList, dependencies=[KeyDep])
def list_jobs(service: ServiceDep) -> dict:
    return {"jobs": service.jobs()}


@router.get("/{job_id}", response_model=JobPublic, dependencies=[KeyDep])
def get_job(service: ServiceDep, job_id: str) -> dict:
    return service.job_dict(service.job(job_id))


@router.delete("/{job_id}", response_model=JobPublic, dependencies=[KeyDep])
async def cancel_job(service: ServiceDep, job_id: str) -> dict:
    return await service.cancel(job_id)


@router.post("/{job_id}/retry", response_model=JobPublic, dependencies=[KeyDep])
def retry_job(service: ServiceDep, job_id: str) -> dict:
    return service.retry(job_id)


@router.get("/{job_id}/gcode", dependencies=[KeyDep])
def job_gcode(
    service: ServiceDep, job_id: str, printer_model: Annotated[str | None, Query()] = None
) -> FileResponse:
    sha = service.gcode_sha(job_id, printer_model)
    job = service.job(job_id)
    stem = job.name.rsplit(".", 1)[0]
    return FileResponse(
        service.store.path(sha),
        media_type="text/x-gcode",
        filename=f"{stem}.gcode",
    )


@router.get("/{job_id}/preview", dependencies=[KeyOrQueryDep])
def job_preview(service: ServiceDep, job_id: str) -> Response:
    job = service.job(job_id)
    if job.thumbnail_sha:
        return FileResponse(service.store.path(job.thumbnail_sha), media_type="image/png")
    if job.source == "gcode":
        return Response(svg_preview(None, job.name), media_type="image/svg+xml")
    return Response(
        svg_preview(service.store.path(job.file_sha), job.name, job.source),
        media_type="image/svg+xml",
    )
