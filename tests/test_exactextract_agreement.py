"""Our Hansen statistics against an independent computation, on 1,000 random plots.

The independent side shares no code with ours: exactextract (C++, its own clipping algorithm)
gives each plot's cells and coverage fractions, pyproj's geodesic polygon area gives each cell's
true area, and the forest / loss rules are applied here from the raw raster values.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine
from numpy.typing import NDArray

from eudr_check.analysis import analyse_group
from eudr_check.datasets.catalog import load_catalog
from eudr_check.engine.plan import PlotTask, spatial_chunks
from eudr_check.zonal import coverage
from tests.rasters import HANSEN_PX, only_hansen, write_layer

exactextract = pytest.importorskip("exactextract")

GEOD = pyproj.Geod(ellps="WGS84")
TILE = "00N_080W"
# A 0.2° x 0.2° clip near Jaén, Cajamarca, on whole pixels of Hansen's grid.
WEST, NORTH, SIZE = -78.9, -5.6, 800
PLOTS = 1_000
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(-5.7))
THRESHOLD, FIRST_LOSS_CODE = 10, 21  # the catalog's defaults: 10 % canopy, loss from 2021
REL_TOL, ABS_TOL_HA, SMALL_HA = 5e-3, 1e-4, 0.01


def _smooth(rng: np.random.Generator, n: int, lo: float, hi: float) -> NDArray[np.float64]:
    """A smooth random field: an n x n grid of random values, interpolated to SIZE x SIZE."""
    coarse = rng.uniform(lo, hi, (n, n))
    t = np.linspace(0, n - 1, SIZE)
    knots = np.arange(n)
    rows = np.array([np.interp(t, knots, coarse[:, j]) for j in range(n)]).T
    return np.array([np.interp(t, knots, r) for r in rows])


def _rasters(rng: np.random.Generator) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    # Tree cover from 0 to 100 with wide treeless areas, so the 10 % threshold matters.
    tree = np.clip(_smooth(rng, 15, -60, 110) + rng.normal(0, 8, (SIZE, SIZE)), 0, 100)
    tree = np.rint(tree).astype(np.uint8)
    # Loss in patches of 16 x 16 pixels (about 40 % of them), years 2001 to 2024, plus specks.
    patches = np.where(rng.random((50, 50)) < 0.4, rng.integers(1, 25, (50, 50)), 0)
    loss = np.kron(patches, np.ones((16, 16), np.int64))
    specks = rng.random((SIZE, SIZE)) < 0.03
    loss[specks] = rng.integers(1, 25, int(specks.sum()))
    loss = loss.astype(np.uint8)
    # A few nodata blocks in each layer: those cells count neither as forest nor as loss.
    for layer in (tree, loss):
        for _ in range(4):
            r, c = rng.integers(0, SIZE - 40, 2)
            layer[r : r + 25, c : c + 40] = 255
    return tree, loss


def _star(
    rng: np.random.Generator, cx: float, cy: float, area_m2: float, n: int, spread: float = 0.4
) -> NDArray[np.float64]:
    """A star-shaped ring (jittered angles and radii around the centre, hence simple) in degrees."""
    ang = (np.arange(n) + rng.uniform(-0.3, 0.3, n)) * 2 * np.pi / n
    rad = rng.uniform(1 - spread, 1 + spread, n)
    x, y = rad * np.cos(ang), rad * np.sin(ang)
    unit = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    k = math.sqrt(area_m2 / unit)
    return np.column_stack([cx + k * x / M_PER_DEG_LON, cy + k * y / M_PER_DEG_LAT])


def _plots(rng: np.random.Generator) -> list[shapely.Geometry]:
    """Polygons of 0.3-10 ha with 5-15 vertices; 15 % with a hole, 15 % in two parts."""
    out: list[shapely.Geometry] = []
    margin = 0.01
    while len(out) < PLOTS:
        cx = rng.uniform(WEST + margin, WEST + SIZE * HANSEN_PX - margin)
        cy = rng.uniform(NORTH - SIZE * HANSEN_PX + margin, NORTH - margin)
        area = float(np.exp(rng.uniform(np.log(3_000), np.log(100_000))))
        n = int(rng.integers(5, 16))
        kind = rng.random()
        if kind < 0.15:
            # A hole well inside the shell: radii of the shell are at least 0.6 of its scale.
            shell = _star(rng, cx, cy, area, n)
            hole = _star(rng, cx, cy, area * 0.02, int(rng.integers(5, 9)), spread=0.2)
            geom = shapely.Polygon(shell, [hole[::-1]])
        elif kind < 0.30:
            # Two parts, centres 2d apart: more than their largest radii (1.4 scales) together.
            half = area / 2
            d = 1.6 * math.sqrt(half)
            a = rng.uniform(0, 2 * np.pi)
            dx, dy = d * math.cos(a) / M_PER_DEG_LON, d * math.sin(a) / M_PER_DEG_LAT
            geom = shapely.MultiPolygon([
                shapely.Polygon(_star(rng, cx + dx, cy + dy, half, n)),
                shapely.Polygon(_star(rng, cx - dx, cy - dy, half, int(rng.integers(5, 16)))),
            ])  # fmt: skip
        else:
            geom = shapely.Polygon(_star(rng, cx, cy, area, n))
        if geom.is_valid:  # the rare star that a hole or a twin part touches is redrawn
            out.append(geom)
    return out


@cache
def _cell_area_m2(row: int) -> float:
    """Geodesic area of one cell of the clip's row, from its four corners."""
    north = NORTH - row * HANSEN_PX
    lons = [WEST, WEST + HANSEN_PX, WEST + HANSEN_PX, WEST]
    lats = [north, north, north - HANSEN_PX, north - HANSEN_PX]
    return abs(GEOD.polygon_area_perimeter(lons, lats)[0])


