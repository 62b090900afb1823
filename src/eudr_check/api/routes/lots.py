"""Exporters make lots from shared plots and download their compliance bundles."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from eudr_check.api import deps, schemas, views
from eudr_check.api.auth import Caller, exporter
from eudr_check.api.checks import CheckQueue
from eudr_check.api.scope import lot_for, visible_organisations
from eudr_check.datasets.sources import DataSources
from eudr_check.errors import ApiError, BundleError
from eudr_check.i18n import Lang
from eudr_check.reports.bundle import write_bundle
from eudr_check.settings import Settings
from eudr_check.store import LotInfo, Registry

router = APIRouter(prefix="/api/lots", tags=["lots"], responses=schemas.ERROR_RESPONSES)
Reg = Annotated[Registry, Depends(deps.registry)]
Exp = Annotated[Caller, Depends(exporter)]
# EUDR Annex I: the HS headings of coffee and cocoa products.
HS_PREFIXES = {
    "coffee": ("0901", "210111", "210112"),
    "cocoa": ("1801", "1802", "1803", "1804", "1805", "1806"),
}


def create_lot_for(registry: Registry, caller: Caller, body: schemas.NewLot) -> LotInfo:
    """The lot, from plots the exporter can see (their current versions)."""
    if not body.hs_code.startswith(HS_PREFIXES[body.commodity]):
        allowed = ", ".join(HS_PREFIXES[body.commodity])
        raise ApiError(422, "hs_code",
                       f"El código SH {body.hs_code} no corresponde a {body.commodity}: "
                       f"debe empezar por {allowed}.",
                       f"HS code {body.hs_code} is not a {body.commodity} code: it must start "
                       f"with {allowed}.")  # fmt: skip
    refs = registry.plot_refs(body.plots)
    allowed_orgs = set(visible_organisations(registry, caller))
    unknown = sorted(
        k for k in set(body.plots) if k not in refs or refs[k].organisation_id not in allowed_orgs
    )
    if unknown:
        shown = ", ".join(map(str, unknown[:10]))
        raise ApiError(422, "unknown_plots",
                       f"Parcelas desconocidas o no compartidas con usted: {shown}.",
                       f"Plots unknown or not shared with you: {shown}.")  # fmt: skip
    versions = registry.current_version_of(body.plots)
    assert caller.organisation_id is not None
    if any(lot.reference == body.reference for lot in registry.lots(caller.organisation_id)):
        raise ApiError(409, "duplicate_reference",
                       f"Ya existe un lote con la referencia {body.reference!r}.",
                       f"A lot with reference {body.reference!r} already exists.")  # fmt: skip
    lot_id = registry.create_lot(
        caller.organisation_id, body.reference, body.commodity, body.hs_code,
        body.net_mass_kg, list(versions.values()),
    )  # fmt: skip
    lot = registry.lot(lot_id)
    assert lot is not None
    return lot


@router.post("", response_model=schemas.LotDetail, status_code=201)
def create_lot(body: schemas.NewLot, caller: Exp, registry: Reg) -> schemas.LotDetail:
    return views.lot_out(registry, create_lot_for(registry, caller, body))


@router.get("", response_model=list[schemas.LotOut])
def lots(caller: Exp, registry: Reg) -> list[schemas.LotOut]:
    assert caller.organisation_id is not None
    out = []
    for lot in registry.lots(caller.organisation_id):
        detail = views.lot_out(registry, lot)
        out.append(schemas.LotOut(**detail.model_dump(exclude={"items"})))
    return out


@router.get("/{lot_id}", response_model=schemas.LotDetail)
def lot(lot_id: deps.Id, caller: Exp, registry: Reg) -> schemas.LotDetail:
    return views.lot_out(registry, lot_for(registry, caller, lot_id))


def bundle_bytes(
    registry: Registry, queue: CheckQueue, sources: DataSources, settings: Settings,
    lot: LotInfo, lang: Lang, with_evidence: bool = False,
) -> tuple[str, bytes]:  # fmt: skip
    """The lot's bundle (name, bytes). Plots without a current verdict are queued for a
    check and the request is refused until it is done: stale evidence is never bundled."""
    try:
        with tempfile.TemporaryDirectory(prefix="eudr-bundle-") as tmp:
            path = write_bundle(registry, lot.id, sources, Path(tmp), lang=lang, settings=settings,
                                with_evidence=with_evidence)  # fmt: skip
            return path.name, path.read_bytes()
    except BundleError as exc:
        key = f"lot-{lot.id}"
        if not queue.busy(key):
            queue.submit(key, lot.version_ids, lot.organisation_id)
        raise ApiError(
            409, "not_ready",
            f"{exc.text.es} Se está verificando; inténtelo de nuevo en un minuto.",
            f"{exc.text.en} A check is running; try again in a minute.",
            headers={"Retry-After": "30"},
        ) from exc  # fmt: skip


@router.get(
    "/{lot_id}/bundle",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The bundle (zip)"}},
)
def bundle(
    lot_id: deps.Id,
    caller: Exp,
    registry: Reg,
    queue: Annotated[CheckQueue, Depends(deps.queue)],
    sources: Annotated[DataSources, Depends(deps.sources)],
    settings: Annotated[Settings, Depends(deps.settings)],
    lang: Annotated[Lang, Query()] = Lang.ES,
    evidence: Annotated[bool, Query(description="Include the evidence files themselves")] = False,
) -> Response:
    info = lot_for(registry, caller, lot_id)
    name, data = bundle_bytes(registry, queue, sources, settings, info, lang, evidence)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
