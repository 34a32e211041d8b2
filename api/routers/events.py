"""Server-sent events: printer, job and plan changes as they happen."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.deps import KeyOrQueryDep, ServiceDep
from farm.events import EventType, Subscription

router = APIRouter(tags=["events"])
PING_S = 15.0


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(request: Request, sub: Subscription, hello: list[str]) -> AsyncIterator[str]:
    ping_s = getattr(request.app.state, "sse_ping_s", PING_S)
    try:
        for item in hello:
            yield item
        while not await request.is_disconnected():
            event = await sub.get(ping_s)
            yield ": ping\n\n" if event is None else sse(event.type.value, event.data)
    finally:
        sub.close()


@router.get("/api/events", dependencies=[KeyOrQueryDep])
async def events(request: Request, service: ServiceDep) -> StreamingResponse:
    sub = service.bus.subscribe()
    hello = [sse(EventType.PRINTER.value, p.to_dict()) for p in service.printers.values()]
    return StreamingResponse(
        _stream(request, sub, hello),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
