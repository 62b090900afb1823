"""Findings as CSV (opens in Excel with accents) and JSON, and the repaired plot file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eudr_check import __version__
from eudr_check.fileio import write_text
from eudr_check.findings import finding_record
from eudr_check.reports.geojson import collection_text, feature_text
from eudr_check.rules import ValidationReport, as_frame


def summary(report: ValidationReport) -> dict[str, Any]:
    status = report.plots["status"].value_counts().to_dict()
    return {
        "plots": len(report.plots),
        "plots_ok": int(status.get("ok", 0)),
        "plots_with_warnings": int(status.get("warning", 0)),
        "plots_with_errors": int(status.get("error", 0)),
        "findings": {f"{code}/{sev}": n for (code, sev), n in sorted(report.counts().items())},
    }


def write_findings(report: ValidationReport, source: Path, out_dir: Path) -> list[Path]:
    stem = source.stem
    csv_path = out_dir / f"{stem}.findings.csv"
    json_path = out_dir / f"{stem}.findings.json"
    # UTF-8 with BOM: Excel then shows ñ and accents correctly.
    write_text(csv_path, as_frame(report.findings).to_csv(index=False), encoding="utf-8-sig")
    doc = {
        "tool": "eudr-check",
        "version": __version__,
        "file": source.name,
        "fixed": report.fixed,
        "thresholds": report.thresholds.to_dict(),
        "summary": summary(report),
        "findings": [finding_record(f) for f in report.findings],
    }
    write_text(json_path, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return [csv_path, json_path]


def write_fixed(report: ValidationReport, source: Path, out_dir: Path) -> Path:
    """The repaired plots as GeoJSON, re-readable by eudr-check, originals kept for audit."""
    path = out_dir / f"{source.stem}.fixed.geojson"
    features = []
    for row in report.plots.itertuples(index=False):
        props = {
            "plot_id": row.plot_id,
            "ProducerName": row.producer_name,
            "ProducerCountry": row.producer_country,
            "ProductionPlace": row.production_place,
            "Area": row.declared_area_ha,
            "commodity": row.commodity,
            "status": row.status,
            "original_wkt": row.original_wkt,
        }
        features.append(feature_text(row.geometry, props, None))
    write_text(path, collection_text(features))
    return path
