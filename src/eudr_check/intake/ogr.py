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

import numpy as np
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


def _failure(path: Path, name: str | None) -> PlotFileError:
    label = f" {name!r}" if name else ""
    return PlotFileError(
        path,
        f"no se pudo leer la capa{label}: el archivo está dañado o no es compatible.",
        f"could not read layer{label}: the file is damaged or unsupported.",
    )


def _features(wkbs: Any, columns: list[Any], names: list[str], first: int) -> list[RawFeature]:
    """GDAL's rows as intake's raw features, numbered from `first` (1-based, file order)."""
    values = [[_plain(v) for v in column.tolist()] for column in columns]
    if wkbs is None:
        wkbs = [None] * (len(values[0]) if values else 0)
    shapes = shapely.from_wkb(wkbs, on_invalid="ignore")
    features = []
    for i, (wkb, shape) in enumerate(zip(wkbs, shapes, strict=True)):
        props = {field: column[i] for field, column in zip(names, values, strict=True)}
        geom, error = _geometry(wkb, shape)
        if error:
            props["_geometry_error"] = error
        features.append(RawFeature(props, geom, first + i))
    return features


def _read(path: Path, source: Path | bytes, layer: str | None, name: str | None,
          **options: Any) -> tuple[dict[str, Any], list[RawFeature]]:  # fmt: skip
    """One GDAL layer (or a slice of it: `options` of pyogrio's read) -> (metadata, features)."""
    first = int(options.get("skip_features", 0)) + 1
    if "fids" in options:
        first = int(options["fids"][0]) + 1 if len(options["fids"]) else 1
    try:
        with _gdal():
            meta, _fids, wkbs, columns = pyogrio.raw.read(
                source, layer=layer, datetime_as_string=True, **options
            )
    # pyogrio raises DataSourceError/DataLayerError, but damaged files also give IndexError,
    # ValueError...: at this edge any failure means "GDAL cannot read this file".
    except Exception:
        raise _failure(path, name) from None
    return meta, _features(wkbs, columns, list(meta["fields"]), first)


def _layer(path: Path, source: Path | bytes, layer: str | None, name: str | None) -> RawLayer:
    meta, features = _read(path, source, layer, name)
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
    reader = MemberReader(path, archive, settings.unzipped_limit_mb)
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
        layers.append(_layer(path, _bundle(reader, parts), None, stem))
    return layers


# --- GeoPackage and FlatGeobuf ------------------------------------------------------------


def _kind(path: Path, source: Path | bytes) -> str:
    """The format's name, for messages."""
    if isinstance(source, bytes):
        head = source[:4]
    else:
        with source.open("rb") as fh:
            head = fh.read(4)
    return "FlatGeobuf" if head == b"fgb\x03" else "GeoPackage"


def _listing(path: Path, source: Path | bytes) -> tuple[list[str], list[str]]:
    """(every layer, the layers with geometry) of a GDAL vector file."""
    try:
        with _gdal():
            listing = pyogrio.list_layers(source)
    except Exception:  # see _read: any failure here means a damaged file
        kind = _kind(path, source)
        raise PlotFileError(
            path, f"el {kind} está dañado o no se puede abrir.",
            f"the {kind} is damaged or cannot be opened.",
        ) from None  # fmt: skip
    names = [str(row[0]) for row in listing]
    spatial = [str(row[0]) for row in listing if row[1] is not None]
    return names, spatial


def _layers_to_read(path: Path, source: Path | bytes, layer: str | None) -> list[str]:
    names, spatial = _listing(path, source)
    kind = _kind(path, source)
    if layer is not None and layer not in names:
        raise PlotFileError(
            path,
            f"no existe la capa {layer!r}. Capas del {kind}: {', '.join(names) or '-'}.",
            f"there is no layer {layer!r}. Layers in the {kind}: {', '.join(names) or '-'}.",
        )
    if layer is not None and layer not in spatial:
        raise PlotFileError(
            path, f"la capa {layer!r} no tiene geometría.", f"layer {layer!r} has no geometry."
        )
    if not spatial:
        raise PlotFileError(
            path,
            f"el {kind} no tiene capas con geometría.",
            f"the {kind} has no layer with geometry.",
        )
    return [layer] if layer else spatial


def read_ogr(path: Path, data: bytes, layer: str | None) -> list[RawLayer]:
    """A GeoPackage (every layer with geometry, or one) or a FlatGeobuf, from its bytes."""
    return [_layer(path, data, name, name) for name in _layers_to_read(path, data, layer)]


# --- slices of a large file, for reading where they are checked ------------------------------


def _info(path: Path, layer: str | None) -> dict[str, Any]:
    try:
        with _gdal():
            info: dict[str, Any] = pyogrio.read_info(path, layer=layer, force_feature_count=True)
    except Exception:
        raise _failure(path, layer) from None
    return info


def sliceable_layer(path: Path, layer: str | None) -> tuple[str | None, int]:
    """(the one layer to read in slices, its feature count); a file with several layers with
    geometry and no `layer` chosen is read whole instead (None, -1)."""
    names = _layers_to_read(path, path, layer)
    if len(names) != 1:
        return None, -1
    info = _info(path, names[0])
    return names[0], int(info["features"])


def read_slice(path: Path, layer: str | None, skip: int, count: int) -> RawLayer:
    """Features skip+1 .. skip+count of a layer of a GDAL vector file on disk.

    Feature numbers count from the start of the file, so findings and results name the same
    feature whichever slice it came in. FlatGeobuf with its index and GeoPackage read a slice
    in O(slice); other formats skip the features before it one by one.
    """
    info = _info(path, layer)
    options: dict[str, Any] = {"skip_features": skip, "max_features": count}
    if info.get("driver") == "FlatGeobuf" and info.get("capabilities", {}).get("random_read"):
        # FlatGeobuf feature ids are 0-based positions in the file; skipping would walk.
        total = int(info["features"])
        options = {"fids": np.arange(skip, min(skip + count, total), dtype=np.int64)}
    meta, features = _read(path, path, layer, layer, **options)
    return RawLayer(path, layer, meta.get("crs"), features, typed_properties=True)
