"""`run_check`: the one way a check is put together, whatever the shell and the executor.

    input batches -> plan -> undetermined / reused rows -> spatial chunks -> units
        -> executor -> results by row -> batches complete, in input order -> sinks

Memory is bounded by the batches in flight (at most one per unit in flight, plus those that
wait for an earlier batch), not by the size of the input.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from eudr_check.datasets.sources import DataSources
from eudr_check.engine.executors import Executor, RunUnit, SerialExecutor
from eudr_check.engine.inputs import InputBatch, PlotInput, PlotReport
from eudr_check.engine.plan import PlotTask, batch_chunks, plan, spatial_chunks
from eudr_check.engine.record import CheckRun, Files, LotRecord, RunRecord
from eudr_check.engine.sinks import CollectSink, Delivered, Sink
from eudr_check.engine.work import Unit, UnitOutput, run_unit, undetermined_result
from eudr_check.models import PlotResult
from eudr_check.rules import RuleThresholds, ValidationReport
from eudr_check.settings import get_settings

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
# Sees each batch's validated plots and their tasks where the run starts, before analysis.
Inspect = Callable[[ValidationReport, Sequence[PlotTask]], None]


@dataclass(slots=True)
class _Batch:
    """An input batch on its way: the units still out, the results so far."""

    report: ValidationReport | None
    keys: Sequence[object] | None
    results: list[PlotResult | None]
    fresh: list[bool]
    waiting: int  # units not yet back
    files: Files = field(default_factory=set)
    extras: dict[str, dict[int, Any]] = field(default_factory=dict)


def run_check(
    plots: PlotInput,
    sources: DataSources,
    *,
    executor: Executor | None = None,
    sinks: Sequence[Sink] = (),
    kind: str = "check",
    lot: LotRecord | None = None,
    rules: RuleThresholds | None = None,
    batch_plots: int | None = None,
    progress: Progress | None = None,
    work: RunUnit = run_unit,
    inspect: Inspect | None = None,
    expect: Callable[[int], None] | None = None,
) -> RunRecord:
    """Check the plots against the sources on the executor (default: this process) and hand
    every batch of results to the sinks; returns the finished record.

    Every sink is opened, then written batch by batch in input order, then closed; when
    anything fails, the sinks not yet closed are aborted (a registry run ends `failed`) and the
    error is raised. When no plot needs analysing and no sink wants stored results, nothing is
    opened at all: the record says 0 plots. `work` is the unit function (`run_unit`; tests
    inject faults through it). `inspect` sees each batch's validated plots and their plan
    here, before their analysis (the preflight); slices read inside the units are not seen.
    `expect` is told how many plots a streamed input holds, when the file says so before it
    is read (a FlatGeobuf or GeoPackage; a streamed GeoJSON does not), for a progress total.
    """
    executor = executor or SerialExecutor()
    size = batch_plots or get_settings().batch_plots
    wanted = any(s.wants_reused for s in sinks)
    record = RunRecord.begin(kind, plots.name, sources.catalog, sources.data_dir, rules=rules,
                             lot=lot)  # fmt: skip
    opened: list[Sink] = []
    closed: list[Sink] = []
    try:
        source = plots.open(sources, size, wanted)
        if source.planned == 0 and not wanted:
            log.info("%s: nothing to check", plots.name)
            return record.finish(plots=0, verdicts={}, files=(), input_sha256=source.sha256())
        record = replace(record, planned=source.planned)
        if expect is not None and source.streamed and source.planned is not None:
            expect(source.planned)
        for sink in sinks:
            opened.append(sink)
            sink.open(record)
        delivery = _Delivery(sinks, progress, inspect)
        outputs = executor.map(
            work, delivery.units(source.batches, sources, size, record.rules), sources
        )
        for out in outputs:
            delivery.receive(out)
        delivery.flush(final=True)
        record = record.finish(
            plots=delivery.rows, verdicts=dict(delivery.verdicts), files=delivery.files,
            input_sha256=source.sha256(), streamed=source.streamed,
        )  # fmt: skip
        if source.replay is not None:
            r = source.replay
            record = replace(record, run_id=r.run_id, started=r.started, finished=r.finished,
                             files=r.files)  # fmt: skip
        for sink in sinks:
            sink.close(record)
            closed.append(sink)
    except BaseException as exc:
        for sink in opened:
            if sink not in closed:
                try:
                    sink.abort(exc)
                except Exception:  # the first error is the one to report
                    log.exception("could not abort %s after %s", type(sink).__name__, exc)
        raise
    log.info("run %s: %s plots, %s", record.run_id, record.plots, record.verdicts)
    return record


class _Delivery:
    """Units out, outputs back, batches to the sinks in input order."""

    def __init__(
        self, sinks: Sequence[Sink], progress: Progress | None,
        inspect: Inspect | None = None,
    ) -> None:  # fmt: skip
        self.sinks = sinks
        self.extras = tuple(s.unit_extra for s in sinks if s.unit_extra is not None)
        self.progress = progress
        self.inspect = inspect
        self.pending: dict[int, _Batch] = {}
        self.next = 0  # the next batch the sinks get
        self.rows = 0  # rows delivered so far
        self.verdicts: Counter[str] = Counter()
        self.files: Files = set()

    def units(
        self, batches: Iterator[InputBatch], sources: DataSources, size: int,
        rules: RuleThresholds,
    ) -> Iterator[Unit]:  # fmt: skip
        for number, batch in enumerate(batches):
            if batch.source is not None:
                self.pending[number] = _Batch(None, batch.keys, [], [], 1)
                yield Unit(number, 0, source=batch.source, rules=rules, extras=self.extras)
                continue
            assert batch.report is not None
            tasks = plan(batch.report, sources.catalog)
            if self.inspect is not None:
                self.inspect(batch.report, tasks)
            results: list[PlotResult | None] = [None] * len(tasks)
            fresh = [True] * len(tasks)
            for row, stored in batch.reused.items():
                results[row], fresh[row] = stored, False
            todo = [t for t in tasks if results[t.row] is None]
            for t in todo:
                if t.shape is None:
                    results[t.row] = undetermined_result(t, sources.catalog)
            units = batch_chunks(spatial_chunks(todo), size)
            self.pending[number] = _Batch(batch.report, batch.keys, results, fresh, len(units))
            ready = len(tasks) - sum(len(chunk) for chunks in units for chunk in chunks)
            if self.progress and ready:
                self.progress(ready)
            for part, chunks in enumerate(units):
                yield Unit(number, part, chunks=chunks, extras=self.extras)
            # A batch without units (every plot undetermined or reused) is complete already.
            self.flush()

    def receive(self, out: UnitOutput) -> None:
        batch = self.pending[out.batch]
        if out.report is not None:  # a slice, read where the unit ran
            batch.report = out.report
            batch.results = [None] * len(out.report.plots)
            batch.fresh = [True] * len(out.report.plots)
        for row, result in out.results:
            batch.results[row] = result
        batch.files |= out.files
        for key, rows in out.extras.items():
            batch.extras.setdefault(key, {}).update(rows)
        batch.waiting -= 1
        if self.progress:
            self.progress(len(out.results))
        self.flush()

    def flush(self, final: bool = False) -> None:
        while self.next in self.pending and self.pending[self.next].waiting == 0:
            self._deliver(self.next, self.pending.pop(self.next))
            self.next += 1
        if final and self.pending:  # a bug, never a partial run presented as complete
            raise RuntimeError(f"{len(self.pending)} batches came back incomplete")

    def _deliver(self, number: int, batch: _Batch) -> None:
        assert batch.report is not None
        missing = [i for i, r in enumerate(batch.results) if r is None]
        if missing:  # a bug, never a silent gap in the output
            raise RuntimeError(f"batch {number}: {len(missing)} plots came back without a result")
        results = [r for r in batch.results if r is not None]
        delivered = Delivered(number, self.rows, batch.report, results, batch.keys, batch.fresh,
                              batch.extras)  # fmt: skip
        for sink in self.sinks:
            sink.write(delivered)
        self.rows += len(results)
        self.verdicts.update(r.verdict.value for r in results)
        self.files |= batch.files


def check_report(
    report: ValidationReport, sources: DataSources, *, name: str | None = None,
    executor: Executor | None = None, sha256: str = "",
) -> CheckRun:  # fmt: skip
    """A validated plot table checked whole, in memory: its record, plots and results. The run
    is named after `name`, else the file its first plot came from."""
    if name is None:
        name = str(report.plots["source_file"].iloc[0]) if len(report.plots) else "plots"
    collect = CollectSink()
    run_check(PlotReport(report, name, sha256=sha256), sources, executor=executor,
              sinks=[collect], rules=report.thresholds)  # fmt: skip
    assert collect.run is not None
    return collect.run
