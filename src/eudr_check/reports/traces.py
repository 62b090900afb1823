"""GeoJSON for the EU Information System (TRACES), split into files under the size limit.

Only plots without remaining errors go in; the others are listed in excluded.csv with why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from eudr_check.engine.record import RunRecord
from eudr_check.engine.sinks import Delivered, Sink
from eudr_check.fileio import write_text
from eudr_check.findings import Severity
from eudr_check.reports.csv_out import csv_text
from eudr_check.reports.geojson import collection_text, feature_text
from eudr_check.rules import ValidationReport


@dataclass(frozen=True, slots=True)
class TracesExport:
    files: list[Path]
    index: Path
    excluded: Path
    exported: int
    left_out: int


def eu_properties(row: Any) -> dict[str, object]:
    """A plot row's properties in the EU file: ProducerName, ProducerCountry, ProductionPlace
    and Area (hectares)."""
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


class _SplitWriter:
    """Fills numbered GeoJSON files, starting a new one before a feature would pass the limit."""

    def __init__(self, out_dir: Path, stem: str, limit_bytes: int) -> None:
        self.out_dir, self.stem, self.limit = out_dir, stem, limit_bytes
        self.files: list[Path] = []
        self.index_rows: list[tuple[str, str, int]] = []
        self._batch: list[str] = []
        self._ids: list[str] = []
        self._empty = len(collection_text([]))
        self._size = self._empty

    def add(self, plot_id: str, text: str) -> None:
        extra = len(text.encode("utf-8")) + 2
        if self._batch and self._size + extra > self.limit:
            self.flush()
        self._batch.append(text)
        self._ids.append(plot_id)
        self._size += extra

    def flush(self) -> None:
        if not self._batch:
            return
        path = self.out_dir / f"{self.stem}.traces_{len(self.files) + 1:03d}.geojson"
        write_text(path, collection_text(self._batch))
        self.files.append(path)
        self.index_rows.extend((pid, path.name, n) for n, pid in enumerate(self._ids, start=1))
        self._batch, self._ids, self._size = [], [], self._empty


class TracesSink(Sink):
    """The EU files of a run's plots as batches come (see the module docstring); `export`
    describes them once closed. Only the rows matter here, not the verdicts."""

    def __init__(self, out_dir: Path, stem: str, max_mb: float = 25.0) -> None:
        self.out_dir = Path(out_dir)
        self.stem = stem
        self.writer = _SplitWriter(self.out_dir, stem, int(max_mb * 1_000_000))
        self.excluded_rows: list[tuple[str, str, int, str]] = []
        self.export: TracesExport | None = None

    def add(self, report: ValidationReport) -> None:
        errors: dict[str, set[str]] = {}
        for f in report.findings:
            if f.severity is Severity.ERROR and f.plot_id is not None:
                errors.setdefault(f.plot_id, set()).add(f.code.value)
        for row in report.plots.itertuples(index=False):
            pid = str(row.plot_id)
            if pid in errors or row.geometry is None:
                codes = " ".join(sorted(errors.get(pid, {"geometry_missing"})))
                self.excluded_rows.append((pid, str(row.source_file), int(row.source_index), codes))
                continue
            # RFC 7946 winding: outer rings counter-clockwise, holes clockwise.
            shape = shapely.orient_polygons(row.geometry)
            self.writer.add(pid, feature_text(shape, eu_properties(row), pid))

    def write(self, batch: Delivered) -> None:
        self.add(batch.report)

    def close(self, record: RunRecord | None = None) -> None:
        self.writer.flush()
        index = self.out_dir / f"{self.stem}.traces_index.csv"
        write_text(index, _csv(("plot_id", "file", "feature"), self.writer.index_rows), "utf-8-sig")
        excluded = self.out_dir / f"{self.stem}.traces_excluded.csv"
        header = ("plot_id", "source_file", "source_index", "codes")
        write_text(excluded, _csv(header, self.excluded_rows), "utf-8-sig")
        exported, left = len(self.writer.index_rows), len(self.excluded_rows)
        self.export = TracesExport(self.writer.files, index, excluded, exported, left)

    def abort(self, error: BaseException | None = None) -> None:
        # An export is a set of files: a failure part-way removes the ones already written.
        for path in self.writer.files:
            path.unlink(missing_ok=True)


def export_traces(
    report: ValidationReport, source: Path, out_dir: Path, max_mb: float = 25.0
) -> TracesExport:
    """The EU files of a validated plot table (`eudr-check export-traces`)."""
    sink = TracesSink(out_dir, source.stem, max_mb)
    try:
        sink.add(report)
        sink.close()
    except BaseException as exc:
        sink.abort(exc)
        raise
    assert sink.export is not None
    return sink.export


def _csv(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> str:
    return csv_text(header, rows)
