"""Missing, corrupt and unreachable data never make a plot deforestation-free."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from eudr_check.datasets.catalog import Catalog, load_catalog
from eudr_check.engine import DataSources, check_report
from eudr_check.intake import read_plots
from eudr_check.reasons import Reason, Verdict
from eudr_check.rules import validate
from tests.rasters import HANSEN_PX, only_hansen, write_layer

WEST, NORTH = -78.8, -5.7


def _plots(tmp_path: Path) -> Path:
    """Two plots inside the raster clip, one far away in another tile (Cusco)."""

    def square(x: float, y: float) -> dict[str, object]:
        d = 10 * HANSEN_PX
        ring = [[x, y], [x + d, y], [x + d, y - d], [x, y - d], [x, y]]
        return {"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)] for a, b in ring]]}

    feats = [
        {"type": "Feature", "properties": {"plot_id": pid, "ProducerCountry": "PE"},
         "geometry": square(x, y)}
        for pid, x, y in (("A", WEST + 0.001, NORTH - 0.001), ("B", WEST + 0.006, NORTH - 0.006),
                          ("FAR", -72.6, -12.8))
    ]  # fmt: skip
    path = tmp_path / "plots.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def _hansen_clip(catalog: Catalog, data_dir: Path, tree: int = 0, nodata_rows: int = 0) -> None:
    size = 60  # 0.015° square from (WEST, NORTH)
    trees = np.full((size, size), tree, np.uint8)
    trees[:nodata_rows, :] = 255
    write_layer(catalog, data_dir, "hansen_gfc", "treecover2000", "00N_080W", trees, WEST, NORTH)
    loss = np.zeros((size, size), np.uint8)
    write_layer(catalog, data_dir, "hansen_gfc", "lossyear", "00N_080W", loss, WEST, NORTH)


def _verdicts(
    tmp_path: Path, catalog: Catalog, data_dir: Path
) -> dict[str, tuple[Verdict, set[Reason]]]:
    report = validate(read_plots(_plots(tmp_path)), fix=True)
    run = check_report(report, DataSources(catalog, data_dir))
    return {r.plot_id: (r.verdict, {x.code for x in r.reasons}) for r in run.results}


def test_missing_tile_gives_undetermined_and_the_run_goes_on(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    _hansen_clip(catalog, tmp_path / "data")
    out = _verdicts(tmp_path, catalog, tmp_path / "data")
    assert out["A"] == (Verdict.DEFORESTATION_FREE, {Reason.NO_FOREST_NO_LOSS})
    assert out["FAR"][0] is Verdict.UNDETERMINED
    assert Reason.MISSING_TILE in out["FAR"][1]


def test_corrupt_tile_gives_undetermined(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    data = tmp_path / "data"
    _hansen_clip(catalog, data)
    lossyear = data / "hansen_gfc" / catalog.get("hansen_gfc").file_name("lossyear", "00N_080W")
    lossyear.write_bytes(b"II*\x00" + b"\x00garbage" * 50)  # a TIFF header and nothing sane
    out = _verdicts(tmp_path, catalog, data)
    assert out["A"][0] is Verdict.UNDETERMINED
    assert Reason.DATASET_UNREADABLE in out["A"][1]


def test_unreachable_url_gives_undetermined(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    hansen = catalog.get("hansen_gfc").model_copy(
        update={"location": "http://127.0.0.1:9/earthenginepartners-hansen/{version}/{file}"}
    )
    catalog = catalog.model_copy(
        update={"datasets": [hansen if d.id == "hansen_gfc" else d for d in catalog.datasets]}
    )
    out = _verdicts(tmp_path, catalog, tmp_path)
    for pid in ("A", "B", "FAR"):
        assert out[pid][0] is Verdict.UNDETERMINED
        assert Reason.DATASET_UNREADABLE in out[pid][1]


def test_plot_mostly_over_nodata_gives_undetermined(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    _hansen_clip(catalog, tmp_path / "data", nodata_rows=8)  # plot A's top rows
    out = _verdicts(tmp_path, catalog, tmp_path / "data")
    assert out["A"][0] is Verdict.UNDETERMINED and Reason.NO_DATA in out["A"][1]
    assert out["B"] == (Verdict.DEFORESTATION_FREE, {Reason.NO_FOREST_NO_LOSS})


def test_missing_jrc_tile_alone_makes_undetermined(tmp_path: Path) -> None:
    catalog = load_catalog()  # Hansen + JRC + alerts (optional)
    _hansen_clip(catalog, tmp_path / "data")
    out = _verdicts(tmp_path, catalog, tmp_path / "data")
    verdict, reasons = out["A"]
    assert verdict is Verdict.UNDETERMINED and reasons == {Reason.MISSING_TILE}


def test_forest_without_loss_needs_review(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    _hansen_clip(catalog, tmp_path / "data", tree=60)
    out = _verdicts(tmp_path, catalog, tmp_path / "data")
    assert out["A"] == (Verdict.NEEDS_REVIEW, {Reason.FOREST_2020_NO_LOSS})
