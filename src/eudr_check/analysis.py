"""Per-plot statistics of each dataset over a group of nearby plots.

A group shares one window per layer (read once), the exact coverage of every plot over that
window, and the true cell areas of its rows. I/O is limited to `read_window`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
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
from eudr_check.spatial import Bounds
from eudr_check.zonal import cell_areas_m2, coverage

_GEOD = pyproj.Geod(ellps="WGS84")
_CIRCLE_VERTICES = 64
# A regular 64-gon inscribed in a circle has 0.16 % less area: widen it to the circle's area.
_CIRCLE_SCALE = float(
    np.sqrt(np.pi / (_CIRCLE_VERTICES / 2 * np.sin(2 * np.pi / _CIRCLE_VERTICES)))
)

WindowReader = Callable[[Dataset, str, Bounds], RasterWindow]


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
class _Cells:
    """Every covered cell of every plot of a group, flattened: plot, row, col, weight (m²)."""

    owner: NDArray[np.intp]
    rows: NDArray[np.intp]
    cols: NDArray[np.intp]
    weight: NDArray[np.float64]
    n: int

    def total(self, mask: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
        """Per plot: the summed weight of the cells where mask holds (all cells if None)."""
        w = self.weight if mask is None else self.weight * mask
        return np.bincount(self.owner, w, minlength=self.n).astype(np.float64)

    def by_code(
        self, mask: NDArray[np.bool_], codes: NDArray[np.int64]
    ) -> list[list[tuple[int, float]]]:
        """Per plot: (code, weight) for each code seen where mask holds, in code order."""
        key = self.owner[mask] * 65536 + codes[mask]
        keys, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, self.weight[mask], minlength=len(keys))
        out: list[list[tuple[int, float]]] = [[] for _ in range(self.n)]
        for k, v in zip(keys.tolist(), sums.tolist(), strict=True):
            out[k // 65536].append((k % 65536, v))
        return out


@dataclass(slots=True)
class GroupResult:
    stats: list[list[DatasetStats]]  # per plot, per dataset (catalog order)
    opened: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (dataset, layer)


def _cells(window: RasterWindow, shapes: list[shapely.Geometry]) -> _Cells:
    cover = coverage(shapes, window.transform, window.data.shape)
    areas = cell_areas_m2(window.transform, window.data.shape[0])
    lens = np.fromiter((len(c.fraction) for c in cover), np.intp, len(cover))
    rows = np.concatenate([c.rows for c in cover]) if cover else np.zeros(0, np.intp)
    cols = np.concatenate([c.cols for c in cover]) if cover else np.zeros(0, np.intp)
    frac = np.concatenate([c.fraction for c in cover]) if cover else np.zeros(0)
    owner = np.repeat(np.arange(len(cover)), lens)
    return _Cells(owner, rows, cols, frac * areas[rows], len(cover))


def _share(part: NDArray[np.float64], total: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.divide(part, total, out=np.ones_like(total), where=total > 0)


def analyse_group(
    shapes: list[shapely.Geometry], catalog: Catalog, data_dir: Path,
    reader: WindowReader | None = None,
) -> GroupResult:  # fmt: skip
    """Statistics of every enabled dataset for plots that lie close together."""
    read: WindowReader = reader or (lambda d, layer, b: read_window(d, layer, b, data_dir))
    # One coarsest pixel of margin: a fine grid's cell centres near the box edge must still fall
    # inside the coarse window they are looked up in (JRC cells on Hansen's loss year).
    margin = max(d.pixel_deg for d in catalog.enabled) if catalog.enabled else 0.0
    bounds = _padded(shapely.total_bounds(shapes), margin)
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


def _padded(b: NDArray[np.float64], margin: float) -> Bounds:
    pad = margin + 1e-6  # and a hair, so cells touched only at the box edge are still read
    return Bounds.of(b).padded(pad)


def _with_tile_problems(
    s: DatasetStats, ds: Dataset, windows: dict[str, RasterWindow], shape: shapely.Geometry
) -> DatasetStats:
    if not any(w.missing_tiles or w.errors for w in windows.values()):
        return s
    needed = set(tiles_for_bounds(ds.tiles, Bounds.of(shape.bounds)))
    missing = sorted({t for w in windows.values() for t in w.missing_tiles} & needed)
    errors = sorted({m for w in windows.values() for t, m in w.errors.items() if t in needed})
    if not missing and not errors:
        return s
    return dataclasses.replace(s, missing_tiles=tuple(missing), error="; ".join(errors) or None)


def _dataset_stats(
    ds: Dataset, windows: dict[str, RasterWindow], shapes: list[shapely.Geometry],
    catalog: Catalog, loss_source: dict[str, tuple[RasterWindow, RasterWindow]],
    bounds: Bounds, read: WindowReader,
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
    if ds.role is Role.TMF:
        return _tmf(ds, windows, shapes, catalog.cutoff_date.year)
    if ds.role is Role.LAND_COVER:
        return _land_cover(ds, windows, shapes, catalog.cutoff_date.year)
    if ds.role is Role.LOSS_YEAR:
        return _loss_year(ds, windows, shapes, catalog.cutoff_date)
    raise ConfigError(f"dataset {ds.id}: role {ds.role.value} is not supported yet; disable it")


def _ha(m2: float) -> float:
    return m2 / 10_000.0


def _forest_loss(
    ds: Dataset, windows: dict[str, RasterWindow], shapes: list[shapely.Geometry], cutoff_year: int
) -> list[DatasetStats]:
    tc, ly = windows["treecover2000"], windows["lossyear"]
    cells = _cells(tc, shapes)
    threshold = int(ds.encoding.get("treecover_threshold", 10))
    base = int(ds.encoding.get("loss_year_base", 2000))
    first_code = cutoff_year + 1 - base  # 21 for a 2020 cut-off
    r, c = cells.rows, cells.cols
    tcv = tc.data[r, c].astype(np.int64)
    lyv = ly.data[r, c].astype(np.int64)
    nd = tc.nodata[r, c] | ly.nodata[r, c]
    forest2000 = (tcv >= threshold) & ~nd
    lost_before = (lyv >= 1) & (lyv < first_code)
    after = forest2000 & (lyv >= first_code)
    stats = _loss_stats(ds, cells, nd, forest2000 & ~lost_before, after, lyv, base)
    # Disturbance up to the cut-off (Whisp's indicator 3): any loss pixel, whatever its cover.
    before = cells.total(lost_before & ~nd)
    return [dataclasses.replace(s, loss_before_cutoff_ha=_ha(float(before[i])))
            for i, s in enumerate(stats)]  # fmt: skip


def _forest_2020(
    ds: Dataset, forest: RasterWindow, lossyear: RasterWindow, shapes: list[shapely.Geometry],
    catalog: Catalog,
) -> list[DatasetStats]:  # fmt: skip
    """Forest 2020 from a forest map; loss after the cut-off from the loss layer it names,
    sampled at the forest map's cell centres (the map has no loss of its own)."""
    cells = _cells(forest, shapes)
    values = [int(v) for v in ds.encoding.get("forest_values", [1])]
    src = catalog.get(str(ds.encoding.get("loss_from")))
    base = int(src.encoding.get("loss_year_base", 2000))
    first_code = catalog.cutoff_date.year + 1 - base
    t, lt = forest.transform, lossyear.transform
    r, c = cells.rows, cells.cols
    nd = forest.nodata[r, c]
    is_forest = np.isin(forest.data[r, c], values) & ~nd
    # Cell centres of the forest map, located on the loss layer's grid.
    lcol = _coarse_index(c, t.c, t.a, lt.c, lt.a)
    lrow = _coarse_index(r, -t.f, -t.e, -lt.f, -lt.e)
    h, w = lossyear.data.shape
    inside = (lrow >= 0) & (lrow < h) & (lcol >= 0) & (lcol < w)
    code = np.zeros(len(r), np.int64)
    code[inside] = lossyear.data[lrow[inside], lcol[inside]]
    loss_nd = np.ones(len(r), bool)
    loss_nd[inside] = lossyear.nodata[lrow[inside], lcol[inside]]
    after = is_forest & (code >= first_code) & ~loss_nd
    return _loss_stats(ds, cells, nd, is_forest, after, code, base)


