"""What a caller may see: technicians their cooperative's things, exporters what cooperatives
shared with them and their own lots, reviewers the plots of their organisation's kind (a
cooperative's own, an exporter's shared), admins no plots at all. Anything else is 404, the same
answer as for something that does not exist, so ids reveal nothing."""

from __future__ import annotations

from eudr_check.api.auth import Caller
from eudr_check.api.errors import not_found
from eudr_check.store import LotInfo, OrgKind, PlotRef, Registry, Role, UploadInfo


def visible_organisations(registry: Registry, caller: Caller) -> list[int]:
    if caller.organisation_id is None:
        return []
    if caller.role is Role.TECHNICIAN:
        return [caller.organisation_id]
    if caller.role is Role.EXPORTER:
        return [o.id for o in registry.partners(caller.organisation_id)]
    if caller.role is Role.REVIEWER:  # a cooperative's reviewer: its own; an exporter's: shared
        if caller.organisation_kind is OrgKind.EXPORTER:
            return [o.id for o in registry.partners(caller.organisation_id)]
        return [caller.organisation_id]
    return []


def plot_for(registry: Registry, caller: Caller, plot_key: int) -> PlotRef:
    ref = registry.plot_ref(plot_key)
    if ref is None or ref.organisation_id not in visible_organisations(registry, caller):
        raise not_found("Plot", "la parcela")
    return ref


def upload_for(registry: Registry, caller: Caller, upload_id: int) -> UploadInfo:
    info = registry.upload(upload_id)
    if not _own(info, caller, Role.TECHNICIAN):
        raise not_found("Upload", "la carga")
    assert info is not None
    return info


def lot_for(registry: Registry, caller: Caller, lot_id: int) -> LotInfo:
    info = registry.lot(lot_id)
    if not _own(info, caller, Role.EXPORTER):
        raise not_found("Lot", "el lote")
    assert info is not None
    return info


def _own(info: UploadInfo | LotInfo | None, caller: Caller, role: Role) -> bool:
    """Uploads and lots are seen only by their own organisation, in the role that makes them."""
    if info is None or caller.role is not role:
        return False
    return info.organisation_id == caller.organisation_id
