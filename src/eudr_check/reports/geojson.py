"""GeoJSON text for plots: 6 decimals, [lon, lat], one compact feature per line."""

from __future__ import annotations

import json
import math
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from eudr_check.rules.thresholds import EU_DECIMALS


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, EU_DECIMALS)
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    return value


def _ring(ring: BaseGeometry) -> list[list[float]]:
    return [[round(x, EU_DECIMALS), round(y, EU_DECIMALS)]
            for x, y in shapely.get_coordinates(ring).tolist()]  # fmt: skip


def _rings(polygon: Any) -> list[list[list[float]]]:
    return [_ring(polygon.exterior), *(_ring(r) for r in polygon.interiors)]


def geometry_dict(geom: BaseGeometry) -> dict[str, Any]:
    """The geometry's GeoJSON members, coordinates rounded to the EU's decimals. Polygons and
    points (nearly every plot) are taken ring by ring from GEOS, the rest through `mapping`."""
    kind = geom.geom_type
    if not geom.is_empty and not shapely.has_z(geom):
        if kind == "Polygon":
            return {"type": kind, "coordinates": _rings(geom)}
        if kind == "MultiPolygon":
            return {"type": kind, "coordinates": [_rings(p) for p in geom.geoms]}
        if kind == "Point":
            return {"type": kind, "coordinates": [round(geom.x, EU_DECIMALS),
                                                  round(geom.y, EU_DECIMALS)]}  # fmt: skip
    mapping = shapely.geometry.mapping(geom)
    return {"type": mapping["type"], "coordinates": _round(mapping["coordinates"])}


def clean(value: Any) -> Any:
    """JSON-safe scalars: NaN and None become null, numpy numbers plain numbers."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def feature_text(geom: BaseGeometry | None, properties: dict[str, Any], fid: str | None) -> str:
    feature: dict[str, Any] = {"type": "Feature"}
    if fid is not None:
        feature["id"] = fid
    feature["properties"] = {k: clean(v) for k, v in properties.items()}
    feature["geometry"] = None if geom is None else geometry_dict(geom)
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def collection_text(features: list[str], extra: dict[str, Any] | None = None) -> str:
    head = '{"type":"FeatureCollection",'
    for key, value in (extra or {}).items():
        head += f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=False)},"
    return head + '"features":[\n' + ",\n".join(features) + "\n]}\n"
