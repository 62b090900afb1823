"""KML and KMZ reader (Google Earth, QGIS, phone apps).

Positions are kept exactly as written (open rings, repeated vertices), because later rules
report those. KML is always WGS84. The small XML helpers here are shared with the GPX reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from eudr_check.errors import PlotFileError
from eudr_check.intake.archive import MemberReader, open_zip, with_suffix
from eudr_check.intake.raw import WGS84, RawFeature, RawLayer
from eudr_check.settings import Settings

# Longer descriptions are usually HTML balloons or notes, not a usable attribute.
_MAX_DESCRIPTION = 500
_COMMA_SPACES = re.compile(r"\s*,\s*")
_GEOMETRY_TAGS = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry", "Track",
                  "MultiTrack"}  # fmt: skip


# --- XML helpers (also used by gpx.py) -------------------------------------------------------


def parse_xml(path: Path, data: bytes, kind: str) -> Element:
    """Parse with defusedxml; any DOCTYPE is refused, so no external file is ever read."""
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise PlotFileError(
            path,
            f"el {kind} declara un DTD o entidades XML, que no se permiten por seguridad.",
            f"the {kind} declares a DTD or XML entities, which are not allowed for security.",
        ) from None
    except ParseError as exc:
        line, column = exc.position
        raise PlotFileError(
            path,
            f"XML mal formado en el {kind} (línea {line}, columna {column + 1}).",
            f"malformed XML in the {kind} (line {line}, column {column + 1}).",
        ) from None
    return root


def local(tag: object) -> str:
    """Tag name without namespace: KML 2.2, 2.1, gx: and namespace-less files look alike."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def child(element: Element, name: str) -> Element | None:
    return next((sub for sub in element if local(sub.tag) == name), None)


