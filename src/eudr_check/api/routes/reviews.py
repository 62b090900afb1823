"""Risk mitigation: evidence attached to plots, reviews of doubtful plots, the review queue,
and a lot's conclusion with the plots explicitly taken out of it.

Technicians attach evidence and propose; exporters and reviewers decide. A decision counts
for the organisation that made it and for the plot's cooperative (store/reviews.py); what a
caller sees of a plot's reviews is its own organisation's and the cooperative's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from eudr_check.api import deps, review_views, schemas
from eudr_check.api import schemas_reviews as rs
from eudr_check.api.auth import Caller, exporter, member
from eudr_check.api.routes.uploads import safe_name
from eudr_check.api.scope import lot_for, plot_for, visible_organisations
from eudr_check.errors import ApiError
from eudr_check.evidence import EXTENSION, EvidenceKind, sniff
from eudr_check.reasons import Verdict
from eudr_check.reviews import Action, Imagery, LotPlotStatus, ReviewState, parse_reasons
from eudr_check.settings import Settings
from eudr_check.store import Registry, Role
from eudr_check.store.access import PlotRef

router = APIRouter(tags=["reviews"], responses=schemas.ERROR_RESPONSES)
Reg = Annotated[Registry, Depends(deps.registry)]
Member = Annotated[Caller, Depends(member)]
Exp = Annotated[Caller, Depends(exporter)]
Conf = Annotated[Settings, Depends(deps.settings)]
DECIDERS = (Role.EXPORTER, Role.REVIEWER)


def counted_orgs(caller: Caller, ref: PlotRef) -> set[int]:
    """Whose reviews of this plot the caller sees and whose decisions count for it."""
    assert caller.organisation_id is not None
    return {caller.organisation_id, ref.organisation_id}


def attach_evidence(
    registry: Registry, settings: Settings, caller: Caller, ref: PlotRef,
    name: str, data: bytes, kind: str, note: str,
) -> rs.EvidenceOut:  # fmt: skip
    """Sniff and store one evidence file for the plot (API and pages)."""
    try:
        kind_ = EvidenceKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in EvidenceKind)
        raise ApiError(422, "bad_kind", f"Tipo de evidencia desconocido {kind!r}: {known}.",
                       f"Unknown evidence kind {kind!r}: {known}.") from None  # fmt: skip
    sniffed = sniff(name, data, settings.max_evidence_mb)
    assert caller.organisation_id is not None
    info = registry.add_evidence(
        ref.id, caller.organisation_id, name, kind_, sniffed, data, by=caller.name,
        role=caller.role.value, note=note.strip(),
    )  # fmt: skip
    return review_views.evidence_out(info, settings.evidence_far_km)


def visible_evidence(
    registry: Registry, caller: Caller, ref: PlotRef, far_km: float
) -> list[rs.EvidenceOut]:
    orgs = counted_orgs(caller, ref)
    return [review_views.evidence_out(e, far_km) for e in registry.evidence_list([ref.id])
            if e.organisation_id in orgs]  # fmt: skip


def record(registry: Registry, caller: Caller, ref: PlotRef, body: rs.NewReview) -> rs.ReviewOut:
    """Record a proposal or a decision after the role check (API and pages)."""
    action = Action(body.action)
    if action is not Action.PROPOSED and caller.role not in DECIDERS:
        raise ApiError(403, "cannot_decide",
                       "Su rol solo puede proponer; deciden exportadores y revisores.",
                       "Your role can only propose; exporters and reviewers decide.")  # fmt: skip
    assert caller.organisation_id is not None
    imagery = None if body.imagery is None else Imagery(body.imagery.layer, body.imagery.date)
    event = registry.record_review(
        ref.id, action, parse_reasons(body.reasons), reviewer=caller.name,
        role=caller.role.value, organisation_id=caller.organisation_id, note=body.note,
        evidence=body.evidence, imagery=imagery,
    )  # fmt: skip
    return review_views.review_out(event)


def plot_reviews(registry: Registry, caller: Caller, ref: PlotRef, far_km: float) -> rs.PlotReviews:
    orgs = counted_orgs(caller, ref)
    state, decision = registry.review_state_of(ref.id, orgs)
    version_id = registry.current_version_of([ref.id])[ref.id]
    result = registry.results_for([version_id]).get(version_id)
    return rs.PlotReviews(
        plot_id=ref.plot_id, version_id=version_id,
        verdict=None if result is None else result.verdict.value, state=state.value,
        state_text=review_views.state_message(state),
        decision=None if decision is None else review_views.review_out(decision),
        events=[review_views.review_out(e) for e in registry.review_events([ref.id], orgs)],
        evidence=visible_evidence(registry, caller, ref, far_km),
    )  # fmt: skip


@router.get("/api/plots/{plot_key}/evidence", response_model=list[rs.EvidenceOut])
def evidence(
    plot_key: deps.Id, caller: Member, registry: Reg, settings: Conf
) -> list[rs.EvidenceOut]:
    ref = plot_for(registry, caller, plot_key)
    return visible_evidence(registry, caller, ref, settings.evidence_far_km)


@router.post("/api/plots/{plot_key}/evidence", response_model=rs.EvidenceOut, status_code=201)
def add_evidence(
    plot_key: deps.Id, caller: Member, registry: Reg, settings: Conf,
    file: Annotated[UploadFile, File(description="A JPEG/PNG photo or a PDF document")],
    kind: Annotated[str, Form(max_length=40)] = EvidenceKind.PHOTO.value,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> rs.EvidenceOut:  # fmt: skip
    """Attach a file to the plot's current version: sniffed by content (the extension must
    agree), size-limited (EUDR_CHECK_MAX_EVIDENCE_MB), stored once by its SHA-256; a photo's
    EXIF date and GPS are read and its distance from the plot measured."""
    ref = plot_for(registry, caller, plot_key)
    data = file.file.read()
    return attach_evidence(registry, settings, caller, ref, safe_name(file.filename), data,
                           kind, note)  # fmt: skip


@router.get(
    "/api/plots/{plot_key}/evidence/{evidence_id}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}},
                     "description": "The file as attached"}},
)  # fmt: skip
def evidence_file(
    plot_key: deps.Id, evidence_id: deps.Id, caller: Member, registry: Reg
) -> Response:
    ref = plot_for(registry, caller, plot_key)
    info = registry.evidence_item(evidence_id)
    if (
        info is None
        or info.plot_key != ref.id
        or info.organisation_id not in counted_orgs(caller, ref)
    ):
        raise ApiError(404, "not_found", "No se encontró la evidencia.", "Evidence not found.")
    data = registry.evidence_bytes(info.sha256)
    assert data is not None
    # Served as what the sniffer found, never rendered as anything else; a PDF is downloaded.
    disposition = "inline" if info.media_type.startswith("image/") else "attachment"
    name = f"{info.sha256[:16]}.{EXTENSION[info.media_type]}"
    return Response(data, media_type=info.media_type, headers={
        "Content-Disposition": f'{disposition}; filename="{name}"',
        "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })  # fmt: skip


@router.get("/api/plots/{plot_key}/reviews", response_model=rs.PlotReviews)
def reviews(plot_key: deps.Id, caller: Member, registry: Reg, settings: Conf) -> rs.PlotReviews:
    """The plot's review state for the caller, every proposal and decision, and its evidence."""
    ref = plot_for(registry, caller, plot_key)
    return plot_reviews(registry, caller, ref, settings.evidence_far_km)


