"""ESA WorldCover (3° tiles by their south-west corner, land-cover classes), RADD / GLAD-S2
native alert dates, and MINAM GeoBosques rasters read inside their zips (issue 14): tile names,
encodings and the statistics, each hand-computable."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from numpy.typing import NDArray
from rasterio.io import MemoryFile

from eudr_check.analysis import alert_days, analyse_group
from eudr_check.datasets.catalog import Catalog, Dataset, IndicatorPolicy, TileScheme, load_catalog
from eudr_check.datasets.sources import locate
from eudr_check.datasets.tiles import tile_corner, tile_name, tiles_for_bounds, valid_corner
from eudr_check.indicators import indicators
from eudr_check.reasons import Reason, Verdict
from eudr_check.spatial import Bounds
from eudr_check.verdict import decide
from tests.test_downloads import Served, _no_proxy, server  # noqa: F401 (fixtures)

WC_PX = 1 / 12000
WEST, NORTH = -78.8, -5.7


def _only(*ids: str, **updates: dict[str, object]) -> Catalog:
    catalog = load_catalog()
    datasets = [
        d.model_copy(update={"enabled": d.id in ids, **updates.get(d.id, {})})
        for d in catalog.datasets
    ]
    return catalog.model_copy(update={"datasets": datasets})


def _tif(values: NDArray[np.generic], px: float, nodata: int | None) -> dict[str, object]:
    return {"driver": "GTiff", "height": values.shape[0], "width": values.shape[1], "count": 1,
            "dtype": values.dtype.name, "crs": "EPSG:4326", "nodata": nodata,
            "transform": Affine(px, 0, WEST, 0, -px, NORTH)}  # fmt: skip


def _write(ds: Dataset, layer: str, tile: str, data_dir: Path, values: NDArray[np.generic]) -> None:
    path = Path(locate(ds, layer, tile, data_dir).path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **_tif(values, ds.pixel_deg, ds.layers[layer].nodata)) as dst:
        dst.write(values, 1)


def _square(px: float, n: int) -> shapely.Polygon:
    return shapely.box(WEST, NORTH - n * px, WEST + n * px, NORTH)


# --- ESA WorldCover -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "left", "name"),
    [(-3, -81, "S06W081"), (0, -78, "S03W078"), (3, -78, "N00W078"), (-12, -75, "S15W075"),
     (42, 12, "N39E012")],
)  # fmt: skip
def test_worldcover_tiles_are_named_by_their_south_west_corner(
    top: int, left: int, name: str
) -> None:
    assert tile_name(TileScheme.WORLDCOVER, top, left) == name
    assert tile_corner(TileScheme.WORLDCOVER, name) == (top, left)
    assert valid_corner(TileScheme.WORLDCOVER, top, left)


def test_worldcover_tiles_under_a_box_are_3_degrees() -> None:
    # Cajamarca's sample plots: one tile; a box across 3° S and 78° W: four.
    assert tiles_for_bounds(TileScheme.WORLDCOVER, Bounds(-78.9, -5.6, -78.7, -5.4)) == ["S06W081"]
    assert tiles_for_bounds(TileScheme.WORLDCOVER, Bounds(-78.1, -3.1, -77.9, -2.9)) == [
        "S03W081", "S03W078", "S06W081", "S06W078"]  # fmt: skip
    assert not valid_corner(TileScheme.WORLDCOVER, -2, -78)  # not on the 3° grid


def test_worldcover_classes_per_plot_and_the_2020_tree_cover_indicator(tmp_path: Path) -> None:
    """A 12x12-pixel plot: the west half class 10 (tree cover), the east half 40 (cropland),
    one pixel 0 (no data). The 2020 map's tree cover is half the plot (ind_01 yes); the 2021
    map says the same classes but gives no indicator (not the cut-off year)."""
    catalog = _only("esa_worldcover_2020", "esa_worldcover_2021")
    values = np.full((16, 16), 40, np.uint8)
    values[:, :6] = 10
    values[0, 0] = 0
    for ds in catalog.enabled:
        _write(ds, "map", "S06W081", tmp_path, values)
    plot = _square(WC_PX, 12)
    (stats,) = analyse_group([plot], catalog, tmp_path).stats
    s2020, s2021 = stats
    area = s2020.plot_area_ha
    assert s2020.nodata_fraction == pytest.approx(1 / 144, rel=1e-3)
    classes = dict(s2020.land_cover)
    assert classes[10] == pytest.approx(area * 71 / 144, rel=1e-3)
    assert classes[40] == pytest.approx(area * 72 / 144, rel=1e-3)
    assert s2020.tree_cover_2020_ha == pytest.approx(area * 71 / 144, rel=1e-3)
    assert s2021.tree_cover_2020_ha is None and dict(s2021.land_cover) == classes
    found = indicators(stats, IndicatorPolicy(), optional={"esa_worldcover_2020"})
    assert found.items[0].value == "yes" and found.items[0].by == ("esa_worldcover_2020",)
    # Not a forest map: the verdict sees no forest 2020 (it would say "review" otherwise).
    verdict, reasons = decide(stats, catalog.verdict, optional=[d.id for d in catalog.enabled])
    assert verdict is Verdict.DEFORESTATION_FREE
    assert [r.code for r in reasons] == [Reason.NO_FOREST_NO_LOSS]


# --- alert dates ------------------------------------------------------------------------------


RADD = {"date_format": "yydoy", "confidence_divisor": 0}


def _day(days: int, origin: str) -> dt.date:
    return dt.date.fromisoformat(origin) + dt.timedelta(days=days)


@pytest.mark.parametrize(
    ("value", "encoding", "origin", "expected"),
    [
        # GFW date_conf: 3 (high) x 10000 + 2193 days since 2014-12-31 = 2021-01-01.
        (32193, {}, "2014-12-31", dt.date(2021, 1, 1)),
        (42192, {}, "2014-12-31", dt.date(2020, 12, 31)),
        # RADD native YYDOY: 21001 = 1 January 2021; 24366 = 31 December 2024 (a leap year).
        (21001, RADD, "2014-12-31", dt.date(2021, 1, 1)),
        (24366, RADD, "2014-12-31", dt.date(2024, 12, 31)),
        # GLAD-S2 native: days since 2019-01-01; 731 = 2021-01-01 (365 + 366 days).
        (731, {"confidence_divisor": 0}, "2019-01-01", dt.date(2021, 1, 1)),
    ],
)  # fmt: skip
def test_alert_dates_decode_per_encoding(
    value: int, encoding: dict[str, object], origin: str, expected: dt.date
) -> None:
    (days,) = alert_days(np.array([value], np.int64), encoding, dt.date.fromisoformat(origin))
    assert _day(int(days), origin) == expected


def test_a_radd_native_layer_counts_only_alerts_after_the_cutoff(tmp_path: Path) -> None:
    """RADD's Date band: 20366 (31 Dec 2020) on 4 pixels, 21001 on 2, 23032 (1 Feb 2023) on 1."""
    native = {"date_format": "yydoy", "confidence_divisor": 0, "date_origin": "2014-12-31"}
    catalog = _only("wur_radd_alerts", wur_radd_alerts={"encoding": native})
    values = np.zeros((8, 8), np.uint16)
    values[0, 0:4] = 20366
    values[1, 0:2] = 21001
    values[2, 0] = 23032
    _write(catalog.get("wur_radd_alerts"), "alerts", "00N_080W", tmp_path, values)
    ((s,),) = analyse_group([_square(0.0001, 4)], catalog, tmp_path).stats
    assert s.alert_count == 3
    assert s.alert_latest == "2023-02-01"
    assert s.alert_area_ha == pytest.approx(s.plot_area_ha * 3 / 16, rel=1e-3)


