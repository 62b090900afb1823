"""Every geolocation rule on hand-made geometries, asserting the exact finding codes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyproj
import pytest
import shapely

from eudr_check.findings import Severity, finding_message
from eudr_check.intake import read_plots
from eudr_check.intake.countries import countries
from eudr_check.rules import ValidationReport, validate
from tests.conftest import FIXTURES, X0, Y0, D, codes, feature, poly, square

Check = Callable[..., ValidationReport]


def test_clean_plot_has_no_findings(check: Check) -> None:
    report = check(feature(poly(square())))
    assert report.findings == []
    assert report.plots["status"].tolist() == ["ok"]
    assert report.plots["area_ha"].iloc[0] == pytest.approx(1.02, abs=0.02)


@pytest.mark.parametrize(
    "name", ["type1_single_producer.geojson", "type2_multiple_producers.geojson"]
)
def test_eu_example_files_have_no_errors(name: str) -> None:
    report = validate(read_plots(FIXTURES / name))
    assert not report.has_errors
    # The Type II farms are thousands of hectares: only warnings.
    assert {f.severity for f in report.findings} <= {Severity.WARNING}


def test_open_ring_is_reported_and_closed(check: Check) -> None:
    ring = square()[0][:-1]
    report = check(feature(poly([ring])))
    assert codes(report) == {"ring_not_closed"}
    assert report.errors[0].fixable
    fixed = check(feature(poly([ring])), fix=True)
    assert not fixed.has_errors
    assert fixed.findings[0].severity is Severity.REPAIRED


def test_fewer_than_four_positions(check: Check) -> None:
    a, b = [X0, Y0], [X0 + D, Y0]
    report = check(feature(poly([[a, b, a]])), fix=True)
    assert codes(report) == {"too_few_positions"}
    assert report.has_errors


def test_bow_tie_is_repaired_keeping_the_original(check: Check) -> None:
    x, y, d = X0, Y0, D
    bow = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    report = check(feature(poly([bow])), fix=True)
    assert codes(report) == {"self_intersection"}
    assert not report.has_errors
    geom = report.plots.geometry.iloc[0]
    assert geom.is_valid and geom.geom_type == "MultiPolygon"
    original = shapely.from_wkt(report.plots["original_wkt"].iloc[0])
    assert shapely.equals_exact(original, shapely.Polygon(bow), tolerance=1e-12)


def test_folded_side_is_a_self_intersection(check: Check) -> None:
    x, y, d = X0, Y0, D
    # The walk goes along the south side, back over part of it, then on: overlapping sides.
    ring = [[x, y], [x + d, y], [x + d / 2, y], [x + d * 0.7, y + d], [x, y + d], [x, y]]
    report = check(feature(poly([ring])))
    assert codes(report) & {"self_intersection", "spike"}
    assert report.has_errors


def test_spike_is_removed(check: Check) -> None:
    x, y, d = X0, Y0, D
    ring = [[x, y], [x + d / 2, y], [x + d / 2, y - 5 * d], [x + d / 2 + 1e-5, y],
            [x + d, y], [x + d, y + d], [x, y + d], [x, y]]  # fmt: skip
    report = check(feature(poly([ring])), fix=True)
    assert codes(report) == {"spike"}
    geom = report.plots.geometry.iloc[0]
    assert geom.bounds[1] == pytest.approx(Y0)  # the needle southwards is gone
    assert not report.has_errors


def test_straight_line_polygon_is_degenerate(check: Check) -> None:
    x, y, d = X0, Y0, D
    ring = [[x, y], [x + d, y + d], [x + 2 * d, y + 2 * d], [x, y]]
    report = check(feature(poly([ring])), fix=True)
    assert codes(report) == {"degenerate_polygon"}
    assert report.has_errors


def test_hole_is_reported_and_split_without_losing_area(check: Check) -> None:
    x, y, d = X0, Y0, D
    hole = [[x + d / 4, y + d / 4], [x + d / 4, y + 3 * d / 4], [x + 3 * d / 4, y + 3 * d / 4],
            [x + 3 * d / 4, y + d / 4], [x + d / 4, y + d / 4]]  # fmt: skip
    report = check(feature(poly([square()[0], hole])))
    assert codes(report) == {"hole"}
    fixed = check(feature(poly([square()[0], hole])), fix=True)
    geom = fixed.plots.geometry.iloc[0]
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert all(len(p.interiors) == 0 for p in geom.geoms)
    expected = shapely.Polygon(square()[0][0:5], [hole])
    assert sum(p.area for p in geom.geoms) == pytest.approx(expected.area, rel=1e-6)
    assert not fixed.has_errors


def test_linestrings(check: Check) -> None:
    open_line = {"type": "LineString", "coordinates": square()[0][:-1]}
    closed_line = {"type": "LineString", "coordinates": square()[0]}
    report = check(
        feature(open_line, plot_id="OPEN"), feature(closed_line, plot_id="CLOSED"), fix=True
    )
    by_plot = {f.plot_id: f for f in report.findings}
    assert by_plot["OPEN"].code.value == "linestring"
    assert by_plot["OPEN"].severity is Severity.ERROR
    assert by_plot["CLOSED"].severity is Severity.REPAIRED
    assert report.plots.geometry.iloc[1].geom_type == "Polygon"


def test_z_values(check: Check) -> None:
    ring = [[x, y, 1450.0] for x, y in square()[0]]
    report = check(feature(poly([ring])))
    assert codes(report) == {"z_or_m_values"}
    assert report.plots.geometry.iloc[0].has_z is False


def test_low_precision_and_rounding_duplicates(check: Check) -> None:
    x, y = round(X0 + 0.01, 4), round(Y0, 4)
    coarse = [[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y + 0.001], [x, y]]
    twin = square()[0]
    twin.insert(2, [twin[1][0] + 2e-7, twin[1][1] + 1e-7])
    report = check(feature(poly([coarse]), plot_id="C"), feature(poly([twin]), plot_id="T"))
    assert codes(report, "C") == {"low_precision"}
    low = next(f for f in report.findings if f.plot_id == "C")
    assert low.param("decimals") == 4
    assert codes(report, "T") == {"rounding_duplicates"}


def test_point_over_four_hectares_and_nested_point(check: Check) -> None:
    report = check(
        feature({"type": "Point", "coordinates": [X0, Y0]}, plot_id="BIG", Area=7.5),
        feature({"type": "Point", "coordinates": [[X0 + 0.01, Y0]]}, plot_id="NEST", Area=2),
    )
    assert codes(report, "BIG") == {"point_over_4ha"}
    assert codes(report, "NEST") == {"point_nested_coordinates"}


def test_area_rules(check: Check) -> None:
    tiny = square(X0 + 0.1, Y0, 0.00005)  # about 5.5 m x 5.5 m
    huge = square(X0 + 0.2, Y0, 0.25)  # about 27 km x 27 km
    report = check(
        feature(poly(square()), plot_id="MIS", Area=5.0),
        feature(poly(tiny), plot_id="TINY"),
        feature(poly(huge), plot_id="HUGE"),
        feature(poly(square(X0 + 0.05)), plot_id="STR", Area="1,02"),
        feature(poly(square(X0 + 0.07)), plot_id="BAD", Area="mucho"),
    )
    assert codes(report, "MIS") == {"area_mismatch"}
    assert codes(report, "TINY") == {"area_too_small"}
    assert codes(report, "HUGE") == {"area_too_large"}
    assert codes(report, "STR") == {"area_is_string"}
    assert codes(report, "BAD") == {"area_invalid"}
    assert report.plots.set_index("plot_id").loc["STR", "declared_area_ha"] == 1.02


def test_duplicates_and_overlaps_name_both_plots(check: Check) -> None:
    shifted = square(X0 + D * 0.7)  # overlaps A by 30 %
    report = check(
        feature(poly(square()), plot_id="A"),
        feature(poly(shifted), plot_id="B"),
        feature(poly(square(X0 + 0.05)), plot_id="A"),
        feature(poly(square()), plot_id="SAME"),
    )
    overlap = {(f.plot_id, f.related_plot_id) for f in report.findings if f.code.value == "overlap"}
    assert ("B", "A") in overlap and ("A", "B") in overlap
    dup_id = [f for f in report.findings if f.code.value == "duplicate_plot_id"]
    assert len(dup_id) == 1 and dup_id[0].source_index == 3
    dup_geom = [f for f in report.findings if f.code.value == "duplicate_geometry"]
    assert [(f.plot_id, f.related_plot_id) for f in dup_geom] == [("SAME", "A")]


def test_small_overlap_is_not_reported(check: Check) -> None:
    report = check(
        feature(poly(square()), plot_id="A"),
        feature(poly(square(X0 + D * 0.97)), plot_id="B"),  # 3 % of the smaller plot
    )
    assert "overlap" not in codes(report)


def _outside_peru(km: float) -> tuple[float, float]:
    """A point `km` north of Peru's border with Ecuador near San Ignacio (1:50m boundary)."""
    pe = countries().geometry("PE")
    assert pe is not None
    x, y = -79.05, -5.2
    while pe.contains(shapely.Point(x, y)):
        y += 0.0005
    lon, lat, _ = pyproj.Geod(ellps="WGS84").fwd(x, y, 0, km * 1000)
    return lon, lat


