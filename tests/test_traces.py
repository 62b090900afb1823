"""Export for the EU Information System: format, splitting, exclusions, and re-validation."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from eudr_check.fileio import atomic_path
from eudr_check.intake import read_plots
from eudr_check.reports import traces
from eudr_check.reports.traces import export_traces
from eudr_check.rules import ValidationReport, validate
from tests.conftest import FIXTURES, X0, Y0, D, feature, poly, square

Check = Callable[..., ValidationReport]


def _cooperative(n: int) -> list[dict[str, object]]:
    feats = []
    for i in range(n):
        x, y = X0 + (i % 20) * 0.003, Y0 + (i // 20) * 0.003
        geom = poly(square(x, y)) if i % 3 else {"type": "Point", "coordinates": [x, y]}
        feats.append(feature(geom, plot_id=f"JAE-{i:03d}", ProductionPlace="Huabal", Area=1.0))
    return feats


def test_export_format_is_what_the_eu_accepts(tmp_path: Path, check: Check) -> None:
    report = check(*_cooperative(9), fix=True)
    result = export_traces(report, tmp_path / "coop.geojson", tmp_path)
    doc = json.loads(result.files[0].read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 9
    for feat in doc["features"]:
        assert set(feat["properties"]) <= {
            "ProducerName",
            "ProducerCountry",
            "ProductionPlace",
            "Area",
        }
        assert isinstance(feat["properties"]["Area"], float)
        assert feat["geometry"]["type"] in {"Point", "Polygon", "MultiPolygon", "MultiPoint"}
        lon, lat = (
            feat["geometry"]["coordinates"][0][0]
            if feat["geometry"]["type"] == "Polygon"
            else feat["geometry"]["coordinates"]
        )
        assert -79 < lon < -78 and -6 < lat < -5  # [lon, lat] order
    text = result.files[0].read_text()
    assert "-78.812345" in text  # 6 decimals kept


def test_split_under_the_size_limit_with_an_index(tmp_path: Path, check: Check) -> None:
    report = check(*_cooperative(200), fix=True)
    result = export_traces(report, tmp_path / "coop.geojson", tmp_path, max_mb=0.01)
    assert len(result.files) > 3
    assert all(f.stat().st_size <= 10_000 for f in result.files)
    with result.index.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["plot_id"] for r in rows] == [f"JAE-{i:03d}" for i in range(200)]
    for f in result.files:
        listed = [r["plot_id"] for r in rows if r["file"] == f.name]
        back = read_plots(f).plots["plot_id"].tolist()
        assert back == listed
        # Every exported file passes our own rules with zero errors.
        assert not validate(read_plots(f)).has_errors


def test_plots_with_unrepaired_errors_are_left_out_and_listed(tmp_path: Path, check: Check) -> None:
    x, y, d = X0, Y0, D
    bow = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    report = check(
        feature(poly(square()), plot_id="OK"),
        feature(poly([bow]), plot_id="BOW"),  # repaired, so exported
        feature({"type": "Point", "coordinates": [X0 + 0.05, Y0]}, plot_id="BIG", Area=8),
        feature({"type": "LineString", "coordinates": [[X0, Y0], [X0 + d, Y0]]}, plot_id="LINE"),
        fix=True,
    )
    result = export_traces(report, tmp_path / "c.geojson", tmp_path)
    assert result.exported == 2 and result.left_out == 2
    with result.excluded.open(encoding="utf-8-sig") as fh:
        excluded = {r["plot_id"]: r["codes"] for r in csv.DictReader(fh)}
    assert excluded == {"BIG": "point_over_4ha", "LINE": "linestring"}


def test_eu_examples_export_unchanged_in_count(tmp_path: Path) -> None:
    for name in ("type1_single_producer.geojson", "type2_multiple_producers.geojson"):
        report = validate(read_plots(FIXTURES / name), fix=True)
        result = export_traces(report, FIXTURES / name, tmp_path)
        assert result.exported == len(report.plots) and result.left_out == 0
        for f in result.files:
            assert not validate(read_plots(f)).has_errors


def test_failure_part_way_leaves_no_files(
    tmp_path: Path, check: Check, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = check(*_cooperative(60), fix=True)
    real = traces.feature_text
    calls = {"n": 0}

    def failing(*args: object) -> str:
        calls["n"] += 1
        if calls["n"] == 50:
            raise OSError(28, "No space left on device")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(traces, "feature_text", failing)
    with pytest.raises(OSError):
        export_traces(report, tmp_path / "c.geojson", tmp_path / "eu", max_mb=0.002)
    assert list((tmp_path / "eu").iterdir()) == []  # no file, no temporary left over


def test_atomic_path_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


SAMPLES = Path(__file__).parent.parent / "sample_plots"


@pytest.mark.parametrize(
    "name",
    ["cooperativa.geojson", "cooperativa.kmz", "cooperativa_shp.zip", "cooperativa.gpkg",
     "cooperativa.xlsx", "cooperativa_wkt.csv", "cooperativa.gpx"],
)  # fmt: skip
def test_every_sample_export_passes_our_rules(tmp_path: Path, name: str) -> None:
    report = validate(read_plots(SAMPLES / name, default_country="PE"), fix=True)
    result = export_traces(report, SAMPLES / name, tmp_path, max_mb=0.02)
    assert result.exported + result.left_out == len(report.plots)
    assert result.exported == len(set(report.plots["plot_id"]) - report.error_plot_ids())
    for f in result.files:
        assert f.stat().st_size <= 20_000
        again = validate(read_plots(f))
        assert not again.has_errors, [e.to_dict() for e in again.errors]


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)",
            "-2+3"]  # fmt: skip


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [c for row in csv.reader(fh, delimiter=";" if "eu" in path.name else ",")
                for c in row]  # fmt: skip


def test_no_csv_the_project_writes_carries_a_formula(tmp_path: Path, check: Check) -> None:
    from eudr_check.reports.findings import write_findings

    d = D
    feats = [feature(poly(square(X0 + i * 0.01, Y0)), plot_id=text, ProducerName=text)
             for i, text in enumerate(FORMULAS)]  # fmt: skip
    feats.append(feature({"type": "LineString", "coordinates": [[X0, Y0], [X0 + d, Y0]]},
                         plot_id=FORMULAS[0]))  # excluded from the EU export  # fmt: skip
    report = check(*feats, fix=True)
    result = export_traces(report, tmp_path / "c.geojson", tmp_path, max_mb=0.001)
    written = [result.excluded, result.index]
    written += [p for p in write_findings(report, tmp_path / "c.geojson", tmp_path)
                if p.suffix == ".csv"]  # fmt: skip
    assert len(written) == 3
    for path in written:
        cells = _cells(path)
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], path.name
        assert any(c.startswith("'=") for c in cells), path.name  # kept, shown as text