def text_of(element: Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


# --- coordinates and geometries --------------------------------------------------------------


def _number(token: str) -> float | str:
    """A float, or the raw token so the geometry builder can report it."""
    try:
        return float(token)
    except ValueError:
        return token


def _positions(text: str | None) -> list[list[float | str]]:
    """'lon,lat[,alt]' tuples separated by any whitespace (tolerating spaces around commas)."""
    if not text:
        return []
    tuples = _COMMA_SPACES.sub(",", text.strip()).split()
    return [[_number(v) for v in t.rstrip(",").split(",")] for t in tuples]


def _ring(boundary: Element | None) -> list[list[float | str]] | None:
    ring = None if boundary is None else child(boundary, "LinearRing")
    return None if ring is None else _positions(text_of(child(ring, "coordinates")))


def _parts(element: Element) -> list[dict[str, Any]]:
    """Simple GeoJSON-like geometries of one KML geometry element (MultiGeometry flattened)."""
    kind = local(element.tag)
    if kind == "MultiGeometry":
        return [p for sub in element for p in _parts(sub)]
    if kind == "MultiTrack":
        return [p for sub in element if local(sub.tag) == "Track" for p in _parts(sub)]
    if kind == "Track":  # gx:Track: <gx:coord>lon lat alt</gx:coord>
        coords = [[_number(v) for v in (c.text or "").split()]
                  for c in element if local(c.tag) == "coord"]  # fmt: skip
        return [{"type": "LineString", "coordinates": coords}] if coords else []
    coords = _positions(text_of(child(element, "coordinates")))
    if kind == "Point":
        if not coords:
            return []
        # Several tuples in a Point stay nested so the builder can report them.
        return [{"type": "Point", "coordinates": coords[0] if len(coords) == 1 else coords}]
    if kind == "LineString":
        return [{"type": "LineString", "coordinates": coords}] if coords else []
    if kind == "LinearRing":
        return [{"type": "Polygon", "coordinates": [coords]}] if coords else []
    if kind == "Polygon":
        outer = _ring(child(element, "outerBoundaryIs"))
        if not outer:
            return []
        inner = [r for b in element if local(b.tag) == "innerBoundaryIs"
                 for r in (_positions(text_of(child(ring, "coordinates")))
                           for ring in b if local(ring.tag) == "LinearRing") if r]  # fmt: skip
        return [{"type": "Polygon", "coordinates": [outer, *inner]}]
    return []


def _combine(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    kinds = {p["type"] for p in parts}
    nested_point = any(
        p["type"] == "Point" and isinstance(p["coordinates"][0], list) for p in parts
    )
    if kinds == {"Polygon"}:
        return {"type": "MultiPolygon", "coordinates": [p["coordinates"] for p in parts]}
    if kinds == {"Point"} and not nested_point:
        return {"type": "MultiPoint", "coordinates": [p["coordinates"] for p in parts]}
    if kinds == {"LineString"}:
        return {"type": "MultiLineString", "coordinates": [p["coordinates"] for p in parts]}
    return {"type": "GeometryCollection", "geometries": parts}


def _all_positions(value: Any) -> Iterator[list[Any]]:
    if isinstance(value, list) and value and not isinstance(value[0], list):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _all_positions(item)


def _drop_zero_altitude(geom: dict[str, Any]) -> None:
    """Google Earth writes ',0' everywhere: that is no real Z, so drop it (a real Z stays)."""
    members = geom.get("geometries") or [geom]
    positions = [p for m in members for p in _all_positions(m.get("coordinates"))]
    if all(len(p) < 3 or p[2] == 0 for p in positions):
        for p in positions:
            del p[2:]


# --- placemarks ------------------------------------------------------------------------------


def _placemarks(root: Element) -> Iterator[tuple[Element, list[str]]]:
    """Placemarks in document order with their enclosing folder names (iterative: no recursion
    limit for deeply nested files)."""
    stack: list[tuple[Element, list[str]]] = [(root, [])]
    while stack:
        node, folders = stack.pop()
        kind = local(node.tag)
        if kind == "Placemark":
            yield node, folders
            continue
        if kind == "Folder":
            name = text_of(child(node, "name"))
            folders = [*folders, name] if name else folders
        stack.extend((sub, folders) for sub in reversed(node))


def _properties(placemark: Element, folders: list[str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    name = text_of(child(placemark, "name"))
    if name is not None:
        props["name"] = name
    description = text_of(child(placemark, "description"))
    if description and len(description) <= _MAX_DESCRIPTION and "<" not in description:
        props["description"] = description
    extended = child(placemark, "ExtendedData")
    for item in extended.iter() if extended is not None else ():
        kind = local(item.tag)
        key = item.get("name")
        if kind == "Data" and key:
            props[key] = text_of(child(item, "value"))
        elif kind == "SimpleData" and key:
            props[key] = text_of(item)
    if folders:
        props["folder"] = " / ".join(folders)
    return props


def _feature(placemark: Element, folders: list[str], index: int) -> RawFeature:
    geometry_el = next((g for g in placemark if local(g.tag) in _GEOMETRY_TAGS), None)
    geom = None if geometry_el is None else _combine(_parts(geometry_el))
    if geom is not None:
        _drop_zero_altitude(geom)
    return RawFeature(_properties(placemark, folders), geom, index)


def read_kml(path: Path, data: bytes) -> list[RawLayer]:
    root = parse_xml(path, data, "KML")
    features = [_feature(pm, folders, i)
                for i, (pm, folders) in enumerate(_placemarks(root), start=1)]  # fmt: skip
    return [RawLayer(path, None, WGS84, features, typed_properties=False)]


def read_kmz(path: Path, data: bytes, settings: Settings) -> list[RawLayer]:
    """A KMZ is a zip whose main document is doc.kml (else the first .kml member)."""
    archive = open_zip(path, data)
    kmls = with_suffix(archive, ".kml")
    if not kmls:
        raise PlotFileError(
            path, "el KMZ no contiene ningún archivo .kml.", "the KMZ contains no .kml file."
        )
    main = next((m for m in kmls if m.filename.lower() == "doc.kml"), None)
    main = main or next(
        (m for m in kmls if PurePosixPath(m.filename).name.lower() == "doc.kml"), kmls[0]
    )
    kml = MemberReader(path, archive, settings.unzipped_limit_mb).read(main)
    return read_kml(path, kml)
