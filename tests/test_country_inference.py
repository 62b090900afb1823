"""Plots that name no country: inferred from the shipped boundaries, or a clear error naming
--country; swapped coordinates found without a declared country; degrees-minutes-seconds in
spreadsheets; the EU export with the inferred plots and RFC 7946 winding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
import shapely

from eudr_check.findings import Code, Severity, finding_message
from eudr_check.intake import read_plots
from eudr_check.intake.countries import countries
from eudr_check.reports.traces import export_traces
from eudr_check.rules import ValidationReport, validate

D = 0.0015  # about 165 m: a plot of about 2.7 ha


def _ring(x: float, y: float, clockwise: bool = False) -> list[list[float]]:
    ring = [[x, y], [x + D, y], [x + D, y + D], [x, y + D], [x, y]]
    return ring[::-1] if clockwise else ring


def _feature(pid: str, ring: list[list[float]], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"plot_id": pid, **props},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}  # fmt: skip


def _check(*features: dict[str, Any], country: str | None = None) -> ValidationReport:
    doc = json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()
    return validate(read_plots(doc, name="socios.geojson", default_country=country), fix=True)


def _codes(report: ValidationReport, pid: str) -> dict[str, str]:
    return {f.code.value: f.severity.value for f in report.findings if f.plot_id == pid
            and f.code is not Code.LOW_PRECISION}  # fmt: skip


def _country_of(report: ValidationReport, pid: str) -> object:
    return report.plots.set_index("plot_id").loc[pid, "producer_country"]


def _near_border(inside: str, other: str, km: float) -> tuple[float, float]:
    """A point `km` inside `inside`, measured from a point of its border with `other`."""
    c = countries()
    border = c.geometry(inside).boundary.intersection(c.geometry(other).boundary)
    line = shapely.line_merge(border)
    lines = list(getattr(line, "geoms", [line]))
    edge = max(lines, key=lambda g: g.length)
    p = shapely.line_interpolate_point(edge, 0.5, normalized=True)
    for dx, dy in ((0, -1), (0, 1), (1, 0), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1)):
        step = km / 111.0
        q = shapely.Point(p.x + dx * step, p.y + dy * step)
        if c.geometry(inside).contains(q):
            return q.x, q.y
    raise AssertionError("no point found inside")


def test_a_plot_in_peru_gets_its_country_from_the_location() -> None:
    report = _check(_feature("PE-1", _ring(-78.81, -5.71)))
    assert _codes(report, "PE-1") == {"country_inferred": "repaired"}
    assert _country_of(report, "PE-1") == "PE"
    (found,) = [f for f in report.findings if f.code is Code.COUNTRY_INFERRED]
    assert "Perú" in finding_message(found, "es") and "Peru" in finding_message(found, "en")
    assert not report.has_errors


def test_a_plot_in_nicaragua_is_nicaraguan_without_any_option() -> None:
    report = _check(_feature("NI-1", _ring(-85.91, 13.11)))
    assert _codes(report, "NI-1") == {"country_inferred": "repaired"}
    assert _country_of(report, "NI-1") == "NI"


def test_a_plot_at_sea_stays_an_error_that_names_the_option() -> None:
    report = _check(_feature("SEA", _ring(-82.0, -8.0)))
    assert _codes(report, "SEA") == {"country_missing": "error"}
    (missing,) = [f for f in report.findings if f.code is Code.COUNTRY_MISSING]
    assert "--country" in finding_message(missing, "es")
    assert "--country" in finding_message(missing, "en")


def test_near_the_peru_ecuador_border_the_country_is_not_guessed() -> None:
    x, y = _near_border("PE", "EC", km=1.0)
    report = _check(_feature("BORDE", _ring(x, y)))
    assert _codes(report, "BORDE") == {"country_ambiguous": "error"}
    (f,) = [f for f in report.findings if f.code is Code.COUNTRY_AMBIGUOUS]
    es, en = finding_message(f, "es"), finding_message(f, "en")
    assert "Perú" in es and "Ecuador" in es and "--country" in es
    assert "Peru" in en and "Ecuador" in en
    # Well inside Peru (30 km from the border) it is inferred.
    x, y = _near_border("PE", "EC", km=30.0)
    assert _codes(_check(_feature("DENTRO", _ring(x, y))), "DENTRO") == {
        "country_inferred": "repaired"
    }


def test_a_declared_country_far_from_the_plot_says_where_it_is() -> None:
    report = _check(_feature("EC-1", _ring(-78.81, -5.71), ProducerCountry="EC"))
    (f,) = [f for f in report.findings if f.code is Code.OUTSIDE_COUNTRY]
    assert "it lies in Peru" in finding_message(f, "en")
    assert "está en Perú" in finding_message(f, "es")
    assert _country_of(report, "EC-1") == "EC"  # what the file says is never overwritten


def test_swapped_coordinates_are_found_without_a_declared_country() -> None:
    swapped = [[y, x] for x, y in _ring(-78.81, -5.71)]
    report = _check(_feature("SWAP", swapped))
    assert _codes(report, "SWAP") == {"latlon_swapped": "repaired", "country_inferred": "repaired"}
    assert report.plots.geometry.iloc[0].bounds[0] == pytest.approx(-78.81)


def test_the_default_country_wins_and_nothing_is_inferred() -> None:
    report = _check(_feature("PE-1", _ring(-78.81, -5.71)), country="PE")
    assert _codes(report, "PE-1") == {}


def test_an_unreadable_declared_country_is_not_replaced() -> None:
    report = _check(_feature("PU", _ring(-78.81, -5.71), ProducerCountry="PU"))
    assert _codes(report, "PU") == {"country_invalid": "error"}


def test_the_eu_export_includes_inferred_plots_with_rfc7946_winding(tmp_path: Path) -> None:
    report = _check(
        _feature("A", _ring(-78.81, -5.71, clockwise=True)),
        _feature("B", _ring(-78.80, -5.71)),
        _feature("SEA", _ring(-82.0, -8.0)),
    )
    result = export_traces(report, tmp_path / "socios.geojson", tmp_path)
    assert (result.exported, result.left_out) == (2, 1)
    doc = json.loads(result.files[0].read_text(encoding="utf-8"))
    for feat in doc["features"]:
        assert feat["properties"]["ProducerCountry"] == "PE"
        ring = np.array(feat["geometry"]["coordinates"][0])
        signed = np.sum(ring[:-1, 0] * ring[1:, 1] - ring[1:, 0] * ring[:-1, 1])
        assert signed > 0  # counter-clockwise
    assert "SEA" in result.excluded.read_text(encoding="utf-8-sig")


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eudr_check.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_a_windows_1252_csv_of_peruvian_points_is_exported(tmp_path: Path) -> None:
    path = tmp_path / "socios.csv"
    text = (
        "codigo;productor;latitud;longitud\r\n"
        "P-1;José Núñez;-5,71;-78,81\r\nP-2;Ana Peña;-5,72;-78,82\r\n"
    )
    path.write_bytes(text.encode("cp1252"))
    done = _cli("export-traces", path, "--out", tmp_path / "eu", "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    (eu,) = (tmp_path / "eu").glob("socios.traces_*.geojson")
    feats = json.loads(eu.read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["ProducerCountry"] for f in feats] == ["PE", "PE"]
    assert feats[0]["properties"]["ProducerName"] == "José Núñez"


def _xlsx(path: Path, rows: list[list[object]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["plot_id", "latitud", "longitud", "pais"])
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_degrees_minutes_seconds_in_a_spreadsheet_are_read(tmp_path: Path) -> None:
    path = tmp_path / "campo.xlsx"
    _xlsx(path, [
        ["DMS", "5°08'28.4\"S", "78°26'40\"W", "PE"],
        ["ESPACIOS", "5º 8' 28.4'' S", "78 26 40 O", "PE"],
        ["MINUTOS", "5°08.473'S", "78°26.667'W", "PE"],
        ["LETRA", "N 5°08'28.4\"", "78°26'40\"W", "PE"],  # N in the wrong place: still read
        ["EJE", "5°08'28.4\"S", "78°26'40\"N", "PE"],  # N is not a longitude
        ["MAL", "cinco sur", "78°26'40\"W", "PE"],
    ])  # fmt: skip
    report = validate(read_plots(path), fix=True)
    plots = report.plots.set_index("plot_id")
    dms = plots.loc["DMS"].geometry
    assert (dms.x, dms.y) == pytest.approx((-78.444444, -5.141222), abs=1e-6)
    assert plots.loc["ESPACIOS"].geometry.equals_exact(dms, 1e-6)
    assert plots.loc["MINUTOS"].geometry.y == pytest.approx(-5.141217, abs=1e-6)
    assert plots.loc["LETRA"].geometry.y == pytest.approx(5.141222, abs=1e-6)
    unreadable = {f.plot_id: f for f in report.findings if f.code is Code.COORD_UNREADABLE}
    assert set(unreadable) == {"EJE", "MAL"}
    assert all(f.severity is Severity.ERROR for f in unreadable.values())
    assert "78°26'40\"N" in finding_message(unreadable["EJE"], "en")
    assert "hemisphere" in finding_message(unreadable["EJE"], "en")
    assert '"cinco sur"' in finding_message(unreadable["MAL"], "es")
    assert not any(f.code is Code.GEOMETRY_MISSING for f in report.findings)


def test_export_traces_exits_1_when_nothing_could_be_exported(tmp_path: Path) -> None:
    path = tmp_path / "mar.geojson"
    doc = {"type": "FeatureCollection", "features": [_feature("SEA", _ring(-82.0, -8.0))]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    done = _cli("export-traces", path, "--out", tmp_path / "eu", "--lang", "en")
    assert done.returncode == 1
    assert "No plot could be exported" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
