"""Coverage and areas worked out by hand, on tiny rasters in the real products' encoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from eudr_check.analysis import analyse_group, point_circles
from eudr_check.datasets.catalog import load_catalog
from eudr_check.zonal import cell_areas_m2, coverage
from tests.rasters import HANSEN_PX, only_hansen, write_layer

GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_cell_area(west: float, north: float, px: float) -> float:
    lons = [west, west + px, west + px, west]
    lats = [north, north, north - px, north - px]
    return abs(GEOD.polygon_area_perimeter(lons, lats)[0])


def grid(values: list[list[float]]) -> np.ndarray:
    return np.array(values)


def as_grid(cov: object, shape: tuple[int, int]) -> np.ndarray:
    g = np.zeros(shape)
    g[cov.rows, cov.cols] = cov.fraction  # type: ignore[attr-defined]
    return g


def test_square_covering_two_and_a_half_cells() -> None:
    t = Affine(1.0, 0, 0, 0, -1.0, 3.0)
    (cov,) = coverage([shapely.box(1.0, 0.0, 2.25, 2.0)], t, (3, 3))
    expected = grid([[0, 0, 0], [0, 1, 0.25], [0, 1, 0.25]])
    assert np.allclose(as_grid(cov, (3, 3)), expected, atol=1e-12)
    assert as_grid(cov, (3, 3)).sum() == pytest.approx(2.5, rel=1e-12)


def test_triangle_halves_the_diagonal_cells() -> None:
    t = Affine(1.0, 0, 0, 0, -1.0, 3.0)
    (cov,) = coverage([shapely.Polygon([(0, 0), (3, 0), (0, 3)])], t, (3, 3))
    expected = grid([[0.5, 0, 0], [1, 0.5, 0], [1, 1, 0.5]])
    assert np.allclose(as_grid(cov, (3, 3)), expected, atol=1e-12)


def test_holes_and_parts() -> None:
    t = Affine(1.0, 0, 0, 0, -1.0, 4.0)
    ring = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 3, 3))
    two = shapely.MultiPolygon([shapely.box(0, 0, 0.5, 1), shapely.box(3.5, 3, 4, 4)])
    holed, parts = coverage([ring, two], t, (4, 4))
    assert as_grid(holed, (4, 4))[1:3, 1:3].sum() == 0
    assert as_grid(holed, (4, 4)).sum() == pytest.approx(12.0)
    assert as_grid(parts, (4, 4))[3, 0] == pytest.approx(0.5)
    assert as_grid(parts, (4, 4))[0, 3] == pytest.approx(0.5)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.2, 9.8), st.floats(0.2, 9.8)), min_size=3, max_size=12),
    st.floats(0.3, 2.0),
)
def test_fractions_match_cell_intersections(points: list[tuple[float, float]], px: float) -> None:
    poly = shapely.make_valid(shapely.Polygon(points), method="structure")
    if poly.is_empty or poly.area < 1e-9:
        return
    t = Affine(px, 0, 0, 0, -px, 10.0)
    shape = (int(np.ceil(10 / px)), int(np.ceil(10 / px)))
    (cov,) = coverage([poly], t, shape)
    assert ((cov.fraction > 0) & (cov.fraction <= 1.0)).all()
    x0, y1 = cov.cols * px, 10.0 - cov.rows * px
    exact = shapely.area(shapely.intersection(shapely.box(x0, y1 - px, x0 + px, y1), poly))
    assert np.allclose(cov.fraction * px * px, exact, atol=1e-9 * px * px)
    assert cov.fraction.sum() * px * px == pytest.approx(poly.area, rel=1e-9)


@pytest.mark.parametrize("lat", [0.0, 60.0, -12.5])
def test_cell_areas_follow_the_ellipsoid(lat: float) -> None:
    t = Affine(HANSEN_PX, 0, -75.0, 0, -HANSEN_PX, lat + HANSEN_PX)
    (area,) = cell_areas_m2(t, 1)
    assert area == pytest.approx(geodesic_cell_area(-75.0, lat + HANSEN_PX, HANSEN_PX), rel=1e-6)


def test_cell_area_at_sixty_degrees_is_about_half() -> None:
    eq = cell_areas_m2(Affine(HANSEN_PX, 0, 0, 0, -HANSEN_PX, HANSEN_PX), 1)[0]
    sixty = cell_areas_m2(Affine(HANSEN_PX, 0, 0, 0, -HANSEN_PX, 60 + HANSEN_PX), 1)[0]
    # cos 60° = 0.5, and the ellipsoid's flattening makes the high-latitude cell a bit larger.
    assert 0.5 < sixty / eq < 0.51
    assert eq == pytest.approx(768.7, rel=1e-3)  # (0.00025° ≈ 27.83 m)² at the equator


WEST, NORTH = -78.8, -5.7  # on Hansen's grid: whole pixels from the tile corner (-80, 0)


def test_loss_area_of_a_square_over_two_and_a_half_loss_pixels(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    loss = np.zeros((4, 4), np.uint8)
    loss[1:3, 1:3] = 22  # lost in 2022
    write_layer(catalog, tmp_path, "hansen_gfc", "lossyear", "00N_080W", loss, WEST, NORTH)
    tree = np.full((4, 4), 60, np.uint8)
    write_layer(catalog, tmp_path, "hansen_gfc", "treecover2000", "00N_080W", tree, WEST, NORTH)
    # Columns 1 to 2.25, rows 1 to 3 (from the top): 2.5 loss pixels, 2.5 pixels in all.
    box = shapely.box(WEST + HANSEN_PX, NORTH - 3 * HANSEN_PX, WEST + 2.25 * HANSEN_PX,
                      NORTH - HANSEN_PX)  # fmt: skip
    (stats,) = analyse_group([box], catalog, tmp_path).stats[0]
    row1 = geodesic_cell_area(WEST, NORTH - HANSEN_PX, HANSEN_PX)
    row2 = geodesic_cell_area(WEST, NORTH - 2 * HANSEN_PX, HANSEN_PX)
    expected_ha = 1.25 * (row1 + row2) / 10_000
    assert stats.loss_after_cutoff_ha == pytest.approx(expected_ha, rel=1e-6)
    assert stats.loss_by_year == ((2022, pytest.approx(expected_ha, rel=1e-6)),)
    assert stats.plot_area_ha == pytest.approx(expected_ha, rel=1e-6)
    assert stats.forest_2020_ha == pytest.approx(expected_ha, rel=1e-6)  # lost after 2020
    assert stats.nodata_fraction == 0


def test_forest_2020_excludes_loss_before_the_cutoff(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    loss = np.array([[0, 15], [21, 0]], np.uint8)  # 2015 (before), 2021 (after)
    tree = np.array([[5, 60], [60, 60]], np.uint8)  # the first pixel is not forest (<10 %)
    write_layer(catalog, tmp_path, "hansen_gfc", "lossyear", "00N_080W", loss, WEST, NORTH)
    write_layer(catalog, tmp_path, "hansen_gfc", "treecover2000", "00N_080W", tree, WEST, NORTH)
    box = shapely.box(WEST, NORTH - 2 * HANSEN_PX, WEST + 2 * HANSEN_PX, NORTH)
    (s,) = analyse_group([box], catalog, tmp_path).stats[0]
    areas = cell_areas_m2(Affine(HANSEN_PX, 0, WEST, 0, -HANSEN_PX, NORTH), 2) / 10_000
    assert s.forest_2020_ha == pytest.approx(areas[1] * 2, rel=1e-9)  # the 2021 + the no-loss one
    assert s.loss_after_cutoff_ha == pytest.approx(areas[1], rel=1e-9)


def test_nodata_share(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    loss = np.zeros((2, 2), np.uint8)
    tree = np.array([[255, 60], [60, 60]], np.uint8)
    write_layer(catalog, tmp_path, "hansen_gfc", "lossyear", "00N_080W", loss, WEST, NORTH)
    write_layer(catalog, tmp_path, "hansen_gfc", "treecover2000", "00N_080W", tree, WEST, NORTH)
    box = shapely.box(WEST, NORTH - 2 * HANSEN_PX, WEST + 2 * HANSEN_PX, NORTH)
    (s,) = analyse_group([box], catalog, tmp_path).stats[0]
    areas = cell_areas_m2(Affine(HANSEN_PX, 0, WEST, 0, -HANSEN_PX, NORTH), 2)
    assert s.nodata_fraction == pytest.approx(areas[0] / (2 * areas.sum()), rel=1e-9)


def test_plot_across_a_tile_edge_equals_one_merged_raster(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    rng = np.random.default_rng(7)
    # 40 x 40 pixels centred on the corner of four tiles at (-70, -10).
    tree = rng.integers(0, 100, (40, 40)).astype(np.uint8)
    loss = rng.choice([0, 0, 0, 5, 21, 22, 23], (40, 40)).astype(np.uint8)
    west, north = -70 - 20 * HANSEN_PX, -10 + 20 * HANSEN_PX
    merged, split = tmp_path / "merged", tmp_path / "split"
    for name, values in (("treecover2000", tree), ("lossyear", loss)):
        write_layer(catalog, merged, "hansen_gfc", name, "00N_080W", values, west, north)
        for tile, rows, cols in (("00N_080W", slice(0, 20), slice(0, 20)),
                                 ("00N_070W", slice(0, 20), slice(20, 40)),
                                 ("10S_080W", slice(20, 40), slice(0, 20)),
                                 ("10S_070W", slice(20, 40), slice(20, 40))):  # fmt: skip
            w = west + cols.start * HANSEN_PX
            n = north - rows.start * HANSEN_PX
            write_layer(catalog, split, "hansen_gfc", name, tile, values[rows, cols], w, n)
    plot = shapely.Point(-70.0001, -9.9998).buffer(0.002, quad_segs=12)
    (a,) = analyse_group([plot], catalog, merged).stats[0]
    (b,) = analyse_group([plot], catalog, split).stats[0]
    assert a.missing_tiles == () and b.missing_tiles == ()
    assert b.plot_area_ha == pytest.approx(a.plot_area_ha, rel=1e-12)
    assert b.forest_2020_ha == pytest.approx(a.forest_2020_ha, rel=1e-12)
    assert b.loss_after_cutoff_ha == pytest.approx(a.loss_after_cutoff_ha, rel=1e-12)
    assert dict(b.loss_by_year) == pytest.approx(dict(a.loss_by_year), rel=1e-12)
    assert (a.loss_after_cutoff_ha or 0) > 0


def test_missing_tile_is_reported(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    box = shapely.box(WEST, NORTH - 2 * HANSEN_PX, WEST + 2 * HANSEN_PX, NORTH)
    (s,) = analyse_group([box], catalog, tmp_path).stats[0]
    assert s.missing_tiles == ("00N_080W",)
    assert s.nodata_fraction == 1.0


def test_point_circle_has_its_area() -> None:
    (circle,) = point_circles([shapely.Point(-78.8, -5.7)], np.array([4.0]))
    lon, lat = shapely.get_coordinates(circle).T
    area = abs(GEOD.polygon_area_perimeter(lon, lat)[0]) / 10_000
    assert area == pytest.approx(4.0, rel=1e-4)
