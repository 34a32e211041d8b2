"""Dependencies of the routes: the farm service and the API-key check.

They are coroutines: they only read memory (the key check re-reads a small table every few
seconds), and a coroutine dependency skips the thread-pool hop a plain function costs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request

from farm.service import FarmService


async def get_service(request: Request) -> FarmService:
    return request.app.state.service


ServiceDep = Annotated[FarmService, Depends(get_service)]


async def require_key(
    service: ServiceDep,
    x_api_key: Annotated[str | None, Header()] = None,
) -> None:
    """The ``X-Api-Key`` header must name a valid key (401 otherwise)."""
    if not service.keys.valid(x_api_key):
        detail = "missing header X-Api-Key" if not x_api_key else "invalid API key"
        raise HTTPException(status_code=401, detail=detail)


async def require_key_or_query(
    service: ServiceDep,
    x_api_key: Annotated[str | None, Header()] = None,
    key: Annotated[str | None, Query(description="API key, for EventSource and <img>")] = None,
) -> None:
    """The key in the ``X-Api-Key`` header or the ``?key=`` query parameter."""
    if not service.keys.valid(x_api_key or key):
        detail = (
            "missing API key (X-Api-Key or ?key=)" if not (x_api_key or key) else "invalid API key"
        )
        raise HTTPException(status_code=401, detail=detail)


KeyDep = Depends(require_key)
KeyOrQueryDep = Depends(require_key_or_query)
