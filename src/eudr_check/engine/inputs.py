"""What a check runs on: a plot file, an already validated plot table, or registered plots.

Each input opens into batches in input order. A batch is validated plots (the engine plans
and splits them into units where the run starts) or a slice of a large file (read, validated
and planned inside its unit). Registered plots carry their version and fingerprint per row,
and may answer rows from stored results instead of analysing them again (`Reuse`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from eudr_check.datasets.sources import DataSources
from eudr_check.engine.fingerprint import fingerprints, tile_files
from eudr_check.engine.plan import plan
from eudr_check.engine.record import FileRecord
from eudr_check.errors import StaleResultsError
from eudr_check.intake import ReadOptions
from eudr_check.intake.stream import PlotSlice, TableSlice, open_plots
from eudr_check.models import PlotResult
from eudr_check.rules import RuleThresholds, ValidationReport, validate
from eudr_check.settings import Settings, get_settings
from eudr_check.store.registry import Registry, StoredResult


@dataclass(frozen=True, slots=True)
class InputBatch:
    report: ValidationReport | None = None  # validated plots, planned where the run starts
    source: PlotSlice | None = None  # or a slice read, validated and planned in its unit
    keys: Sequence[Any] | None = None  # per row, handed to the sinks with the results
    reused: Mapping[int, PlotResult] = field(default_factory=dict)  # rows not analysed again


@dataclass(frozen=True, slots=True)
class Replay:
    """A run made only of stored results: it takes their runs, times and files."""

    run_id: str
    started: dt.datetime
    finished: dt.datetime
    files: tuple[FileRecord, ...]


@dataclass(slots=True)
class InputPlan:
    batches: Iterator[InputBatch]
    planned: int | None  # plots to analyse, when known before reading them all
    streamed: bool = False
    sha256: Callable[[], str] = lambda: ""
    replay: Replay | None = None


class PlotInput(Protocol):
    name: str

    def open(self, sources: DataSources, batch_plots: int, want_reused: bool) -> InputPlan: ...


class PlotFile:
    """A plot file: read at once where the run starts, or in slices inside the units when it
    is large (`intake.stream.open_plots` decides, from the settings)."""

    def __init__(
        self, path: Path, *, options: ReadOptions | None = None, fix: bool = True,
        rules: RuleThresholds | None = None, settings: Settings | None = None,
    ) -> None:  # fmt: skip
        self.path = Path(path)
        self.name = self.path.name
        self.options = options or ReadOptions()
        self.fix = fix
        self.rules = rules or RuleThresholds()
        self.settings = settings or get_settings()

    def open(self, sources: DataSources, batch_plots: int, want_reused: bool) -> InputPlan:
        stream = open_plots(
            self.path, options=self.options, settings=self.settings, batch_plots=batch_plots
        )

        def batches() -> Iterator[InputBatch]:
            for piece in stream.slices:
                if isinstance(piece, TableSlice):
                    yield InputBatch(report=validate(piece.table, fix=self.fix,
                                                     thresholds=self.rules))  # fmt: skip
                else:
                    yield InputBatch(source=piece)

        return InputPlan(batches(), stream.plots_hint, stream.streamed, lambda: stream.sha256)


class PlotReport:
    """Plots validated already (an upload just registered, a test's table)."""

    def __init__(
        self, report: ValidationReport, name: str, *, sha256: str = "",
        keys: Sequence[Any] | None = None,
    ) -> None:  # fmt: skip
        self.report = report
        self.name = name
        self.digest = sha256
        self.keys = keys

    def open(self, sources: DataSources, batch_plots: int, want_reused: bool) -> InputPlan:
        rows = list(range(len(self.report.plots)))
        keys = self.keys

        def batches() -> Iterator[InputBatch]:
            for part in _parts(rows, batch_plots):
                yield InputBatch(
                    report=subset(self.report, part),
                    keys=None if keys is None else [keys[r] for r in part],
                )

        return InputPlan(batches(), len(rows), sha256=lambda: self.digest)


class Reuse(StrEnum):
    NONE = "none"  # analyse every plot
    MATCHING = "matching"  # reuse a stored result made for today's fingerprint
    REQUIRED = "required"  # never analyse: every plot must have one (StaleResultsError)


class RegisteredPlots:
    """Plot versions from the registry; each row's key is (version id, fingerprint).

    After `open`, `plot_ids` maps each version to its plot id and `stored` holds the stored
    results that were reused.
    """

    def __init__(
        self, registry: Registry, version_ids: Sequence[int], *, reuse: Reuse = Reuse.NONE,
        name: str = "registry",
    ) -> None:  # fmt: skip
        self.registry = registry
        self.version_ids = [int(v) for v in version_ids]
        self.reuse = reuse
        self.name = name
        self.stored: dict[int, StoredResult] = {}
        self.plot_ids: dict[int, str] = {}

    def open(self, sources: DataSources, batch_plots: int, want_reused: bool) -> InputPlan:
        report = self.registry.report_for(self.version_ids)
        tasks = plan(report, sources.catalog)
        prints = fingerprints(tasks, sources)
        versions = [int(v) for v in report.plots["version_id"]]
        self.plot_ids = dict(zip(versions, map(str, report.plots["plot_id"]), strict=True))
        keys = list(zip(versions, prints, strict=True))
        today = dict(keys)
        matching: dict[int, StoredResult] = {}
        if self.reuse is not Reuse.NONE:
            stored = self.registry.stored_results(versions, today)
            matching = {v: s for v, s in stored.items() if s.fingerprint == today[v]}
            if self.reuse is Reuse.REQUIRED:
                unchecked = [v for v in versions if v not in stored]
                stale = [v for v in versions if v in stored and v not in matching]
                if unchecked or stale:
                    raise StaleResultsError(unchecked, stale)
        self.stored = matching
        todo = [i for i, v in enumerate(versions) if v not in matching]
        rows = [i for i, v in enumerate(versions) if want_reused or v not in matching]

        def batches() -> Iterator[InputBatch]:
            for part in _parts(rows, batch_plots):
                reused = {
                    k: matching[versions[r]].result
                    for k, r in enumerate(part)
                    if versions[r] in matching
                }
                yield InputBatch(subset(report, part), keys=[keys[r] for r in part],
                                 reused=reused)  # fmt: skip

        replay = None
        if self.reuse is Reuse.REQUIRED and matching:
            used = list(matching.values())
            checked = [s.checked_at for s in used]
            run_id = ", ".join(sorted({s.run_id for s in used}))
            replay = Replay(run_id, min(checked), max(checked), tile_files(tasks, sources))
        return InputPlan(batches(), len(todo), replay=replay)


def subset(report: ValidationReport, rows: Sequence[int]) -> ValidationReport:
    """The report restricted to some rows (renumbered from 0), with their findings only."""
    if len(rows) == len(report.plots) and list(rows) == list(range(len(rows))):
        return report
    plots = report.plots.iloc[list(rows)].reset_index(drop=True)
    keys = set(zip(plots["source_file"], plots["source_index"], plots["plot_id"], strict=True))
    findings = [f for f in report.findings if (f.source_file, f.source_index, f.plot_id) in keys]
    return ValidationReport(plots, findings, report.fixed, report.thresholds)


def _parts(rows: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])
