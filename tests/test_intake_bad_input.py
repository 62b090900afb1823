"""Damaged, hostile or wrong files: each must end in a PlotFileError naming the file."""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely

from eudr_check.errors import PlotFileError
from eudr_check.intake import read_plots
from eudr_check.intake.tabular import read_xlsx
from eudr_check.settings import Settings

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"

KML_POINT = (
    '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>A</name>'
    "<Point><coordinates>-76.1,-5.7</coordinates></Point></Placemark></kml>"
)


def _error(path: Path, **kwargs: object) -> PlotFileError:
    """Read a bad file; check the error is bilingual and names the file."""
    with pytest.raises(PlotFileError) as caught:
        read_plots(path, **kwargs)  # type: ignore[arg-type]
    error = caught.value
    es, en = error.message("es"), error.message("en")
    assert error.path.name == path.name
    assert es.startswith(f"{path.name}: ") and en.startswith(f"{path.name}: ")
    assert es.removeprefix(f"{path.name}: ") and en.removeprefix(f"{path.name}: ")
    assert es != en
    return error


def _encrypt_flags(data: bytes) -> bytes:
    """Set the 'encrypted' bit in every local and central header of a stored zip."""
    out = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = out.find(signature)
        while start != -1:
            (flags,) = struct.unpack_from("<H", out, start + flag_offset)
            struct.pack_into("<H", out, start + flag_offset, flags | 0x1)
            start = out.find(signature, start + 4)
    return bytes(out)


# --- not a plot file at all ------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "vacio.geojson"
    path.write_bytes(b"")
    assert "vacío" in _error(path).message("es")


def test_random_bytes_with_docx_extension(tmp_path: Path) -> None:
    path = tmp_path / "informe.docx"
    path.write_bytes(b"\x00\x01" + random.Random(7).randbytes(2048))  # fixed: no flaky sniff
    error = _error(path)
    assert "formato no reconocido" in error.message("es")


def test_real_docx_is_a_zip_without_plots(tmp_path: Path) -> None:
    path = tmp_path / "informe.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    error = _error(path)
    assert "word/document.xml" in error.message("en")
    assert ".shp" in error.message("es")


def test_pdf_renamed_to_geojson(tmp_path: Path) -> None:
    path = tmp_path / "parcelas.geojson"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n")
    assert "PDF" in _error(path).message("en")


def test_truncated_json(tmp_path: Path) -> None:
    path = tmp_path / "parcelas.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat', encoding="utf-8")
    assert "line 1" in _error(path).message("en")


def test_file_over_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "grande.kml"
    path.write_text(KML_POINT + " " * 2000, encoding="utf-8")
    error = _error(path, settings=Settings(max_input_mb=0.001))
    assert "límite" in error.message("es") and "limit" in error.message("en")


# --- zips ------------------------------------------------------------------------------------


def test_zip_without_shp_lists_its_files(tmp_path: Path) -> None:
    path = tmp_path / "parcelas.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("leame.txt", "hola")
        zf.writestr("datos/parcelas.dbf", b"\x03" * 40)
    error = _error(path)
    assert "leame.txt" in error.message("es") and "datos/parcelas.dbf" in error.message("en")
    assert ".shp" in error.message("en")


def test_corrupt_and_truncated_zip(tmp_path: Path) -> None:
    corrupt = tmp_path / "roto.zip"
    corrupt.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert "zip" in _error(corrupt).message("en")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("doc.kml", KML_POINT * 50)
    truncated = tmp_path / "cortado.kmz"
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    assert "truncated" in _error(truncated).message("en")


def test_zip_slip_member_is_refused_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = work / "subida.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("parcelas.shp", b"\x00" * 100)
        zf.writestr("../evil.txt", "owned")
    error = _error(path)
    assert "../evil.txt" in error.message("es")
    assert not (tmp_path / "evil.txt").exists()
    assert not (work / "evil.txt").exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["subida.zip", "work"]


def test_absolute_member_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "abs.kmz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("doc.kml"), KML_POINT)
        info = zipfile.ZipInfo("x")
        info.filename = "/etc/cron.d/evil"  # zipfile strips a leading '/' from the constructor
        zf.writestr(info, "owned")
    assert "/etc/cron.d/evil" in _error(path).message("en")


def test_password_protected_zip(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("doc.kml", KML_POINT)
    path = tmp_path / "protegido.kmz"
    path.write_bytes(_encrypt_flags(buffer.getvalue()))
    with zipfile.ZipFile(path) as check:  # the crafted archive really is flagged as encrypted
        assert check.infolist()[0].flag_bits & 0x1
    error = _error(path)
    assert "contraseña" in error.message("es")
    assert "password" in error.message("en")


def test_zip_bomb_member_over_unzipped_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomba.kmz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", KML_POINT + " " * 200_000)
    assert path.stat().st_size < 5_000
    error = _error(path, settings=Settings(max_unzipped_mb=0.05))
    assert "0.05 MB" in error.message("en")


def test_zip_bomb_xlsx_declared_size(tmp_path: Path) -> None:
    path = tmp_path / "bomba.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "lat", "lon"])
    sheet.append(["A", -5.7, -76.1])
    book.save(path)
    # read_plots does not hand its settings to read_xlsx (yet), so call the reader directly.
    with pytest.raises(PlotFileError) as caught:
        read_xlsx(path, path.read_bytes(), None, None, settings=Settings(max_unzipped_mb=0.001))
    assert "límite" in caught.value.message("es") and "limit" in caught.value.message("en")


def test_shapefile_without_dbf(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(-76.1, -5.7)], crs=4326)
    frame.to_file(tmp_path / "p.shp")
    path = tmp_path / "incompleto.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for ext in ("shp", "shx", "prj"):
            zf.write(tmp_path / f"p.{ext}", f"p.{ext}")
    error = _error(path)
    assert ".dbf" in error.message("es") and ".dbf" in error.message("en")


