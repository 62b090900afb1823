"""Plots with their latest verdict: a cooperative's own, or those shared with an exporter."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from eudr_check.api import deps, schemas, views
from eudr_check.api.auth import Caller, member
from eudr_check.api.scope import plot_for
from eudr_check.datasets.sources import DataSources
from eudr_check.errors import ApiError, EvidenceUnavailable
from eudr_check.i18n import Lang
from eudr_check.reports.evidence import evidence_map
from eudr_check.store import Registry

router = APIRouter(prefix="/api/plots", tags=["plots"], responses=schemas.ERROR_RESPONSES)
Reg = Annotated[Registry, Depends(deps.registry)]
Member = Annotated[Caller, Depends(member)]
VerdictFilter = Literal[
    "deforestation_free", "needs_review", "deforestation_detected", "undetermined", "unchecked"
]


def plot_filter(
    verdict: VerdictFilter | None = None,
    status: Literal["ok", "warning", "error"] | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=deps.MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    after: Annotated[int | None, Query(ge=0, le=deps.MAX_ID)] = None,
) -> views.PlotFilter:
    return views.PlotFilter(verdict, status, q, organisation_id, limit, offset, after)


Filter = Annotated[views.PlotFilter, Depends(plot_filter)]


@router.get("", response_model=schemas.PlotPage)
def plots(caller: Member, registry: Reg, f: Filter) -> schemas.PlotPage:
    return views.plot_page(registry, caller, f)


@router.get("/geojson", summary="The same plots as a GeoJSON FeatureCollection")
def plots_geojson(caller: Member, registry: Reg, f: Filter) -> dict[str, Any]:
    return views.plots_geojson(registry, caller, f)


@router.get("/{plot_key}", response_model=schemas.PlotDetail)
def plot(
    plot_key: deps.Id, caller: Member, registry: Reg,
    sources: Annotated[DataSources, Depends(deps.sources)],
) -> schemas.PlotDetail:  # fmt: skip
    ref = plot_for(registry, caller, plot_key)
    optional = frozenset(d.id for d in sources.catalog.enabled if d.optional)
    return views.plot_detail(registry, ref, sources.catalog.indicators, optional)


@router.get(
    "/{plot_key}/map.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The evidence map (PNG)"},
        404: {"model": schemas.ErrorOut, "description": "No such plot, or it has no geometry"},
        409: {"model": schemas.ErrorOut, "description": "Not checked yet"},
    },
)
def plot_map(
    plot_key: deps.Id,
    caller: Member,
    registry: Reg,
    sources: Annotated[DataSources, Depends(deps.sources)],
    lang: Annotated[Lang, Query()] = Lang.ES,
) -> Response:
    """The evidence map of the plot's current version: its outline over the forest loss pixels
    by year, as in the check reports."""
    ref = plot_for(registry, caller, plot_key)
    version_id = registry.current_version_of([ref.id])[ref.id]
    try:
        png = evidence_map(registry, version_id, sources, lang=lang)
    except EvidenceUnavailable as exc:
        status = 404 if exc.reason == "no_geometry" else 409
        raise ApiError(status, exc.reason, exc.text.es, exc.text.en) from exc
    # Private: the map shows one organisation's plot. Short-lived: a re-check may change it.
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})
