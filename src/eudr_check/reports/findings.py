"""Findings as CSV (opens in Excel with accents) and JSON, and the repaired plot file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eudr_check import __version__
from eudr_check.fileio import write_text
from eudr_check.findings import finding_record
from eudr_check.i18n import Lang, Text
from eudr_check.reports.csv_out import csv_text
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


# Column headings of findings.csv in the reader's language (the JSON keeps the codes).
HEADINGS = {
    "source_file": Text("archivo", "file"),
    "source_index": Text("fila_o_elemento", "row_or_feature"),
    "plot_id": Text("parcela", "plot_id"),
    "code": Text("codigo", "code"),
    "severity": Text("gravedad", "severity"),
    "fixable": Text("reparable", "fixable"),
    "related_plot_id": Text("parcela_relacionada", "related_plot_id"),
    "message_es": Text("mensaje_es", "message_es"),
    "message_en": Text("mensaje_en", "message_en"),
}
_YES_NO = {True: Text("sí", "yes"), False: Text("no", "no")}
_SEVERITY = {"error": Text("error", "error"), "warning": Text("aviso", "warning"),
             "repaired": Text("reparado", "repaired")}  # fmt: skip


def write_findings(
    report: ValidationReport, source: Path, out_dir: Path, lang: Lang | str = Lang.ES
) -> list[Path]:
    stem = source.stem
    csv_path = out_dir / f"{stem}.findings.csv"
    json_path = out_dir / f"{stem}.findings.json"
    frame = as_frame(report.findings)
    frame["fixable"] = [_YES_NO[bool(v)](lang) for v in frame["fixable"]]
    frame["severity"] = [_SEVERITY[str(v)](lang) if str(v) in _SEVERITY else v
                         for v in frame["severity"]]  # fmt: skip
    frame.columns = [HEADINGS[c](lang) if c in HEADINGS else c for c in frame.columns]
    # UTF-8 with BOM: Excel then shows ñ and accents correctly.
    rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    write_text(csv_path, csv_text(list(frame.columns), rows), encoding="utf-8-sig")
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