def test_damaged_shapefile(tmp_path: Path) -> None:
    path = tmp_path / "danado.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for ext in ("shp", "shx", "dbf"):
            zf.writestr(f"p.{ext}", b"basura" * 10)
    assert "'p'" in _error(path).message("en")


# --- XML -------------------------------------------------------------------------------------


def test_kml_external_entity_is_refused_without_reading_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secreto.txt"
    secret.write_text("TOP-SECRET-42", encoding="utf-8")
    path = tmp_path / "xxe.kml"
    path.write_text(
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE kml [<!ENTITY s SYSTEM "file://{secret}">]>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&s;</name>'
        "<Point><coordinates>-76.1,-5.7</coordinates></Point></Placemark></kml>",
        encoding="utf-8",
    )
    error = _error(path)
    assert "DTD" in error.message("en") and "entidades" in error.message("es")
    assert "TOP-SECRET-42" not in error.message("es") + error.message("en") + str(error)


def test_gpx_entity_expansion_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomba.gpx"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<gpx version="1.1"><wpt lat="-5.7" lon="-76.1"><name>&b;</name></wpt></gpx>',
        encoding="utf-8",
    )
    assert "DTD" in _error(path).message("en")


def test_malformed_kml_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "roto.kml"
    path.write_text("<kml>\n<Placemark>\n<name>A</nombre>\n</Placemark></kml>", encoding="utf-8")
    error = _error(path)
    assert "línea 3" in error.message("es") and "line 3" in error.message("en")


def test_kmz_without_kml(tmp_path: Path) -> None:
    path = tmp_path / "vacio.kmz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("files/foto.jpg", b"\xff\xd8")
    assert ".kml" in _error(path).message("en")


# --- tables and GeoPackage -------------------------------------------------------------------


def test_xlsx_wrong_sheet_lists_sheets(tmp_path: Path) -> None:
    path = tmp_path / "padron.xlsx"
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Parcelas"
    book.create_sheet("Socios")
    book.save(path)
    error = _error(path, layer="Hoja1")
    assert "Hoja1" in error.message("es")
    assert "Parcelas, Socios" in error.message("en")


def test_damaged_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "roto.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook>")
    assert "Excel" in _error(path).message("en")


def test_csv_without_coordinate_columns(tmp_path: Path) -> None:
    path = tmp_path / "socios.csv"
    path.write_text("Código;Productor;Área\n001;Ana;2\n", encoding="utf-8")
    error = _error(path)
    assert "Código, Productor, Área" in error.message("es")
    assert "latitud" in error.message("es") and "latitude" in error.message("en")


def test_csv_header_only(tmp_path: Path) -> None:
    path = tmp_path / "solo_cabecera.csv"
    path.write_text("codigo,lat,lon\n", encoding="utf-8")
    assert "no plots" in _error(path).message("en")


def test_corrupt_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "roto.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + random.Random(7).randbytes(512))
    assert "GeoPackage" in _error(path).message("en")


def test_geopackage_unknown_layer_lists_layers(tmp_path: Path) -> None:
    path = tmp_path / "capas.gpkg"
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(-76.1, -5.7)], crs=4326)
    frame.to_file(path, layer="parcelas", driver="GPKG")
    error = _error(path, layer="lotes")
    assert "lotes" in error.message("es") and "parcelas" in error.message("en")


@pytest.mark.parametrize("streamed", [False, True])
def test_deeply_nested_geojson_is_exit_2_with_a_message(tmp_path: Path, streamed: bool) -> None:
    import subprocess
    import sys

    depth = 5000
    doc = ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
           '{"plot_id":"N1"},"geometry":{"type":"Polygon","coordinates":' + "[" * depth + "0"
           + "]" * depth + "}}]}")  # fmt: skip
    path = tmp_path / "nested.geojson"
    path.write_text(doc)
    env = {**os.environ, "EUDR_CHECK_STREAM_ABOVE_MB": "0.001" if streamed else "64"}
    done = subprocess.run([sys.executable, "-m", "eudr_check.cli", "check", str(path), "--out",
                           str(tmp_path / "out"), "--datasets", str(SAMPLE_DATA), "--lang", "en"],
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    text = " ".join((done.stdout + done.stderr).split())
    assert "nested.geojson" in text and "too deeply" in text and "Traceback" not in text
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
