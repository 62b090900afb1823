"""Intake: read any supported plot file into the normalised plot table.

`read_plots` is the one entry point. It checks size and content before choosing a reader, so a
renamed or damaged file gets a clear PlotFileError (CLI exit code 2) instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from eudr_check.errors import PlotFileError
from eudr_check.findings import Finding
from eudr_check.gcpause import paused_gc
from eudr_check.intake.normalise import normalise
from eudr_check.intake.raw import RawLayer
from eudr_check.settings import Settings, get_settings

__all__ = ["SUPPORTED_SUFFIXES", "PlotTable", "read_layers", "read_plots"]

SUPPORTED_SUFFIXES = (
    ".geojson",
    ".json",
    ".kml",
    ".kmz",
    ".zip",
    ".gpkg",
    ".csv",
    ".txt",
    ".xlsx",
    ".gpx",
)


@dataclass(frozen=True, slots=True)
class PlotTable:
    """The normalised plots of one file and what intake found wrong with them."""

    plots: gpd.GeoDataFrame
    findings: list[Finding]


def _sniff(path: Path, data: bytes) -> str:
    """Format from the content first (a renamed file must not fool us), then the extension."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = path.suffix.lower()
    if data[:4] == b"%PDF":
        return "pdf"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "ole"
    if data[:16] == b"SQLite format 3\x00":
        return "gpkg"
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        from eudr_check.intake.archive import zip_kind

        return zip_kind(path, data)
    if head[:1] in (b"{", b"["):
        return "geojson"
    if head[:1] == b"<":
        text = data[:4096].decode("utf-8", "replace").lower()
        if "<gpx" in text:
            return "gpx"
        if "<kml" in text or suffix == ".kml":
            return "kml"
        return "xml"
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix in (".kml", ".gpx"):
        return suffix[1:]
    return "unknown"


def read_layers(
    path: Path, *, layer: str | None = None, crs: str | None = None,
    settings: Settings | None = None,
) -> list[RawLayer]:  # fmt: skip
    settings = settings or get_settings()
    path = Path(path)
    if not path.is_file():
        raise PlotFileError(path, "el archivo no existe.", "the file does not exist.")
    size_mb = path.stat().st_size / 1e6
    if size_mb > settings.max_input_mb:
        raise PlotFileError(
            path,
            f"el archivo pesa {size_mb:.1f} MB, más que el límite de {settings.max_input_mb:g} MB.",
            f"the file is {size_mb:.1f} MB, over the limit of {settings.max_input_mb:g} MB.",
        )
    data = path.read_bytes()
    if not data.strip():
        raise PlotFileError(path, "el archivo está vacío.", "the file is empty.")
    kind = _sniff(path, data)
    if kind == "geojson":
        from eudr_check.intake.geojson import read_geojson

        layers = read_geojson(path, data)
    elif kind == "kml":
        from eudr_check.intake.kml import read_kml

        layers = read_kml(path, data)
    elif kind == "kmz":
        from eudr_check.intake.kml import read_kmz

        layers = read_kmz(path, data, settings)
    elif kind == "gpx":
        from eudr_check.intake.gpx import read_gpx

        layers = read_gpx(path, data)
    elif kind == "csv":
        from eudr_check.intake.tabular import read_csv

        layers = read_csv(path, data, crs=crs)
    elif kind == "xlsx":
        from eudr_check.intake.tabular import read_xlsx

        layers = read_xlsx(path, data, sheet=layer, crs=crs, settings=settings)
    elif kind == "shapefile_zip":
        from eudr_check.intake.ogr import read_shapefile_zip

        layers = read_shapefile_zip(path, data, settings)
    elif kind == "gpkg":
        from eudr_check.intake.ogr import read_gpkg

        layers = read_gpkg(path, layer=layer)
    elif kind == "ole":
        # Old .xls files and password-protected .xlsx files are OLE containers, not zips.
        raise PlotFileError(
            path,
            "es un Excel antiguo (.xls) o protegido con contraseña. Guárdelo como .xlsx sin "
            "contraseña.",
            "this is an old Excel file (.xls) or a password-protected workbook. Save it as a "
            ".xlsx without a password.",
        )
    elif kind == "pdf":
        raise PlotFileError(
            path,
            "es un PDF, no un archivo de parcelas. Suba GeoJSON, KML/KMZ, Shapefile (zip), "
            "GeoPackage, CSV/XLSX o GPX.",
            "this is a PDF, not a plot file. Upload GeoJSON, KML/KMZ, zipped Shapefile, "
            "GeoPackage, CSV/XLSX or GPX.",
        )
    else:
        raise PlotFileError(
            path,
            "formato no reconocido. Formatos aceptados: GeoJSON, KML/KMZ, Shapefile (zip), "
            "GeoPackage, CSV/XLSX, GPX.",
            "unrecognised format. Accepted: GeoJSON, KML/KMZ, zipped Shapefile, GeoPackage, "
            "CSV/XLSX, GPX.",
        )
    if crs is not None:
        # An explicit --crs overrides whatever the file says (or does not say).
        layers = [RawLayer(lyr.path, lyr.layer, crs, lyr.features, lyr.typed_properties)
                  for lyr in layers]  # fmt: skip
    if not any(lyr.features for lyr in layers):
        raise PlotFileError(path, "el archivo no contiene parcelas.", "the file contains no plots.")
    return layers


def read_plots(
    path: Path | str, *, layer: str | None = None, crs: str | None = None,
    default_country: str | None = None, settings: Settings | None = None,
) -> PlotTable:  # fmt: skip
    with paused_gc():
        layers = read_layers(Path(path), layer=layer, crs=crs, settings=settings)
        plots, findings = normalise(layers, default_country=default_country)
    return PlotTable(plots, findings)
