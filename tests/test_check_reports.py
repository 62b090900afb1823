"""Reports of a check run: GeoJSON, CSV, HTML, maps and manifest, from a run built by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import struct
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from eudr_check.datasets.catalog import Catalog, load_catalog
from eudr_check.datasets.reader import read_window
from eudr_check.engine import CheckRun, RunRecord
from eudr_check.intake import read_plots
from eudr_check.models import DatasetStats, PlotResult
from eudr_check.reasons import Reason, ReasonItem, Verdict
from eudr_check.reports import map_png
from eudr_check.reports.check_reports import write_check_reports
from eudr_check.reports.csv_out import cell as _cell
from eudr_check.reports.maps import map_file_name, render_plot_map
from eudr_check.reports.options import MapMode
from eudr_check.rules import ValidationReport, validate
from eudr_check.spatial import Bounds
from tests.conftest import X0, Y0, feature, poly, square
from tests.rasters import HANSEN_PX, write_layer

D = 0.002  # plots of ~220 m x 220 m, 8 x 8 Hansen pixels
XS = [X0 + k * 0.004 for k in range(3)]
SCRIPT = "<script>alert('x')</script> Quispe"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Raster clip around the three polygons, on the Hansen grid, in tile 00N_080W.
WEST, NORTH, W, H = -78.8150, -5.7050, 80, 40


def _features() -> list[dict[str, Any]]:
    return [
        feature(poly(square(XS[0], Y0, D)), plot_id="P1", ProducerName="José Núñez", Area=4.9),
        feature(poly(square(XS[1], Y0, D)), plot_id="P2", ProducerName="Ana Peña", Area=1.0),
        feature(poly(square(XS[2], Y0, D)), plot_id="P3", ProducerName=SCRIPT, Area=4.9),
        # Junín, in tile 10S_080W, which the data folder does not have.
        feature({"type": "Point", "coordinates": [-75.5, -11.5]}, plot_id="P4/ñ",
                ProducerName="María Ñahui", Area=2.0),
    ]  # fmt: skip


def _pixel(lon: float, lat: float) -> tuple[int, int]:
    return round((NORTH - lat) / HANSEN_PX), round((lon - WEST) / HANSEN_PX)


def _write_rasters(catalog: Catalog, data_dir: Path) -> None:
    loss = np.zeros((H, W), np.uint8)
    cover = np.full((H, W), 70, np.uint8)
    cover[:, :10] = 0  # a strip without forest in 2000
    r, c = _pixel(XS[2], Y0 + D)  # P3: big loss in 2021-2023
    loss[r + 1 : r + 4, c + 1 : c + 7] = 21
    loss[r + 4 : r + 6, c + 1 : c + 7] = 22
    loss[r + 6 : r + 7, c + 2 : c + 4] = 23
    r, c = _pixel(XS[1], Y0 + D)  # P2: a little loss in 2022, old loss in 2010
    loss[r + 2, c + 2] = 22
    loss[r + 5 : r + 7, c + 5 : c + 7] = 10
    loss[0:2, 60:64] = 255  # some nodata
    for layer, values in (("lossyear", loss), ("treecover2000", cover)):
        write_layer(catalog, data_dir, "hansen_gfc", layer, "00N_080W", values, WEST, NORTH)


def _stats(ds: str, version: str, **kw: Any) -> DatasetStats:
    return DatasetStats(ds, version, plot_area_ha=4.9, nodata_fraction=0.0, **kw)


def _results() -> list[PlotResult]:
    free = PlotResult("P1", Verdict.DEFORESTATION_FREE,
                      (ReasonItem(Reason.NO_FOREST_NO_LOSS),),
                      (_stats("hansen_gfc", "GFC-2024-v1.12", forest_2020_ha=0.0,
                              loss_after_cutoff_ha=0.0),), 4.9123)  # fmt: skip
    review = PlotResult(
        "P2",
        Verdict.NEEDS_REVIEW,
        (ReasonItem(Reason.SMALL_LOSS_AFTER_CUTOFF, "hansen_gfc",
                    (("ha", 0.06), ("percent", 1.2), ("years", "2022"))),
         ReasonItem(Reason.ALERT_AFTER_CUTOFF, "gfw_integrated_alerts",
                    (("count", 2), ("ha", 0.02), ("latest", "2024-03-05")))),
        (_stats("hansen_gfc", "GFC-2024-v1.12", forest_2020_ha=4.5, loss_after_cutoff_ha=0.06,
                loss_by_year=((2022, 0.06),)),
         _stats("gfw_integrated_alerts", "latest", alert_count=2, alert_area_ha=0.02,
                alert_latest="2024-03-05")),
        4.9,
    )  # fmt: skip
    detected = PlotResult(
        "P3",
        Verdict.DEFORESTATION_DETECTED,
        (ReasonItem(Reason.LOSS_AFTER_CUTOFF, "hansen_gfc",
                    (("ha", 1.4), ("percent", 28.6), ("years", "2021, 2022, 2023"))),),
        (_stats("hansen_gfc", "GFC-2024-v1.12", forest_2020_ha=4.8, loss_after_cutoff_ha=1.4,
                loss_by_year=((2021, 0.8), (2022, 0.5), (2023, 0.1))),
         _stats("jrc_gfc2020", "V3", forest_2020_ha=4.7, loss_after_cutoff_ha=1.3)),
        4.9,
    )  # fmt: skip
    undetermined = PlotResult(
        "P4/ñ",
        Verdict.UNDETERMINED,
        (ReasonItem(Reason.MISSING_TILE, "hansen_gfc", (("tiles", "10S_080W"),)),
         ReasonItem(Reason.POINT_BUFFERED, None, (("ha", 2.0),))),
        (DatasetStats("hansen_gfc", "GFC-2024-v1.12", 2.0, 1.0, missing_tiles=("10S_080W",)),),
        2.0,
        buffered_point=True,
    )  # fmt: skip
    return [free, review, detected, undetermined]


@pytest.fixture
def run(tmp_path: Path, write_geojson: Callable[..., Path]) -> CheckRun:
    catalog = load_catalog()
    data_dir = tmp_path / "data"
    _write_rasters(catalog, data_dir)
    report = validate(read_plots(write_geojson(*_features(), name="cooperativa.geojson")),
                      fix=True)  # fmt: skip
    when = dt.datetime(2026, 5, 4, 10, 30, tzinfo=dt.UTC)
    return _run(
        "run-1", "cooperativa.geojson", "0" * 64, report, _results(), catalog, data_dir, when
    )


def _run(
    run_id: str, name: str, sha: str, report: ValidationReport, results: list[PlotResult],
    catalog: Catalog, data_dir: Path, when: dt.datetime | None = None,
) -> CheckRun:  # fmt: skip
    """A finished run record as the engine would make it, at a fixed time."""
    when = when or dt.datetime(2026, 5, 4, 10, 30, tzinfo=dt.UTC)
    record = RunRecord.begin("check", name, catalog, data_dir, rules=report.thresholds,
                             run_id=run_id, started=when)  # fmt: skip
    record = dataclasses.replace(record, tool_version="0.1.0").finish(
        plots=len(results), verdicts=Counter(r.verdict.value for r in results), files=(),
        input_sha256=sha, finished=when,
    )  # fmt: skip
    return CheckRun(record, report, results)


def _reports(run: CheckRun, out: Path, **kw: Any) -> dict[str, Path]:
    return {p.relative_to(out).as_posix(): p for p in write_check_reports(run, out, **kw)}


def test_due_diligence_geojson_has_verdicts_and_run(run: CheckRun, tmp_path: Path) -> None:
    files = _reports(run, tmp_path / "out")
    path = files["cooperativa.due_diligence.geojson"]
    frame = gpd.read_file(path)
    assert frame["verdict"].tolist() == [v.value for v in (
        Verdict.DEFORESTATION_FREE, Verdict.NEEDS_REVIEW, Verdict.DEFORESTATION_DETECTED,
        Verdict.UNDETERMINED)]  # fmt: skip
    assert frame.crs.to_epsg() == 4326
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["run"]["run_id"] == "run-1" and doc["run"]["cutoff_date"] == "2020-12-31"
    assert {d["id"]: d["version"] for d in doc["run"]["datasets"]}["hansen_gfc"] == (
        "GFC-2024-v1.12"
    )
    p2 = doc["features"][1]["properties"]
    assert list(p2)[:3] == ["plot_id", "ProducerName", "ProducerCountry"]
    assert p2["verdict_es"] == "Requiere revisión" and p2["verdict_en"] == "Needs review"
    assert p2["reasons"][0]["message_es"].startswith("hansen_gfc: pequeña pérdida")
    assert p2["stats"]["gfw_integrated_alerts"]["alert_count"] == 2
    assert "area_mismatch" in {f["code"] for f in p2["findings"]}
    p4 = doc["features"][3]
    assert p4["properties"]["buffered_point"] is True
    assert p4["geometry"] == {"type": "Point", "coordinates": [-75.5, -11.5]}
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert (lon, lat) == (X0, Y0)  # [lon, lat], 6 decimals
    # Same run, same bytes: the file is deterministic.
    again = _reports(run, tmp_path / "again")["cooperativa.due_diligence.geojson"]
    assert again.read_bytes() == path.read_bytes()


def test_results_csv_opens_with_accents_and_numbers(run: CheckRun, tmp_path: Path) -> None:
    path = _reports(run, tmp_path / "out")["cooperativa.results.csv"]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"sep=" not in raw
    text = path.read_text(encoding="utf-8-sig")
    assert '"José Núñez"' in text and '"Deforestación detectada"' in text
    frame = pd.read_csv(path, encoding="utf-8-sig")
    hansen = [
        "hansen_gfc_forest_2020_ha",
        "hansen_gfc_forest_2020_pct",
        "hansen_gfc_loss_after_cutoff_ha",
        "hansen_gfc_nodata_pct",
        "hansen_gfc_loss_2021_ha",
        "hansen_gfc_loss_2022_ha",
        "hansen_gfc_loss_2023_ha",
        "hansen_gfc_loss_2024_ha",  # always up to the data's year (GFC-2024-v1.12)
    ]
    jrc = [
        "jrc_gfc2020_forest_2020_ha",
        "jrc_gfc2020_forest_2020_pct",
        "jrc_gfc2020_loss_after_cutoff_ha",
        "jrc_gfc2020_nodata_pct",
    ]
    alerts = [
        "gfw_integrated_alerts_nodata_pct",
        "gfw_integrated_alerts_alert_count",
        "gfw_integrated_alerts_alert_area_ha",
        "gfw_integrated_alerts_alert_latest",
    ]
    assert frame.columns.tolist() == [
        "plot_id", "producer_name", "production_place", "producer_country", "country_risk",
        "commodity", "verdict", "verdict_es", "verdict_en", "area_ha", *hansen, *jrc, *alerts,
        "ind_01_treecover", "ind_02_commodities", "ind_03_disturbance_before_2020",
        "ind_04_disturbance_after_2020", "risk_pcrop", "reasons_es", "reasons_en",
        "finding_codes"]  # fmt: skip
    analysed = frame[frame["risk_pcrop"].notna()]
    assert set(analysed["ind_01_treecover"]) <= {"yes", "no", "unknown"} and len(analysed) == 4
    assert set(analysed["risk_pcrop"]) <= {"low", "more_info_needed", "high", "undetermined"}
    assert set(frame["country_risk"].dropna()) == {"standard"}  # Peru, EU 2025/1093
    for column in ("area_ha", *hansen, "jrc_gfc2020_forest_2020_ha"):
        assert frame[column].dtype == np.float64, column
    by_id = frame.set_index("plot_id")
    assert by_id.loc["P1", "area_ha"] == 4.9123
    assert by_id.loc["P3", "hansen_gfc_loss_2022_ha"] == 0.5
    assert by_id.loc["P3", "hansen_gfc_forest_2020_pct"] == pytest.approx(100 * 4.8 / 4.9, 1e-3)
    assert by_id.loc["P2", "hansen_gfc_loss_2021_ha"] == 0.0
    assert by_id.loc["P3", "verdict_en"] == "Deforestation detected"
    assert by_id.loc["P2", "gfw_integrated_alerts_alert_count"] == 2
    assert by_id.loc["P3", "producer_name"] == SCRIPT
    assert by_id.loc["P4/ñ", "reasons_en"].count(" | ") == 1
    assert "area_mismatch" in by_id.loc["P2", "finding_codes"]
    assert pd.isna(by_id.loc["P1", "jrc_gfc2020_forest_2020_ha"])


def test_csv_cells_are_quoted_and_defused() -> None:
    assert _cell("Peña") == '"Peña"'
    assert _cell('a "b"') == '"a ""b"""'
    assert _cell("=HYPERLINK(1)") == '"\'=HYPERLINK(1)"'  # never a formula in Excel
    assert (_cell(1.5), _cell(2), _cell(None), _cell(float("nan"))) == ("1.5", "2", "", "")


