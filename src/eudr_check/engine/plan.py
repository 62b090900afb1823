"""Planning a check: which plots can be analysed, as what shape, grouped how.

Pure: a validated plot table and the catalog in, plot tasks and spatial chunks out. A point
becomes the circle of its declared area; a plot with an unrepaired geometry error, or one too
large to be a farm plot, gets no shape (its verdict is `undetermined` without reading a raster).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from eudr_check.analysis import point_circles
from eudr_check.datasets.catalog import Catalog
from eudr_check.findings import Code, Severity
from eudr_check.rules import ValidationReport
from eudr_check.verdict import MAX_SPAN_DEG, TOO_LARGE

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
    marker: shapely.Geometry | None = None  # the point itself, when `shape` is its circle


Chunk = list[PlotTask]


def plan(report: ValidationReport, catalog: Catalog) -> list[PlotTask]:
    """One task per row of the report, in order."""
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
        marker = geoms[i] if shape is not None and i in buffered else None
        tasks.append(PlotTask(i, str(pid), shape, errs, buffered.get(i), marker))
    return tasks


def _span(shape: shapely.Geometry) -> float:
    minx, miny, maxx, maxy = shapely.bounds(shape).tolist()
    return float(max(maxx - minx, maxy - miny))


def spatial_chunks(tasks: Sequence[PlotTask], group_deg: float = GROUP_DEG) -> list[Chunk]:
    """Plots with a shape grouped by the cell of a coarse grid their centre falls in, in a
    stable order (cell by cell, row after row, so consecutive chunks are neighbours)."""
    live = [t for t in tasks if t.shape is not None]
    if not live:
        return []
    xy = shapely.get_coordinates(shapely.centroid([t.shape for t in live]))
    keys = np.floor(xy[:, ::-1] / group_deg).astype(np.int64)  # (row, col) of the coarse cell
    groups: dict[tuple[int, int], Chunk] = {}
    for t, (ky, kx) in zip(live, keys.tolist(), strict=True):
        groups.setdefault((ky, kx), []).append(t)
    return [groups[k] for k in sorted(groups)]


def batch_chunks(chunks: Sequence[Chunk], batch_plots: int) -> list[list[Chunk]]:
    """Consecutive spatial chunks merged into units of work of about `batch_plots` plots.

    A unit closes once it holds `batch_plots` plots or more; a chunk is never split. Units
    depend on the plots alone, never on the executor (and results do not depend on units at
    all: each chunk is checked on its own).
    """
    if batch_plots < 1:
        raise ValueError("batch_plots must be at least 1")
    units: list[list[Chunk]] = []
    current: list[Chunk] = []
    size = 0
    for chunk in chunks:
        current.append(chunk)
        size += len(chunk)
        if size >= batch_plots:
            units.append(current)
            current, size = [], 0
    if current:
        units.append(current)
    return units
