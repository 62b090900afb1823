"""Exporters file a lot's due diligence statement in the EU Information System and follow it
until its reference and verification numbers come back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from eudr_check.api import deps, schemas
from eudr_check.api.auth import Caller, exporter
from eudr_check.api.scope import lot_for
from eudr_check.dds.client import TracesClient
from eudr_check.dds.lifecycle import refresh, withdraw
from eudr_check.dds.lots import accept_in_lot, file_lot
from eudr_check.dds.model import Activity
from eudr_check.errors import ApiError
from eudr_check.store import Registry
from eudr_check.store.dds import DdsRecord

router = APIRouter(tags=["due diligence statements"], responses={
    **schemas.ERROR_RESPONSES,
    502: {"model": schemas.ErrorOut, "description": "The EU system refused our credentials"},
    503: {"model": schemas.ErrorOut, "description": "The EU system could not be reached"},
})  # fmt: skip
Reg = Annotated[Registry, Depends(deps.registry)]
Exp = Annotated[Caller, Depends(exporter)]
Eu = Annotated[TracesClient, Depends(deps.traces)]


def dds_out(r: DdsRecord) -> schemas.DdsOut:
    return schemas.DdsOut(
        id=r.id, lot_id=r.lot_id, part=r.part, parts=r.parts, uuid=r.uuid, status=r.status,
        reference_number=r.reference_number, verification_number=r.verification_number,
        rejection_reason=r.rejection_reason, communication=r.communication, error=r.error,
        plots=len(r.plot_ids), created_at=r.created_at, submitted_at=r.submitted_at,
        checked_at=r.checked_at,
    )  # fmt: skip


def filing_options(body: schemas.DdsFiling) -> dict[str, Any]:
    values = body.model_dump(exclude_none=True)
    values["activity"] = Activity(body.activity)
    return values


@router.get("/api/lots/{lot_id}/dds", response_model=list[schemas.DdsOut])
def statements(lot_id: deps.Id, caller: Exp, registry: Reg) -> list[schemas.DdsOut]:
    lot = lot_for(registry, caller, lot_id)
    return [dds_out(r) for r in registry.dds_find(lot_id=lot.id)]


@router.post("/api/lots/{lot_id}/dds", response_model=list[schemas.DdsOut], status_code=201)
def file_statements(
    lot_id: deps.Id, body: schemas.DdsFiling, caller: Exp, registry: Reg, client: Eu,
    sources: Annotated[Any, Depends(deps.sources)],
) -> list[schemas.DdsOut]:  # fmt: skip
    """Build the lot's statements from its checked plots and file each; 422 names every plot
    that cannot be declared and the EU's own error IDs when it refuses."""
    lot = lot_for(registry, caller, lot_id)
    records = file_lot(registry, client, lot.id, sources, **filing_options(body))
    return [dds_out(r) for r in records]


@router.post("/api/lots/{lot_id}/dds/refresh", response_model=list[schemas.DdsOut])
def refresh_statements(
    lot_id: deps.Id, caller: Exp, registry: Reg, client: Eu
) -> list[schemas.DdsOut]:
    """Ask the EU system for the status and numbers of the lot's statements."""
    lot = lot_for(registry, caller, lot_id)
    records = [r for r in registry.dds_find(lot_id=lot.id) if r.uuid]
    return [dds_out(r) for r in refresh(registry, client, records)]


@router.post("/api/lots/{lot_id}/dds/{dds_id}/withdraw", response_model=schemas.DdsOut)
def withdraw_statement(
    lot_id: deps.Id, dds_id: deps.Id, caller: Exp, registry: Reg, client: Eu
) -> schemas.DdsOut:
    lot = lot_for(registry, caller, lot_id)
    record = registry.dds_get(dds_id)
    if record is None or record.lot_id != lot.id:
        raise ApiError(404, "not_found", "No se encontró la declaración.", "Statement not found.")
    return dds_out(withdraw(registry, client, record))


@router.post("/api/lots/{lot_id}/overrides", status_code=204)
def set_override(lot_id: deps.Id, body: schemas.NewOverride, caller: Exp, registry: Reg) -> None:
    """Accept one of the lot's doubtful plots for the reason given: recorded as the exporter's
    `accepted` review (reason "other", the text as its note) on the plot's current version and
    result, so it counts for the lot's conclusion and goes stale when they change. A decision
    is not withdrawn: record another review instead (POST /api/plots/{key}/reviews)."""
    lot = lot_for(registry, caller, lot_id)
    accept_in_lot(registry, lot, body.plot_id, body.reason, reviewer=caller.name,
                  role=caller.role.value)  # fmt: skip


@router.post("/api/dds/verify", response_model=schemas.DdsVerifyOut)
def verify(body: schemas.DdsVerify, caller: Exp, client: Eu) -> schemas.DdsVerifyOut:
    """Check a reference and verification number pair received from a supplier."""
    result = client.verify(body.reference_number, body.verification_number)
    return schemas.DdsVerifyOut(result=result.result, status=result.status,
                                checked_at=result.checked_at)  # fmt: skip
