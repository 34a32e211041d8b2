"""``create_app``: the FastAPI application over one :class:`farm.service.FarmService`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import __version__, dashboard, errors
from api.limits import BodyLimitMiddleware
from api.routers import events, farm, jobs, metrics, octoprint, printers
from farm.service import FarmService

ROUTERS = (farm.router, jobs.router, printers.router, events.router, metrics.router)


def create_app(service: FarmService) -> FastAPI:
    """The app; its lifespan starts the service (printers, dispatcher) and stops it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(title="slicefarm", version=__version__, lifespan=lifespan)
    app.state.service = service
    app.state.metrics_registry = metrics.registry_for(service)
    for router in (*ROUTERS, octoprint.router, dashboard.router):
        app.include_router(router)
    errors.install(app)
    app.add_middleware(BodyLimitMiddleware, limit_bytes=service.config.upload_limit_bytes)
    return app