def _coarse_index(
    fine: NDArray[np.intp], fine_origin: float, fine_px: float, coarse_origin: float,
    coarse_px: float,
) -> NDArray[np.intp]:  # fmt: skip
    """Index in a coarse window of the cell holding each fine cell's centre, in exact integers.

    Both grids are anchored at 0° (as the products' tiles are), so with global indices and the
    pixel ratio as a fraction the floor is exact: a centre exactly on a coarse cell edge (one
    JRC column in five on Hansen's grid) always goes to the same side, whatever the window.
    """
    ratio = Fraction(coarse_px / fine_px).limit_denominator(1000)  # 0.00025 / 0.0001 = 5/2
    g_fine = fine + round(fine_origin / fine_px)
    g_coarse = ((2 * g_fine + 1) * ratio.denominator) // (2 * ratio.numerator)
    return np.asarray(g_coarse - round(coarse_origin / coarse_px), dtype=np.intp)


def _loss_stats(
    ds: Dataset, cells: _Cells, nodata: NDArray[np.bool_], forest_2020: NDArray[np.bool_],
    after: NDArray[np.bool_], codes: NDArray[np.int64], base: int,
) -> list[DatasetStats]:  # fmt: skip
    """Per plot: area, nodata share, forest 2020, loss after the cut-off, and loss by year."""
    total = cells.total()
    share = _share(cells.total(nodata), total)
    forest = cells.total(forest_2020)
    loss = cells.total(after)
    years = cells.by_code(after, codes)
    return [
        DatasetStats(
            ds.id, ds.version, _ha(float(total[i])), float(share[i]),
            forest_2020_ha=_ha(float(forest[i])),
            loss_after_cutoff_ha=_ha(float(loss[i])),
            loss_by_year=tuple((base + code, _ha(m2)) for code, m2 in years[i]),
        )
        for i in range(cells.n)
    ]  # fmt: skip


