"""The evidence maps show the vector layers' areas in view (protected areas, buffer zones,
indigenous lands, production forests): hatched and outlined in the report maps, filled lightly
and outlined in the evidence map, named with the plot's share in its legend. Real rasters and
a real GeoJSON layer in tmp_path; the pictures read back with Pillow.

The world: a 0.002° square plot A whose east half lies in a park (the park runs on east and
north and south beyond the map), and a plot B far enough west that its map shows no park."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.typing import NDArray
from PIL import Image

from eudr_check.datasets.catalog import (
    AreaKind,
    Catalog,
    VectorDataset,
    VectorFields,
    load_catalog,
)
from eudr_check.engine import CheckRun, DataSources, check_report
from eudr_check.i18n import Lang
from eudr_check.intake import read_plots
from eudr_check.reports import map_png
from eudr_check.reports.check_reports import write_check_reports
from eudr_check.reports.map_png import AREA_COLOURS, MapArea
from eudr_check.reports.maps import AREA_ALPHA, FOREST, OUTLINE, area_labels, map_view
from eudr_check.reports.plot_maps import draw_plot_map, drawn_shape, map_areas, map_layers
from eudr_check.reports.records import PlotRecord, plot_records
from eudr_check.rules import validate
from eudr_check.spatial import Bounds
from tests.conftest import feature, poly, square
from tests.rasters import HANSEN_PX, only_hansen, write_layer

WEST, NORTH, W, H = -78.8250, -5.7000, 120, 60  # the raster clip, on the Hansen grid
D = 0.002  # plots of ~220 m a side
A = (-78.8100, -5.7100)  # south-west corners
B = (-78.8220, -5.7100)
MID = A[0] + D / 2  # the park's west edge halves plot A
PARK = shapely.box(MID, -5.7140, -78.7960, -5.7010)
NAME, CATEGORY = "Reserva de Prueba (sintética)", "Reserva Nacional"
PARK_INDEX = map_png.COLOURS.index(AREA_COLOURS[AreaKind.PROTECTED_AREA])


def _rasters(catalog: Catalog, data: Path) -> None:
    """Forest everywhere; a strip of 2022 loss in each plot's west quarter (both flagged)."""
    loss = np.zeros((H, W), np.uint8)
    for x, y in (A, B):
        row, col = round((NORTH - y - D) / HANSEN_PX), round((x - WEST) / HANSEN_PX)
        loss[row : row + 8, col : col + 2] = 22
    cover = np.full((H, W), 70, np.uint8)
    for layer, values in (("lossyear", loss), ("treecover2000", cover)):
        write_layer(catalog, data, "hansen_gfc", layer, "00N_080W", values, WEST, NORTH)


def _park_layer(data: Path, **kw: Any) -> VectorDataset:
    frame = gpd.GeoDataFrame({"anp_nomb": [NAME], "anp_cate": [CATEGORY]}, geometry=[PARK],
                             crs=4326)  # fmt: skip
    (data / "anp").mkdir(parents=True, exist_ok=True)
    frame.to_file(data / "anp" / "anp.geojson", driver="GeoJSON", engine="pyogrio")
    fields = VectorFields(name="anp_nomb", category="anp_cate")
    return VectorDataset(id="anp_test", title="Synthetic park", version="t1",
                         kind=AreaKind.PROTECTED_AREA, fields=fields, licence="test",
                         attribution="test",
                         **{"file": "{data_dir}/anp/anp.geojson", **kw})  # fmt: skip


def _check(tmp_path: Path, layers: list[VectorDataset], data: Path) -> CheckRun:
    path = tmp_path / "fincas.geojson"
    if not path.exists():
        feats = [feature(poly(square(*A, D)), plot_id="A"),
                 feature(poly(square(*B, D)), plot_id="B")]  # fmt: skip
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    catalog = only_hansen(load_catalog()).model_copy(update={"vector_layers": layers})
    return check_report(validate(read_plots(path), fix=True), DataSources(catalog, data))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    _rasters(load_catalog(), folder)
    return folder


def _report_maps(run: CheckRun, out: Path) -> dict[str, bytes]:
    files = write_check_reports(run, out, lang=Lang.EN)
    return {p.stem: p.read_bytes() for p in files if p.suffix == ".png"}