def test_outside_country_and_near_border(check: Check) -> None:
    far, near = _outside_peru(20), _outside_peru(2)
    report = check(
        feature(poly(square(*far)), plot_id="FAR"), feature(poly(square(*near)), plot_id="NEAR")
    )
    assert codes(report, "FAR") == {"outside_country"}
    assert codes(report, "NEAR") == {"near_border"}
    near_km = next(f for f in report.findings if f.plot_id == "NEAR").param("distance_km")
    assert 1.5 < float(near_km or 0) < 3.0


def test_swapped_latitude_and_longitude(check: Check) -> None:
    swapped = [[[y, x] for x, y in square()[0]]]
    report = check(feature(poly(swapped)), fix=True)
    assert codes(report) == {"latlon_swapped"}
    assert report.plots.geometry.iloc[0].bounds[0] == pytest.approx(X0)
    assert "Perú" in finding_message(report.findings[0], "es")


def test_out_of_range(check: Check) -> None:
    report = check(feature({"type": "Point", "coordinates": [X0, -95.1]}))
    assert codes(report) == {"coord_out_of_range"}


def test_country_rules(check: Check) -> None:
    report = check(
        feature(poly(square()), plot_id="NONE", ProducerCountry=None),
        feature(poly(square(X0 + 0.01)), plot_id="PU", ProducerCountry="PU"),
        feature(poly(square(X0 + 0.02)), plot_id="LOW", ProducerCountry="Perú"),
    )
    assert codes(report, "NONE") == {"country_inferred"}  # from the location: in Peru
    assert codes(report, "PU") == {"country_invalid"}
    low = [f for f in report.findings if f.plot_id == "LOW"]
    assert [f.code.value for f in low] == ["country_invalid"] and low[0].fixable
    assert report.plots.set_index("plot_id").loc["LOW", "producer_country"] == "PE"