def _tmf(
    ds: Dataset, windows: dict[str, RasterWindow], shapes: list[shapely.Geometry], cutoff_year: int
) -> list[DatasetStats]:
    """JRC TMF: deforestation after the cut-off (its year), any deforestation or degradation up
    to the cut-off (a disturbance), and the transition map's plantation classes not deforested
    since (a commodity in 2020, as Whisp's TMF_plant). TMF maps no "forest 2020" of its own
    here: the forest maps answer that."""
    dyw, dgw, trw = (
        windows["deforestation_year"],
        windows["degradation_year"],
        windows["transition"],
    )
    cells = _cells(dyw, shapes)
    r, c = cells.rows, cells.cols
    dy = dyw.data[r, c].astype(np.int64)
    dg = dgw.data[r, c].astype(np.int64)
    tr = trw.data[r, c].astype(np.int64)
    nd = dyw.outside[r, c] | dgw.outside[r, c] | trw.outside[r, c]
    first = int(ds.encoding.get("first_year", 1982))
    plantations = [int(v) for v in ds.encoding.get("plantation_classes", [81, 82, 83, 84, 85, 86])]
    after = (dy > cutoff_year) & ~nd
    before = (((dy >= first) & (dy <= cutoff_year)) | ((dg >= first) & (dg <= cutoff_year))) & ~nd
    planted = np.isin(tr, plantations) & ~after & ~nd
    stats = _loss_stats(ds, cells, nd, np.zeros_like(nd), after, dy, 0)
    before_m2, planted_m2 = cells.total(before), cells.total(planted)
    return [
        dataclasses.replace(s, forest_2020_ha=None, loss_before_cutoff_ha=_ha(float(before_m2[i])),
                            commodity_2020_ha=_ha(float(planted_m2[i])))
        for i, s in enumerate(stats)
    ]  # fmt: skip