def _indices(png: bytes, tmp_path: Path) -> NDArray[np.uint8]:
    path = tmp_path / "read.png"
    path.write_bytes(png)
    with Image.open(path) as image:
        assert image.mode == "P"
        return np.asarray(image)


def _record(run: CheckRun, plot_id: str) -> PlotRecord:
    return next(r for r in plot_records(run.validation, run.results) if r.plot_id == plot_id)


def _evidence_map(run: CheckRun, plot_id: str, path: Path, lang: Lang = Lang.EN) -> Path:
    rec = _record(run, plot_id)
    shape = drawn_shape(rec, run.catalog.verdict.point_area_ha)
    assert shape is not None
    return draw_plot_map(DataSources(run.catalog, run.data_dir), rec, shape, path, lang)


def test_the_report_map_hatches_the_park_in_the_plots_east_half_only(
    tmp_path: Path, data: Path
) -> None:
    run = _check(tmp_path, [_park_layer(data)], data)
    (stats,) = [s for s in run.results[0].stats if s.vector]
    assert stats.overlaps[0].share == pytest.approx(0.5, abs=1e-3)  # the world is as meant
    maps = _report_maps(run, tmp_path / "out")
    assert set(maps) == {"A", "B"}  # both flagged
    index = _indices(maps["A"], tmp_path)
    # The view is centred on the plot: its middle (the park's edge) is the image's middle.
    west, east = index[:, : map_png.SIZE // 2 - 4], index[:, map_png.SIZE // 2 + 4 :]
    assert not (west == PARK_INDEX).any()
    assert (east == PARK_INDEX).any()
    # Hatched every eighth row, the pixels under it left to see; the edge outlined.
    assert (east[4::8] == PARK_INDEX).mean() > 0.9 and (east[5::8] == PARK_INDEX).mean() < 0.05
    edge = index[:, map_png.SIZE // 2 - 2 : map_png.SIZE // 2 + 3]
    assert (edge == PARK_INDEX).any(axis=1).mean() > 0.9
    # The plot's outline is still on top, the loss still under it.
    outline = map_png.COLOURS.index(OUTLINE)
    assert (index == outline).any()
    assert (west >= 6).any() and (west < 6 + len(map_png.YEAR_COLOURS)).any()
    # The one legend of the HTML names the kind; the plot's findings name the park.
    html = (tmp_path / "out" / "fincas.summary.html").read_text(encoding="utf-8")
    assert "Protected area (outline and hatching)" in html and NAME in html
    # ... and only the kinds the run had layers of.
    assert "Buffer zone (outline" not in html and "Indigenous or community land" not in html


def _rgb(colour: str) -> NDArray[np.float64]:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def test_the_evidence_map_fills_the_park_lightly_and_its_legend_names_it(
    tmp_path: Path, data: Path
) -> None:
    run = _check(tmp_path, [_park_layer(data)], data)
    with Image.open(_evidence_map(run, "A", tmp_path / "a.png")) as image:
        rgb = np.asarray(image.convert("RGB")).astype(float)
    # Where the plot is in the picture: its outline's pixels.
    navy = np.abs(rgb - _rgb(OUTLINE)).max(axis=2) <= 12
    rows, cols = np.nonzero(navy[: int(0.7 * rgb.shape[0])])  # the map, not the legend
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    mid = (left + right) // 2
    inside = rgb[top + 6 : bottom - 5]
    west, east = inside[:, left + 6 : mid - 5], inside[:, mid + 6 : right - 5]
    # Forest (no loss there) seen through the park's light fill, as Agg blends it.
    park = _rgb(AREA_COLOURS[AreaKind.PROTECTED_AREA])
    tinted = AREA_ALPHA * park + (1 - AREA_ALPHA) * _rgb(FOREST)
    assert (np.abs(east - tinted).max(axis=2) <= 3).mean() > 0.95
    assert not (np.abs(west - tinted).max(axis=2) <= 3).any()
    assert (np.abs(west - _rgb(FOREST)).max(axis=2) <= 3).any()  # untinted forest in the west
    # The legend's rows: what draw_plot_map names, in both languages.
    rec = _record(run, "A")
    layers = map_layers(DataSources(run.catalog, run.data_dir))
    shape = drawn_shape(rec, run.catalog.verdict.point_area_ha)
    assert shape is not None
    areas = map_areas(layers, map_view(shape, None), rec.result)
    assert [label for _, label in area_labels(areas, Lang.EN)] == [
        f"Protected area: {NAME} ({CATEGORY}), 50.0 % of the plot"
    ]
    assert [label for _, label in area_labels(areas, Lang.ES)] == [
        f"Área natural protegida: {NAME} ({CATEGORY}), 50.0 % de la parcela"
    ]


def test_a_plot_with_no_area_in_view_gets_the_map_it_had_without_layers(
    tmp_path: Path, data: Path
) -> None:
    plain = _check(tmp_path, [], data)
    layered = _check(tmp_path, [_park_layer(data)], data)
    before, after = _report_maps(plain, tmp_path / "plain"), _report_maps(layered, tmp_path / "l")
    assert after["B"] == before["B"] and after["A"] != before["A"]
    assert not (_indices(after["B"], tmp_path) == PARK_INDEX).any()
    maps = [
        _evidence_map(run, "B", tmp_path / f"b{i}.png") for i, run in enumerate((plain, layered))
    ]
    assert maps[0].read_bytes() == maps[1].read_bytes()


@pytest.mark.parametrize("how", ["disabled", "missing", "unreadable"])
def test_a_disabled_missing_or_unreadable_layer_draws_nothing(
    tmp_path: Path, data: Path, how: str
) -> None:
    vd = _park_layer(data, enabled=how != "disabled")
    if how == "missing":
        (data / "anp" / "anp.geojson").unlink()
    elif how == "unreadable":
        (data / "anp" / "anp.geojson").write_text("{not json", encoding="utf-8")
    plain = _check(tmp_path, [], data)
    broken = _check(tmp_path, [vd], data)
    assert _report_maps(broken, tmp_path / "b") == _report_maps(plain, tmp_path / "p")
    maps = [
        _evidence_map(run, "A", tmp_path / f"a{i}.png") for i, run in enumerate((plain, broken))
    ]
    assert maps[0].read_bytes() == maps[1].read_bytes()


def test_holes_are_left_unhatched_and_the_legend_rows_are_few() -> None:
    view = Bounds(0.0, 0.0, 1.0, 1.0)
    ring = shapely.Polygon([(-1, -1), (2, -1), (2, 2), (-1, 2)],
                           [[(-0.5, -0.5), (0.5, -0.5), (0.5, 1.5), (-0.5, 1.5)]])  # fmt: skip
    area = MapArea(AreaKind.INDIGENOUS_LAND, "C.N. de Prueba", "Comunidad Nativa", ring)
    png = map_png.render_png(shapely.Point(0.5, 0.5), view, None, None, threshold=10,
                             cutoff_code=20, areas=[area])  # fmt: skip
    index = np.asarray(Image.open(io.BytesIO(png)))
    colour = map_png.COLOURS.index(AREA_COLOURS[AreaKind.INDIGENOUS_LAND])
    assert not (index[:, :124] == colour).any() and (index[:, 132:] == colour).any()
    # A plot deep inside: the whole map hatched (the box is not drawn pixel by pixel).
    whole = MapArea(AreaKind.INDIGENOUS_LAND, "C.N. de Prueba", None, shapely.box(-1, -1, 2, 2))
    png = map_png.render_png(shapely.Point(0.5, 0.5), view, None, None, threshold=10,
                             cutoff_code=20, areas=[whole])  # fmt: skip
    index = np.asarray(Image.open(io.BytesIO(png)))
    assert (index[4::8] == colour).mean() > 0.99 and not (index[5::8] == colour).any()
    # Namesakes are one row; a share of 0 is an area near the plot; many areas are counted.
    many = [area, area, *(MapArea(AreaKind.BUFFER_ZONE, f"Z{i}", None, ring, 0.0)
                          for i in range(5))]  # fmt: skip
    labels = [label for _, label in area_labels(many, Lang.EN)]
    assert labels[:2] == ["Indigenous or community land: C.N. de Prueba (Comunidad Nativa)",
                          "Buffer zone: Z0, outside the plot"]  # fmt: skip
    assert len(labels) == 4 and labels[-1] == "… and 3 more areas on the map"  # 6 areas
