"""Technicians' and exporters' plot pages: upload, results table and map, plot detail, sharing."""

from __future__ import annotations

from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import JSONResponse
from shapely.errors import GEOSException

from eudr_check.api import deps, i18n, views
from eudr_check.api.checks import CheckQueue
from eudr_check.api.pages_base import PageRoute, need, redirect, render, signed_in
from eudr_check.api.review_context import review_context
from eudr_check.api.routes import shares
from eudr_check.api.scope import plot_for, upload_for
from eudr_check.intake.countries import countries
from eudr_check.store import OrgKind, Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
STATUSES = ("ok", "warning", "error")
VERDICT_CHOICES = (*views.VERDICTS, views.UNCHECKED)
# Strings upload.js needs (it renders the fresh validation report itself).
UPLOAD_JS_KEYS = (
    "upload.sending", "upload.validating", "upload.failed", "upload.network", "report.title",
    "report.summary", "report.ok", "report.warning", "report.error", "report.repaired",
    "report.findings", "report.no_findings", "report.plot", "report.row", "report.severity",
    "report.problem", "severity.error", "severity.warning", "severity.repaired",
    "check.pending", "check.done", "check.failed", "check.results",
)  # fmt: skip


def _queue(request: Request) -> CheckQueue:
    return deps.queue(request)


@router.get("/upload")
def upload_page(request: Request) -> Response:
    caller = need(signed_in(request), Role.TECHNICIAN)
    registry = deps.registry(request)
    assert caller.organisation_id is not None
    queue = _queue(request)
    recent = [views.upload_out(u, queue) for u in registry.uploads(caller.organisation_id, 20)]
    lang = i18n.lang_of(request)
    strings = {k: i18n.text(lang, k) for k in UPLOAD_JS_KEYS}
    max_mb = deps.settings(request).max_upload_mb
    return render(request, "upload.html", recent=recent, max_mb=f"{max_mb:g}",
                  js={"lang": lang, "text": strings})  # fmt: skip


@router.get("/uploads/{upload_id}")
def upload_report(request: Request, upload_id: deps.Id) -> Response:
    caller = need(signed_in(request), Role.TECHNICIAN)
    registry = deps.registry(request)
    info = upload_for(registry, caller, upload_id)
    detail = views.upload_detail(registry, info, _queue(request), None)
    lang = i18n.lang_of(request)
    strings = {k: i18n.text(lang, k) for k in UPLOAD_JS_KEYS}
    return render(request, "upload_report.html", detail=detail,
                  js={"lang": lang, "text": strings, "upload": detail.id,
                      "state": detail.check.state})  # fmt: skip


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    # An empty or unknown filter from the form means "any".
    return value if value in allowed else None


