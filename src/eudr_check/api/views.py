"""Registry records turned into what the API returns and the pages show (one place for both)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely

from eudr_check.api import schemas
from eudr_check.api.auth import Caller
from eudr_check.api.checks import CheckQueue
from eudr_check.api.scope import visible_organisations
from eudr_check.datasets.catalog import IndicatorPolicy
from eudr_check.findings import Finding, Severity, finding_message
from eudr_check.i18n import Lang
from eudr_check.indicators import indicators
from eudr_check.legality import legality_findings
from eudr_check.models import DatasetStats
from eudr_check.reasons import ReasonItem, reason_message
from eudr_check.rules import ValidationReport
from eudr_check.store import LotInfo, PlotRef, Registry, UploadInfo

UNCHECKED = "unchecked"
# The map of a page draws outlines simplified to about a metre: for display only (the
# registry, the reports and the EU export keep every vertex).
DISPLAY_TOLERANCE_DEG = 1e-5
VERDICTS = ("deforestation_free", "needs_review", "deforestation_detected", "undetermined")


@dataclass(frozen=True, slots=True)
class PlotFilter:
    verdict: str | None = None  # one of VERDICTS or UNCHECKED
    status: str | None = None  # ok, warning, error
    q: str | None = None  # part of the plot id or producer name
    organisation_id: int | None = None
    limit: int = 100
    offset: int = 0
    after: int | None = None  # keyset: plots after this key (stable while plots are added)


def finding_out(f: Finding | dict[str, Any]) -> schemas.FindingOut:
    finding = Finding.from_dict(f) if isinstance(f, dict) else f
    return schemas.FindingOut(
        code=finding.code.value,
        severity=finding.severity.value,
        plot_id=finding.plot_id,
        source_index=finding.source_index,
        related_plot_id=finding.related_plot_id,
        message=schemas.Message(
            es=finding_message(finding, "es"), en=finding_message(finding, "en")
        ),
    )


def validation_summary(report: ValidationReport) -> schemas.ValidationSummary:
    status = Counter(str(s) for s in report.plots["status"]) if len(report.plots) else Counter()
    repaired = {f.plot_id for f in report.findings if f.severity is Severity.REPAIRED}
    return schemas.ValidationSummary(
        plots=len(report.plots),
        ok=status.get("ok", 0),
        warning=status.get("warning", 0),
        error=status.get("error", 0),
        repaired=len(repaired),
        findings=[finding_out(f) for f in report.findings],
    )


def upload_key(upload_id: int) -> str:
    return f"upload-{upload_id}"


def check_state(info: UploadInfo, queue: CheckQueue) -> schemas.CheckState:
    total = len(info.version_ids)
    key = upload_key(info.id)
    error = queue.error(key)
    if info.checked >= total:
        state = "done"
    elif error and not queue.busy(key):
        state = "failed"
    else:
        state = "pending"
    found = queue.preflight(key)
    if found is None:
        return schemas.CheckState(state=state, checked=info.checked, total=total, error=error)
    es, en = (found.lines(queue.sources, lang) for lang in (Lang.ES, Lang.EN))
    return schemas.CheckState(
        state=state, checked=info.checked, total=total, error=error,
        missing_tiles=[
            schemas.MissingTileOut(dataset_id=m.dataset_id, version=m.version, tile=m.tile,
                                   layers=list(m.layers), plots=m.plots, optional=m.optional)
            for m in found.missing
        ],
        outside={d: len(ids) for d, ids in found.outside.items()},
        data_notes=[schemas.Message(es=a, en=b) for a, b in zip(es, en, strict=True)],
    )  # fmt: skip


def upload_out(info: UploadInfo, queue: CheckQueue) -> schemas.UploadOut:
    return schemas.UploadOut(
        id=info.id, file_name=info.file_name, sha256=info.sha256, fixed=info.fixed,
        rows=info.rows, new_plots=info.new_plots, new_versions=info.new_versions,
        unchanged=info.unchanged, duplicates=info.duplicates, created_at=info.created_at,
        check=check_state(info, queue),
    )  # fmt: skip


def upload_detail(
    registry: Registry, info: UploadInfo, queue: CheckQueue, report: ValidationReport | None
) -> schemas.UploadDetail:
    """With the validation report: the fresh one after an upload, else the stored findings."""
    if report is None:
        report = registry.report_for(info.version_ids) if info.version_ids else None
    summary = (
        validation_summary(report)
        if report is not None
        else schemas.ValidationSummary(
            plots=0,
            ok=0,
            warning=0,
            error=0,
            repaired=0,
            findings=[finding_out(f) for f in info.findings],
        )
    )
    return schemas.UploadDetail(**upload_out(info, queue).model_dump(), validation=summary)


def _reasons(items: Iterable[dict[str, Any]] | None) -> list[schemas.ReasonOut]:
    out = []
    for d in items or []:
        r = ReasonItem.from_dict(d)
        out.append(
            schemas.ReasonOut(
                code=r.code.value,
                dataset_id=r.dataset_id,
                message=schemas.Message(es=reason_message(r, "es"), en=reason_message(r, "en")),
            )
        )
    return out


def _plot_out(row: dict[str, Any], org_id: int, org_name: str) -> schemas.PlotOut:
    return schemas.PlotOut(
        id=row["plot_key"], plot_id=row["plot_id"], organisation_id=org_id,
        organisation_name=org_name, version=row["version"], version_id=row["version_id"],
        status=row["status"], producer_name=row["producer_name"], verdict=row["verdict"],
        reasons=_reasons(row["reasons"]),
        area_ha=row["area_ha"], checked_at=row["checked_at"], run_id=row["run_id"],
    )  # fmt: skip


def plot_page(registry: Registry, caller: Caller, f: PlotFilter) -> schemas.PlotPage:
    """The caller's plots (its own, or those shared with it), filtered and paged in SQL."""
    orgs = visible_organisations(registry, caller)
    if f.organisation_id is not None:
        orgs = [o for o in orgs if o == f.organisation_id]
    found = registry.plot_listing(orgs, status=f.status, verdict=f.verdict, q=f.q,
                                  after=f.after, offset=f.offset, limit=f.limit)  # fmt: skip
    names = _names(registry, {r["organisation_id"] for r in found.items})
    items = [_plot_out(r, r["organisation_id"], names[r["organisation_id"]]) for r in found.items]
    after = items[-1].id if len(items) == f.limit else None
    return schemas.PlotPage(total=found.total, counts=found.counts, items=items, next_after=after)