def _independent(
    tree_path: Path, loss_path: Path, plots: list[shapely.Geometry]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Forest 2020 and loss after the cut-off (ha) per plot, from exactextract + pyproj."""
    gdf = gpd.GeoDataFrame(geometry=plots, crs="EPSG:4326")
    ops = ["cell_id", "coverage", "values"]
    tree = exactextract.exact_extract(str(tree_path), gdf, ops, output="pandas")
    loss = exactextract.exact_extract(str(loss_path), gdf, ops, output="pandas")
    forest = np.zeros(len(plots))
    after = np.zeros(len(plots))
    for i in range(len(plots)):
        # exactextract leaves out nodata cells: keep the cells with data in both layers.
        t_id = np.asarray(tree["cell_id"].iloc[i], np.int64)
        l_id = np.asarray(loss["cell_id"].iloc[i], np.int64)
        _, ti, li = np.intersect1d(t_id, l_id, assume_unique=True, return_indices=True)
        frac = np.asarray(tree["coverage"].iloc[i], np.float64)[ti]
        tc = np.asarray(tree["values"].iloc[i], np.int64)[ti]
        ly = np.asarray(loss["values"].iloc[i], np.int64)[li]
        area = np.array([_cell_area_m2(int(r)) for r in t_id[ti] // SIZE])
        w = frac * area / 10_000
        is_forest_2000 = tc >= THRESHOLD
        lost_by_2020 = (ly >= 1) & (ly < FIRST_LOSS_CODE)
        forest[i] = w[is_forest_2000 & ~lost_by_2020].sum()
        after[i] = w[is_forest_2000 & (ly >= FIRST_LOSS_CODE)].sum()
    return forest, after


def _rel_diff(ours: NDArray[np.float64], ref: NDArray[np.float64]) -> NDArray[np.float64]:
    """Relative difference where the area is large enough for that to mean something, else 0."""
    big = ref > SMALL_HA
    return np.where(big, np.abs(ours - ref) / np.where(big, ref, 1.0), 0.0)


def test_hansen_stats_agree_with_exactextract_and_geodesic_cells(tmp_path: Path) -> None:
    rng = np.random.default_rng(20201231)
    catalog = only_hansen(load_catalog())
    tree, loss = _rasters(rng)
    tree_path = write_layer(catalog, tmp_path, "hansen_gfc", "treecover2000", TILE, tree, WEST,
                            NORTH)  # fmt: skip
    loss_path = write_layer(catalog, tmp_path, "hansen_gfc", "lossyear", TILE, loss, WEST, NORTH)
    plots = _plots(rng)
    assert all(shapely.is_valid(plots))
    assert (shapely.get_num_interior_rings(plots) == 1).sum() > 100
    assert (shapely.get_type_id(plots) == 6).sum() > 100

    # Ours, grouped into spatial chunks exactly as check_plots does.
    tasks = [PlotTask(i, f"P{i}", p, (), None) for i, p in enumerate(plots)]
    ours_forest, ours_after, ours_area = np.zeros(PLOTS), np.zeros(PLOTS), np.zeros(PLOTS)
    for chunk in spatial_chunks(tasks):
        group = analyse_group([t.shape for t in chunk], catalog, tmp_path)
        for task, (s,) in zip(chunk, group.stats, strict=True):
            ours_forest[task.row] = s.forest_2020_ha or 0.0
            ours_after[task.row] = s.loss_after_cutoff_ha or 0.0
            ours_area[task.row] = s.plot_area_ha

    ref_forest, ref_after = _independent(tree_path, loss_path, plots)
    # The whole plot, nodata included, against the polygon's own geodesic area.
    ref_area = np.array([abs(GEOD.geometry_area_perimeter(p)[0]) / 10_000 for p in plots])

    # exactextract returns coverage fractions of float32 precision: ~6e-8 relative is the floor.
    for name, ours, ref in (("forest 2020", ours_forest, ref_forest),
                            ("loss after 2020", ours_after, ref_after),
                            ("plot area", ours_area, ref_area)):  # fmt: skip
        rel = _rel_diff(ours, ref)
        small = ref <= SMALL_HA
        assert (rel <= REL_TOL).all(), f"{name}: plots {np.flatnonzero(rel > REL_TOL)[:10]}"
        assert (np.abs(ours - ref)[small] <= ABS_TOL_HA).all(), name
        print(f"{name}: max relative difference {rel.max():.2e} over {(~small).sum()} plots "
              f"> {SMALL_HA} ha; max absolute {np.abs(ours - ref).max():.2e} ha")  # fmt: skip
    # The data must exercise both measures, or the agreement above says nothing.
    assert (ref_after > SMALL_HA).sum() > 100
    assert (ref_forest > SMALL_HA).sum() > 500
    assert (ref_forest < 0.9 * ref_area).sum() > 100  # treeless, lost before 2021 or nodata


def test_vertex_exactly_on_a_cell_edge_keeps_the_whole_cell() -> None:
    """Found by benchmarks/bench_check.py: exactextract 0.3.0 leaves out cell (1713, 1061) of
    this plot's grid (a fully covered cell; the vertex (-78.73467, -5.4285) lies exactly on its
    bottom edge), so its sum is one cell short. Ours must match the cell-by-cell intersection."""
    plot = shapely.Polygon([(-78.735188, -5.426805), (-78.735296, -5.428703),
                            (-78.73467, -5.4285), (-78.734263, -5.428744)])  # fmt: skip
    t = Affine(HANSEN_PX, 0, -79.0, 0, -HANSEN_PX, -5.0)  # the benchmark's 1° clip
    (cov,) = coverage([plot], t, (4000, 4000))
    x0, y1 = -79.0 + cov.cols * HANSEN_PX, -5.0 - cov.rows * HANSEN_PX
    cells = shapely.box(x0, y1 - HANSEN_PX, x0 + HANSEN_PX, y1)
    exact = shapely.area(shapely.intersection(cells, plot)) / HANSEN_PX**2
    assert np.allclose(cov.fraction, exact, atol=1e-9)
    assert cov.fraction.sum() == pytest.approx(plot.area / HANSEN_PX**2, rel=1e-12)
    assert cov.fraction[(cov.rows == 1713) & (cov.cols == 1061)] == pytest.approx([1.0])