@router.get("/plots")
def plots_page(
    request: Request,
    verdict: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    org: Annotated[str | None, Query(max_length=12)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    caller = need(signed_in(request), Role.TECHNICIAN, Role.EXPORTER, Role.REVIEWER)
    registry = deps.registry(request)
    assert caller.organisation_id is not None
    partners = []
    if caller.role is Role.EXPORTER:
        partners = registry.partners(caller.organisation_id)
    org_id = int(org) if org and org.isdigit() and int(org) <= deps.MAX_ID else None
    f = views.PlotFilter(
        verdict=_choice(verdict, VERDICT_CHOICES),
        status=_choice(status, STATUSES),
        q=(q or "").strip() or None,
        organisation_id=org_id,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    result = views.plot_page(registry, caller, f)
    filters = {"verdict": f.verdict, "status": f.status, "q": f.q, "organisation_id": org_id}
    # The map shows exactly the rows of this page: same filters, limit and offset.
    map_query = {**filters, "limit": f.limit, "offset": f.offset}
    return render(
        request,
        "plots.html",
        result=result,
        filters=filters,
        page=page,
        pages=max(1, -(-result.total // PAGE_SIZE)),
        first=f.offset + 1,
        last=f.offset + len(result.items),
        all_count=sum(result.counts.values()),
        verdicts=VERDICT_CHOICES,
        statuses=STATUSES,
        partners=partners,
        map_query=map_query,
    )


def _geojson(wkt: str | None) -> dict[str, Any] | None:
    if not wkt:
        return None
    try:
        geom = shapely.from_wkt(wkt)
    except GEOSException:  # an original as uploaded may be beyond repair: just not drawn
        return None
    return None if geom.is_empty else dict(shapely.geometry.mapping(geom))


@router.get("/plots/{plot_key}")
def plot_page_route(request: Request, plot_key: deps.Id, done: str | None = None) -> Response:
    return plot_page(request, plot_key, done=done)


def plot_page(
    request: Request, plot_key: int, status: int = 200, review_errors: list[str] | None = None,
    done: str | None = None,
) -> Response:  # fmt: skip
    """The plot page; the evidence and review forms come back to it with their refusal."""
    caller = need(signed_in(request), Role.TECHNICIAN, Role.EXPORTER, Role.REVIEWER)
    registry = deps.registry(request)
    ref = plot_for(registry, caller, plot_key)
    catalog = deps.sources(request).catalog
    optional = frozenset(d.id for d in catalog.enabled if d.optional)
    detail = views.plot_detail(registry, ref, catalog.indicators, optional)
    current = next(v for v in detail.versions if v.version_id == detail.version_id)
    features = [
        {"type": "Feature", "geometry": geom, "properties": {"kind": kind}}
        for kind, geom in (("original", _geojson(current.original_wkt)),
                           ("current", current.geometry))
        if geom is not None
    ]  # fmt: skip
    return render(
        request,
        "plot.html",
        plot=detail,
        current=current,
        history=list(reversed(detail.versions)),
        has_map=detail.verdict is not None and current.geometry is not None,
        shape={"type": "FeatureCollection", "features": features, "verdict": detail.verdict},
        status=status,
        review_errors=review_errors or [],
        done=done if done in ("evidence", "review") else None,
        **review_context(request, caller, ref),
    )


@router.get("/shares")
def shares_page(request: Request, done: str | None = None, org: int | None = None) -> Response:
    caller = need(signed_in(request), Role.TECHNICIAN, Role.EXPORTER)
    registry = deps.registry(request)
    assert caller.organisation_id is not None
    partners = registry.partners(caller.organisation_id)
    exporters = []
    if caller.role is Role.TECHNICIAN:
        exporters = registry.organisations(OrgKind.EXPORTER)
    notice = None
    # Only an organisation this page lists anyway is named: the query is the caller's to edit.
    known = {o.id: o.name for o in (*partners, *exporters)}
    if done in ("share", "unshare") and org is not None and org in known:
        notice = i18n.text(i18n.lang_of(request), f"shares.done_{done}", name=known[org])
    return render(request, "shares.html", exporters=exporters,
                  shared={o.id for o in partners}, partners=partners, notice=notice)  # fmt: skip


@router.post("/shares/{exporter_id}")
def change_share(
    request: Request, exporter_id: deps.Id, action: Annotated[str, Form(max_length=10)]
) -> Response:
    caller = need(signed_in(request), Role.TECHNICIAN)
    registry = deps.registry(request)
    # The API's own handlers: same checks (an exporter that exists), same errors.
    if action == "unshare":
        shares.unshare(exporter_id, caller, registry)
    else:
        shares.share(exporter_id, caller, registry)
        action = "share"
    return redirect(f"/shares?done={action}&org={exporter_id}")


@router.get("/basemap.geojson")
def basemap(request: Request, bbox: Annotated[str, Query(max_length=100)]) -> Response:
    """Country outlines around a map's plots, from the Natural Earth boundaries the package
    ships: the maps' only background, since they load no tiles from anywhere."""
    signed_in(request)
    try:
        west, south, east, north = (float(v) for v in bbox.split(","))
    except ValueError:
        west, south, east, north = (0.0, 0.0, 0.0, 0.0)
    view = shapely.box(max(west, -180), max(south, -90), min(east, 180), min(north, 90))
    shapes = countries()
    features = [
        {
            "type": "Feature",
            "properties": {"iso2": shapes.codes[i]},
            # About 1 km: plenty at the zooms where a country outline is visible at all.
            "geometry": shapely.geometry.mapping(shapes.geoms[i].simplify(0.01)),
        }
        for i in sorted(int(j) for j in shapes.tree.query(view, predicate="intersects"))
    ]
    return JSONResponse(
        {"type": "FeatureCollection", "features": features},
        headers={"Cache-Control": "private, max-age=86400"},
    )