def test_multipart_far_apart(check: Check) -> None:
    far = square(X0 + 0.02)
    geom = {"type": "MultiPolygon", "coordinates": [square(), far]}
    report = check(feature(geom))
    assert codes(report) == {"multipart"}


def test_projected_metres_without_crs_suggest_utm_zone(check: Check) -> None:
    to_utm = pyproj.Transformer.from_crs(4326, 32717, always_xy=True)
    ring = [list(to_utm.transform(x, y)) for x, y in square()[0]]
    report = check(feature(poly([ring])))
    assert codes(report) == {"crs_projected_unknown"}
    finding = report.findings[0]
    assert finding.param("epsg") == 32717
    assert "17S" in finding_message(finding, "es") and "17S" in finding_message(finding, "en")


def test_declared_crs_is_reprojected(check: Check) -> None:
    to_utm = pyproj.Transformer.from_crs(4326, 32717, always_xy=True)
    ring = [list(to_utm.transform(x, y)) for x, y in square()[0]]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32717"}}
    report = check(feature(poly([ring])), crs=crs)
    assert codes(report) == {"crs_reprojected"}
    xy = shapely.get_coordinates(report.plots.geometry.iloc[0])
    assert np.allclose(xy[0], [X0, Y0], atol=1e-6)


def test_messages_exist_in_both_languages(check: Check) -> None:
    x, y, d = X0, Y0, D
    bow = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    report = check(feature(poly([bow]), Area="2"))
    for f in report.findings:
        es, en = finding_message(f, "es"), finding_message(f, "en")
        assert es and en and es != en and "{" not in es + en


