"""Intake: the one gate every plot file passes, from the CLI, the web service and the flows.

`read_plots` takes a path or the bytes of an upload (with its file name), checks size and
content before choosing a reader, applies the user's default country and CRS, and returns the
normalised plot table with the SHA-256 of exactly what it read: no shell reads a file again to
hash it or to adjust it. A renamed or damaged file gets a clear PlotFileError (CLI exit code
2, HTTP 422) instead of a traceback. `open_plots` (in `intake.stream`) is the same gate for
files too large to hold at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from eudr_check.errors import OptionError, PlotFileError
from eudr_check.fileio import sha256_bytes
from eudr_check.findings import Finding
from eudr_check.gcpause import paused_gc
from eudr_check.intake.countries import normalise_country
from eudr_check.intake.normalise import normalise
from eudr_check.intake.raw import RawLayer
from eudr_check.settings import Settings, get_settings

__all__ = ["SUPPORTED_SUFFIXES", "PlotTable", "ReadOptions", "read_layers", "read_plots"]

SUPPORTED_SUFFIXES = (
    ".geojson",
    ".json",
    ".kml",
    ".kmz",
    ".zip",
    ".gpkg",
    ".fgb",
    ".csv",
    ".txt",
    ".xlsx",
    ".gpx",
)


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the user says about a file: its layer (or sheet), its CRS, the producer country of
    plots that name none (ISO-2, already checked)."""

    layer: str | None = None
    crs: str | None = None
    country: str | None = None

    @classmethod
    def of(
        cls, *, layer: str | None = None, crs: str | None = None, country: str | None = None
    ) -> ReadOptions:
        """Options as typed by a user: the country may be a code, an ISO-3 code or a name."""
        iso2 = None
        if country is not None and country.strip():
            iso2 = normalise_country(country)
            if iso2 is None:
                raise OptionError(
                    "bad_country",
                    f"País desconocido: {country!r}. Use un código ISO (PE, CO…) o el nombre "
                    "del país.",
                    f"Unknown country: {country!r}. Use an ISO code (PE, CO…) or the country's "
                    "name.",
                )
        return cls(layer or None, crs or None, iso2)


@dataclass(frozen=True, slots=True)
class PlotTable:
    """The normalised plots of one file and what intake found wrong with them."""

    plots: gpd.GeoDataFrame
    findings: list[Finding]
    name: str = ""  # the file name as the user knows it
    sha256: str = ""  # of the bytes read


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
    if data[:4] == b"fgb\x03":
        return "fgb"
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
    path: Path, data: bytes, *, layer: str | None = None, crs: str | None = None,
    settings: Settings | None = None,
) -> list[RawLayer]:  # fmt: skip
    """The raw layers of a file's bytes; `path` names it (messages, extension hints)."""
    settings = settings or get_settings()
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
    elif kind in ("gpkg", "fgb"):
        from eudr_check.intake.ogr import read_ogr

        layers = read_ogr(path, data, layer=layer)
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
            "GeoPackage, FlatGeobuf, CSV/XLSX, GPX.",
            "unrecognised format. Accepted: GeoJSON, KML/KMZ, zipped Shapefile, GeoPackage, "
            "FlatGeobuf, CSV/XLSX, GPX.",
        )
    if crs is not None:
        # An explicit --crs overrides whatever the file says (or does not say).
        layers = [RawLayer(lyr.path, lyr.layer, crs, lyr.features, lyr.typed_properties)
                  for lyr in layers]  # fmt: skip
    if not any(lyr.features for lyr in layers):
        raise PlotFileError(path, "el archivo no contiene parcelas.", "the file contains no plots.")
    return layers


def _limit(path: Path, size: int, settings: Settings) -> None:
    size_mb = size / 1e6
    if size_mb > settings.max_input_mb:
        raise PlotFileError(
            path,
            f"el archivo pesa {size_mb:.1f} MB, más que el límite de {settings.max_input_mb:g} MB.",
            f"the file is {size_mb:.1f} MB, over the limit of {settings.max_input_mb:g} MB.",
        )


def load_bytes(path: Path, settings: Settings) -> bytes:
    """A plot file's bytes, refusing what does not exist or is over the size limit."""
    if not path.is_file():
        raise PlotFileError(path, "el archivo no existe.", "the file does not exist.")
    _limit(path, path.stat().st_size, settings)
    return path.read_bytes()


def read_plots(
    source: Path | str | bytes, *, name: str | None = None, layer: str | None = None,
    crs: str | None = None, default_country: str | None = None,
    options: ReadOptions | None = None, settings: Settings | None = None,
) -> PlotTable:  # fmt: skip
    """The normalised plots of a file (a path) or of an upload (its bytes and `name`).

    `layer`, `crs` and `default_country` (a code or a country name) are as a user gives them;
    or pass `options` already checked. The table carries the SHA-256 of the bytes read.
    """
    settings = settings or get_settings()
    opts = options or ReadOptions.of(layer=layer, crs=crs, country=default_country)
    if isinstance(source, bytes):
        path = Path(name or "upload")
        _limit(path, len(source), settings)
        data = source
    else:
        path = Path(source)
        data = load_bytes(path, settings)
    with paused_gc():
        try:
            layers = read_layers(path, data, layer=opts.layer, crs=opts.crs, settings=settings)
            plots, findings = normalise(layers, default_country=opts.country)
        except RecursionError:
            raise PlotFileError(
                path,
                "el archivo anida geometrías u objetos a demasiada profundidad para leerlo.",
                "the file nests geometries or objects too deeply to be read.",
            ) from None
    return PlotTable(plots, findings, name or path.name, sha256_bytes(data))
