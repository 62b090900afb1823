"""Generate the synthetic forest rasters in sample_data/ (deterministic, fixed seed).

Run with `.venv/bin/python scripts/make_sample_rasters.py` after scripts/make_sample_plots.py.
It writes small clips of the products in config/datasets.yaml under their real file names, data
types, nodata values, encodings and pixel grids, around the two regions of the sample
cooperative (sample_plots/cooperativa.geojson), plus sample_data/README.md with the verdict every
plot must get. The pixel values are invented: every file says so in its GDAL metadata.

The landscape: a smooth background of forest blobs, old and recent clearings and alerts, with
farmland around the plots; on top of it each analysed plot is painted with its designed values
(plot shape plus a 60 m margin, i.e. about two Hansen pixels), so its verdict never depends on
sub-pixel details. At the end the script measures every plot again from the written files (exact
pixel coverage x true pixel area on the WGS84 ellipsoid, as the analysis does) and fails unless
each designed verdict holds with every threshold halved and doubled.

The same seed always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import rasterio
import shapely
import shapely.affinity
from numpy.typing import NDArray
from rasterio.features import rasterize
from rasterio.transform import Affine
from shapely.geometry.base import BaseGeometry

from eudr_check.datasets.catalog import Catalog, VerdictPolicy, load_catalog
from eudr_check.engine.plan import GEOMETRY_ERRORS
from eudr_check.findings import Severity
from eudr_check.intake import read_plots
from eudr_check.models import DatasetStats
from eudr_check.rules import validate
from eudr_check.verdict import decide

ROOT = Path(__file__).resolve().parents[1]
PLOTS = ROOT / "sample_plots" / "cooperativa.geojson"
OUT = ROOT / "sample_data"
SEED = 20201231
GEOD = pyproj.Geod(ellps="WGS84")

HANSEN_PX = 0.00025  # Hansen GFC: 1/4000°
FINE_PX = 0.0001  # JRC GFC2020 and GFW alerts: 1/10000°
COARSE_PX = 0.0005  # both grids nest in it: the background is drawn at this size, then upsampled
PAINT_MARGIN_M = 60.0  # a plot's designed values reach this far beyond it (~2 Hansen pixels)
TREECOVER_FOREST = 10  # catalog's treecover_threshold
ALERT_ORIGIN = dt.date(2014, 12, 31)  # GFW: value = confidence x 10000 + days since this date
CUTOFF = dt.date(2020, 12, 31)
LATEST = dt.date(2025, 6, 30)  # newest alert date in the synthetic "latest" alert tiles
FREE, REVIEW, DETECTED, UNDETERMINED = (
    "deforestation_free",
    "needs_review",
    "deforestation_detected",
    "undetermined",
)
CONFIDENCE = {2: "low", 3: "high", 4: "highest"}

rng = np.random.default_rng(SEED)
U8, U16 = np.uint8, np.uint16
Mask = NDArray[np.bool_]


def alert_value(date: dt.date, confidence: int) -> int:
    return confidence * 10000 + (date - ALERT_ORIGIN).days


def alert_label(date: dt.date, confidence: int) -> str:
    return f"{alert_value(date, confidence)} ({date.isoformat()}, {CONFIDENCE[confidence]})"


# --------------------------------------------------------------------------------------------
# Regions and pixel grids
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    name: str
    hansen_tile: str  # Hansen scheme (also GFW alerts): north-west corner, 00N_080W
    jrc_tile: str  # JRC scheme: N0_W80
    tile_top: int
    tile_left: int
    utm_epsg: int  # metric work (buffers, cuts) in the region's UTM zone
    west: float
    south: float
    east: float
    north: float


# The sample cooperative's boxes plus a 0.02° margin; every edge falls on the 0.0005° grid.
REGIONS = (
    Region("Cajamarca", "00N_080W", "N0_W80", 0, -80, 32717, -78.95, -5.70, -78.66, -5.31),
    Region("Cusco", "10S_080W", "S10_W80", -10, -80, 32718, -72.73, -12.98, -72.53, -12.61),
)


@dataclass(frozen=True)
class Grid:
    """A region's window of a product grid, aligned to whole pixels from the 10° tile corner."""

    region: Region
    px: float

    @property
    def col0(self) -> int:
        return _whole((self.region.west - self.region.tile_left) / self.px)

    @property
    def row0(self) -> int:
        return _whole((self.region.tile_top - self.region.north) / self.px)

    @property
    def shape(self) -> tuple[int, int]:
        r = self.region
        return _whole((r.north - r.south) / self.px), _whole((r.east - r.west) / self.px)

    @property
    def transform(self) -> Affine:
        r = self.region
        # k whole pixels from the tile corner, rounded to the nearest double of the decimal.
        x0 = round(r.tile_left + self.col0 * self.px, 9)
        y0 = round(r.tile_top - self.row0 * self.px, 9)
        return Affine(self.px, 0.0, x0, 0.0, -self.px, y0)

    def mask(self, geom: BaseGeometry | None) -> Mask:
        """Cells whose centre lies in the shape (lon/lat)."""
        if geom is None or geom.is_empty:
            return np.zeros(self.shape, bool)
        burnt = rasterize([(geom, 1)], out_shape=self.shape, transform=self.transform, dtype=U8)
        return burnt.astype(bool)

    def index(self, lon: float, lat: float) -> tuple[int, int]:
        col, row = ~self.transform @ (lon, lat)
        return math.floor(row), math.floor(col)

    @cached_property
    def row_area_ha(self) -> NDArray[np.float64]:
        """True area of one cell of each row on the WGS84 ellipsoid."""
        top = self.transform.f
        out = np.empty(self.shape[0])
        for i in range(self.shape[0]):
            y0, y1 = top - i * self.px, top - (i + 1) * self.px
            area, _ = GEOD.polygon_area_perimeter([0, self.px, self.px, 0], [y1, y1, y0, y0])
            out[i] = abs(area) / 1e4
        return out


def _whole(x: float) -> int:
    n = round(x)
    assert abs(x - n) < 1e-6, f"{x} is not a whole number of pixels"
    return n


