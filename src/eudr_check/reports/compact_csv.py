"""A compact results CSV for national files: one short row per plot, written as batches come.

Columns: source_index, plot_id, verdict, area_ha, per dataset its key figures (see
`compact_columns`), reasons (codes). UTF-8, comma, "\\n" line ends, numbers fixed-point with 6
decimals: the same input gives the same bytes on every run and machine, whatever executor
checked it. Written beside its target and renamed when complete: a failed run leaves none.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO

from eudr_check.datasets.catalog import Catalog, Dataset
from eudr_check.engine.record import RunRecord
from eudr_check.engine.sinks import Delivered, Sink
from eudr_check.models import DatasetStats, PlotResult
from eudr_check.reports.csv_out import line as csv_line
from eudr_check.reports.csv_out import write_rows


def _stat_names(ds: Dataset) -> tuple[str, ...]:
    if ds.gives_alerts:
        return ("alert_count", "alert_area_ha", "nodata_fraction")
    return ("forest_2020_ha", "loss_after_cutoff_ha", "nodata_fraction")


def compact_columns(catalog: Catalog) -> list[str]:
    cols = ["source_index", "plot_id", "verdict", "area_ha"]
    for ds in catalog.enabled:
        cols += [f"{ds.id}_{name}" for name in _stat_names(ds)]
    return [*cols, "reasons"]


def _num(value: float | None) -> str:
    """Fixed-point, 6 decimals: the same text for the same value on every run and machine."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return ""
    text = f"{round(value, 6):.6f}"
    return "0.000000" if text == "-0.000000" else text


def _stat_cells(ds: Dataset, s: DatasetStats | None) -> list[str]:
    if s is None:
        return [""] * len(_stat_names(ds))
    if ds.gives_alerts:
        count = "" if s.alert_count is None else str(s.alert_count)
        return [count, _num(s.alert_area_ha), _num(s.nodata_fraction)]
    return [_num(s.forest_2020_ha), _num(s.loss_after_cutoff_ha), _num(s.nodata_fraction)]


def compact_row(source_index: int, result: PlotResult, datasets: Sequence[Dataset]) -> list[str]:
    row = [str(source_index), result.plot_id, result.verdict.value, _num(result.area_ha)]
    for ds in datasets:
        row += _stat_cells(ds, result.stats_for(ds.id))
    reasons = dict.fromkeys(
        r.code.value if r.dataset_id is None else f"{r.code.value}:{r.dataset_id}"
        for r in result.reasons
    )
    return [*row, " ".join(reasons)]


class CompactCsvSink(Sink):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._tmp: Path | None = None
        self._fh: IO[str] | None = None

    def open(self, record: RunRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.{record.run_id}.part")
        self._fh = self._tmp.open("w", encoding="utf-8", newline="")
        self._fh.write(csv_line(compact_columns(record.catalog)))
        self._datasets = record.catalog.enabled

    def write(self, batch: Delivered) -> None:
        index = [int(i) for i in batch.report.plots["source_index"].tolist()]
        assert self._fh is not None
        write_rows(self._fh, (compact_row(i, result, self._datasets)
                              for i, result in zip(index, batch.results, strict=True)))  # fmt: skip

    def close(self, record: RunRecord) -> None:
        assert self._fh is not None and self._tmp is not None
        self._fh.close()
        self._tmp.replace(self.path)

    def abort(self, error: BaseException) -> None:
        if self._fh is not None:
            self._fh.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