def _names(registry: Registry, org_ids: set[int]) -> dict[int, str]:
    return {o.id: o.name for o in registry.organisations() if o.id in org_ids}


def plot_detail(
    registry: Registry, ref: PlotRef, policy: IndicatorPolicy | None = None,
    optional: frozenset[str] = frozenset(),
) -> schemas.PlotDetail:  # fmt: skip
    org = registry.organisation(ref.organisation_id)
    latest = registry.plot_row(ref.id)
    assert latest is not None  # the ref came from the registry
    base = _plot_out(latest, ref.organisation_id, org.name if org else "")
    versions = []
    for v in registry.history(ref.organisation_id, ref.plot_id):
        geom = None if v["geometry_wkt"] is None else shapely.from_wkt(v["geometry_wkt"])
        versions.append(
            schemas.VersionOut(
                version=v["version"], version_id=v["version_id"], created_at=v["created_at"],
                upload_id=v["upload_id"], file_name=v["file_name"], status=v["status"],
                area_ha=v["area_ha"], declared_area_ha=v["declared_area_ha"],
                producer_name=v["producer_name"], production_place=v["production_place"],
                producer_country=v["producer_country"], commodity=v["commodity"],
                geometry=None if geom is None else shapely.geometry.mapping(geom),
                original_wkt=v["original_wkt"],
                findings=[finding_out(f) for f in v["findings"]],
                results=[
                    {**r, "reasons": [x.model_dump() for x in _reasons(r["reasons"])]}
                    for r in v["results"]
                ],
            )
        )  # fmt: skip
    # The current version's newest result: Whisp's indicators and the legality findings.
    current = next((v for v in versions if v.version_id == base.version_id), None)
    newest = current.results[-1] if current is not None and current.results else None
    ind, legal = None, []
    if newest is not None and newest.get("stats"):
        stats = [DatasetStats.from_dict(d) for d in newest["stats"]]
        point = bool(newest.get("buffered_point"))
        ind = indicators(stats, policy or IndicatorPolicy(), point, optional)
        legal = legality_findings(stats, ref.plot_id, current.file_name if current else "", None)
    return schemas.PlotDetail(
        **base.model_dump(), versions=versions,
        indicators=None if ind is None else ind.as_row(),
        legality=[finding_out(f) for f in legal],
    )  # fmt: skip


def plots_geojson(registry: Registry, caller: Caller, f: PlotFilter) -> dict[str, Any]:
    """The plots of a page as a FeatureCollection, for the map."""
    page = plot_page(registry, caller, f)
    if not page.items:
        return {"type": "FeatureCollection", "features": []}
    report = registry.report_for([p.version_id for p in page.items])
    geoms = dict(zip(report.plots["version_id"].astype(int), report.plots.geometry, strict=True))
    features = []
    for p in page.items:
        g = geoms.get(p.version_id)
        features.append(
            {
                "type": "Feature",
                "geometry": None
                if g is None or g.is_empty
                else shapely.geometry.mapping(
                    shapely.simplify(g, DISPLAY_TOLERANCE_DEG, preserve_topology=True)
                ),
                "properties": {
                    "id": p.id,
                    "plot_id": p.plot_id,
                    "verdict": p.verdict,
                    "status": p.status,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def lot_out(registry: Registry, lot: LotInfo) -> schemas.LotDetail:
    results = registry.results_for(lot.version_ids)
    report = registry.report_for(lot.version_ids)
    owners = registry.version_owners(lot.version_ids)
    names = {o.id: o.name for o in registry.organisations()}
    items = [
        schemas.LotPlot(
            plot_id=str(pid),
            version_id=int(vid),
            organisation_name=names.get(owners.get(int(vid), -1), ""),
            verdict=results[int(vid)].verdict.value if int(vid) in results else None,
        )
        for pid, vid in zip(report.plots["plot_id"], report.plots["version_id"], strict=True)
    ]
    verdicts = Counter(i.verdict or UNCHECKED for i in items)
    return schemas.LotDetail(
        id=lot.id, reference=lot.reference, commodity=lot.commodity, hs_code=lot.hs_code,
        net_mass_kg=lot.net_mass_kg, created_at=lot.created_at, plots=len(lot.version_ids),
        verdicts=dict(sorted(verdicts.items())), items=items,
    )  # fmt: skip