def test_html_summary_escapes_and_speaks_both_languages(run: CheckRun, tmp_path: Path) -> None:
    out = tmp_path / "out"
    files = _reports(run, out)
    es = files["cooperativa.summary.html"].read_text(encoding="utf-8")
    assert "<script" not in es and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in es
    assert 'lang="es"' in es and "Veredicto" in es and "Libre de deforestación" in es
    assert "Bourgoin" in es and "CC BY 4.0" in es  # licences ask for attribution
    assert "art. 2(6)" in es  # agroforestry note
    assert "sintético" not in es  # not the bundled sample data
    assert es.count("<img ") == 2
    assert 'src="maps/cooperativa/P2.png"' in es and 'src="maps/cooperativa/P3.png"' in es
    assert "maps/cooperativa/P1" not in es
    # P4 lies where the rasters have no data: no empty picture, the reason in words.
    assert "maps/cooperativa/P4" not in es and "Sin mapa: la ventana no muestra" in es
    assert 'class="legend"' in es and es.count('class="swatch"') >= 10  # one legend for all
    assert "http://" not in es and "https://" not in es  # nothing external

    en = _reports(run, out, lang="en")["cooperativa.summary.html"].read_text(encoding="utf-8")
    assert 'lang="en"' in en and "Verdict" in en and "Deforestation-free" in en
    assert "Veredicto" not in en and en.count("<img ") == 2


