"""Results round-trip, and fingerprints change exactly when a plot's inputs change."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from eudr_check.datasets.catalog import load_catalog
from eudr_check.engine import DataSources, check_report
from eudr_check.engine.fingerprint import fingerprints
from eudr_check.engine.plan import plan
from eudr_check.intake import read_plots
from eudr_check.models import PlotResult
from eudr_check.rules import validate
from tests.rasters import only_hansen, write_layer

ROOT = Path(__file__).parent.parent


def test_plot_results_round_trip_through_dicts() -> None:
    report = validate(read_plots(ROOT / "sample_plots" / "cooperativa.geojson"), fix=True)
    run = check_report(report, DataSources(load_catalog(), ROOT / "sample_data"))
    for result in run.results:
        again = PlotResult.from_dict(json.loads(json.dumps(result.to_dict())))
        assert again == result


def _plots(tmp_path: Path) -> Path:
    feats = []
    for pid, x in (("NEAR", -78.79), ("FAR", -72.6)):
        y = -5.71 if pid == "NEAR" else -12.8
        ring = [[x, y], [x + 0.002, y], [x + 0.002, y + 0.002], [x, y + 0.002], [x, y]]
        feats.append({"type": "Feature", "properties": {"plot_id": pid, "ProducerCountry": "PE"},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})  # fmt: skip
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_fingerprint_follows_the_tiles_under_the_plot(tmp_path: Path) -> None:
    catalog = only_hansen(load_catalog())
    data = tmp_path / "data"
    layers = {}
    for tile, west, north in (("00N_080W", -78.8, -5.7), ("10S_080W", -72.61, -12.79)):
        for layer in ("treecover2000", "lossyear"):
            values = np.zeros((40, 40), np.uint8)
            layers[tile, layer] = write_layer(catalog, data, "hansen_gfc", layer, tile, values,
                                              west, north)  # fmt: skip
    tasks = plan(validate(read_plots(_plots(tmp_path)), fix=True), catalog)
    first = fingerprints(tasks, DataSources(catalog, data))
    assert fingerprints(tasks, DataSources(catalog, data)) == first  # stable
    # A new lossyear file over the Cusco plot only changes that plot's fingerprint.
    values = np.full((40, 40), 22, np.uint8)
    write_layer(catalog, data, "hansen_gfc", "lossyear", "10S_080W", values, -72.61, -12.79)
    second = fingerprints(tasks, DataSources(catalog, data))
    assert second[0] == first[0] and second[1] != first[1]
    # A new dataset version changes every fingerprint.
    newer = catalog.with_versions({"hansen_gfc": "GFC-2025-v1.13"})
    assert all(
        a != b for a, b in zip(fingerprints(tasks, DataSources(newer, data)), second, strict=True)
    )
