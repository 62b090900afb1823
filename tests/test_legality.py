"""Vector layers and legality findings (issue 14): overlaps measured exactly on the ellipsoid,
categories that make an overlap an error or a warning, the producers' own formats (WDPA's
fields in a GeoPackage, a zipped Shapefile, SERNANP's GeoJSON), and the check's reports,
manifest and fingerprint carrying them."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from eudr_check.datasets.catalog import AreaKind, VectorDataset, VectorFields, load_catalog
from eudr_check.engine import DataSources, check_report
from eudr_check.engine.fingerprint import fingerprints
from eudr_check.engine.plan import plan
from eudr_check.findings import Code, Severity
from eudr_check.intake import read_plots
from eudr_check.legality import legality_findings
from eudr_check.overlaps import overlap_stats
from eudr_check.rules import validate
from eudr_check.rules.area import geodesic_area_ha

ROOT = Path(__file__).parent.parent
# A 0.01° square plot (about 1.1 km a side) near Moyobamba; the area's edge halves it.
W, E, S, N = -77.01, -77.00, -6.01, -6.00
PLOT = shapely.box(W, S, E, N)
A_WGS84, F_WGS84 = 6_378_137.0, 1 / 298.257223563


def _ha(geom: shapely.Geometry) -> float:
    return float(geodesic_area_ha(np.array([geom], dtype=object))[0])


def _rect_area_ha(w: float, e: float, s: float, n: float) -> float:
    """A lat/lon rectangle on the WGS84 ellipsoid, in closed form (Snyder 1987, eq. 3-12):
    a²(1−e²)/2 · Δλ · [q(φn) − q(φs)], q(φ) = sinφ/(1−e²sin²φ) + ln((1+e sinφ)/(1−e sinφ))/(2e).
    (The check's geodesic polygon has geodesic edges, not parallels: 1e-6 apart at this size.)"""
    ecc = math.sqrt(F_WGS84 * (2 - F_WGS84))

    def q(lat: float) -> float:
        x = math.sin(math.radians(lat))
        return x / (1 - (ecc * x) ** 2) + math.log((1 + ecc * x) / (1 - ecc * x)) / (2 * ecc)

    m2 = A_WGS84**2 * (1 - ecc**2) / 2 * math.radians(e - w) * (q(n) - q(s))
    return m2 / 10_000


def _wdpa(path: Path, rows: list[dict[str, object]], driver: str | None = None) -> Path:
    frame = gpd.GeoDataFrame(rows, geometry=[r.pop("geometry") for r in rows], crs=4326)
    frame.to_file(path, driver=driver, engine="pyogrio")
    return path


def _layer(file: str, kind: AreaKind = AreaKind.PROTECTED_AREA, **kw: object) -> VectorDataset:
    fields = kw.pop("fields", VectorFields(name="NAME", category="IUCN_CAT", zoning="DESIG"))
    return VectorDataset(id=str(kw.pop("id", "wdpa")), title="WDPA (synthetic test data)",
                         version="Dec2025", kind=kind, file=file, fields=fields,  # type: ignore[arg-type]
                         licence="test", attribution="test", **kw)  # type: ignore[arg-type]  # fmt: skip


def test_a_square_half_inside_a_protected_area_is_50_percent_and_its_area_on_the_ellipsoid(
    tmp_path: Path,
) -> None:
    mid = (W + E) / 2
    park = shapely.box(-77.5, -6.5, mid, -5.5)  # everything west of the plot's middle
    _wdpa(tmp_path / "wdpa.gpkg", [{"NAME": "Parque Nacional de Prueba", "IUCN_CAT": "II",
                                    "DESIG": "Parque Nacional", "geometry": park}])  # fmt: skip
    vd = _layer("{data_dir}/wdpa.gpkg", strict_categories=("Ia", "Ib", "II", "III"))
    area = _ha(PLOT)
    assert area == pytest.approx(_rect_area_ha(W, E, S, N), rel=1e-5)  # ~122 ha
    (stats,) = overlap_stats(vd, tmp_path, [PLOT], [area])
    (o,) = stats.overlaps
    assert o.share == pytest.approx(0.5, abs=1e-4)
    assert o.area_ha == pytest.approx(_rect_area_ha(W, mid, S, N), rel=1e-4)
    assert (o.name, o.category, o.zoning, o.strict) == (
        "Parque Nacional de Prueba", "II", "Parque Nacional", True)  # fmt: skip
    (f,) = legality_findings([stats], "P1", "fincas.geojson", 3)
    assert (f.code, f.severity, f.source_index) == (Code.IN_PROTECTED_AREA, Severity.ERROR, 3)
    from eudr_check.findings import finding_message

    assert "50.0 %" in finding_message(f, "en") and "Strict protection" in finding_message(f, "en")


def test_categories_decide_error_or_warning_and_an_edge_is_not_inside(tmp_path: Path) -> None:
    rows = [
        {"NAME": "Bosque de Protección Alto Mayo", "IUCN_CAT": "VI", "DESIG": "Bosque de "
         "Protección", "geometry": shapely.box(W, S, (W + E) / 2, N)},
        {"NAME": "Vecino", "IUCN_CAT": "II", "DESIG": "Parque Nacional",
         "geometry": shapely.box(E, S, E + 0.1, N)},  # shares the plot's east edge only
        {"NAME": "Propuesta", "IUCN_CAT": "Not Reported", "DESIG": "Proposed",
         "geometry": shapely.box(W, S, E, N)},
    ]  # fmt: skip
    _wdpa(tmp_path / "wdpa.geojson", rows, driver="GeoJSON")
    vd = _layer("{data_dir}/wdpa.geojson", strict_categories=("II",),
                skip_categories=("not reported",))  # fmt: skip
    (stats,) = overlap_stats(vd, tmp_path, [PLOT], [_ha(PLOT)])
    assert [o.name for o in stats.overlaps] == ["Bosque de Protección Alto Mayo"]
    (f,) = legality_findings([stats], "P1", "f", 0)
    assert f.severity is Severity.WARNING and f.code is Code.IN_PROTECTED_AREA


def test_indigenous_land_buffer_zones_and_a_zipped_shapefile(tmp_path: Path) -> None:
    shp = tmp_path / "comunidades"
    shp.mkdir()
    _wdpa(shp / "comunidades_nativas.shp", [{"nombre": "C.N. Shampuyacu", "tipo": "Comunidad "
          "Nativa", "geometry": shapely.box(W - 0.1, S - 0.1, E + 0.1, N + 0.1)}])  # fmt: skip
    archive = tmp_path / "comunidades_nativas.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.iterdir():
            zf.write(part, part.name)
    cn = _layer("{data_dir}/comunidades_nativas.zip", AreaKind.INDIGENOUS_LAND, id="cn",
                fields=VectorFields(name="nombre", category="tipo"))  # fmt: skip
    za = tmp_path / "za.geojson"
    _wdpa(za, [{"anp_nomb": "Alto Mayo", "geometry": shapely.box(W, S, E, N)}], driver="GeoJSON")
    buffer = _layer("{data_dir}/za.geojson", AreaKind.BUFFER_ZONE, id="sernanp_za",
                    fields=VectorFields(name="anp_nomb"))  # fmt: skip
    area = _ha(PLOT)
    stats = [overlap_stats(v, tmp_path, [PLOT], [area])[0] for v in (cn, buffer)]
    codes = [(f.code, f.severity) for f in legality_findings(stats, "P1", "f", 0)]
    assert codes == [(Code.ON_INDIGENOUS_LAND, Severity.WARNING),
                     (Code.IN_PROTECTED_AREA, Severity.WARNING)]  # fmt: skip
    assert stats[0].overlaps[0].share == 1.0
    # A missing layer is said, not silently passed.
    gone = _layer("{data_dir}/nowhere.gpkg", id="gone")
    (missing,) = overlap_stats(gone, tmp_path, [PLOT], [area])
    (f,) = legality_findings([missing], "P1", "f", 0)
    assert f.code is Code.LEGALITY_NOT_CHECKED and "nowhere.gpkg" in str(f.param("error"))


def test_the_check_reports_legality_and_the_fingerprint_follows_the_layer(tmp_path: Path) -> None:
    sample = ROOT / "sample_plots" / "cooperativa.geojson"
    report = validate(read_plots(sample), fix=True)
    first = report.plots.geometry.iloc[0]
    data = tmp_path / "data"
    for d in (ROOT / "sample_data").iterdir():
        (data / d.name).parent.mkdir(parents=True, exist_ok=True)
        (data / d.name).symlink_to(d)
    (data / "wdpa").mkdir()
    zone = {"NAME": "Zona Reservada de Prueba", "IUCN_CAT": "Ia", "DESIG": "Zona Reservada",
            "geometry": first.buffer(0.001)}  # fmt: skip
    layer = _wdpa(data / "wdpa" / "wdpa_test.gpkg", [zone])
    catalog = load_catalog()
    vd = _layer("{data_dir}/wdpa/wdpa_test.gpkg", strict_categories=("Ia",))
    catalog = catalog.model_copy(update={"vector_layers": [vd]})
    sources = DataSources(catalog, data)
    run = check_report(report, sources)
    first_id = str(report.plots["plot_id"].iloc[0])
    result = next(r for r in run.results if r.plot_id == first_id)
    (stats,) = [s for s in result.stats if s.vector]
    assert stats.overlaps[0].share == pytest.approx(1.0)
    manifest = run.record.manifest()
    (entry,) = manifest["vector_layers"]
    assert entry["id"] == "wdpa" and entry["read"] and entry["files"][0]["sha256"]
    tasks = plan(report, catalog)
    before = fingerprints(tasks, sources)
    _wdpa(layer, [{"NAME": "Otra", "IUCN_CAT": "V", "DESIG": "x",
                   "geometry": first.buffer(0.002)}])  # fmt: skip
    assert fingerprints(tasks, sources) != before
    # The verdicts do not move: legality is reported beside them.
    plain = check_report(report, DataSources(load_catalog(), ROOT / "sample_data"))
    assert [r.verdict for r in run.results] == [r.verdict for r in plain.results]


def test_the_reports_carry_the_legality_findings(tmp_path: Path) -> None:
    sample = ROOT / "sample_plots" / "cooperativa.geojson"
    first = json.loads(sample.read_text())["features"][0]
    geom = shapely.geometry.shape(first["geometry"])
    data = tmp_path / "data"
    data.mkdir()
    for d in (ROOT / "sample_data").iterdir():
        (data / d.name).symlink_to(d)
    sanctuary = {"NAME": "Santuario de Prueba", "IUCN_CAT": "III", "DESIG": "Santuario Nacional",
                 "geometry": geom.buffer(0.001)}  # fmt: skip
    _wdpa(data / "anp.gpkg", [sanctuary])
    catalog_file = tmp_path / "datasets.yaml"
    text = (ROOT / "config" / "datasets.yaml").read_text()
    text += (
        "\nvector_layers:\n  - id: anp_test\n    title: Synthetic test area\n    version: t1\n"
        '    kind: protected_area\n    file: "{data_dir}/anp.gpkg"\n'
        "    fields: {name: NAME, category: IUCN_CAT, zoning: DESIG}\n"
        "    strict_categories: [III]\n    licence: test\n    attribution: test\n"
    )
    catalog_file.write_text(text)
    import subprocess
    import sys

    out = tmp_path / "out"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("eudr-check")), "check", str(sample), "--out",
         str(out), "--datasets", str(data), "--catalog", str(catalog_file), "--maps", "none",
         "--lang", "en"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    (csv_path,) = out.glob("*.results.csv")
    assert "in_protected_area" in csv_path.read_text(encoding="utf-8-sig")
    (gj,) = out.glob("*.due_diligence.geojson")
    feats = [json.loads(line.rstrip(",\n")) for line in gj.read_text().splitlines()
             if line.startswith('{"type":"Feature"')]  # fmt: skip
    mine = next(f for f in feats if f["properties"]["plot_id"] == first["properties"]["plot_id"])
    findings = mine["properties"]["findings"]
    assert any(f["code"] == "in_protected_area" and f["severity"] == "error" for f in findings)