def test_html_warns_that_sample_data_is_synthetic(run: CheckRun, tmp_path: Path) -> None:
    record = dataclasses.replace(run.record, data_dir=tmp_path / "sample_data")
    sample = dataclasses.replace(run, record=record)
    path = _reports(sample, tmp_path / "o")["cooperativa.summary.html"]
    assert "sintéticos" in path.read_text(encoding="utf-8")


def _png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_maps_are_small_valid_and_deterministic(run: CheckRun, tmp_path: Path) -> None:
    files = _reports(run, tmp_path / "out")
    maps = sorted(k for k in files if k.startswith("maps/"))
    # Flagged plots whose window shows something; P4 (no data there) gets none.
    assert maps == ["maps/cooperativa/P2.png", "maps/cooperativa/P3.png"]
    for key in maps:
        data = files[key].read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) < 20_000
        assert _png_size(data) == (256, 256)
    again = _reports(run, tmp_path / "again")
    assert all(again[k].read_bytes() == files[k].read_bytes() for k in maps)
    # --maps all: every plot on the rasters, free ones too; --maps none: no map at all.
    every = sorted(k for k in _reports(run, tmp_path / "all", maps=MapMode.ALL)
                   if k.startswith("maps/"))  # fmt: skip
    assert "maps/cooperativa/P1.png" in every and set(maps) < set(every)
    assert not [k for k in _reports(run, tmp_path / "none", maps=MapMode.NONE)
                if k.startswith("maps/")]  # fmt: skip


