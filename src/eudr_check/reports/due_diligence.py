"""The due-diligence GeoJSON: every plot with its verdict, reasons, findings and statistics.

It stands alone: a top-level "run" member names the run, the tool, the cut-off date and the
datasets, so the file can be filed as evidence without its manifest. Features are written as
batches come (into the staging folder) and the file is put together when the run ends.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eudr_check.country_risk import country_risk
from eudr_check.engine.record import RunRecord, dataset_entry
from eudr_check.fileio import strict_json
from eudr_check.findings import Finding, finding_message
from eudr_check.i18n import Lang
from eudr_check.reasons import reason_record, verdict_name
from eudr_check.reports.geojson import feature_text
from eudr_check.reports.records import PlotRecord
from eudr_check.reports.staging import Staging


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code.value,
        "severity": f.severity.value,
        "params": dict(sorted(f.params)),
        "message_es": finding_message(f, Lang.ES),
        "message_en": finding_message(f, Lang.EN),
    }


def run_header(record: RunRecord) -> dict[str, Any]:
    """What makes the file stand alone: the run, the tool, the cut-off and the datasets."""
    return {
        "run_id": record.run_id,
        "tool": "eudr-check",
        "tool_version": record.tool_version,
        "input": {"name": record.input_name, "sha256": record.input_sha256},
        "started": record.started.isoformat(timespec="seconds"),
        "cutoff_date": record.catalog.cutoff_date.isoformat(),
        "verdict_policy": record.catalog.verdict.model_dump(),
        "datasets": [dataset_entry(d) for d in record.catalog.enabled],
        **({} if record.lot is None else {"lot": record.lot.to_dict()}),
    }


def _properties(rec: PlotRecord) -> dict[str, Any]:
    r = rec.result
    area = None if r.area_ha is None or not math.isfinite(r.area_ha) else round(r.area_ha, 4)
    reasons = [{**reason_record(item), "params": dict(sorted(item.params))} for item in r.reasons]
    return {
        "plot_id": rec.plot_id,
        "ProducerName": rec.producer_name,
        "ProducerCountry": rec.producer_country,
        "country_risk": _risk(rec.producer_country),
        "ProductionPlace": rec.production_place,
        "Area": rec.declared_area_ha,
        "commodity": rec.commodity,
        "area_ha": area,
        "verdict": r.verdict.value,
        "verdict_es": verdict_name(r.verdict, Lang.ES),
        "verdict_en": verdict_name(r.verdict, Lang.EN),
        "reasons": strict_json(reasons),
        "findings": strict_json([finding_dict(f) for f in rec.findings]),
        "stats": strict_json({s.dataset_id: s.to_dict() for s in r.stats}),
        "buffered_point": r.buffered_point,
        # Whisp's indicators and risk for perennial crops, beside our verdict.
        **({} if rec.indicators is None else rec.indicators.as_row()),
    }


def _risk(country: str | None) -> str | None:
    found = country_risk(country)
    return None if found is None else found.level.value


class DueDiligenceWriter:
    """`<stem>.due_diligence.geojson`, one compact feature per line."""

    def __init__(self, path: Path, staging: Staging) -> None:
        self.path = path
        self._staging = staging
        self._part = staging.part("due_diligence.features")
        self._first = True

    def add(self, records: Sequence[PlotRecord]) -> None:
        for rec in records:
            if not self._first:
                self._part.write(",\n")
            self._part.write(feature_text(rec.geometry, _properties(rec), rec.plot_id))
            self._first = False

    def finish(self, record: RunRecord) -> Path:
        self._part.close()
        header = json.dumps(strict_json(run_header(record)), ensure_ascii=False)
        with self._staging.stage(self.path).open("w", encoding="utf-8", newline="") as out:
            out.write(f'{{"type":"FeatureCollection","run":{header},"features":[\n')
            with Path(self._part.name).open(encoding="utf-8", newline="") as body:
                shutil.copyfileobj(body, out)
            out.write("\n]}\n")
        return self.path

    def discard(self) -> None:
        self._part.close()