def test_finding_round_trips_through_dict(check: Check) -> None:
    from eudr_check.findings import Finding

    report = check(feature(poly(square()), Area=9.0))
    for f in report.findings:
        assert Finding.from_dict(f.to_dict()) == f


def test_hole_narrower_than_the_grid_is_filled(check: Check) -> None:
    x, y, d = X0, Y0, D
    sliver = [[x + d / 2, y + d / 4], [x + d / 2 + 5e-7, y + d / 4], [x + d / 2 + 5e-7, y + d / 2],
              [x + d / 2, y + d / 2], [x + d / 2, y + d / 4]]  # fmt: skip
    report = check(feature(poly([square()[0], sliver])), fix=True)
    geom = report.plots.geometry.iloc[0]
    assert "hole" in codes(report) and not report.has_errors
    assert all(not p.interiors for p in getattr(geom, "geoms", [geom]))


def test_two_holes_side_by_side_are_both_opened(check: Check) -> None:
    x, y, d = X0, Y0, D

    def box(x0: float, y0: float, w: float) -> list[list[float]]:
        return [[x0, y0], [x0 + w, y0], [x0 + w, y0 + w], [x0, y0 + w], [x0, y0]]

    holes = [box(x + d * 0.1, y + d * 0.1, d * 0.2), box(x + d * 0.1, y + d * 0.6, d * 0.2)]
    report = check(feature(poly([square()[0], *holes])), fix=True)
    geom = report.plots.geometry.iloc[0]
    assert not report.has_errors
    assert all(not p.interiors for p in geom.geoms)
    grid = [[[round(v, 6) for v in xy] for xy in ring] for ring in [square()[0], *holes]]
    expected = shapely.Polygon(grid[0], grid[1:]).area
    assert sum(p.area for p in geom.geoms) == pytest.approx(expected, rel=1e-9)


def test_point_with_five_decimals_is_not_low_precision(check: Check) -> None:
    # -78.81235 and -5.71234 may well be -78.812350 and -5.712340 written without zeros.
    report = check(
        feature({"type": "Point", "coordinates": [-78.81235, -5.71234]}, plot_id="FIVE"),
        feature({"type": "Point", "coordinates": [-78.8124, -5.7123]}, plot_id="FOUR"),
    )
    assert codes(report, "FIVE") == set()
    assert codes(report, "FOUR") == {"low_precision"}


def test_missing_unreadable_and_unknown_crs_geometries(check: Check) -> None:
    report = check(
        feature(None, plot_id="NULL"),
        feature({"type": "Circle", "coordinates": [X0, Y0]}, plot_id="ODD"),
        feature({"type": "Point", "coordinates": ["oeste", "sur"]}, plot_id="TEXT"),
    )
    assert codes(report, "NULL") == {"geometry_missing"}
    assert codes(report, "ODD") == {"geometry_unsupported"}
    assert codes(report, "TEXT") == {"geometry_unsupported"}
    crs = {"type": "name", "properties": {"name": "EPSG:999999"}}
    assert codes(check(feature(poly(square())), crs=crs)) == {"crs_unsupported"}


def test_plot_without_id_gets_one_from_file_and_row(check: Check) -> None:
    report = check(feature(poly(square()), plot_id=None), feature(poly(square(X0 + 0.01))))
    assert codes(report) == {"plot_id_missing"}
    assert report.plots["plot_id"].tolist() == ["plots-1", "P1"]
    assert report.findings[0].param("generated") == "plots-1"


def test_geometry_collection_is_read_as_the_eu_reads_it(check: Check) -> None:
    collection = {"type": "GeometryCollection", "geometries": [poly(square())]}
    report = check(feature(collection))
    assert report.findings == []
    assert report.plots.geometry.iloc[0].geom_type == "Polygon"