def alert_days(
    v: NDArray[np.int64], encoding: dict[str, object], origin: dt.date
) -> NDArray[np.int64]:
    """Days since `origin` of each alert value (0 where there is none), per the encoding:

    - "days" (GFW's date_conf; GLAD-S2 native with no divisor): confidence x divisor + days
      since the encoding's date_origin;
    - "yydoy" (RADD native): 21001 = 1 January 2021, day of year after the year's two digits.
    """
    divisor = int(str(encoding.get("confidence_divisor", 10000)))
    raw = v % divisor if divisor > 0 else v
    if str(encoding.get("date_format", "days")) != "yydoy":
        return np.where(v > 0, raw, 0)
    years = (raw // 1000 + 30).astype("datetime64[Y]")  # 30 = 2000 - 1970
    day = years.astype("datetime64[D]") + (raw % 1000 - 1).astype("timedelta64[D]")
    days = (day - np.datetime64(origin, "D")).astype(np.int64)
    return np.where(v > 0, days, 0)


def _alerts(
    ds: Dataset, alerts: RasterWindow, shapes: list[shapely.Geometry], cutoff: dt.date
) -> list[DatasetStats]:
    cells = _cells(alerts, shapes)
    origin = dt.date.fromisoformat(str(ds.encoding.get("date_origin", "2014-12-31")))
    first_day = (cutoff - origin).days + 1
    r, c = cells.rows, cells.cols
    v = alerts.data[r, c].astype(np.int64)
    # Value 0 is "no alert", not "no data": alert layers cover everything they monitor, so only
    # cells no file covered are missing.
    days = alert_days(v, ds.encoding, origin)
    after = (v > 0) & (days >= first_day)
    total = cells.total()
    missing = _share(cells.total(alerts.outside[r, c]), total)
    count = np.bincount(cells.owner[after], minlength=len(shapes))
    area = cells.total(after)
    latest = np.full(len(shapes), -1, np.int64)
    np.maximum.at(latest, cells.owner[after], days[after])
    divisor = int(ds.encoding.get("confidence_divisor", 10000))
    confidence = np.zeros(len(shapes), np.int64)
    if divisor > 0:
        np.maximum.at(confidence, cells.owner[after], v[after] // divisor)
    return [
        DatasetStats(
            ds.id, ds.version, _ha(float(total[i])), float(missing[i]),
            alert_count=int(count[i]), alert_area_ha=_ha(float(area[i])),
            alert_latest=(origin + dt.timedelta(days=int(latest[i]))).isoformat()
            if latest[i] >= 0 else None,
            alert_confidence=int(confidence[i]) or None,
        )
        for i in range(len(shapes))
    ]  # fmt: skip


def _land_cover(
    ds: Dataset, windows: dict[str, RasterWindow], shapes: list[shapely.Geometry], cutoff_year: int
) -> list[DatasetStats]:
    """Hectares per land-cover class; the tree-cover classes count for Whisp's indicator 1 only
    on a map of the cut-off year (WorldCover 2020, not 2021)."""
    lc = windows["map"]
    cells = _cells(lc, shapes)
    r, c = cells.rows, cells.cols
    nd = lc.nodata[r, c]
    codes = lc.data[r, c].astype(np.int64)
    total = cells.total()
    share = _share(cells.total(nd), total)
    by_class = cells.by_code(~nd, codes)
    trees = [int(v) for v in ds.encoding.get("tree_classes", [10])]
    tree_m2 = cells.total(np.isin(codes, trees) & ~nd)
    of_cutoff = int(ds.encoding.get("year", 0)) == cutoff_year
    return [
        DatasetStats(
            ds.id, ds.version, _ha(float(total[i])), float(share[i]),
            land_cover=tuple((code, _ha(m2)) for code, m2 in by_class[i]),
            tree_cover_2020_ha=_ha(float(tree_m2[i])) if of_cutoff else None,
        )
        for i in range(cells.n)
    ]  # fmt: skip


def _loss_year(
    ds: Dataset, windows: dict[str, RasterWindow], shapes: list[shapely.Geometry],
    cutoff: dt.date,
) -> list[DatasetStats]:  # fmt: skip
    """Forest loss mapped by the year it happened (MINAM GeoBosques): a layer of years (value =
    year_base + code) and/or yearly layers (any value = that layer's year). Loss after the
    cut-off counts as loss in 2020 forest (the map only maps loss of forest); with
    `as_alerts`, as alerts (early warnings: a review, never "detected" on their own)."""
    first = next(iter(windows.values()))
    cells = _cells(first, shapes)
    r, c = cells.rows, cells.cols
    base = int(ds.encoding.get("year_base", 0))
    year = np.zeros(len(r), np.int64)
    outside = np.zeros(len(r), bool)
    for name, w in windows.items():
        v = w.data[r, c].astype(np.int64)
        found = (v > 0) & ~w.nodata[r, c]
        fixed = ds.layers[name].year
        year = np.maximum(year, np.where(found, fixed if fixed is not None else base + v, 0))
        outside |= w.outside[r, c]
    # What a file shows counts even where another year's file is missing (that is nodata).
    after = year > cutoff.year
    before = (year > 0) & (year <= cutoff.year)
    stats = _loss_stats(ds, cells, outside, np.zeros_like(outside), after, year, 0)
    before_m2 = cells.total(before)
    if not ds.encoding.get("as_alerts", False):
        return [dataclasses.replace(s, forest_2020_ha=None,
                                    loss_before_cutoff_ha=_ha(float(before_m2[i])))
                for i, s in enumerate(stats)]  # fmt: skip
    count = np.bincount(cells.owner[after], minlength=cells.n)
    latest = np.zeros(cells.n, np.int64)
    np.maximum.at(latest, cells.owner[after], year[after])
    return [
        dataclasses.replace(
            s, forest_2020_ha=None, loss_after_cutoff_ha=None, loss_by_year=(),
            loss_before_cutoff_ha=_ha(float(before_m2[i])), alert_count=int(count[i]),
            alert_area_ha=float(sum(ha for _, ha in s.loss_by_year)),
            # Yearly archives date an alert by its year only (ISO 8601 allows "2023").
            alert_latest=str(latest[i]) if latest[i] else None,
        )
        for i, s in enumerate(stats)
    ]  # fmt: skip
