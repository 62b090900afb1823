"""A unit of work: some plots in, their results out, the same wherever it runs.

Units are pure functions of their arguments (the plots and the dataset sources): an executor
may run one again after a worker dies, and nothing is lost or counted twice. A unit either
carries spatial chunks already planned where the run started, or a slice of a large file that
it reads, validates and plans itself, so the process that started the run only writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from eudr_check.analysis import analyse_group
from eudr_check.datasets.catalog import Catalog
from eudr_check.datasets.reader import open_files
from eudr_check.datasets.sources import DataSources
from eudr_check.engine.plan import Chunk, PlotTask, plan, spatial_chunks
from eudr_check.engine.record import Files
from eudr_check.engine.sinks import UnitExtra
from eudr_check.gcpause import paused_gc
from eudr_check.intake.stream import PlotSlice
from eudr_check.models import PlotResult
from eudr_check.overlaps import overlap_stats
from eudr_check.rules import RuleThresholds, ValidationReport, validate
from eudr_check.rules.area import to_equal_area
from eudr_check.verdict import decide


@dataclass(frozen=True, slots=True)
class Unit:
    """Work for one executor call: part `part` of input batch `batch`."""

    batch: int
    part: int
    chunks: Sequence[Chunk] = ()  # planned where the run started
    source: PlotSlice | None = None  # or a slice to read, validate and plan where it runs
    fix: bool = True
    rules: RuleThresholds = field(default_factory=RuleThresholds)
    extras: tuple[UnitExtra, ...] = ()  # the sinks' work beside the analysis

    @property
    def plots(self) -> int:
        return sum(len(c) for c in self.chunks)


@dataclass(frozen=True, slots=True)
class UnitOutput:
    batch: int
    part: int
    results: list[tuple[int, PlotResult]]  # (row of the batch, result)
    files: Files
    report: ValidationReport | None = None  # the slice, validated where the unit ran
    extras: dict[str, dict[int, Any]] = field(default_factory=dict)  # per extra, per row


def undetermined_result(task: PlotTask, catalog: Catalog) -> PlotResult:
    """The verdict of a plot that cannot be analysed (no shape): undetermined, and why."""
    verdict, reasons = decide([], catalog.verdict, geometry_errors=task.geometry_errors)
    return PlotResult(task.plot_id, verdict, reasons, (), None, task.buffered_ha is not None)


def check_chunk(chunk: Sequence[PlotTask], sources: DataSources) -> tuple[list[PlotResult], Files]:
    """Verdicts for one spatial chunk, and the raster files it read (dataset, layer, path)."""
    catalog = sources.catalog
    shapes = [t.shape for t in chunk]
    group = analyse_group(shapes, catalog, sources.data_dir)
    optional = [d.id for d in catalog.enabled if d.optional]
    areas = shapely.area(to_equal_area(np.array(shapes, dtype=object))) / 10_000
    # Vector layers (protected areas, territories) answer legality, not deforestation: their
    # overlaps are kept beside the rasters' stats and never move the verdict.
    legal = [overlap_stats(v, sources.data_dir, shapes, areas.tolist())
             for v in catalog.enabled_vectors]  # fmt: skip
    results = []
    for i, (task, stats, area) in enumerate(zip(chunk, group.stats, areas.tolist(), strict=True)):
        verdict, reasons = decide(
            stats, catalog.verdict, optional=optional, point_buffer_ha=task.buffered_ha,
            indicators=catalog.indicators,
        )  # fmt: skip
        buffered = task.buffered_ha is not None
        every = (*stats, *(layer[i] for layer in legal))
        results.append(PlotResult(task.plot_id, verdict, reasons, every, area, buffered))
    files = {(d, layer, p) for (d, layer), paths in group.opened.items() for p in paths}
    for v in catalog.enabled_vectors:
        path = v.path(sources.data_dir)
        if path.is_file():
            files.add((v.id, "polygons", str(path)))
    return results, files


def run_unit(unit: Unit, sources: DataSources) -> UnitOutput:
    """Run one unit. Module-level, so executors pickle it by reference."""
    # Everything a unit builds stays alive until it is sent back: the cyclic collector would
    # only scan it in vain (see gcpause). Raster files stay open across the unit's chunks.
    with paused_gc(), open_files():
        report = None
        results: list[tuple[int, PlotResult]] = []
        chunks: Sequence[Chunk] = unit.chunks
        if unit.source is not None:
            report = validate(unit.source.read(), fix=unit.fix, thresholds=unit.rules)
            tasks = plan(report, sources.catalog)
            results = [
                (t.row, undetermined_result(t, sources.catalog)) for t in tasks if t.shape is None
            ]
            chunks = spatial_chunks(tasks)
        files: Files = set()
        extras: dict[str, dict[int, Any]] = {extra.key: {} for extra in unit.extras}
        for chunk in chunks:
            chunk_results, used = check_chunk(chunk, sources)
            files |= used
            results.extend(zip((t.row for t in chunk), chunk_results, strict=True))
            for extra in unit.extras:
                extras[extra.key].update(extra(chunk, chunk_results, sources))
    return UnitOutput(unit.batch, unit.part, results, files, report, extras)
