"""Printers: live state, and the actions operators take on them."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import KeyDep, ServiceDep
from api.schemas import ActionCreate, PrinterList, PrinterPublic

router = APIRouter(prefix="/api/printers", tags=["printers"], dependencies=[KeyDep])


@router.get("", response_model=PrinterList)
async def list_printers(service: ServiceDep) -> JSONResponse:
    # The hottest route: the dicts are built by FarmPrinter.to_dict to the PrinterList shape,
    # so they go out without a second validation.
    return JSONResponse({"printers": [p.to_dict() for p in service.printers.values()]})


@router.get("/{printer_id}", response_model=PrinterPublic)
async def get_printer(service: ServiceDep, printer_id: str) -> dict:
    return service.printer(printer_id).to_dict()


@router.post("/{printer_id}/actions", response_model=PrinterPublic)
async def printer_action(service: ServiceDep, printer_id: str, body: ActionCreate) -> dict:
    return await service.action(printer_id, body.action.value, body.material, body.color)