def test_a_report_map_shows_the_loss_pixels_in_their_year_colour(
    run: CheckRun, tmp_path: Path
) -> None:
    from PIL import Image

    files = _reports(run, tmp_path / "out")
    image = Image.open(files["maps/cooperativa/P3.png"]).convert("RGB")
    colours = {c for _, c in image.getcolors(maxcolors=4096) or []}
    outline = tuple(int(map_png.COLOURS[5][i : i + 2], 16) for i in (1, 3, 5))
    years = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in map_png.YEAR_COLOURS}
    assert outline in colours and colours & years  # the outline and loss after 2020


def test_map_render_twice_gives_the_same_bytes(run: CheckRun, tmp_path: Path) -> None:
    ds = run.catalog.get("hansen_gfc")
    plot = run.validation.plots.geometry.iloc[2]
    pad = 3 * HANSEN_PX
    bounds = Bounds.of(plot.bounds).padded(pad)
    loss = read_window(ds, "lossyear", bounds, run.data_dir)
    cover = read_window(ds, "treecover2000", bounds, run.data_dir)
    assert (loss.data >= 21).sum() > 0  # the map has loss pixels to draw
    paths = [
        render_plot_map(plot, loss, title="P3 · Deforestation detected", lang="en",
                        path=tmp_path / f"m{i}.png", treecover_window=cover)
        for i in range(2)
    ]  # fmt: skip
    assert paths[0].read_bytes() == paths[1].read_bytes()
    no_data = render_plot_map(plot, None, title="$x$ {y}", lang="es", path=tmp_path / "n.png")
    assert no_data.read_bytes().startswith(PNG_MAGIC)


def test_map_file_names_are_safe_and_distinct() -> None:
    assert map_file_name("JAE-001") == "JAE-001.png"
    assert map_file_name("CON") != "CON.png"  # a name Windows refuses
    names = {map_file_name(i) for i in ("a/b", "a_b", "a\\b", "../a_b", "")}
    assert len(names) == 5
    assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in names)


