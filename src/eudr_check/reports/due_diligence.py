"""The due-diligence GeoJSON: every plot with its verdict, reasons, findings and statistics.

It stands alone: a top-level "run" member names the run, the tool, the cut-off date and the
datasets, so the file can be filed as evidence without its manifest. `plot_records` pairs each
plot row with its result and findings for the other report writers too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from eudr_check.fileio import write_text
from eudr_check.findings import Finding, finding_message
from eudr_check.models import PlotResult
from eudr_check.reasons import reason_record, verdict_name
from eudr_check.reports.geojson import collection_text, feature_text
from eudr_check.run import CheckRun


@dataclass(frozen=True, slots=True)
class PlotRecord:
    """One plot row of the run with its result and its own validation findings."""

    index: int  # row number in run.validation.plots
    plot_id: str
    producer_name: str | None
    producer_country: str | None
    production_place: str | None
    declared_area_ha: float | None
    commodity: str | None
    geometry: BaseGeometry | None
    result: PlotResult
    findings: tuple[Finding, ...]


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _index(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def plot_records(run: CheckRun) -> list[PlotRecord]:
    """Rows, results and findings side by side; results must follow the plot rows' order."""
    plots = run.validation.plots
    if len(plots) != len(run.results):
        raise ValueError(f"{len(run.results)} results for {len(plots)} plots")
    # Findings are matched by source row, not plot id: duplicated ids must not share findings.
    by_row: dict[tuple[str, int | None], list[Finding]] = defaultdict(list)
    for f in run.validation.findings:
        if f.plot_id is not None:
            by_row[(f.source_file, f.source_index)].append(f)
    records = []
    for i, (row, result) in enumerate(zip(plots.itertuples(index=False), run.results, strict=True)):
        if str(row.plot_id) != result.plot_id:
            raise ValueError(f"row {i}: result for {result.plot_id!r}, plot is {row.plot_id!r}")
        geom = row.geometry if isinstance(row.geometry, BaseGeometry) else None
        records.append(
            PlotRecord(
                index=i,
                plot_id=result.plot_id,
                producer_name=_text(row.producer_name),
                producer_country=_text(row.producer_country),
                production_place=_text(row.production_place),
                declared_area_ha=_number(row.declared_area_ha),
                commodity=_text(row.commodity),
                geometry=None if geom is None or geom.is_empty else geom,
                result=result,
                findings=tuple(by_row.get((str(row.source_file), _index(row.source_index)), ())),
            )
        )
    return records


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code.value,
        "severity": f.severity.value,
        "params": dict(sorted(f.params)),
        "message_es": finding_message(f, "es"),
        "message_en": finding_message(f, "en"),
    }


def run_header(run: CheckRun) -> dict[str, Any]:
    """What makes the file stand alone: the run, the tool, the cut-off and the datasets."""
    return {
        "run_id": run.run_id,
        "tool": "eudr-check",
        "tool_version": run.tool_version,
        "input": {"name": run.input_name, "sha256": run.input_sha256},
        "started": run.started.isoformat(timespec="seconds"),
        "cutoff_date": run.catalog.cutoff_date.isoformat(),
        "verdict_policy": run.catalog.verdict.model_dump(),
        "datasets": [
            {
                "id": d.id,
                "title": d.title,
                "version": d.version,
                "licence": d.licence,
                "attribution": d.attribution,
            }
            for d in run.catalog.enabled
        ],
        **({} if run.lot is None else {"lot": run.lot.to_dict()}),
    }


def _json_safe(value: Any) -> Any:
    """Nested values as strict JSON: NaN and infinities become null."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _properties(rec: PlotRecord) -> dict[str, Any]:
    r = rec.result
    area = None if r.area_ha is None or not math.isfinite(r.area_ha) else round(r.area_ha, 4)
    reasons = [{**reason_record(item), "params": dict(sorted(item.params))} for item in r.reasons]
    return {
        "plot_id": rec.plot_id,
        "ProducerName": rec.producer_name,
        "ProducerCountry": rec.producer_country,
        "ProductionPlace": rec.production_place,
        "Area": rec.declared_area_ha,
        "commodity": rec.commodity,
        "area_ha": area,
        "verdict": r.verdict.value,
        "verdict_es": verdict_name(r.verdict, "es"),
        "verdict_en": verdict_name(r.verdict, "en"),
        "reasons": _json_safe(reasons),
        "findings": _json_safe([finding_dict(f) for f in rec.findings]),
        "stats": _json_safe({s.dataset_id: s.to_dict() for s in r.stats}),
        "buffered_point": r.buffered_point,
    }


def write_due_diligence_geojson(run: CheckRun, path: Path) -> Path:
    features = [
        feature_text(rec.geometry, _properties(rec), rec.plot_id) for rec in plot_records(run)
    ]
    write_text(path, collection_text(features, {"run": _json_safe(run_header(run))}))
    return path