def smooth_noise(shape: tuple[int, int], sigma: float) -> NDArray[np.float64]:
    """White noise low-pass filtered in the frequency domain: smooth blobs of ~sigma cells."""
    noise = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    kernel = np.exp(-2 * math.pi**2 * sigma**2 * (fx**2 + fy**2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * kernel, s=shape)
    return (field - field.mean()) / field.std()


def upsample(a: NDArray[np.float64], factor: int) -> NDArray[np.float32]:
    """Bilinear resampling of a coarse field onto a grid `factor` times finer."""

    def axis(n: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        x = (np.arange(n * factor) + 0.5) / factor - 0.5
        i = np.clip(np.floor(x).astype(np.int64), 0, n - 2)
        return i, np.clip(x - i, 0.0, 1.0)

    (iy, fy), (ix, fx) = axis(a.shape[0]), axis(a.shape[1])
    fy, fx = fy[:, None], fx[None, :]
    top = a[iy][:, ix] * (1 - fx) + a[iy][:, ix + 1] * fx
    bottom = a[iy + 1][:, ix] * (1 - fx) + a[iy + 1][:, ix + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


# --------------------------------------------------------------------------------------------
# The plots, as the analysis sees them after `validate --fix`
# --------------------------------------------------------------------------------------------
@dataclass
class Plot:
    key: str  # plot_id; "SIG-020 (#1)" when an ID repeats, numbered in file order
    plot_id: str
    commodity: str
    shape: BaseGeometry | None  # analysed shape in lon/lat; a point is its circle of Area
    errors: tuple[str, ...]  # error codes left after --fix
    notes: tuple[tuple[str, str], ...]  # (code, severity) of warnings and repairs
    region: Region | None


def load_plots(policy: VerdictPolicy) -> list[Plot]:
    report = validate(read_plots(PLOTS), fix=True)
    rows = report.plots
    by_row: dict[tuple[str, int], list[tuple[str, Severity]]] = {}
    for f in report.findings:
        if f.plot_id is not None and f.source_index is not None:
            by_row.setdefault((f.plot_id, f.source_index), []).append((f.code.value, f.severity))
    counts = rows["plot_id"].value_counts()
    seen: dict[str, int] = {}
    plots = []
    for row in rows.itertuples():
        pid = str(row.plot_id)
        seen[pid] = seen.get(pid, 0) + 1
        key = f"{pid} (#{seen[pid]})" if counts[pid] > 1 else pid
        found = by_row.get((pid, int(row.source_index)), [])
        # Only errors that leave the shape or place unknown stop the analysis (pipeline.py);
        # a wrong country code or a duplicated ID is reported but the land is still checked.
        errors = tuple(c for c, s in found if s is Severity.ERROR and c in GEOMETRY_ERRORS)
        notes = tuple((c, s.value) for c, s in found if c not in errors)
        geom = row.geometry
        if geom is not None and geom.geom_type == "Point" and abs(geom.y) <= 90:
            area = row.declared_area_ha
            ha = area if isinstance(area, float) and area > 0 else policy.point_area_ha
            geom = circle(geom.x, geom.y, math.sqrt(ha * 1e4 / math.pi))
        region = next((r for r in REGIONS if geom is not None and _inside(geom, r)), None)
        plots.append(Plot(key, pid, str(row.commodity), geom, errors, notes, region))
    return plots


def circle(lon: float, lat: float, radius_m: float) -> BaseGeometry:
    """A circle of true radius on the ground, drawn in a local azimuthal equidistant plane."""
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84")
    back = pyproj.Transformer.from_crs(aeqd, 4326, always_xy=True)
    disc = shapely.Point(0, 0).buffer(radius_m, quad_segs=32)
    return shapely.transform(disc, back.transform, interleaved=False)


def _inside(geom: BaseGeometry, r: Region) -> bool:
    return bool(shapely.box(r.west, r.south, r.east, r.north).contains(geom))


# --------------------------------------------------------------------------------------------
# The canvas of one region: four layers and the tools to paint them
# --------------------------------------------------------------------------------------------
class Canvas:
    def __init__(self, region: Region, plots: list[Plot]) -> None:
        self.region = region
        self.hansen = Grid(region, HANSEN_PX)
        self.fine = Grid(region, FINE_PX)
        self.treecover = np.zeros(self.hansen.shape, U8)
        self.lossyear = np.zeros(self.hansen.shape, U8)
        self.jrc = np.zeros(self.fine.shape, U8)
        self.alerts = np.zeros(self.fine.shape, U16)
        self.plots = [p for p in plots if p.region == region and p.shape is not None]
        to_m = pyproj.Transformer.from_crs(4326, region.utm_epsg, always_xy=True)
        to_ll = pyproj.Transformer.from_crs(region.utm_epsg, 4326, always_xy=True)
        self.to_m: Callable[[BaseGeometry], BaseGeometry] = lambda g: shapely.transform(
            g, to_m.transform, interleaved=False
        )
        self.to_ll: Callable[[BaseGeometry], BaseGeometry] = lambda g: shapely.transform(
            g, to_ll.transform, interleaved=False
        )
        self._to_m_xy = to_m
        # Canopy texture for painted forest plots: values lo..hi vary smoothly across a plot.
        coarse = Grid(region, COARSE_PX).shape
        texture = 1 / (1 + np.exp(-1.5 * smooth_noise(coarse, sigma=3.0)))
        self.texture_h = upsample(texture, 2)

    # -- metric helpers (UTM) ----------------------------------------------------------------
    def metric(self, p: Plot) -> BaseGeometry:
        assert p.shape is not None
        return self.to_m(p.shape)

    def area(self, p: Plot) -> BaseGeometry:
        """Where a plot's designed values go: its shape plus PAINT_MARGIN_M."""
        return self.to_ll(self.metric(p).buffer(PAINT_MARGIN_M))

    def part(self, p: Plot, side: str, start: float, end: float) -> BaseGeometry:
        """The slice of a plot's paint area between two fractions of its extent from a side.

        0 and 1 reach past the plot, so a slice from 0 (or to 1) includes the margin too.
        """
        minx, miny, maxx, maxy = self.metric(p).bounds
        span = {"west": (minx, maxx), "east": (maxx, minx), "south": (miny, maxy)}
        span["north"] = (maxy, miny)
        lo_edge, hi_edge = span[side]
        far = 10 * PAINT_MARGIN_M * (1 if hi_edge > lo_edge else -1)
        a = lo_edge - far if start == 0 else lo_edge + start * (hi_edge - lo_edge)
        b = hi_edge + far if end == 1 else lo_edge + end * (hi_edge - lo_edge)
        a, b = sorted((a, b))
        big = 1e7
        cut = (
            shapely.box(a, -big, b, big)
            if side in ("west", "east")
            else shapely.box(-big, a, big, b)
        )
        return self.to_ll(self.metric(p).buffer(PAINT_MARGIN_M).intersection(cut))

    def centre_disc(self, p: Plot, radius_m: float) -> BaseGeometry:
        m = self.metric(p)
        return self.to_ll(m.centroid.buffer(radius_m).intersection(m.buffer(-10)))

    def away_from_others(self, p: Plot, geom_ll: BaseGeometry, gap_m: float = 120) -> BaseGeometry:
        """A shape with every other plot (plus gap_m) cut out: nodata must hit one plot only."""
        others = [self.metric(o).buffer(gap_m) for o in self.plots if o is not p]
        return self.to_ll(self.to_m(geom_ll).difference(shapely.union_all(others)))

    # -- painting -------------------------------------------------------------------------------
    def paint(
        self,
        geom: BaseGeometry,
        *,
        treecover: int | tuple[int, int] | None = None,
        lossyear: int | None = None,
        jrc: int | None = None,
        alert: int | None = None,
    ) -> None:
        if treecover is not None or lossyear is not None:
            m = self.hansen.mask(geom)
            if isinstance(treecover, tuple):
                lo, hi = treecover
                self.treecover[m] = np.round(lo + (hi - lo) * self.texture_h[m]).astype(U8)
            elif treecover is not None:
                self.treecover[m] = treecover
            if lossyear is not None:
                self.lossyear[m] = lossyear
        if jrc is not None or alert is not None:
            m = self.fine.mask(geom)
            if jrc is not None:
                self.jrc[m] = jrc
            if alert is not None:
                self.alerts[m] = alert

    def lossyear_at_fine(self) -> NDArray[np.uint8]:
        """Hansen lossyear under each JRC/GFW cell centre (the grids share their origin)."""
        rows = np.floor((np.arange(self.fine.shape[0]) + 0.5) * FINE_PX / HANSEN_PX).astype(int)
        cols = np.floor((np.arange(self.fine.shape[1]) + 0.5) * FINE_PX / HANSEN_PX).astype(int)
        return self.lossyear[rows][:, cols]

    # -- the background landscape ----------------------------------------------------------
    def background(self, big: Plot | None) -> None:
        coarse = Grid(self.region, COARSE_PX)
        # Forest on the hills (a broad trend) broken into stands (finer blobs): ~45 % forest.
        field = 0.8 * smooth_noise(coarse.shape, 25.0) + 0.6 * smooth_noise(coarse.shape, 6.0)
        # Closed canopy (97 %) and open land (0 %) as plateaus, smooth edges between them.
        canopy = np.clip(115 / (1 + np.exp(-5.0 * (field - 0.15))) - 8, 0, 97)
        # Farmland around the plots: no trees within 60 m, full landscape beyond 260 m.
        farm = [self.metric(p) for p in self.plots if p is not big]
        near = self._distance_m(coarse, farm, 400.0)
        ramp = np.clip((near - 60.0) / 200.0, 0.0, 1.0)
        ramp = ramp * ramp * (3 - 2 * ramp)
        canopy *= ramp
        self.treecover[:] = np.clip(np.round(upsample(canopy, 2)), 0, 100).astype(U8)
        self.jrc[:] = upsample(canopy, 5) >= 30  # JRC maps closed forest at 10 m

        # Clearings: mostly 2001-2020 (not forest in 2020), a quarter 2021-2024. None inside
        # the 620 ha SIG-022, which keeps exactly its designed clearing.
        keep_out = self.fine.mask(self.area(big)) if big is not None else None

        def clear_of_big(patch: BaseGeometry) -> bool:
            return big is None or self.to_m(patch).distance(self.metric(big)) >= 150

        free_cells = np.argwhere((ramp >= 1.0) & (canopy >= 50))
        picks = free_cells[rng.choice(len(free_cells), len(free_cells) // 800 + 40, replace=False)]
        for cell in picks:
            lon, lat = coarse.transform @ (cell[1] + 0.5, cell[0] + 0.5)
            patch = self._ellipse(lon, lat, rng.uniform(30, 180), rng.uniform(25, 90))
            if not clear_of_big(patch):
                continue
            recent = rng.uniform() < 0.25
            year = int(rng.integers(21, 25) if recent else rng.integers(1, 21))
            m = self.hansen.mask(patch) & (self.treecover >= TREECOVER_FOREST)
            self.lossyear[m & (self.lossyear == 0)] = year
            if year >= 16:  # alerts exist from 2015 on (GLAD-L), denser since 2019
                start = dt.date(2000 + year, 1, 1) + dt.timedelta(int(rng.integers(0, 300)))
                self._alert_patch(patch, start)
        old = self.lossyear_at_fine()
        self.jrc[(old >= 1) & (old <= 20)] = 0  # cleared before 2021: not forest in 2020

        # Fresh 2025 alerts, newer than GFC-2024 knows, and scattered low-confidence ones.
        for cell in free_cells[rng.choice(len(free_cells), 4, replace=False)]:
            lon, lat = coarse.transform @ (cell[1] + 0.5, cell[0] + 0.5)
            when = dt.date(2025, 1, 10) + dt.timedelta(int(rng.integers(0, 160)))
            patch = self._ellipse(lon, lat, rng.uniform(20, 50), 20)
            if clear_of_big(patch):
                self._alert_patch(patch, when)
        first = dt.date(2019, 1, 1)
        for cell in free_cells[rng.choice(len(free_cells), 120, replace=False)]:
            r, c = cell * 5 + rng.integers(0, 5, 2)
            when = first + dt.timedelta(int(rng.integers(0, (LATEST - first).days)))
            if keep_out is None or not keep_out[r, c]:
                self.alerts[r, c] = alert_value(when, 2)

    def _alert_patch(self, patch: BaseGeometry, first: dt.date) -> None:
        m = self.fine.mask(patch)
        n = int(m.sum())
        days = (first - ALERT_ORIGIN).days + rng.integers(0, 45, n)
        days = np.minimum(days, (LATEST - ALERT_ORIGIN).days)
        conf = rng.choice([2, 3, 4], n, p=[0.3, 0.4, 0.3])
        self.alerts[m] = (conf * 10000 + days).astype(U16)

    def _ellipse(self, lon: float, lat: float, a_m: float, b_m: float) -> BaseGeometry:
        x, y = self._to_m_xy.transform(lon, lat)
        unit = shapely.Point(0, 0).buffer(1.0, quad_segs=16)
        e = shapely.affinity.scale(unit, a_m, b_m)
        e = shapely.affinity.rotate(e, float(rng.uniform(0, 180)))
        return self.to_ll(shapely.affinity.translate(e, x, y))

    def _distance_m(
        self, grid: Grid, shapes: list[BaseGeometry], cap: float
    ) -> NDArray[np.float64]:
        """Distance from each cell centre to the nearest shape, capped (metres)."""
        rows, cols = np.indices(grid.shape)
        lon, lat = grid.transform @ (cols.ravel() + 0.5, rows.ravel() + 0.5)
        x, y = self._to_m_xy.transform(lon, lat)
        out = np.full(x.size, cap)
        if shapes:
            tree = shapely.STRtree(shapes)
            (pts, _), dist = tree.query_nearest(
                shapely.points(x, y), max_distance=cap, return_distance=True
            )
            np.minimum.at(out, pts, dist)
        return out.reshape(grid.shape)


# --------------------------------------------------------------------------------------------
# Designs: what each analysed plot shows, and the verdict that follows
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    verdict: str
    why_es: str
    why_en: str  # ends with the main reason codes in backticks (eudr_check.models.Reason)
    treecover2000: str  # the values a plot's pixels take ("a–b" ranges, "," between items)
    lossyear: str
    jrc: str
    alerts: str
    paint: Callable[[Canvas, Plot], None]


def _open(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=0, lossyear=0, jrc=0, alert=0)


def _sparse(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(3, 7), lossyear=0, jrc=0, alert=0)


def _old_loss(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(70, 85), lossyear=15, jrc=0, alert=0)


ALERT_2020 = (dt.date(2020, 10, 14), 3)


def _loss_2020(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(65, 80), lossyear=20, jrc=0, alert=0)
    c.paint(c.part(p, "west", 0, 0.5), alert=alert_value(*ALERT_2020))


def _shade(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(35, 70), lossyear=0, jrc=1, alert=0)


def _shade_hansen(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(25, 45), lossyear=0, jrc=0, alert=0)


def _shade_jrc(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(4, 8), lossyear=0, jrc=1, alert=0)


def _small_loss(c: Canvas, p: Plot) -> None:
    _shade(c, p)
    # One Hansen pixel (~0.08 ha) cleared in 2022, well inside the plot.
    centre = p.shape.centroid if p.shape is not None else None
    assert centre is not None
    row, col = c.hansen.index(centre.x, centre.y)
    c.lossyear[row, col] = 22


ALERT_2024 = (dt.date(2024, 8, 15), 3)


def _alert_only(c: Canvas, p: Plot) -> None:
    _open(c, p)
    c.paint(c.centre_disc(p, 25), alert=alert_value(*ALERT_2024))


ALERT_2022 = (dt.date(2022, 3, 10), 4)


def _clearing_2022(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(75, 90), lossyear=0, jrc=1, alert=0)
    c.paint(c.part(p, "west", 0, 0.55), lossyear=22, alert=alert_value(*ALERT_2022))


BAND_ALERTS = ((dt.date(2021, 6, 2), 3), (dt.date(2022, 7, 19), 3), (dt.date(2023, 5, 8), 4))


def _loss_by_year(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(80, 92), lossyear=0, jrc=1, alert=0)
    for i, (year, when) in enumerate(zip((21, 22, 23), BAND_ALERTS, strict=True)):
        band = c.part(p, "west", 0.25 * i, 0.25 * (i + 1))
        c.paint(band, lossyear=year, alert=alert_value(*when))


ALERT_2023 = (dt.date(2023, 9, 12), 4)


def _hansen_only_loss(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(55, 70), lossyear=0, jrc=0, alert=0)
    c.paint(c.part(p, "east", 0, 0.6), lossyear=23, alert=alert_value(*ALERT_2023))


ALERT_2021 = (dt.date(2021, 8, 23), 3)


def _clearing_2021(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(70, 85), lossyear=0, jrc=1, alert=0)
    c.paint(c.part(p, "west", 0, 0.7), lossyear=21, alert=alert_value(*ALERT_2021))


ALERT_2021B = (dt.date(2021, 4, 30), 3)


def _loss_with_jrc_gap(c: Canvas, p: Plot) -> None:
    c.paint(c.area(p), treecover=(78, 90), lossyear=0, jrc=1, alert=0)
    c.paint(c.part(p, "north", 0, 0.5), lossyear=21, alert=alert_value(*ALERT_2021B))
    # A haze band without JRC data over the south 35 % and beyond.
    minx, miny, maxx, maxy = c.metric(p).bounds
    haze = shapely.box(minx - 300, miny - 250, maxx + 300, miny + 0.35 * (maxy - miny))
    c.paint(c.away_from_others(p, c.to_ll(haze)), jrc=255)


def _hansen_gap(c: Canvas, p: Plot) -> None:
    _open(c, p)
    # A 80 m wide no-data stripe running NNE across the plot, as gaps in real composites do.
    m = c.metric(p)
    stripe = shapely.affinity.rotate(shapely.box(-40, -450, 40, 450), -20)
    stripe = shapely.affinity.translate(stripe, m.centroid.x, m.centroid.y)
    c.paint(c.away_from_others(p, c.to_ll(stripe)), treecover=255, lossyear=255)


def _jrc_gap(c: Canvas, p: Plot) -> None:
    _shade(c, p)
    m = c.metric(p)
    minx, miny, maxx, maxy = m.bounds
    cloud = shapely.affinity.scale(
        shapely.Point(maxx, (miny + maxy) / 2).buffer(1.0),
        0.55 * (maxx - minx),
        0.8 * (maxy - miny),
    )
    c.paint(c.away_from_others(p, c.to_ll(cloud)), jrc=255)


def _multipart_shade(c: Canvas, p: Plot) -> None:
    _open(c, p)
    # The larger of the two fields lies under shade trees.
    assert p.shape is not None
    largest = max(p.shape.geoms, key=lambda g: g.area)
    field = Plot(p.key, p.plot_id, p.commodity, largest, (), (), p.region)
    _shade(c, field)


ALERT_BIG = (dt.date(2023, 2, 20), 4)


def _big_plot(c: Canvas, p: Plot) -> None:
    # A forest stand of ~20 ha in the middle of the 620 ha "plot", with a 3 ha clearing of 2023.
    m = c.metric(p)
    centre = m.centroid
    stand = shapely.affinity.scale(centre.buffer(1.0), 300, 210)
    c.paint(c.to_ll(stand.intersection(m)), treecover=(80, 95), lossyear=0, jrc=1, alert=0)
    clearing = c.to_ll(centre.buffer(100))
    c.paint(clearing, lossyear=23, alert=alert_value(*ALERT_BIG))


def _a(date_conf: tuple[dt.date, int]) -> str:
    return f"0, {alert_label(*date_conf)}"


DESIGNS: dict[str, Design] = {
    "open": Design(
        FREE,
        "chacra sin árboles (cultivo a pleno sol o pasto): 0 % de cobertura arbórea, sin pérdida",
        "field without trees (full-sun crop or pasture): 0 % tree cover, no loss; "
        "`no_forest_no_loss`",
        "0", "0", "0", "0", _open,
    ),
    "sparse": Design(
        FREE,
        "árboles dispersos: cobertura 2000 de 3–7 %, bajo el umbral del 10 %; JRC sin bosque",
        "scattered trees: 2000 canopy 3–7 %, under the 10 % threshold; no JRC forest; "
        "`no_forest_no_loss`",
        "3–7", "0", "0", "0", _sparse,
    ),
    "old_loss": Design(
        FREE,
        "bosque talado en 2015 (lossyear 15), antes del corte: no era bosque en 2020",
        "forest cleared in 2015 (lossyear 15), before the cut-off: not forest in 2020; "
        "`no_forest_no_loss`",
        "70–85", "15", "0", "0", _old_loss,
    ),
    "loss_2020": Design(
        FREE,
        "talado en 2020 (lossyear 20) con alerta GFW del 14-10-2020 en la mitad oeste: "
        "ambos antes del corte del 31-12-2020",
        "cleared in 2020 (lossyear 20) with a GFW alert of 2020-10-14 on the west half: "
        "both before the 2020-12-31 cut-off; `no_forest_no_loss`",
        "65–80", "20", "0", _a(ALERT_2020), _loss_2020,
    ),
    "shade": Design(
        REVIEW,
        "cultivo bajo sombra: bosque 2020 en Hansen (35–70 %) y en JRC, sin pérdida; "
        "agroforestería probable, pide pruebas de campo",
        "shade-grown crop: forest in 2020 in Hansen (35–70 %) and JRC, no loss; likely "
        "agroforestry, needs field evidence; `forest_2020_no_loss`",
        "35–70", "0", "1", "0", _shade,
    ),
    "shade_hansen": Design(
        REVIEW,
        "sombra que solo Hansen ve (cobertura 25–45 %); JRC no la mapea como bosque",
        "shade only Hansen sees (25–45 % canopy); JRC does not map it as forest; "
        "`forest_2020_no_loss`",
        "25–45", "0", "0", "0", _shade_hansen,
    ),
    "shade_jrc": Design(
        REVIEW,
        "JRC mapea bosque en 2020; Hansen da 4–8 % en 2000 (sombra plantada después)",
        "JRC maps forest in 2020; Hansen shows 4–8 % in 2000 (shade planted since); "
        "`forest_2020_no_loss`",
        "4–8", "0", "1", "0", _shade_jrc,
    ),
    "small_loss": Design(
        REVIEW,
        "bajo sombra, con un claro de 2022 de un píxel Hansen (~0,08 ha, ~2 % de la parcela): "
        "menos de 0,5 ha y de 10 %",
        "under shade, with a 2022 clearing of one Hansen pixel (~0.08 ha, ~2 % of the plot): "
        "under 0.5 ha and 10 %; `small_loss_after_cutoff`",
        "35–70", "0, 22", "1", "0", _small_loss,
    ),
    "alert_only": Design(
        REVIEW,
        "sin bosque ni pérdida, pero con una alerta GFW del 15-08-2024 (confianza alta) "
        "en el centro",
        "no forest and no loss, but a GFW alert of 2024-08-15 (high confidence) in the middle; "
        "`alert_after_cutoff`",
        "0", "0", "0", _a(ALERT_2024), _alert_only,
    ),
    "clearing_2022": Design(
        DETECTED,
        "bosque (75–90 %, JRC bosque) talado en 2022 en el 55 % oeste (> 1 ha), con alertas "
        "GFW de marzo de 2022",
        "forest (75–90 %, JRC forest) cleared in 2022 on its west 55 % (> 1 ha), with GFW "
        "alerts of March 2022; `loss_after_cutoff`",
        "75–90", "0, 22", "1", _a(ALERT_2022), _clearing_2022,
    ),
    "loss_by_year": Design(
        DETECTED,
        "bosque talado por franjas de oeste a este: 2021, 2022 y 2023 (tres cuartos de la "
        "parcela), con sus alertas GFW",
        "forest cleared strip by strip from west to east: 2021, 2022 and 2023 (three quarters "
        "of the plot), with their GFW alerts; `loss_after_cutoff`",
        "80–92", "0, 21, 22, 23",
        "1", "0, " + ", ".join(alert_label(*a) for a in BAND_ALERTS), _loss_by_year,
    ),
    "hansen_only_loss": Design(
        DETECTED,
        "Hansen: bosque de 2000 (55–70 %) talado en 2023 en el 60 % este; JRC no lo mapea como "
        "bosque, pero basta con un conjunto de datos",
        "Hansen: 2000 forest (55–70 %) cleared in 2023 on the east 60 %; JRC does not map it as "
        "forest, but one dataset is enough; `loss_after_cutoff`",
        "55–70", "0, 23", "0", _a(ALERT_2023), _hansen_only_loss,
    ),
    "clearing_2021": Design(
        DETECTED,
        "bosque talado en 2021 en el 70 % oeste de una parcela de 1,1 ha (~0,8 ha, ~70 %)",
        "forest cleared in 2021 on the west 70 % of a 1.1 ha plot (~0.8 ha, ~70 %); "
        "`loss_after_cutoff`",
        "70–85", "0, 21", "1", _a(ALERT_2021), _clearing_2021,
    ),
    "loss_with_jrc_gap": Design(
        DETECTED,
        "bosque talado en 2021 en la mitad norte; JRC sin datos en el 35 % sur: la pérdida "
        "detectada pesa más que el dato faltante",
        "forest cleared in 2021 on the north half; JRC has no data on the south 35 %: detected "
        "loss wins over the missing data; `loss_after_cutoff`, `no_data`",
        "78–90", "0, 21", "1, 255", _a(ALERT_2021B), _loss_with_jrc_gap,
    ),
    "hansen_gap": Design(
        UNDETERMINED,
        "franja sin datos (255) en Hansen sobre ~la mitad de la parcela (> 5 %); el resto sin "
        "bosque: no se puede declarar libre",
        "a no-data stripe (255) in Hansen over ~half of the plot (> 5 %); the rest without "
        "forest: cannot be called free; `no_data`",
        "0, 255", "0, 255", "0", "0", _hansen_gap,
    ),
    "jrc_gap": Design(
        UNDETERMINED,
        "cultivo bajo sombra con una nube sin datos (255) en JRC sobre ~la mitad este de la "
        "parcela (> 5 %): la falta de datos pesa más que la revisión",
        "shade-grown crop with a no-data cloud (255) in JRC over ~the east half of the plot "
        "(> 5 %): missing data outranks review; `no_data`",
        "35–70", "0", "1, 255", "0", _jrc_gap,
    ),
    "multipart_shade": Design(
        REVIEW,
        "dos chacras a 8 km: la mayor bajo sombra (bosque 2020 sin pérdida), la otra sin árboles",
        "two fields 8 km apart: the larger under shade (forest 2020, no loss), the other "
        "without trees; `forest_2020_no_loss`",
        "0, 35–70", "0", "0, 1", "0", _multipart_shade,
    ),
    "big_plot": Design(
        DETECTED,
        "620 ha declaradas (¿una comunidad entera?): abarcan un rodal de bosque con un claro de "
        "~3 ha talado en 2023; una parcela así atrapa la pérdida de todo el cerro",
        "620 ha declared (a whole community?): they take in a forest stand with a ~3 ha "
        "clearing of 2023; a plot that size catches the loss of the whole hillside; "
        "`loss_after_cutoff`",
        "0–100", "0, 23", "0, 1", _a(ALERT_BIG), _big_plot,
    ),
}  # fmt: skip

# Which plot shows what. Coffee in Jaén (JAE) and San Ignacio (SIG), cocoa in La Convención (LCV).
ASSIGN = {
    "JAE-001": "open", "JAE-002": "shade", "JAE-003": "open", "JAE-004": "sparse",
    "JAE-005": "open", "JAE-006": "shade", "JAE-007": "open", "JAE-008": "old_loss",
    "JAE-009": "open", "JAE-010": "open", "JAE-012": "shade", "JAE-013": "sparse",
    "JAE-014": "clearing_2022", "JAE-015": "open", "JAE-017": "shade_jrc", "JAE-019": "open",
    "JAE-020": "shade", "JAE-021": "hansen_gap", "JAE-022": "open", "JAE-023": "shade",
    "JAE-024": "open", "JAE-025": "alert_only", "JAE-026": "loss_by_year",
    "JAE-027": "loss_2020", "JAE-028": "open", "JAE-029": "shade", "JAE-030": "open",
    "LCV-001": "shade", "LCV-002": "open", "LCV-003": "open", "LCV-004": "sparse",
    "LCV-005": "hansen_only_loss", "LCV-006": "shade", "LCV-007": "open",
    "LCV-009": "shade_hansen", "LCV-010": "open", "LCV-011": "loss_with_jrc_gap",
    "LCV-012": "open", "LCV-013": "open", "LCV-014": "jrc_gap", "LCV-015": "shade",
    "LCV-016": "shade", "LCV-017": "sparse", "LCV-018": "shade", "LCV-019": "open",
    "LCV-021": "clearing_2021", "LCV-022": "open",
    "SIG-002": "open", "SIG-003": "shade", "SIG-004": "open", "SIG-005": "small_loss",
    "SIG-006": "shade", "SIG-007": "sparse", "SIG-009": "shade", "SIG-010": "open",
    "SIG-011": "open", "SIG-013": "shade", "SIG-014": "multipart_shade", "SIG-015": "shade",
    "SIG-017": "open", "SIG-019": "open", "SIG-020 (#1)": "open", "SIG-021": "shade",
    "SIG-022": "big_plot", "JAE-016": "open", "LCV-020": "shade", "SIG-012": "open",
    "SIG-018": "shade", "SIG-020 (#2)": "open",
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Writing the files
# --------------------------------------------------------------------------------------------
STRIPED_HANSEN = {"tiled": False, "blockysize": 1}  # one row per strip, as the real tiles
STRIPED_JRC = {"tiled": False}  # GDAL's default strips (~8 KB), as gdal_translate clips are
TILED_GFW = {"tiled": True, "blockxsize": 256, "blockysize": 256}

PRODUCT_NOTE = {
    "hansen_gfc": "Hansen/UMD Global Forest Change",
    "jrc_gfc2020": "JRC Global Forest Cover 2020",
    "gfw_integrated_alerts": "GFW integrated deforestation alerts",
}
ENCODING_NOTE = {
    ("hansen_gfc", "treecover2000"): "uint8 canopy % in 2000 (0-100); 255 = nodata",
    ("hansen_gfc", "lossyear"): "uint8 0 = no loss, N = loss in 2000+N (1-24); 255 = nodata",
    ("jrc_gfc2020", "forest"): "uint8 1 = forest in 2020, 0 = not forest; 255 = nodata",
    ("gfw_integrated_alerts", "alerts"): (
        "uint16 confidence x 10000 + days since 2014-12-31 (2 low, 3 high, 4 highest); 0 = no alert"
    ),
}


def write(path: Path, data: NDArray[Any], grid: Grid, nodata: int, layout: dict[str, Any],
          dataset_id: str, layer: str) -> None:  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": grid.shape[1],
        "height": grid.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": "EPSG:4326",
        "transform": grid.transform,
        "nodata": nodata,
        "compress": "lzw",
        **layout,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(
            SYNTHETIC="yes",
            DESCRIPTION=(
                "Synthetic sample data for eudr_check tests and demos, NOT real "
                f"{PRODUCT_NOTE[dataset_id]} data. Invented values around the fictional sample "
                "cooperative; do not use for any real assessment."
            ),
            SOURCE_NAMING=(
                f"File name, data type, nodata, pixel grid and encoding follow the real "
                f"{PRODUCT_NOTE[dataset_id]} product ({dataset_id}, layer {layer})."
            ),
            ENCODING=ENCODING_NOTE[(dataset_id, layer)],
            GENERATOR=f"scripts/make_sample_rasters.py (seed {SEED})",
        )


def write_region(canvas: Canvas, catalog: Catalog) -> list[Path]:
    r = canvas.region
    h, f = canvas.hansen, canvas.fine
    jobs = [
        ("hansen_gfc", "treecover2000", r.hansen_tile, canvas.treecover, h, STRIPED_HANSEN),
        ("hansen_gfc", "lossyear", r.hansen_tile, canvas.lossyear, h, STRIPED_HANSEN),
        ("jrc_gfc2020", "forest", r.jrc_tile, canvas.jrc, f, STRIPED_JRC),
        ("gfw_integrated_alerts", "alerts", r.hansen_tile, canvas.alerts, f, TILED_GFW),
    ]
    written = []
    for dataset_id, layer, tile, data, grid, layout in jobs:
        ds = catalog.get(dataset_id)
        nodata = ds.layers[layer].nodata
        assert nodata is not None
        path = OUT / dataset_id / ds.file_name(layer, tile)
        write(path, data, grid, nodata, layout, dataset_id, layer)
        written.append(path)
    return written


# --------------------------------------------------------------------------------------------
# Checking the written files: every designed verdict must hold with margins
# --------------------------------------------------------------------------------------------
@dataclass
class Measured:
    verdict: str
    robust: bool
    stats: tuple[DatasetStats, ...]


def _coverage(grid: Grid, shape: BaseGeometry) -> tuple[slice, slice, NDArray[np.float64]]:
    """Window over the shape, and the exact area (ha) of each cell inside the shape."""
    t = grid.transform
    minx, miny, maxx, maxy = shape.bounds
    c0, c1 = math.floor((minx - t.c) / grid.px), math.ceil((maxx - t.c) / grid.px)
    r0, r1 = math.floor((t.f - maxy) / grid.px), math.ceil((t.f - miny) / grid.px)
    rows, cols = np.mgrid[r0:r1, c0:c1]
    x0, y0 = t.c + cols * grid.px, t.f - rows * grid.px
    cells = shapely.box(x0, y0 - grid.px, x0 + grid.px, y0)
    frac = shapely.area(shapely.intersection(cells, shape)) / grid.px**2
    return slice(r0, r1), slice(c0, c1), frac * grid.row_area_ha[r0:r1, None]


def measure(canvas: Canvas | None, p: Plot, catalog: Catalog) -> Measured:
    policy = catalog.verdict
    versions = {d.id: d.version for d in catalog.datasets}
    if p.errors:
        verdict, _ = decide([], policy, geometry_errors=p.errors)
        return Measured(verdict.value, True, ())
    if canvas is None or p.shape is None:  # outside every clip: no data at all
        stats = tuple(DatasetStats(i, versions[i], 1.0, 1.0) for i in ("hansen_gfc", "jrc_gfc2020"))
    else:
        rs, cs, w = _coverage(canvas.hansen, p.shape)
        tc, ly = canvas.treecover[rs, cs], canvas.lossyear[rs, cs]
        nod = (tc == 255) | (ly == 255)
        f2000 = (tc >= TREECOVER_FOREST) & ~nod
        lost = f2000 & (ly >= 21)
        years = tuple((2000 + y, float(w[lost & (ly == y)].sum())) for y in range(21, 25))
        hansen = DatasetStats(
            "hansen_gfc", versions["hansen_gfc"], float(w.sum()),
            float(w[nod].sum() / w.sum()),
            forest_2020_ha=float(w[f2000 & ~((ly >= 1) & (ly <= 20))].sum()),
            loss_after_cutoff_ha=float(w[lost].sum()), loss_by_year=years,
        )  # fmt: skip
        rs, cs, w = _coverage(canvas.fine, p.shape)
        v, under = canvas.jrc[rs, cs], canvas.lossyear_at_fine()[rs, cs]
        forest = v == 1
        jrc_lost = forest & (under >= 21) & (under != 255)
        jrc = DatasetStats(
            "jrc_gfc2020", versions["jrc_gfc2020"], float(w.sum()),
            float(w[v == 255].sum() / w.sum()),
            forest_2020_ha=float(w[forest].sum()), loss_after_cutoff_ha=float(w[jrc_lost].sum()),
        )  # fmt: skip
        a = canvas.alerts[rs, cs]
        recent = (a > 0) & (a % 10000 > (CUTOFF - ALERT_ORIGIN).days) & (w > 0)
        gfw = DatasetStats(
            "gfw_integrated_alerts", versions["gfw_integrated_alerts"], float(w.sum()), 0.0,
            alert_count=int(recent.sum()), alert_area_ha=float(w[recent].sum()),
        )  # fmt: skip
        stats = (hansen, jrc, gfw)
    optional = [d.id for d in catalog.enabled if d.optional]
    verdict, _ = decide(stats, policy, optional=optional)
    # Robust: the same verdict with every threshold halved, and with every threshold doubled.
    robust = all(
        decide(stats, _scaled(policy, k), optional=optional)[0] is verdict for k in (0.5, 2.0)
    )
    return Measured(verdict.value, robust, stats)


def _scaled(policy: VerdictPolicy, k: float) -> VerdictPolicy:
    return VerdictPolicy(
        undetermined_nodata_fraction=policy.undetermined_nodata_fraction * k,
        detected_loss_ha=policy.detected_loss_ha * k,
        detected_loss_fraction=policy.detected_loss_fraction * k,
        review_forest_fraction=policy.review_forest_fraction * k,
        point_area_ha=policy.point_area_ha,
    )


# --------------------------------------------------------------------------------------------
# Expected verdicts for every plot, and the README
# --------------------------------------------------------------------------------------------
@dataclass
class Expected:
    plot: Plot
    verdict: str
    why_es: str
    why_en: str
    design: str | None


SEVERITY_ES = {"warning": "advertencia", "repaired": "reparado", "error": "error"}


def expected(p: Plot) -> Expected:
    if p.errors:
        codes = ", ".join(sorted(set(p.errors)))
        return Expected(
            p, UNDETERMINED,
            f"error que --fix no repara ({codes}): no se analiza",
            f"error that --fix cannot repair ({codes}): not analysed; `geometry_error`",
            None,
        )  # fmt: skip
    if p.region is None:  # analysed, but no sample clip reaches it
        codes = ", ".join(c for c, _ in p.notes)
        return Expected(
            p, UNDETERMINED,
            f"solo advertencias ({codes}), pero queda fuera de los recortes de muestra: "
            "Hansen y JRC sin datos",
            f"only warnings ({codes}), but it lies outside the sample clips: Hansen and JRC "
            "have no data; `no_data`",
            None,
        )  # fmt: skip
    d = DESIGNS[ASSIGN[p.key]]
    # Warnings and repairs do not stop the analysis: say so before the design.
    es = "; ".join(f"{c} ({SEVERITY_ES[s]})" for c, s in p.notes)
    en = "; ".join(f"{c} ({s})" for c, s in p.notes)
    why_es = f"{es}, se analiza: {d.why_es}" if es else d.why_es
    why_en = f"{en}, analysed: {d.why_en}" if en else d.why_en
    return Expected(p, d.verdict, why_es, why_en, ASSIGN[p.key])


def size_kb(path: Path) -> str:
    return f"{path.stat().st_size / 1024:,.0f} KB"


def readme(rows: list[Expected], files: list[Path], catalog: Catalog) -> str:
    count: dict[str, int] = {}
    for e in rows:
        count[e.verdict] = count.get(e.verdict, 0) + 1
    totals = ", ".join(f"{count.get(v, 0)} `{v}`" for v in (FREE, REVIEW, DETECTED, UNDETERMINED))
    total_mb = sum(f.stat().st_size for f in files) / 1024**2
    lines = [
        "# Rásteres de ejemplo / Sample rasters",
        "",
        "> **DATOS SINTÉTICOS: NO son datos reales de Hansen/UMD GFC, JRC GFC2020 ni GFW.**",
        "> Los valores de los píxeles son inventados alrededor de la cooperativa ficticia de",
        "> `sample_plots/`. Solo los nombres de archivo, tipos de dato, valores nodata, grillas y",
        "> codificaciones copian los productos reales, para que la herramienta los lea igual.",
        "> No los use para evaluar ninguna parcela real.",
        ">",
        "> **SYNTHETIC DATA: NOT real Hansen/UMD GFC, JRC GFC2020 or GFW data.**",
        "> The pixel values are invented around the fictional cooperative of `sample_plots/`.",
        "> Only the file names, data types, nodata values, pixel grids and encodings copy the",
        "> real products, so the tool reads them the same way. Do not use them to assess any",
        "> real plot.",
        "",
        "Every file carries the GDAL metadata tags `SYNTHETIC=yes`, `DESCRIPTION`, "
        "`SOURCE_NAMING`,",
        "`ENCODING` and `GENERATOR` (see `gdalinfo`). Everything here, this README included, is",
        "written by `scripts/make_sample_rasters.py` (fixed seed, same bytes on every run); do not",
        "edit by hand: change the script and run",
        "`.venv/bin/python scripts/make_sample_rasters.py`.",
        "",
        "Use them as the data folder (`--datasets sample_data` or",
        "`EUDR_CHECK_DATASETS=sample_data`; files are looked up as",
        "`{data_dir}/{dataset_id}/{file}`, see `config/datasets.yaml`):",
        "",
        "```sh",
        ".venv/bin/eudr-check check sample_plots/cooperativa.geojson --datasets sample_data \\",
        "    --out out/check",
        "```",
        "",
        "## Files",
        "",
        f"Clips of two 10° tiles per product, {total_mb:.1f} MB in all. Each clip covers its "
        "region's box plus a 0.02° margin:",
        "",
    ]
    for r in REGIONS:
        lines.append(
            f"- {r.name}: {abs(r.north):.2f}–{abs(r.south):.2f}° S, {abs(r.east):.2f}–"
            f"{abs(r.west):.2f}° W (Hansen/GFW tile `{r.hansen_tile}`, JRC tile `{r.jrc_tile}`)."
        )
    lines += [
        "",
        "| file | type | nodata | pixel | layout | values | size |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in files:
        with rasterio.open(f) as src:
            block = src.block_shapes[0]
            tiled = src.profile.get("tiled", False)
            layout = (
                f"tiled {block[1]}×{block[0]}" if tiled else f"striped, {block[0]} row(s)/strip"
            )
            lines.append(
                f"| `{f.relative_to(OUT)}` | {src.dtypes[0]} | {src.nodata:g} | "
                f"{src.res[0]:g}° | LZW, {layout} | {src.tags()['ENCODING']} | {size_kb(f)} |"
            )
    lines += [
        "",
        "All files are GeoTIFF in EPSG:4326 whose upper-left corner lies a whole number of pixels",
        "from the 10° tile's corner, so they sit exactly on the real product grid (Hansen",
        "0.00025°, JRC and GFW 0.0001°). Hansen is striped one row per strip as the real tiles",
        "are; JRC is striped as a `gdal_translate` clip is; GFW alerts are tiled 256×256, so both",
        "layouts are exercised.",
        "",
        "## The landscape",
        "",
        "- A smooth background: forest stands on the hills (Hansen canopy up to ~97 %, JRC forest",
        "  where the canopy reaches 30 %), farmland without trees within ~60–260 m of every plot,",
        "  old clearings (lossyear 1–20, no longer forest in JRC 2020) and some recent ones",
        "  (21–24) with GFW alerts of their year, a few 2025 alert patches newer than GFC-2024,",
        "  and scattered single low-confidence alerts.",
        "- On top, each analysed plot is painted with its designed values over its shape plus a",
        "  60 m margin (about two Hansen pixels); points are painted as the circle of their",
        f"  `Area` ({catalog.verdict.point_area_ha:g} ha if none). Plots are at least 150 m apart,",
        "  so designs never mix (the two overlapping plots LCV-016/LCV-018 share one design).",
        "- The designed values put each plot well inside its verdict: the script measures every",
        "  plot again from the written files (exact pixel coverage × true pixel area) and stops",
        "  unless the verdict stays the same with every threshold of `config/datasets.yaml`",
        "  halved and doubled.",
        "- Positive loss wins over missing data elsewhere (LCV-011); missing data outranks",
        "  review (LCV-014). An alert or a loss on or before 2020-12-31 does not count",
        "  (JAE-027, JAE-008).",
        "",
        "## Expected verdict of every plot",
        "",
        "One row per feature of `sample_plots/cooperativa.geojson`, in file order, after",
        "`eudr-check validate --fix`. The repeated ID SIG-020 is numbered (#1, #2) in file order:",
        "only the second row has the `duplicate_plot_id` error, so the first is analysed. Codes in",
        "backticks at the end of *why (en)* are the main reason codes (`eudr_check.models.Reason`)",
        "the result must carry. `tests/test_sample_verdicts.py` checks this table against the",
        "pipeline.",
        "",
        f"Totals: {totals}.",
        "",
        "| plot_id | expected verdict | why (es) | why (en) |",
        "| --- | --- | --- | --- |",
    ]
    for e in rows:
        lines.append(f"| {e.plot.key} | {e.verdict} | {e.why_es} | {e.why_en} |")
    lines += [
        "",
        "## Designed pixel values",
        "",
        "The values found in each painted plot (pixel centres inside the plot; a point's circle).",
        "Items are separated by commas; `a–b` is a range; every item occurs in the plot and no",
        "other value does. GFW alert values are written with their date and confidence.",
        "`tests/test_sample_rasters.py` checks this table against the files.",
        "",
        "| plot_id | design | treecover2000 | lossyear | JRC GFC2020 | GFW alerts |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for e in rows:
        if e.design is None:
            continue
        d = DESIGNS[e.design]
        lines.append(
            f"| {e.plot.key} | {e.design} | {d.treecover2000} | {d.lossyear} | {d.jrc} | "
            f"{d.alerts} |"
        )
    lines += [
        "",
        "## Plots left uncovered",
        "",
        "Only plots inside the two boxes are covered. The far-away broken plots are not: the",
        "620 ha SIG-022 does lie inside the Cajamarca box and is covered; JAE-028 (swapped",
        "lat/lon) is covered where `--fix` puts it back; LCV-008 (latitude −95) and the plots",
        "without a usable geometry are errors anyway. Near Namballe (~4.9° S), SIG-001 (20 km",
        "into Ecuador, `outside_country` error) and SIG-008 (2 km outside, `near_border`",
        "warning) are analysed but lie outside the clips, so Hansen and JRC have no data over",
        "them → `undetermined` (`no_data`), never free.",
        "",
        "## Assumptions about the analysis",
        "",
        "- An error left after `--fix` that leaves the shape or place unknown (the geometry",
        "  codes in `eudr_check.engine.plan.GEOMETRY_ERRORS`) makes the row `undetermined` with",
        "  reason `geometry_error`; errors are keyed per row. Other errors (country, duplicate",
        "  ID or land, a point over 4 ha) are reported, but the land is still checked.",
        "- Hansen forest 2020 = treecover2000 ≥ 10 and not lossyear 1–20; loss after the cut-off",
        "  = treecover2000 ≥ 10 and lossyear ≥ 21; 255 in either layer is no data.",
        "- JRC loss = JRC forest cells whose centre falls on a Hansen pixel with lossyear ≥ 21.",
        "- GFW: an alert counts when its days since 2014-12-31 exceed 2192 (after 2020-12-31),",
        "  whatever its confidence; GFW is optional.",
        "",
        "## Credits",
        "",
        "The products whose format these files imitate: Hansen/UMD/Google/USGS/NASA Global Forest",
        "Change (CC BY 4.0); JRC Global Forest Cover 2020 (European Commission, Joint Research",
        "Centre); Global Forest Watch integrated deforestation alerts (CC BY 4.0). None of their",
        "data is contained here.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    catalog = load_catalog(ROOT / "config" / "datasets.yaml")
    plots = load_plots(catalog.verdict)
    assert {p.key for p in plots if not p.errors and p.region} == set(ASSIGN), "ASSIGN is stale"
    canvases: dict[str, Canvas] = {}
    files: list[Path] = []
    for region in REGIONS:
        c = Canvas(region, plots)
        big = next((p for p in c.plots if ASSIGN.get(p.key) == "big_plot"), None)
        c.background(big)
        for p in c.plots:
            if not p.errors:
                DESIGNS[ASSIGN[p.key]].paint(c, p)
        files += write_region(c, catalog)
        canvases[region.name] = c

    rows = [expected(p) for p in plots]
    failures = []
    for e in rows:
        p = e.plot
        got = measure(canvases[p.region.name] if p.region else None, p, catalog)
        flag = "" if got.verdict == e.verdict and got.robust else "  <-- FAILS"
        if flag:
            failures.append(p.key)
        h = next((s for s in got.stats if s.dataset_id == "hansen_gfc"), None)
        j = next((s for s in got.stats if s.dataset_id == "jrc_gfc2020"), None)
        g = next((s for s in got.stats if s.dataset_id == "gfw_integrated_alerts"), None)
        detail = ""
        if h and j:
            detail = (
                f"area {h.plot_area_ha:6.2f} ha | Hansen forest {h.forest_2020_fraction or 0:4.0%} "
                f"loss {h.loss_after_cutoff_ha or 0:5.2f} ha nodata {h.nodata_fraction:4.0%} | "
                f"JRC forest {j.forest_2020_fraction or 0:4.0%} loss "
                f"{j.loss_after_cutoff_ha or 0:5.2f} ha nodata {j.nodata_fraction:4.0%} | "
                f"alerts {g.alert_count if g else 0}"
            )
        print(f"{p.key:13} {e.verdict:23} {got.verdict:23} {detail}{flag}")
    if failures:
        raise SystemExit(f"designed verdicts not robust for: {', '.join(failures)}")

    text = readme(rows, files, catalog)
    (OUT / "README.md").write_text(re.sub(r"[ \t]+\n", "\n", text), encoding="utf-8")
    total = sum(f.stat().st_size for f in files)
    for f in files:
        print(f"{size_kb(f):>9}  {f.relative_to(ROOT)}")
    print(f"{total / 1024**2:.2f} MB in {len(files)} files; README.md written")


if __name__ == "__main__":
    main()