def test_manifest_hashes_match_and_rerun_replaces_cleanly(run: CheckRun, tmp_path: Path) -> None:
    out = tmp_path / "out"
    calls: list[int] = []
    files = _reports(run, out, progress=calls.append)
    assert sum(calls) == len(run.results)
    manifest_path = files["cooperativa.manifest.json"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["run_id"] == "run-1" and manifest["verdicts"]["needs_review"] == 1
    outputs = manifest["outputs"]
    assert set(outputs) == set(files) - {"cooperativa.manifest.json"}
    for rel, digest in outputs.items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest
    assert manifest_path.read_text(encoding="utf-8") == json.dumps(
        manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n"  # fmt: skip

    # P2 is now free: its map goes, nothing half-written is left, the manifest is current.
    results = list(run.results)
    results[1] = dataclasses.replace(results[1], verdict=Verdict.DEFORESTATION_FREE)
    second = _reports(dataclasses.replace(run, results=results), out)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == set(second) and "maps/cooperativa/P2.png" not in on_disk
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
    manifest = json.loads(second["cooperativa.manifest.json"].read_text(encoding="utf-8"))
    for rel, digest in manifest["outputs"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest


def test_plots_without_a_usable_shape_get_no_raster_read(
    tmp_path: Path, write_geojson: Callable[..., Path]
) -> None:
    features = [
        feature(None, plot_id="NOGEOM"),
        feature({"type": "Point", "coordinates": [-72.708304, -95.851528]}, plot_id="SOUTH"),
    ]
    report = validate(read_plots(write_geojson(*features, name="bad.geojson")), fix=True)
    geometry_error = (ReasonItem(Reason.GEOMETRY_ERROR, None, (("codes", "x"),)),)
    results = [PlotResult(pid, Verdict.UNDETERMINED, geometry_error, (), None)
               for pid in ("NOGEOM", "SOUTH")]  # fmt: skip
    run = _run("run-2", "bad.geojson", "", report, results, load_catalog(), tmp_path)
    files = _reports(run, tmp_path / "out", lang="en")
    assert not [k for k in files if k.startswith("maps/")]  # off the globe: nothing to draw
    html = files["bad.summary.html"].read_text(encoding="utf-8")
    assert html.count("<img ") == 0 and "No map:" in html
    doc = json.loads(files["bad.due_diligence.geojson"].read_text(encoding="utf-8"))
    assert doc["features"][0]["geometry"] is None


def test_a_large_summary_is_an_index_with_pages_by_verdict(
    run: CheckRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eudr_check.reports import html as html_mod

    monkeypatch.setattr(html_mod, "PAGE_ROWS", 1)  # as if the run had thousands of plots
    monkeypatch.setattr(html_mod, "PAGE_SECTIONS", 1)
    files = _reports(run, tmp_path / "out", lang="en")
    pages = sorted(k for k in files if k.startswith("cooperativa.summary."))
    assert "cooperativa.summary.html" in pages
    assert "cooperativa.summary.deforestation_detected-0001.html" in pages
    assert "cooperativa.summary.needs_review-maps-0001.html" in pages
    assert "cooperativa.summary.deforestation_free-maps-0001.html" not in pages  # none drawn
    index = files["cooperativa.summary.html"].read_text(encoding="utf-8")
    # The first page's table starts with the most severe plot, and links every page.
    assert "The first 1 plots, most severe first" in index
    first_row = index.split("most severe first")[1]
    assert "Deforestation detected" in first_row.split("</tr>")[1]
    for name in (p for p in pages if p != "cooperativa.summary.html"):
        assert f'href="{name}"' in index
        page = files[name].read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and 'href="cooperativa.summary.html"' in page
    manifest = json.loads(files["cooperativa.manifest.json"].read_text(encoding="utf-8"))
    assert set(pages) <= set(manifest["outputs"])


def test_results_csv_in_the_european_excel_dialect(run: CheckRun, tmp_path: Path) -> None:
    from eudr_check.reports.options import CsvDialect

    plain = _reports(run, tmp_path / "a")["cooperativa.results.csv"]
    eu = _reports(run, tmp_path / "b", csv_dialect=CsvDialect.EXCEL_EU)["cooperativa.results.csv"]
    a = pd.read_csv(plain, encoding="utf-8-sig")
    b = pd.read_csv(eu, encoding="utf-8-sig", sep=";", decimal=",")
    pd.testing.assert_frame_equal(a, b)  # the same table, spelled for another Excel
    text = eu.read_text(encoding="utf-8-sig")
    assert ";4,9123;" in text and "4.9123" not in text


def test_the_html_report_shows_bidirectional_controls_as_codes() -> None:
    from eudr_check.reports.html import escape

    assert escape("Quispe \u202egnp.exe <b>") == "Quispe [U+202E]gnp.exe &lt;b&gt;"
    assert escape("José Núñez") == "José Núñez"
