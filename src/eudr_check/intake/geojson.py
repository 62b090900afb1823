"""GeoJSON reader: FeatureCollection, single Feature or bare geometry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eudr_check.errors import PlotFileError
from eudr_check.intake.raw import WGS84, RawFeature, RawLayer

_GEOMETRY_TYPES = {
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
    "GeometryCollection",
}  # fmt: skip


def declared_crs(doc: dict[str, Any]) -> str:
    """Legacy GeoJSON (2008) 'crs' member, still written by QGIS and ArcGIS; RFC 7946 is WGS84."""
    crs = doc.get("crs")
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name")
        if isinstance(name, str) and name:
            return name
    return WGS84


def read_geojson(path: Path, data: bytes) -> list[RawLayer]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise PlotFileError(
            path, "el archivo no está en UTF-8, como exige GeoJSON.",
            "the file is not UTF-8, as GeoJSON requires.",
        ) from None  # fmt: skip
    except json.JSONDecodeError as exc:
        raise PlotFileError(
            path,
            f"JSON mal formado (línea {exc.lineno}, columna {exc.colno}): {exc.msg}.",
            f"malformed JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}.",
        ) from None
    if not isinstance(doc, dict) or "type" not in doc:
        raise PlotFileError(
            path,
            'no es GeoJSON: falta el miembro "type".',
            'not GeoJSON: the "type" member is missing.',
        )
    kind = doc["type"]
    if kind == "FeatureCollection":
        items = doc.get("features")
        if not isinstance(items, list):
            raise PlotFileError(
                path,
                'FeatureCollection sin lista "features".',
                'FeatureCollection without a "features" list.',
            )
    elif kind == "Feature":
        items = [doc]
    elif kind in _GEOMETRY_TYPES:
        items = [{"type": "Feature", "properties": {}, "geometry": doc}]
    else:
        raise PlotFileError(
            path, f"tipo GeoJSON desconocido: {kind!r}.", f"unknown GeoJSON type: {kind!r}."
        )
    features = [raw_feature(item, i) for i, item in enumerate(items, start=1)]
    return [RawLayer(path, None, declared_crs(doc), features, typed_properties=True)]


def raw_feature(item: Any, index: int) -> RawFeature:
    """One parsed GeoJSON feature as intake's raw feature (anything odd kept for the rules)."""
    if not isinstance(item, dict):
        item = {}
    props = item.get("properties")
    geom = item.get("geometry")
    fid = item.get("id")
    return RawFeature(
        properties=props if isinstance(props, dict) else {},
        geometry=geom if isinstance(geom, dict) else None,
        index=index,
        feature_id=None if fid is None else str(fid),
    )
