"""The farm as a whole: health, version (OctoPrint-compatible), overview and plan."""

from __future__ import annotations

from fastapi import APIRouter

from api import __version__
from api.deps import KeyDep, ServiceDep
from api.schemas import FarmPublic, PlanPublic, VersionPublic

router = APIRouter(tags=["farm"])


@router.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@router.get("/api/version", response_model=VersionPublic)
async def version() -> dict:
    return {"api": "0.1", "server": "1.10.0", "text": f"OctoPrint (slicefarm {__version__})"}


@router.get("/api/farm", response_model=FarmPublic, dependencies=[KeyDep])
def farm(service: ServiceDep) -> dict:
    return service.farm()


@router.get("/api/plan", response_model=PlanPublic, dependencies=[KeyDep])
def plan(service: ServiceDep) -> dict:
    return service.plan()
