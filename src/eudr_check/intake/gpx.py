"""GPX reader: phone and handheld GPS walks around a plot, and waypoints.

A walk that ends where it started is a plot boundary: it becomes a Polygon, closed exactly.
Any other track stays a LineString, which later rules report.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from eudr_check.intake.kml import child, local, parse_xml, text_of
from eudr_check.intake.raw import WGS84, RawFeature, RawLayer

# A GPS walk rarely ends on the exact starting spot; phone GPS error is typically 5-15 m.
CLOSED_TRACK_TOLERANCE_M = 15.0
_EARTH_RADIUS_M = 6_371_008.8


def haversine_m(a: list[Any], b: list[Any]) -> float:
    """Great-circle distance in metres between two [lon, lat] positions."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _position(point: Element) -> list[Any]:
    """[lon, lat] from the attributes; unparseable values stay text for the builder to report."""
    values: list[Any] = []
    for key in ("lon", "lat"):
        raw = point.get(key)
        try:
            values.append(float(raw) if raw is not None else None)
        except ValueError:
            values.append(raw)
    return values


def _is_number(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _path_geometry(points: list[list[Any]]) -> dict[str, Any]:
    """Polygon when the walk returns to its start (>= 3 points), else LineString."""
    first, last = points[0], points[-1]
    numeric = all(_is_number(v) for v in (*first, *last))
    if (
        len(points) >= 3
        and numeric
        and (first == last or haversine_m(first, last) <= CLOSED_TRACK_TOLERANCE_M)
    ):
        ring = points if first == last else [*points, list(first)]
        return {"type": "Polygon", "coordinates": [ring]}
    return {"type": "LineString", "coordinates": points}


def _describe(element: Element) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key in ("name", "desc"):
        value = text_of(child(element, key))
        if value is not None:
            props[key] = value
    return props


def _paths(element: Element, kind: str) -> list[tuple[dict[str, Any], list[list[Any]]]]:
    """(properties, points) per track segment or route; empty segments are skipped."""
    base = _describe(element)
    if base.get("name"):
        base[kind] = base["name"]
    if kind == "route":
        segments = [element]
        point_tag = "rtept"
    else:
        segments = [s for s in element if local(s.tag) == "trkseg"]
        point_tag = "trkpt"
    found = []
    for number, segment in enumerate(segments, start=1):
        points = [_position(p) for p in segment if local(p.tag) == point_tag]
        if points:
            props = dict(base)
            if len(segments) > 1:
                props["segment"] = number
            found.append((props, points))
    return found


def read_gpx(path: Path, data: bytes) -> list[RawLayer]:
    root = parse_xml(path, data, "GPX")
    features: list[RawFeature] = []
    for element in root:
        kind = local(element.tag)
        if kind == "wpt":
            geom = {"type": "Point", "coordinates": _position(element)}
            features.append(RawFeature(_describe(element), geom, len(features) + 1))
        elif kind in ("trk", "rte"):
            for props, points in _paths(element, "track" if kind == "trk" else "route"):
                features.append(RawFeature(props, _path_geometry(points), len(features) + 1))
    return [RawLayer(path, None, WGS84, features, typed_properties=False)]