# --- GeoBosques, inside zips ------------------------------------------------------------------


def _zip(path: Path, member: str, values: NDArray[np.generic], nodata: int | None) -> None:
    with MemoryFile() as mem:
        with mem.open(**_tif(values, 0.00025, nodata)) as dst:
            dst.write(values, 1)
        data = mem.read()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(member, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def test_geobosques_loss_is_read_inside_its_zip(tmp_path: Path) -> None:
    """Loss codes 22 (2022) on 4 of 16 pixels, 10 (2010) on 2: loss after the cut-off 25 %
    (detected: the map maps loss of forest), before 12.5 % (a disturbance)."""
    catalog = _only("minam_geobosques_perdida")
    ds = catalog.get("minam_geobosques_perdida")
    values = np.zeros((8, 8), np.uint8)
    values[0, 0:4] = 22
    values[1, 0:2] = 10
    _zip(tmp_path / "minam_geobosques" / "Perdida_2001_2024.zip", "Perdida_2001_2024.tif",
         values, 255)  # fmt: skip
    assert locate(ds, "loss", "all", tmp_path).exists()
    ((s,),) = analyse_group([_square(0.00025, 4)], catalog, tmp_path).stats
    assert s.loss_after_cutoff_ha == pytest.approx(s.plot_area_ha / 4, rel=1e-3)
    assert dict(s.loss_by_year) == {2022: pytest.approx(s.plot_area_ha / 4, rel=1e-3)}
    assert s.loss_before_cutoff_ha == pytest.approx(s.plot_area_ha / 8, rel=1e-3)
    verdict, reasons = decide([s], catalog.verdict, optional=[ds.id])
    assert verdict is Verdict.DEFORESTATION_DETECTED
    assert reasons[0].dataset_id == ds.id


def test_geobosques_yearly_alert_archives_are_alerts_dated_by_their_year(tmp_path: Path) -> None:
    catalog = _only("minam_geobosques_alertas")
    ds = catalog.get("minam_geobosques_alertas")
    folder = tmp_path / "minam_geobosques"
    for year, cells in ((2021, 1), (2023, 2)):
        values = np.zeros((8, 8), np.uint8)
        values[0, :cells] = 1
        _zip(folder / f"Alertas_{year}.zip", f"Alertas_{year}.tif", values, None)
    ((s,),) = analyse_group([_square(0.00025, 4)], catalog, tmp_path).stats
    # The 2021 pixel is one of the 2023 ones: two alert pixels, the latest year 2023; the
    # years with no archive here are missing, which an optional dataset may be.
    assert s.alert_count == 2 and s.alert_latest == "2023"
    assert s.loss_after_cutoff_ha is None
    assert "all" in s.missing_tiles
    verdict, reasons = decide([s], catalog.verdict, optional=[ds.id])
    assert verdict is Verdict.NEEDS_REVIEW
    assert [r.code for r in reasons] == [Reason.ALERT_AFTER_CUTOFF]


def test_a_broken_zip_is_unreadable_not_missing(tmp_path: Path) -> None:
    catalog = _only("minam_geobosques_perdida")
    ds = catalog.get("minam_geobosques_perdida")
    path = tmp_path / "minam_geobosques" / "Perdida_2001_2024.zip"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert locate(ds, "loss", "all", tmp_path).exists()
    ((s,),) = analyse_group([_square(0.00025, 4)], catalog, tmp_path).stats
    assert s.error is not None and "Perdida_2001_2024" in s.error
    (tmp_path / "minam_geobosques" / "Perdida_2001_2024.zip").unlink()
    ((s,),) = analyse_group([_square(0.00025, 4)], catalog, tmp_path).stats
    assert s.missing_tiles == ("all",) and s.error is None


# --- the whole check, every national layer on ---------------------------------------------------


def test_the_sample_check_with_the_national_layers_reports_them(tmp_path: Path) -> None:
    """The sample cooperative with WorldCover 2020/2021 and GeoBosques on (synthetic sample
    files in their real names): their columns in the results CSV, filled where they cover."""
    import csv

    import yaml
    from typer.testing import CliRunner

    from eudr_check.cli import app

    root = Path(__file__).resolve().parents[1]
    text = (root / "config" / "datasets.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    wanted = {"esa_worldcover_2020", "esa_worldcover_2021", "minam_geobosques_perdida",
              "minam_geobosques_alertas"}  # fmt: skip
    for d in data["datasets"]:
        d["enabled"] = d.get("enabled", True) or d["id"] in wanted
        if d["id"] == "jrc_tmf":
            d["enabled"] = False
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    args = ["check", str(root / "sample_plots" / "cooperativa.geojson"), "--datasets",
            str(root / "sample_data"), "--catalog", str(catalog), "--out", str(out),
            "--maps", "none"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with (out / "cooperativa.results.csv").open(encoding="utf-8-sig") as f:
        rows = {r["plot_id"]: r for r in csv.DictReader(f)}
    some = next(iter(rows.values()))
    for col in (
        "esa_worldcover_2020_tree_cover_pct",
        "esa_worldcover_2021_main_class",
        "minam_geobosques_perdida_loss_2022_ha",
        "minam_geobosques_alertas_alert_latest",
    ):
        assert col in some
    measured = [r for r in rows.values() if r["esa_worldcover_2020_nodata_pct"] == "0.0"]
    assert len(measured) > 60
    assert all(r["esa_worldcover_2020_main_class"] in ("10", "40") for r in measured)
    # Cusco lies outside the sample GeoBosques files: no data there, and no gap in the verdict.
    cusco = [r for pid, r in rows.items() if pid.startswith("LCV-") and r["verdict_en"]]
    nodata = {r["minam_geobosques_perdida_nodata_pct"] for r in cusco}
    assert cusco and nodata <= {"100.0", ""} and "100.0" in nodata
    assert any(float(r["minam_geobosques_perdida_loss_after_cutoff_ha"] or 0) > 0
               for r in rows.values())  # fmt: skip
    manifest = (out / "cooperativa.manifest.json").read_text(encoding="utf-8")
    assert "ESA_WorldCover_10m_2020_v100_S06W081_Map.tif" in manifest
    assert "Perdida_2001_2024.zip" in manifest


def test_a_worldcover_tile_downloads_from_its_bucket_layout(
    tmp_path: Path,
    server: Served,  # noqa: F811 (the fixture imported above)
) -> None:
    """ESA's bucket layout (…/v100/2020/map/<file>) on a local server: the tile lands under its
    real name and the check reads it."""
    from eudr_check.datasets.download import download_tile

    values = np.full((12, 12), 10, np.uint8)
    with MemoryFile() as mem:
        with mem.open(**_tif(values, WC_PX, 0)) as dst:
            dst.write(values, 1)
        data = bytes(mem.read())
    name = "ESA_WorldCover_10m_2020_v100_S06W081_Map.tif"
    server.files[f"/esa-worldcover/v100/2020/map/{name}"] = data
    source = server.base + "/esa-worldcover/{version}/2020/map/{file}"
    catalog = _only("esa_worldcover_2020", esa_worldcover_2020={"source": source})
    ds = catalog.get("esa_worldcover_2020")
    result = download_tile(ds, "map", "S06W081", tmp_path, timeout=5.0)
    assert result.path == tmp_path / "esa_worldcover" / name
    assert result.path.read_bytes() == data
    ((s,),) = analyse_group([_square(WC_PX, 6)], catalog, tmp_path).stats
    assert s.tree_cover_2020_ha == pytest.approx(s.plot_area_ha, rel=1e-6)


def test_a_new_zip_archive_changes_the_fingerprint_and_the_manifest_names_it(
    tmp_path: Path,
) -> None:
    from eudr_check.datasets.sources import DataSources
    from eudr_check.engine.fingerprint import fingerprints
    from eudr_check.engine.plan import plan
    from eudr_check.engine.record import file_records
    from eudr_check.intake import read_plots
    from eudr_check.rules import validate
    from tests.test_fingerprint import _plots

    catalog = _only("minam_geobosques_perdida")
    archive = tmp_path / "data" / "minam_geobosques" / "Perdida_2001_2024.zip"
    _zip(archive, "Perdida_2001_2024.tif", np.zeros((8, 8), np.uint8), 255)
    tasks = plan(validate(read_plots(_plots(tmp_path)), fix=True), catalog)
    sources = DataSources(catalog, tmp_path / "data")
    first = fingerprints(tasks, sources)
    _zip(archive, "Perdida_2001_2024.tif", np.full((8, 8), 22, np.uint8), 255)
    assert fingerprints(tasks, sources) != first
    path = locate(catalog.get("minam_geobosques_perdida"), "loss", "all", tmp_path / "data").path
    (rec,) = file_records([("minam_geobosques_perdida", "loss", path)])
    assert rec.name == "Perdida_2001_2024.zip/Perdida_2001_2024.tif" and rec.tile == ""
    import hashlib

    assert rec.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_a_zipped_national_raster_downloads_as_its_archive(
    tmp_path: Path,
    server: Served,  # noqa: F811 (the fixture imported above)
) -> None:
    """`{file}` in the source of a tile read inside a zip is the archive: the zip lands under
    its name (not a path with /vsizip/ in it) and the check reads the raster inside."""
    from eudr_check.datasets.download import download_tile

    made = tmp_path / "made" / "Perdida_2001_2024.zip"
    values = np.zeros((8, 8), np.uint8)
    values[0, 0:4] = 22
    _zip(made, "Perdida_2001_2024.tif", values, 255)
    server.files["/geobosques/Perdida_2001_2024.zip"] = made.read_bytes()
    source = server.base + "/geobosques/{file}"
    catalog = _only("minam_geobosques_perdida", minam_geobosques_perdida={"source": source})
    ds = catalog.get("minam_geobosques_perdida")
    data = tmp_path / "data"
    result = download_tile(ds, "loss", "all", data, timeout=5.0)
    assert result.path == data / "minam_geobosques" / "Perdida_2001_2024.zip"
    assert result.path.read_bytes() == made.read_bytes()
    ((s,),) = analyse_group([_square(0.00025, 4)], catalog, data).stats
    assert s.loss_after_cutoff_ha == pytest.approx(s.plot_area_ha / 4, rel=1e-3)
