"""The verdict policy, threshold by threshold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from eudr_check.datasets.catalog import TileScheme, VerdictPolicy, load_catalog
from eudr_check.datasets.tiles import tile_corner, tile_name, tiles_for_bounds
from eudr_check.errors import ConfigError
from eudr_check.models import DatasetStats
from eudr_check.reasons import Reason, Verdict, reason_message
from eudr_check.rules import ValidationReport
from eudr_check.verdict import decide
from tests.conftest import feature, poly, square

POLICY = VerdictPolicy()


def stats(loss: float = 0.0, forest: float = 0.0, area: float = 10.0, **kw: object) -> DatasetStats:
    return DatasetStats("hansen_gfc", "v", area, 0.0, forest_2020_ha=forest,
                        loss_after_cutoff_ha=loss, loss_by_year=((2022, loss),), **kw)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize(
    ("loss", "area", "verdict"),
    [
        (0.5, 100.0, Verdict.DEFORESTATION_DETECTED),  # 0.5 ha: detected
        (0.49, 100.0, Verdict.NEEDS_REVIEW),  # under 0.5 ha and under 10 %
        (0.2, 2.0, Verdict.DEFORESTATION_DETECTED),  # 10 % of the plot
        (0.19, 2.0, Verdict.NEEDS_REVIEW),
        (0.0, 2.0, Verdict.DEFORESTATION_FREE),
    ],
)
def test_loss_thresholds(loss: float, area: float, verdict: Verdict) -> None:
    assert decide([stats(loss, forest=loss, area=area)], POLICY)[0] is verdict


def test_forest_without_loss_is_review_and_little_forest_is_free() -> None:
    assert decide([stats(forest=1.1)], POLICY)[0] is Verdict.NEEDS_REVIEW  # 11 % of 10 ha
    assert decide([stats(forest=1.0)], POLICY)[0] is Verdict.DEFORESTATION_FREE  # 10 %, not over


def test_alert_after_cutoff_needs_review() -> None:
    alert = DatasetStats("gfw", "v", 10, 0.0, alert_count=2, alert_area_ha=0.02,
                         alert_latest="2025-03-01")  # fmt: skip
    verdict, reasons = decide([stats(), alert], POLICY)
    assert verdict is Verdict.NEEDS_REVIEW
    assert [r.code for r in reasons] == [Reason.ALERT_AFTER_CUTOFF]
    assert "2025-03-01" in reason_message(reasons[0], "es")


def test_no_data_and_missing_tiles_are_never_free() -> None:
    gap = DatasetStats("jrc", "v", 10, 0.06)
    assert decide([stats(), gap], POLICY)[0] is Verdict.UNDETERMINED
    ok = DatasetStats("jrc", "v", 10, 0.05)
    assert decide([stats(), ok], POLICY)[0] is Verdict.DEFORESTATION_FREE
    missing = DatasetStats("jrc", "v", 10, 1.0, missing_tiles=("N0_W80",))
    verdict, reasons = decide([stats(), missing], POLICY)
    assert verdict is Verdict.UNDETERMINED and reasons[0].code is Reason.MISSING_TILE


def test_detection_wins_over_missing_data_elsewhere() -> None:
    missing = DatasetStats("jrc", "v", 10, 1.0, missing_tiles=("N0_W80",))
    verdict, reasons = decide([stats(loss=2.0, forest=2.0), missing], POLICY)
    assert verdict is Verdict.DEFORESTATION_DETECTED
    assert {r.code for r in reasons} == {Reason.LOSS_AFTER_CUTOFF, Reason.MISSING_TILE}


def test_optional_dataset_gaps_do_not_block() -> None:
    gone = DatasetStats("gfw", "v", 10, 1.0, missing_tiles=("00N_080W",))
    assert decide([stats(), gone], POLICY, optional=["gfw"])[0] is Verdict.DEFORESTATION_FREE


def test_geometry_errors_are_undetermined_and_points_say_they_were_buffered() -> None:
    verdict, reasons = decide([], POLICY, geometry_errors=["hole", "spike"])
    assert verdict is Verdict.UNDETERMINED and "hole, spike" in reason_message(reasons[0], "en")
    _, reasons = decide([stats()], POLICY, point_buffer_ha=4.0)
    assert reasons[-1].code is Reason.POINT_BUFFERED and "4.0 ha" in reason_message(
        reasons[-1], "en"
    )


def test_every_reason_reads_in_both_languages() -> None:
    from eudr_check.reasons import ReasonItem

    params = {"codes": "x", "tiles": "t", "error": "e", "percent": 1, "limit": 5, "ha": 1,
              "years": "2022", "count": 1, "latest": "2024-01-01", "map": "jrc_tmf",
              "why": "commodity_2020", "map_percent": 12}  # fmt: skip
    for code in Reason:
        item = ReasonItem(code, "hansen_gfc", tuple(params.items()))
        es, en = reason_message(item, "es"), reason_message(item, "en")
        assert es and en and es != en and "{" not in es + en


@pytest.mark.parametrize(
    ("scheme", "top", "left", "name"),
    [(TileScheme.HANSEN, -10, -80, "10S_080W"), (TileScheme.HANSEN, 0, -80, "00N_080W"),
     (TileScheme.HANSEN, 10, 0, "10N_000E"), (TileScheme.JRC, 0, -80, "N0_W80"),
     (TileScheme.JRC, -10, -80, "S10_W80")],
)  # fmt: skip
def test_tile_names_round_trip(scheme: TileScheme, top: int, left: int, name: str) -> None:
    assert tile_name(scheme, top, left) == name
    assert tile_corner(scheme, name) == (top, left)


def test_tiles_for_bounds_across_edges() -> None:
    assert tiles_for_bounds(TileScheme.HANSEN, (-78.9, -5.7, -78.8, -5.6)) == ["00N_080W"]
    assert tiles_for_bounds(TileScheme.HANSEN, (-70.01, -10.01, -69.99, -9.99)) == [
        "00N_080W", "00N_070W", "10S_080W", "10S_070W"]  # fmt: skip
    # Touching an edge does not need the tile beyond it.
    assert tiles_for_bounds(TileScheme.HANSEN, (-75, -10, -74, -9)) == ["00N_080W"]


def test_catalog_validation_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "datasets.yaml"
    bad.write_text("cutoff_date: 2020-12-31\ndatasets:\n  - id: Hansen GFC\n")
    with pytest.raises(ConfigError, match=r"datasets\.0"):
        load_catalog(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalog(tmp_path / "missing.yaml")
    catalog = load_catalog()
    assert catalog.get("hansen_gfc").version == "GFC-2024-v1.12"
    newer = catalog.with_versions({"hansen_gfc": "GFC-2025-v1.13"})
    assert newer.get("hansen_gfc").file_name("lossyear", "10S_080W") == (
        "Hansen_GFC-2025-v1.13_lossyear_10S_080W.tif")  # fmt: skip


def test_a_region_sized_plot_is_undetermined_without_reading_rasters(
    tmp_path: Path, check: Callable[..., ValidationReport]
) -> None:
    """A 10°x10° 'plot' would need gigabytes of raster: it is refused as too large, and the
    plot next to it is analysed as usual."""
    from eudr_check.engine import DataSources, check_report
    from eudr_check.engine.plan import plan

    report = check(
        feature(poly(square(-80.0, -10.0, 10.0)), plot_id="HUGE"),
        feature(poly(square()), plot_id="SMALL"),
        fix=True,
    )
    catalog = load_catalog(None)
    tasks = plan(report, catalog)
    assert tasks[0].shape is None and tasks[1].shape is not None
    run = check_report(
        report, DataSources(catalog, tmp_path)
    )  # no rasters here: SMALL is undetermined too
    huge = run.results[0]
    assert huge.verdict is Verdict.UNDETERMINED
    assert [r.code for r in huge.reasons] == [Reason.TOO_LARGE]
    assert "0.25°" in reason_message(huge.reasons[0], "en")
    assert Reason.TOO_LARGE not in [r.code for r in run.results[1].reasons]
