"""Sinks: where a check's results go, as they come, in input order.

The engine opens every sink when the run begins, hands each input batch to `write` once all
its plots are through (batches in input order, rows in file order), closes every sink with the
finished record, or aborts every sink that is not yet closed when anything fails, so a sink
never leaves a half-written output behind and a registry run never stays `running`.

Sinks here: `CollectSink` (the whole run in memory, for small inputs and tests) and
`RegistrySink` (`engine.registry_sink`). The report writers are sinks too
(`reports.check_reports.ReportSink`, `reports.compact_csv.CompactCsvSink`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import pandas as pd

from eudr_check.datasets.sources import DataSources
from eudr_check.engine.plan import PlotTask
from eudr_check.engine.record import CheckRun, RunRecord
from eudr_check.findings import Finding
from eudr_check.models import PlotResult
from eudr_check.rules import ValidationReport


@dataclass(frozen=True, slots=True)
class Delivered:
    """One input batch with its results: `report.plots` row i goes with `results[i]`."""

    number: int  # batches count from 0, in input order
    first_row: int  # rows of earlier batches: this batch's row i is row first_row + i of the run
    report: ValidationReport
    results: Sequence[PlotResult]
    keys: Sequence[Any] | None = None  # per row, what the input attached (registry versions)
    fresh: Sequence[bool] | None = None  # per row: analysed now (False: a stored result reused)
    # Per `UnitExtra.key`, per row of the batch: what that extra made where the unit ran.
    extras: Mapping[str, Mapping[int, Any]] = field(default_factory=dict)

    def is_fresh(self, row: int) -> bool:
        return self.fresh is None or bool(self.fresh[row])


class UnitExtra(Protocol):
    """Work a sink wants done beside the analysis, where the unit runs, while the plot's raster
    files are open (the report's evidence maps): in parallel on every worker, not one by one
    where the sinks run. Must pickle (executors send it) and depend on its arguments alone."""

    key: ClassVar[str]

    def __call__(
        self, tasks: Sequence[PlotTask], results: Sequence[PlotResult], sources: DataSources
    ) -> dict[int, Any]:
        """Per row of the batch (`PlotTask.row`), whatever the sink will want in `Delivered`."""
        ...


class Sink:
    """Does nothing; subclasses override what they need."""

    # Run beside each chunk's analysis; its output reaches `write` as `Delivered.extras`.
    unit_extra: UnitExtra | None = None

    # False: the sink only wants rows analysed in this run (stored results reused for the
    # other rows are then not even loaded when no sink wants them).
    wants_reused = True

    def open(self, record: RunRecord) -> None:
        """The run begins (its record has no results yet)."""

    def write(self, batch: Delivered) -> None:
        """A batch is complete."""

    def close(self, record: RunRecord) -> None:
        """The run is complete: make the outputs final."""

    def abort(self, error: BaseException) -> None:
        """The run failed: leave no partial output, mark the run failed where it is kept."""


class CollectSink(Sink):
    """The whole run in memory (`run` once closed): for inputs that fit, and tests."""

    def __init__(self) -> None:
        self._plots: list[pd.DataFrame] = []
        self._findings: list[Finding] = []
        self._results: list[PlotResult] = []
        self._fixed = True
        self._thresholds: Any = None
        self.run: CheckRun | None = None

    def write(self, batch: Delivered) -> None:
        self._plots.append(batch.report.plots)
        self._findings.extend(batch.report.findings)
        self._results.extend(batch.results)
        self._fixed = self._fixed and batch.report.fixed
        self._thresholds = batch.report.thresholds

    def close(self, record: RunRecord) -> None:
        import geopandas as gpd

        if self._plots:
            plots = gpd.GeoDataFrame(pd.concat(self._plots, ignore_index=True), crs="EPSG:4326")
        else:
            plots = gpd.GeoDataFrame({"geometry": []}, crs="EPSG:4326")
        kw = {} if self._thresholds is None else {"thresholds": self._thresholds}
        report = ValidationReport(plots, self._findings, self._fixed, **kw)
        self.run = CheckRun(record, report, self._results)
