"""check_plots(): the one driver from validated plots to verdicts.

The CLI, the flows and the web API call this; parallel runs call `check_chunk` on spatial
chunks and put the results back in order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import shapely

from eudr_check import __version__
from eudr_check.analysis import analyse_group, point_circles
from eudr_check.datasets.catalog import Catalog
from eudr_check.datasets.reader import open_files
from eudr_check.findings import Code, Severity
from eudr_check.models import PlotResult
from eudr_check.rules import ValidationReport
from eudr_check.rules.area import to_equal_area
from eudr_check.run import CheckRun, FileRecord
from eudr_check.verdict import MAX_SPAN_DEG, TOO_LARGE, decide

# Findings that leave the plot's shape or position unknown: nothing can be said about it.
GEOMETRY_ERRORS = frozenset({
    Code.GEOMETRY_MISSING, Code.GEOMETRY_UNSUPPORTED, Code.TOO_FEW_POSITIONS,
    Code.DEGENERATE_POLYGON, Code.LINESTRING, Code.COORD_OUT_OF_RANGE,
    Code.CRS_PROJECTED_UNKNOWN, Code.CRS_UNSUPPORTED, Code.SELF_INTERSECTION, Code.SPIKE,
    Code.HOLE, Code.RING_NOT_CLOSED, Code.ROUNDING_DUPLICATES, Code.Z_OR_M_VALUES,
    Code.POINT_NESTED_COORDINATES, Code.LATLON_SWAPPED,
})  # fmt: skip

# Plots closer than this (degrees) share raster windows: a few km, a few hundred pixels.
GROUP_DEG = 0.05


@dataclass(frozen=True, slots=True)
class PlotTask:
    """One plot ready for analysis: the shape to intersect and what decides its verdict."""

    row: int
    plot_id: str
    shape: shapely.Geometry | None  # None: geometry errors, nothing to analyse
    geometry_errors: tuple[str, ...]
    buffered_ha: float | None  # the circle's area when the plot is a point


def plan(report: ValidationReport, catalog: Catalog) -> list[PlotTask]:
    plots = report.plots
    errors: dict[tuple[str, int, str], list[str]] = {}
    for f in report.findings:
        if f.severity is Severity.ERROR and f.code in GEOMETRY_ERRORS and f.plot_id is not None:
            errors.setdefault((f.source_file, f.source_index or 0, f.plot_id), []).append(f.code)
    geoms = np.asarray(plots.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    declared = plots["declared_area_ha"].to_numpy(float)
    # Points with geometry errors (e.g. a latitude of -95) are not analysed: no circle either.
    broken = {i for i, (src, idx, pid) in enumerate(
        zip(plots["source_file"], plots["source_index"], plots["plot_id"], strict=True)
    ) if (src, int(idx), pid) in errors}  # fmt: skip
    points = np.array(
        [i for i in np.flatnonzero(np.isin(types, (0, 4))).tolist() if i not in broken], np.intp
    )
    point_area = np.where(np.isfinite(declared[points]) & (declared[points] > 0),
                          declared[points], catalog.verdict.point_area_ha)  # fmt: skip
    shapes = geoms.copy()
    shapes[points] = point_circles(list(geoms[points]), point_area)
    buffered = dict(zip(points.tolist(), point_area.tolist(), strict=True))
    tasks = []
    for i, (pid, src, idx) in enumerate(
        zip(plots["plot_id"], plots["source_file"], plots["source_index"], strict=True)
    ):
        errs = tuple(errors.get((src, int(idx), pid), ()))
        shape = None if errs or geoms[i] is None or types[i] not in (0, 3, 4, 6) else shapes[i]
        if shape is None and not errs:
            errs = ("geometry_missing",)
        if shape is not None and _span(shape) > MAX_SPAN_DEG:
            shape, errs = None, (TOO_LARGE,)
        tasks.append(PlotTask(i, str(pid), shape, errs, buffered.get(i)))
    return tasks


def _span(shape: shapely.Geometry) -> float:
    minx, miny, maxx, maxy = shapely.bounds(shape).tolist()
    return float(max(maxx - minx, maxy - miny))


def spatial_chunks(tasks: Sequence[PlotTask], group_deg: float = GROUP_DEG) -> list[list[PlotTask]]:
    """Plots grouped by the cell of a coarse grid their centre falls in, in a stable order."""
    live = [t for t in tasks if t.shape is not None]
    if not live:
        return []
    xy = shapely.get_coordinates(shapely.centroid([t.shape for t in live]))
    keys = np.floor(xy[:, ::-1] / group_deg).astype(np.int64)  # (row, col) of the coarse cell
    groups: dict[tuple[int, int], list[PlotTask]] = {}
    for t, (ky, kx) in zip(live, keys.tolist(), strict=True):
        groups.setdefault((ky, kx), []).append(t)
    return [groups[k] for k in sorted(groups)]


def check_chunk(
    chunk: Sequence[PlotTask], catalog: Catalog, data_dir: Path
) -> tuple[list[PlotResult], set[tuple[str, str, str]]]:
    """Verdicts for one spatial chunk, and the raster files it read (dataset, layer, path)."""
    shapes = [t.shape for t in chunk]
    group = analyse_group(shapes, catalog, data_dir)
    optional = [d.id for d in catalog.enabled if d.optional]
    areas = shapely.area(to_equal_area(np.array(shapes, dtype=object))) / 10_000
    results = []
    for task, stats, area in zip(chunk, group.stats, areas.tolist(), strict=True):
        verdict, reasons = decide(
            stats, catalog.verdict, optional=optional, point_buffer_ha=task.buffered_ha
        )
        buffered = task.buffered_ha is not None
        results.append(PlotResult(task.plot_id, verdict, reasons, tuple(stats), area, buffered))
    files = {(d, layer, p) for (d, layer), paths in group.opened.items() for p in paths}
    return results, files


def undetermined_result(task: PlotTask, catalog: Catalog) -> PlotResult:
    verdict, reasons = decide([], catalog.verdict, geometry_errors=task.geometry_errors)
    return PlotResult(task.plot_id, verdict, reasons, (), None, task.buffered_ha is not None)


def check_plots(
    report: ValidationReport,
    catalog: Catalog,
    data_dir: Path,
    *,
    input_name: str | None = None,
    input_sha256: str = "",
    progress: Callable[[int], None] | None = None,
) -> CheckRun:
    """Verdicts for every plot of a validated (and usually repaired) plot table."""
    started = dt.datetime.now(dt.UTC)
    tasks = plan(report, catalog)
    results: list[PlotResult | None] = [None] * len(tasks)
    files: set[tuple[str, str, str]] = set()
    for task in tasks:
        if task.shape is None:
            results[task.row] = undetermined_result(task, catalog)
            if progress:
                progress(1)
    with open_files():
        for chunk in spatial_chunks(tasks):
            chunk_results, chunk_files = check_chunk(chunk, catalog, data_dir)
            files |= chunk_files
            for task, result in zip(chunk, chunk_results, strict=True):
                results[task.row] = result
            if progress:
                progress(len(chunk))
    done = [r for r in results if r is not None]
    return make_run(report, catalog, data_dir, done, files, started, input_name, input_sha256)


def make_run(
    report: ValidationReport, catalog: Catalog, data_dir: Path, results: list[PlotResult],
    files: set[tuple[str, str, str]], started: dt.datetime, input_name: str | None,
    input_sha256: str,
) -> CheckRun:  # fmt: skip
    """The record of a finished run (serial or parallel alike)."""
    name = input_name or (str(report.plots["source_file"].iloc[0]) if len(report.plots) else "")
    return CheckRun(
        run_id=uuid.uuid4().hex,
        input_name=name,
        input_sha256=input_sha256,
        validation=report,
        results=results,
        catalog=catalog,
        data_dir=data_dir,
        files=file_records(files),
        started=started,
        finished=dt.datetime.now(dt.UTC),
        tool_version=__version__,
    )


def file_records(files: set[tuple[str, str, str]]) -> list[FileRecord]:
    records = []
    for dataset_id, layer, path in sorted(files):
        name = Path(path).name
        tile = name.rsplit("_", 2)[-2] + "_" + name.rsplit("_", 1)[-1].removesuffix(".tif")
        remote = path.startswith("/vsi")
        records.append(
            FileRecord(dataset_id, layer, tile, name, None if remote else sha256_of(path))
        )
    return records


@cache
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file, computed once per process for an unchanged file."""
    st = Path(path).stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)
