"""Zipped shapefiles and GeoPackages, read through GDAL (pyogrio).

Shapefile parts are read from the zip into memory and handed to GDAL as a small zip of their
own with plain names, so nothing is extracted to disk and folder names inside the upload do
not matter. GDAL errors never escape: they become PlotFileError.
"""

from __future__ import annotations

import io
import math
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

import pyogrio
import pyogrio.raw
import shapely
from shapely.geometry import mapping

from eudr_check.errors import PlotFileError
from eudr_check.intake.archive import MemberReader, members, open_zip
from eudr_check.intake.raw import RawFeature, RawLayer
from eudr_check.settings import Settings

_REQUIRED = (".shx", ".dbf")
_OPTIONAL = (".prj", ".cpg")


@contextmanager
def _gdal() -> Iterator[None]:
    """Quiet GDAL's own diagnostics for the duration of a read.

    pyogrio turns GDAL warnings ("bad application_id", ...) into RuntimeWarnings raised from
    inside a GDAL callback, where an escalated warning cannot propagate; a file GDAL cannot
    read ends in an exception anyway. M values are dropped by design, which pyogrio notes too.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"pyogrio\.")
        warnings.filterwarnings("ignore", r"Measured \(M\) geometry", UserWarning)
        yield


def _plain(value: Any) -> Any:
    """Plain Python values for properties: NaN -> None, exotic types -> text."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return str(value)


def _geometry(wkb: bytes | None, shape: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(GeoJSON-like geometry, error note): WKB that GEOS rejects is reported, not dropped."""
    if wkb is None:
        return None, None
    if shape is None:
        return None, "invalid geometry (WKB)"
    if shape.is_empty:
        return None, None
    return dict(mapping(shape)), None


def _read(path: Path, source: Path | bytes, layer: str | None, name: str | None) -> RawLayer:
    """One GDAL layer -> RawLayer (typed properties: GDAL fields carry types)."""
    try:
        with _gdal():
            meta, _fids, wkbs, columns = pyogrio.raw.read(
                source, layer=layer, datetime_as_string=True
            )
    # pyogrio raises DataSourceError/DataLayerError, but damaged files also give IndexError,
    # ValueError...: at this edge any failure means "GDAL cannot read this file".
    except Exception:
        label = f" {name!r}" if name else ""
        raise PlotFileError(
            path,
            f"no se pudo leer la capa{label}: el archivo está dañado o no es compatible.",
            f"could not read layer{label}: the file is damaged or unsupported.",
        ) from None
    field_names = list(meta["fields"])
    values = [[_plain(v) for v in column.tolist()] for column in columns]
    if wkbs is None:
        wkbs = [None] * (len(values[0]) if values else 0)
    shapes = shapely.from_wkb(wkbs, on_invalid="ignore")
    features = []
    for i, (wkb, shape) in enumerate(zip(wkbs, shapes, strict=True)):
        props = {field: column[i] for field, column in zip(field_names, values, strict=True)}
        geom, error = _geometry(wkb, shape)
        if error:
            props["_geometry_error"] = error
        features.append(RawFeature(props, geom, i + 1))
    return RawLayer(path, name, meta.get("crs"), features, typed_properties=True)


# --- zipped shapefile ------------------------------------------------------------------------


def _parts(archive: zipfile.ZipFile) -> dict[str, dict[str, zipfile.ZipInfo]]:
    """Shapefile stem (with its folder) -> {'.shp': member, '.dbf': member, ...}."""
    groups: dict[str, dict[str, zipfile.ZipInfo]] = {}
    for info in members(archive):
        name = info.filename.replace("\\", "/")
        pure = PurePosixPath(name)
        suffix = pure.suffix.lower()
        if suffix in (".shp", *_REQUIRED, *_OPTIONAL):
            stem = str(pure.with_suffix("")).lower()
            groups.setdefault(stem, {})[suffix] = info
    return {stem: parts for stem, parts in groups.items() if ".shp" in parts}


def _bundle(reader: MemberReader, parts: dict[str, zipfile.ZipInfo]) -> bytes:
    """A fresh in-memory zip holding one shapefile under plain, safe names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
        for suffix, info in parts.items():
            bundle.writestr(f"layer{suffix}", reader.read(info))
    return buffer.getvalue()


def read_shapefile_zip(path: Path, data: bytes, settings: Settings) -> list[RawLayer]:
    archive = open_zip(path, data)
    reader = MemberReader(path, archive, settings.max_unzipped_mb)
    layers = []
    for parts in _parts(archive).values():
        shp_name = parts[".shp"].filename
        stem = PurePosixPath(shp_name.replace("\\", "/")).stem
        missing = [s for s in _REQUIRED if s not in parts]
        if missing:
            need = " y ".join(missing)
            raise PlotFileError(
                path,
                f"al shapefile {shp_name!r} le falta {need}: incluya en el zip todos sus "
                "archivos (.shp, .shx, .dbf y .prj).",
                f"shapefile {shp_name!r} is missing {' and '.join(missing)}: put all its "
                "files (.shp, .shx, .dbf and .prj) in the zip.",
            )
        layers.append(_read(path, _bundle(reader, parts), None, stem))
    return layers


# --- GeoPackage ------------------------------------------------------------------------------


def read_gpkg(path: Path, layer: str | None) -> list[RawLayer]:
    try:
        with _gdal():
            listing = pyogrio.list_layers(path)
    except Exception:  # see _read: any failure here means a damaged file
        raise PlotFileError(
            path, "el GeoPackage está dañado o no se puede abrir.",
            "the GeoPackage is damaged or cannot be opened.",
        ) from None  # fmt: skip
    names = [str(row[0]) for row in listing]
    spatial = [str(row[0]) for row in listing if row[1] is not None]
    if layer is not None and layer not in names:
        raise PlotFileError(
            path,
            f"no existe la capa {layer!r}. Capas del GeoPackage: {', '.join(names) or '-'}.",
            f"there is no layer {layer!r}. Layers in the GeoPackage: {', '.join(names) or '-'}.",
        )
    if layer is not None and layer not in spatial:
        raise PlotFileError(
            path, f"la capa {layer!r} no tiene geometría.", f"layer {layer!r} has no geometry."
        )
    if not spatial:
        raise PlotFileError(
            path,
            "el GeoPackage no tiene capas con geometría.",
            "the GeoPackage has no layer with geometry.",
        )
    return [_read(path, path, name, name) for name in ([layer] if layer else spatial)]
