"""From an uploaded file to a job: store it under its digest, then hand it to the farm."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

from fastapi import UploadFile

from farm.queue import NewJob
from farm.service import FarmService
from farm.service_slicing import UploadError, source_of, stated_filament
from printers.profiles import material_names
from slicer.errors import SettingsError
from slicer.settings import SliceSettings

PRIORITIES = (1, 2, 5)
DEFAULT_MATERIAL, DEFAULT_COLOR = "PLA", "black"
CHUNK_BYTES = 1 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9._ +()-]")


def display_name(filename: str | None) -> str:
    """The file's base name, tamed: kept only for display, never used as a path."""
    base = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return _UNSAFE.sub("_", base).strip(" .")[:120] or "upload"


def parse_due(due: str | None) -> dt.datetime | None:
    if not due:
        return None
    try:
        value = dt.datetime.fromisoformat(due.replace("Z", "+00:00"))
    except ValueError:
        raise UploadError(f"field 'due': '{due}' is not an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


async def create_job(
    service: FarmService,
    upload: UploadFile,
    *,
    copies: int = 1,
    material: str | None = None,
    color: str | None = None,
    priority: int = 1,
    due: str | None = None,
    printer_model: str | None = None,
    settings: str = "",
) -> dict:
    """Validate the form, store the file, create the job; UploadError names the field.

    Without ``material``/``color`` a G-code upload takes what the file states (PrusaSlicer's
    and OrcaSlicer's ``; filament_type`` / ``; filament_colour``), else PLA / black."""
    name = display_name(upload.filename)
    source = source_of(name)
    if not 1 <= copies <= 1000:
        raise UploadError(f"field 'copies': {copies} is not between 1 and 1000")
    if priority not in PRIORITIES:
        raise UploadError(f"field 'priority': {priority} is not one of {PRIORITIES}")
    if material is not None and material not in material_names():
        raise UploadError(f"field 'material': unknown material '{material}' ({material_names()})")
    if color is not None and (not color.strip() or len(color) > 32):
        raise UploadError("field 'color': give a colour name of 1 to 32 characters")
    if settings.strip():
        _check_settings(settings)
    sha, size = await service.store.put_stream(_chunks(upload), service.config.upload_limit_bytes)
    if size == 0:
        raise UploadError(f"file '{name}' is empty")
    if source == "gcode" and (material is None or color is None):
        stated_material, stated_color = stated_filament(service.store.path(sha))
        material = material or stated_material
        color = color or stated_color
    new = NewJob(
        name=name,
        source=source,
        file_sha=sha,
        copies=copies,
        material=material or DEFAULT_MATERIAL,
        color=(color or DEFAULT_COLOR).strip(),
        priority=priority,
        due=parse_due(due),
        printer_model=printer_model or None,
        settings=settings,
    )
    return await service.submit(new)


def _check_settings(settings: str) -> None:
    lines = [line.strip() for line in settings.splitlines() if line.strip()]
    for line in lines:
        if "=" not in line:
            raise UploadError(f"field 'settings': '{line}' is not key=value")
    try:
        SliceSettings.from_overrides(lines)
    except SettingsError as exc:
        raise UploadError(f"field 'settings': {exc}") from None
