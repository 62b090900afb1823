"""Per-plot statistics of each dataset over a group of nearby plots.

A group shares one window per layer (read once), the exact coverage of every plot over that
window, and the true cell areas of its rows. I/O is limited to `read_window`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from eudr_check.datasets.catalog import Catalog, Dataset, Role
from eudr_check.datasets.reader import RasterWindow, read_window
from eudr_check.datasets.tiles import tiles_for_bounds
from eudr_check.errors import ConfigError
from eudr_check.models import DatasetStats
from eudr_check.zonal import Coverage, cell_areas_m2, coverage

_GEOD = pyproj.Geod(ellps="WGS84")
_CIRCLE_VERTICES = 64
# A regular 64-gon inscribed in a circle has 0.16 % less area: widen it to the circle's area.
_CIRCLE_SCALE = float(
    np.sqrt(np.pi / (_CIRCLE_VERTICES / 2 * np.sin(2 * np.pi / _CIRCLE_VERTICES)))
)

WindowReader = Callable[[Dataset, str, tuple[float, float, float, float]], RasterWindow]


def point_circles(
    points: list[shapely.Geometry], areas_ha: NDArray[np.float64]
) -> list[shapely.Geometry]:
    """Geodesic circles of the given areas around points (a MultiPoint shares its area)."""
    out: list[shapely.Geometry] = []
    az = np.linspace(0.0, 360.0, _CIRCLE_VERTICES, endpoint=False)
    for geom, area in zip(points, areas_ha, strict=True):
        parts = list(getattr(geom, "geoms", [geom]))
        radius = np.sqrt(area * 10_000 / len(parts) / np.pi) * _CIRCLE_SCALE
        circles = []
        for p in parts:
            lon, lat, _ = _GEOD.fwd(
                np.full(az.size, p.x), np.full(az.size, p.y), az, np.full(az.size, radius)
            )
            circles.append(shapely.Polygon(np.column_stack([lon, lat])[::-1]))
        out.append(circles[0] if len(circles) == 1 else shapely.union_all(circles))
    return out


@dataclass(slots=True)
class _Grid:
    window: RasterWindow
    cover: list[Coverage]
    area_m2: NDArray[np.float64]  # per row

    def weights(self, i: int) -> NDArray[np.float64]:
        c = self.cover[i]
        return np.asarray(c.fraction * self.area_m2[c.rows], dtype=np.float64)


@dataclass(slots=True)
class GroupResult:
    stats: list[list[DatasetStats]]  # per plot, per dataset (catalog order)
    opened: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (dataset, layer)


def _grid(window: RasterWindow, shapes: list[shapely.Geometry]) -> _Grid:
    cover = coverage(shapes, window.transform, window.data.shape)
    return _Grid(window, cover, cell_areas_m2(window.transform, window.data.shape[0]))


def analyse_group(
    shapes: list[shapely.Geometry], catalog: Catalog, data_dir: Path,
    reader: WindowReader | None = None,
) -> GroupResult:  # fmt: skip
    """Statistics of every enabled dataset for plots that lie close together."""
    read: WindowReader = reader or (lambda d, layer, b: read_window(d, layer, b, data_dir))
    bounds = _padded(shapely.total_bounds(shapes))
    result = GroupResult([[] for _ in shapes])
    loss_source: dict[str, tuple[RasterWindow, RasterWindow]] = {}
    for ds in catalog.enabled:
        windows = {layer: read(ds, layer, bounds) for layer in ds.layers}
        for layer, w in windows.items():
            result.opened.setdefault((ds.id, layer), set()).update(w.opened)
        if ds.role is Role.FOREST_LOSS:
            loss_source[ds.id] = (windows["treecover2000"], windows["lossyear"])
        stats = _dataset_stats(ds, windows, shapes, catalog, loss_source, bounds, read)
        for i, s in enumerate(stats):
            result.stats[i].append(_with_tile_problems(s, ds, windows, shapes[i]))
    return result


def _padded(b: NDArray[np.float64]) -> tuple[float, float, float, float]:
    pad = 1e-6  # a hair, so cells touched only at the box edge are still read
    return (float(b[0]) - pad, float(b[1]) - pad, float(b[2]) + pad, float(b[3]) + pad)


def _with_tile_problems(
    s: DatasetStats, ds: Dataset, windows: dict[str, RasterWindow], shape: shapely.Geometry
) -> DatasetStats:
    needed = set(tiles_for_bounds(ds.tiles, tuple(shape.bounds)))
    missing = sorted({t for w in windows.values() for t in w.missing_tiles} & needed)
    errors = sorted({m for w in windows.values() for t, m in w.errors.items() if t in needed})
    if not missing and not errors:
        return s
    return DatasetStats(
        s.dataset_id, s.version, s.plot_area_ha, s.nodata_fraction, tuple(missing),
        "; ".join(errors) or None, s.forest_2020_ha, s.loss_after_cutoff_ha, s.loss_by_year,
        s.alert_count, s.alert_area_ha, s.alert_latest,
    )  # fmt: skip


def _dataset_stats(
    ds: Dataset, windows: dict[str, RasterWindow], shapes: list[shapely.Geometry],
    catalog: Catalog, loss_source: dict[str, tuple[RasterWindow, RasterWindow]],
    bounds: tuple[float, float, float, float], read: WindowReader,
) -> list[DatasetStats]:  # fmt: skip
    if ds.role is Role.FOREST_LOSS:
        return _forest_loss(ds, windows, shapes, catalog.cutoff_date.year)
    if ds.role is Role.FOREST_2020:
        src_id = str(ds.encoding.get("loss_from", ""))
        if src_id not in loss_source:
            src = catalog.get(src_id)
            loss_source[src_id] = (
                read(src, "treecover2000", bounds),
                read(src, "lossyear", bounds),
            )
        return _forest_2020(ds, windows["forest"], loss_source[src_id][1], shapes, catalog)
    if ds.role is Role.ALERTS:
        return _alerts(ds, windows["alerts"], shapes, catalog.cutoff_date)
    raise ConfigError(f"dataset {ds.id}: role {ds.role.value} is not supported yet; disable it")


def _ha(m2: float) -> float:
    return m2 / 10_000.0


def _forest_loss(
    ds: Dataset, windows: dict[str, RasterWindow], shapes: list[shapely.Geometry], cutoff_year: int
) -> list[DatasetStats]:
    tc, ly = windows["treecover2000"], windows["lossyear"]
    grid = _grid(tc, shapes)
    threshold = int(ds.encoding.get("treecover_threshold", 10))
    base = int(ds.encoding.get("loss_year_base", 2000))
    first_code = cutoff_year + 1 - base  # 21 for a 2020 cut-off
    nodata_all = tc.nodata | ly.nodata
    out = []
    for i in range(len(shapes)):
        w = grid.weights(i)
        c = grid.cover[i]
        tcv = tc.data[c.rows, c.cols].astype(np.int64)
        lyv = ly.data[c.rows, c.cols].astype(np.int64)
        nd = nodata_all[c.rows, c.cols]
        total = float(w.sum())
        forest2000 = (tcv >= threshold) & ~nd
        lost_before = (lyv >= 1) & (lyv < first_code)
        after = forest2000 & (lyv >= first_code)
        years = {}
        for code in np.unique(lyv[after]).tolist():
            years[base + int(code)] = _ha(float(w[after & (lyv == code)].sum()))
        out.append(DatasetStats(
            ds.id, ds.version, _ha(total), float(w[nd].sum()) / total if total else 1.0,
            forest_2020_ha=_ha(float(w[forest2000 & ~lost_before].sum())),
            loss_after_cutoff_ha=_ha(float(w[after].sum())),
            loss_by_year=tuple(sorted(years.items())),
        ))  # fmt: skip
    return out


def _forest_2020(
    ds: Dataset, forest: RasterWindow, lossyear: RasterWindow, shapes: list[shapely.Geometry],
    catalog: Catalog,
) -> list[DatasetStats]:  # fmt: skip
    """Forest 2020 from a forest map; loss after the cut-off from the loss layer it names,
    sampled at the forest map's cell centres (the map has no loss of its own)."""
    grid = _grid(forest, shapes)
    values = [int(v) for v in ds.encoding.get("forest_values", [1])]
    src = catalog.get(str(ds.encoding.get("loss_from")))
    first_code = catalog.cutoff_date.year + 1 - int(src.encoding.get("loss_year_base", 2000))
    t, lt = forest.transform, lossyear.transform
    out = []
    for i in range(len(shapes)):
        c = grid.cover[i]
        w = grid.weights(i)
        total = float(w.sum())
        nd = forest.nodata[c.rows, c.cols]
        is_forest = np.isin(forest.data[c.rows, c.cols], values) & ~nd
        # Cell centres of the forest map, located on the loss layer's grid.
        lon = t.c + (c.cols + 0.5) * t.a
        lat = t.f + (c.rows + 0.5) * t.e
        lcol = np.floor((lon - lt.c) / lt.a).astype(np.intp)
        lrow = np.floor((lat - lt.f) / lt.e).astype(np.intp)
        h, wd = lossyear.data.shape
        inside = (lrow >= 0) & (lrow < h) & (lcol >= 0) & (lcol < wd)
        code = np.zeros(len(lon), np.int64)
        code[inside] = lossyear.data[lrow[inside], lcol[inside]]
        loss_nd = np.ones(len(lon), bool)
        loss_nd[inside] = lossyear.nodata[lrow[inside], lcol[inside]]
        after = is_forest & (code >= first_code) & ~loss_nd
        years = {}
        base = int(src.encoding.get("loss_year_base", 2000))
        for y in np.unique(code[after]).tolist():
            years[base + int(y)] = _ha(float(w[after & (code == y)].sum()))
        out.append(DatasetStats(
            ds.id, ds.version, _ha(total), float(w[nd].sum()) / total if total else 1.0,
            forest_2020_ha=_ha(float(w[is_forest].sum())),
            loss_after_cutoff_ha=_ha(float(w[after].sum())),
            loss_by_year=tuple(sorted(years.items())),
        ))  # fmt: skip
    return out


def _alerts(
    ds: Dataset, alerts: RasterWindow, shapes: list[shapely.Geometry], cutoff: dt.date
) -> list[DatasetStats]:
    grid = _grid(alerts, shapes)
    origin = dt.date.fromisoformat(str(ds.encoding.get("date_origin", "2014-12-31")))
    divisor = int(ds.encoding.get("confidence_divisor", 10000))
    first_day = (cutoff - origin).days + 1
    out = []
    for i in range(len(shapes)):
        c = grid.cover[i]
        w = grid.weights(i)
        total = float(w.sum())
        v = alerts.data[c.rows, c.cols].astype(np.int64)
        # Value 0 is "no alert", not "no data": alert layers cover everything they monitor.
        days = v % divisor
        after = (v > 0) & (days >= first_day)
        latest = (
            (origin + dt.timedelta(days=int(days[after].max()))).isoformat()
            if after.any()
            else None
        )
        missing = alerts.outside[c.rows, c.cols]
        out.append(DatasetStats(
            ds.id, ds.version, _ha(total), float(w[missing].sum()) / total if total else 1.0,
            alert_count=int(after.sum()), alert_area_ha=_ha(float(w[after].sum())),
            alert_latest=latest,
        ))  # fmt: skip
    return out
