"""GeoJSON for the EU Information System (TRACES), split into files under the size limit.

Only plots without remaining errors go in; the others are listed in excluded.csv with why.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eudr_check.models import Severity
from eudr_check.reports.atomic import write_text
from eudr_check.reports.geojson import collection_text, feature_text
from eudr_check.rules import ValidationReport


@dataclass(frozen=True, slots=True)
class TracesExport:
    files: list[Path]
    index: Path
    excluded: Path
    exported: int
    left_out: int


def _eu_properties(row: Any) -> dict[str, object]:
    props: dict[str, object] = {}
    for key, column in (("ProducerName", "producer_name"), ("ProducerCountry", "producer_country"),
                        ("ProductionPlace", "production_place")):  # fmt: skip
        value = getattr(row, column)
        if value is not None:
            props[key] = value
    declared = row.declared_area_ha
    measured = row.area_ha
    # Area must be a number. A point without one stands for 4 ha in the EU system: leave it out.
    if declared is not None and math.isfinite(declared):
        props["Area"] = round(float(declared), 4)
    elif measured is not None and math.isfinite(measured):
        props["Area"] = round(float(measured), 4)
    return props


def export_traces(
    report: ValidationReport, source: Path, out_dir: Path, max_mb: float = 25.0
) -> TracesExport:
    limit = int(max_mb * 1_000_000)
    errors: dict[str, list[str]] = {}
    for f in report.findings:
        if f.severity is Severity.ERROR and f.plot_id is not None:
            errors.setdefault(f.plot_id, []).append(f.code.value)
    files: list[Path] = []
    index_rows: list[tuple[str, str, int]] = []
    excluded_rows: list[tuple[str, str, int, str]] = []
    batch: list[str] = []
    batch_ids: list[str] = []
    size = len(collection_text([]))

    def flush() -> None:
        nonlocal batch, batch_ids, size
        if not batch:
            return
        path = out_dir / f"{source.stem}.traces_{len(files) + 1:03d}.geojson"
        write_text(path, collection_text(batch))
        files.append(path)
        index_rows.extend((pid, path.name, n) for n, pid in enumerate(batch_ids, start=1))
        batch, batch_ids, size = [], [], len(collection_text([]))

    for row in report.plots.itertuples(index=False):
        pid = str(row.plot_id)
        if pid in errors or row.geometry is None:
            codes = errors.get(pid, ["geometry_missing"])
            excluded_rows.append(
                (pid, str(row.source_file), int(row.source_index), " ".join(sorted(set(codes))))
            )
            continue
        text = feature_text(row.geometry, _eu_properties(row), pid)
        extra = len(text.encode("utf-8")) + 2
        if batch and size + extra > limit:
            flush()
        batch.append(text)
        batch_ids.append(pid)
        size += extra
    flush()

    index = out_dir / f"{source.stem}.traces_index.csv"
    write_text(index, _csv(("plot_id", "file", "feature"), index_rows), encoding="utf-8-sig")
    excluded = out_dir / f"{source.stem}.traces_excluded.csv"
    write_text(
        excluded,
        _csv(("plot_id", "source_file", "source_index", "codes"), excluded_rows),
        encoding="utf-8-sig",
    )
    return TracesExport(files, index, excluded, len(index_rows), len(excluded_rows))


def _csv(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()
