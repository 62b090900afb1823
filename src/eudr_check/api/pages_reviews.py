"""Review pages: evidence and the review form on the plot page, the review queue, and the
lot's conclusion with its take-out form. They call the same helpers as the JSON API
(routes/reviews.py), so roles, scope and refusals are the API's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from pydantic import ValidationError

from eudr_check.api import deps, i18n, review_views
from eudr_check.api import schemas_reviews as rs
from eudr_check.api.errors import as_api_error
from eudr_check.api.pages_base import PageRoute, need, redirect, render, signed_in
from eudr_check.api.pages_plots import plot_page
from eudr_check.api.routes import reviews
from eudr_check.api.routes.uploads import safe_name
from eudr_check.api.scope import plot_for, visible_organisations
from eudr_check.errors import EudrCheckError
from eudr_check.evidence import EvidenceKind
from eudr_check.reasons import Verdict
from eudr_check.reviews import STATE_TEXT, ReviewState
from eudr_check.store import Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MEMBERS = (Role.TECHNICIAN, Role.EXPORTER, Role.REVIEWER)
QUEUE_STATES = ("open", "outdated", "accepted", "excluded")
QUEUE_VERDICTS = ("needs_review", "undetermined", "deforestation_detected")


def _plot_page(request: Request, plot_key: int, status: int, errors: list[str]) -> Response:
    return plot_page(request, plot_key, status=status, review_errors=errors)


def _refused(request: Request, plot_key: int, exc: Exception) -> Response:
    err = as_api_error(exc)
    lang = i18n.lang_of(request)
    return _plot_page(request, plot_key, err.status, [i18n.pick(lang, err.text.es, err.text.en)])


@router.post("/plots/{plot_key}/evidence")
def evidence_form(
    request: Request, plot_key: deps.Id,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=40)] = EvidenceKind.PHOTO.value,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    caller = need(signed_in(request), *MEMBERS)
    registry = deps.registry(request)
    ref = plot_for(registry, caller, plot_key)
    try:
        reviews.attach_evidence(registry, deps.settings(request), caller, ref,
                                safe_name(file.filename), file.file.read(), kind, note)  # fmt: skip
    except EudrCheckError as exc:
        return _refused(request, plot_key, exc)
    return redirect(f"/plots/{plot_key}?done=evidence#evidence")


@router.post("/plots/{plot_key}/reviews")
def review_form(
    request: Request, plot_key: deps.Id,
    action: Annotated[str, Form(max_length=20)] = "proposed",
    reasons: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form(max_length=4000)] = "",
    evidence: Annotated[list[str] | None, Form()] = None,
    imagery_used: Annotated[str, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    caller = need(signed_in(request), *MEMBERS)
    registry = deps.registry(request)
    settings = deps.settings(request)
    ref = plot_for(registry, caller, plot_key)
    imagery = None
    if imagery_used and settings.imagery_url:
        imagery = rs.ImageryIn(layer=settings.imagery_name, date=settings.imagery_date)
    try:
        body = rs.NewReview(action=action, reasons=reasons or [], note=note,
                            evidence=evidence or [], imagery=imagery)  # fmt: skip
    except ValidationError:
        lang = i18n.lang_of(request)
        return _plot_page(request, plot_key, 422, [i18n.pick(
            lang, "Elija la decisión y al menos un motivo.",
            "Choose the decision and at least one reason.")])  # fmt: skip
    try:
        reviews.record(registry, caller, ref, body)
    except EudrCheckError as exc:
        return _refused(request, plot_key, exc)
    return redirect(f"/plots/{plot_key}?done=review#review")


@router.get("/reviews")
def queue_page(
    request: Request,
    state: str | None = None,
    verdict: str | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    caller = need(signed_in(request), *MEMBERS)
    registry = deps.registry(request)
    lang = i18n.lang_of(request)
    states = [ReviewState(state)] if state in QUEUE_STATES else None
    chosen = verdict if verdict in QUEUE_VERDICTS else None
    search = (q or "").strip()[:100] or None
    owners = visible_organisations(registry, caller)
    assert caller.organisation_id is not None
    items = registry.review_queue(
        owners, [caller.organisation_id],
        states=states or [ReviewState.OPEN, ReviewState.OUTDATED],
        verdict=None if chosen is None else Verdict(chosen), search=search,
        limit=500,
    )  # fmt: skip
    names = {o.id: o.name for o in registry.organisations()}
    return render(
        request, "reviews.html",
        items=[review_views.queue_out(i) for i in items], names=names,
        state=state if states else "", verdict=chosen or "", q=search or "",
        states=[(s, STATE_TEXT[ReviewState(s)](lang)) for s in QUEUE_STATES],
        state_labels={s.value: t(lang) for s, t in STATE_TEXT.items()},
        verdicts=QUEUE_VERDICTS,
    )  # fmt: skip


@router.post("/lots/{lot_id}/take-out")
def take_out_form(
    request: Request, lot_id: deps.Id,
    plots: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    from eudr_check.api.pages_lots import lot_page

    caller = need(signed_in(request), Role.EXPORTER)
    registry = deps.registry(request)
    lang = i18n.lang_of(request)
    try:
        body = rs.TakeOut(plots=plots or [], reason=reason)
    except ValidationError:
        return lot_page(request, lot_id, status=422, dds_errors=[i18n.pick(
            lang, "Marque las parcelas y escriba el motivo.",
            "Mark the plots and write the reason.")])  # fmt: skip
    try:
        reviews.take_out(registry, caller, lot_id, body)
    except EudrCheckError as exc:
        err = as_api_error(exc)
        return lot_page(request, lot_id, status=err.status,
                        dds_errors=[i18n.pick(lang, err.text.es, err.text.en)])  # fmt: skip
    return redirect(f"/lots/{lot_id}#conclusion")
