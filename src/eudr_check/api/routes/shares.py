"""A cooperative shares its plots with exporters (who can then put them in lots)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from eudr_check.api import deps, schemas
from eudr_check.api.auth import Caller, member, technician
from eudr_check.api.errors import not_found
from eudr_check.store import OrgKind, Registry

router = APIRouter(prefix="/api", tags=["shares"], responses=schemas.ERROR_RESPONSES)
Reg = Annotated[Registry, Depends(deps.registry)]
Tech = Annotated[Caller, Depends(technician)]


def _orgs(items: list[object]) -> list[schemas.Organisation]:
    return [schemas.Organisation.model_validate(o, from_attributes=True) for o in items]


@router.get("/exporters", response_model=list[schemas.Organisation])
def exporters(_: Tech, registry: Reg) -> list[schemas.Organisation]:
    """Exporters a cooperative can share its plots with."""
    return _orgs(list(registry.organisations(OrgKind.EXPORTER)))


@router.get("/shares", response_model=list[schemas.Organisation])
def shares(caller: Annotated[Caller, Depends(member)], registry: Reg) -> list[schemas.Organisation]:
    """Technician: the exporters the cooperative shares with. Exporter: the cooperatives
    sharing with it."""
    assert caller.organisation_id is not None
    return _orgs(list(registry.partners(caller.organisation_id)))


@router.put("/shares/{exporter_id}", status_code=204)
def share(exporter_id: deps.Id, caller: Tech, registry: Reg) -> Response:
    org = registry.organisation(exporter_id)
    if org is None or org.kind is not OrgKind.EXPORTER:
        raise not_found("Exporter", "el exportador")
    assert caller.organisation_id is not None
    registry.share(caller.organisation_id, exporter_id)
    return Response(status_code=204)


@router.delete("/shares/{exporter_id}", status_code=204)
def unshare(exporter_id: deps.Id, caller: Tech, registry: Reg) -> Response:
    assert caller.organisation_id is not None
    if not registry.unshare(caller.organisation_id, exporter_id):
        raise not_found("Share", "el permiso compartido")
    return Response(status_code=204)
