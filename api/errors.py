"""Errors as JSON ``{"detail": "..."}``: any exception that carries ``http_status``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from farm.keys import ApiKeyError
from farm.queue import QueueError
from farm.service import ServiceError
from farm.service_run import ActionError
from farm.service_slicing import UploadError
from printers.profiles import ProfileError

log = logging.getLogger(__name__)

# Exceptions of the farm that carry their own HTTP status.
STATUS_ERRORS: tuple[type[Exception], ...] = (QueueError, ServiceError, ActionError, UploadError)
# Exceptions that mean "bad value in the request": 422.
BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (ProfileError, ApiKeyError, ValueError)


async def _with_status(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=getattr(exc, "http_status", 422))


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's validation errors as words that name the field, like every other error."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = [str(part) for part in first["loc"] if part not in ("body", "query", "path")]
    field = ".".join(where) or "request"
    return JSONResponse({"detail": f"field '{field}': {first['msg']}"}, status_code=422)


def install(app: FastAPI) -> None:
    for kind in (*STATUS_ERRORS, *BAD_INPUT_ERRORS):
        app.add_exception_handler(kind, _with_status)
    app.add_exception_handler(RequestValidationError, _invalid_request)