@router.post("/api/plots/{plot_key}/reviews", response_model=rs.ReviewOut, status_code=201)
def add_review(
    plot_key: deps.Id, body: rs.NewReview, caller: Member, registry: Reg
) -> rs.ReviewOut:
    """Propose (technicians) or decide (exporters, reviewers) on the plot's current version and
    its newest result; the decision goes stale when either changes."""
    return record(registry, caller, plot_for(registry, caller, plot_key), body)


StateFilter = Literal["open", "accepted", "excluded", "outdated"]


@router.get("/api/reviews", response_model=list[rs.QueueItemOut])
def queue(
    caller: Member, registry: Reg,
    state: Annotated[list[StateFilter] | None, Query()] = None,
    verdict: Literal["needs_review", "undetermined", "deforestation_detected"] | None = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=deps.MAX_ID)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[rs.QueueItemOut]:  # fmt: skip
    """The doubtful plots the caller can see, with their review state (default: open and
    outdated, what still needs someone)."""
    owners = visible_organisations(registry, caller)
    if organisation_id is not None:
        owners = [o for o in owners if o == organisation_id]
    states = [ReviewState(s) for s in (state or ["open", "outdated"])]
    assert caller.organisation_id is not None
    items = registry.review_queue(
        owners, [caller.organisation_id], states=states,
        verdict=None if verdict is None else Verdict(verdict), search=q, limit=limit,
    )  # fmt: skip
    return [review_views.queue_out(i) for i in items]


def lot_conclusion(
    registry: Registry, lot_id: int, statuses: Sequence[LotPlotStatus] | None = None
) -> rs.ConclusionOut:
    return review_views.conclusion_out(registry.lot_conclusion(lot_id, statuses),
                                       registry.lot_exclusions(lot_id))  # fmt: skip


@router.get("/api/lots/{lot_id}/conclusion", response_model=rs.ConclusionOut)
def conclusion(lot_id: deps.Id, caller: Exp, registry: Reg) -> rs.ConclusionOut:
    """Computed, never typed: negligible when every plot is deforestation-free or accepted by a
    current review; otherwise the blocking plots and why."""
    return lot_conclusion(registry, lot_for(registry, caller, lot_id).id)


def take_out(registry: Registry, caller: Caller, lot_id: int, body: rs.TakeOut) -> rs.ConclusionOut:
    lot = lot_for(registry, caller, lot_id)
    by_plot = {s.plot_id: s.version_id for s in registry.lot_statuses(lot.id)}
    strangers = [p for p in body.plots if p not in by_plot]
    if strangers:
        shown = ", ".join(strangers[:10])
        raise ApiError(422, "not_in_lot", f"Parcelas que no están en este lote: {shown}.",
                       f"Plots not in this lot: {shown}.")  # fmt: skip
    registry.take_out_of_lot(lot.id, [by_plot[p] for p in body.plots], body.reason, caller.name)
    return lot_conclusion(registry, lot.id)


@router.post("/api/lots/{lot_id}/take-out", response_model=rs.ConclusionOut)
def take_out_route(
    lot_id: deps.Id, body: rs.TakeOut, caller: Exp, registry: Reg
) -> rs.ConclusionOut:
    """Take plots out of the lot, recorded with the reason and who did it; returns the new
    conclusion."""
    return take_out(registry, caller, lot_id, body)
