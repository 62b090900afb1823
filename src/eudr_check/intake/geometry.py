"""Raw GeoJSON-like geometry -> shapely geometry, reporting what shapely would hide.

Shapely closes open rings and cannot hold a ring of fewer than 4 positions, so those problems
are found here, on the raw positions, before the geometry is built.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from eudr_check.findings import Code
from eudr_check.i18n import Param


@dataclass(slots=True)
class BuildIssue:
    code: Code
    params: dict[str, Param] = field(default_factory=dict)
    fixable: bool = False


class _Unbuildable(Exception):
    """Raised inside the builder when a geometry cannot be made at all."""

    def __init__(self, issue: BuildIssue) -> None:
        self.issue = issue


def _position(value: Any, issues: list[BuildIssue]) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "position"}))
    x, y = value[0], value[1]
    if isinstance(x, list | tuple):
        raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "nesting"}))
    try:
        fx, fy = float(x), float(y)
    except (TypeError, ValueError):
        raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "number"})) from None
    if isinstance(x, bool) or not (math.isfinite(fx) and math.isfinite(fy)):
        raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "number"}))
    if len(value) > 2 and not any(i.code is Code.Z_OR_M_VALUES for i in issues):
        issues.append(BuildIssue(Code.Z_OR_M_VALUES, {"dims": len(value)}, fixable=True))
    return fx, fy


def _ring(value: Any, issues: list[BuildIssue]) -> list[tuple[float, float]]:
    if not isinstance(value, list | tuple):
        raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "ring"}))
    ring = [_position(p, issues) for p in value]
    given = len(ring)
    if given >= 2 and ring[0] != ring[-1]:
        issues.append(BuildIssue(Code.RING_NOT_CLOSED, {"positions": given}, fixable=True))
        ring.append(ring[0])
    if len(ring) < 4:
        raise _Unbuildable(BuildIssue(Code.TOO_FEW_POSITIONS, {"positions": given}))
    return ring


def _polygon(value: Any, issues: list[BuildIssue]) -> shapely.Polygon:
    if not isinstance(value, list | tuple) or not value:
        raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "polygon"}))
    rings = [_ring(r, issues) for r in value]
    return shapely.Polygon(rings[0], rings[1:])


def _points(value: Any, issues: list[BuildIssue]) -> list[tuple[float, float]]:
    if not isinstance(value, list | tuple) or not value:
        raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "points"}))
    return [_position(p, issues) for p in value]


def _build(geom: dict[str, Any], issues: list[BuildIssue]) -> BaseGeometry:
    kind = geom.get("type")
    coords = geom.get("coordinates")
    if kind == "Point":
        if isinstance(coords, list | tuple) and coords and isinstance(coords[0], list | tuple):
            # The EU lists "a Point with an array of arrays" among its common rejections.
            pts = _points(coords, issues)
            issues.append(BuildIssue(Code.POINT_NESTED_COORDINATES, {"positions": len(pts)}, True))
            return shapely.Point(pts[0]) if len(pts) == 1 else shapely.MultiPoint(pts)
        return shapely.Point(_position(coords, issues))
    if kind == "MultiPoint":
        return shapely.MultiPoint(_points(coords, issues))
    if kind == "Polygon":
        return _polygon(coords, issues)
    if kind == "MultiPolygon":
        if not isinstance(coords, list | tuple) or not coords:
            raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "polygon"}))
        return shapely.MultiPolygon([_polygon(p, issues) for p in coords])
    if kind == "LineString":
        pts = _points(coords, issues)
        if len(pts) < 2:
            raise _Unbuildable(BuildIssue(Code.TOO_FEW_POSITIONS, {"positions": len(pts)}))
        return shapely.LineString(pts)
    if kind == "MultiLineString":
        if not isinstance(coords, list | tuple) or not coords:
            raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "line"}))
        lines = [_points(line, issues) for line in coords]
        if any(len(line) < 2 for line in lines):
            raise _Unbuildable(BuildIssue(Code.TOO_FEW_POSITIONS, {"positions": 1}))
        return shapely.MultiLineString(lines)
    if kind == "GeometryCollection":
        members = geom.get("geometries")
        if not isinstance(members, list) or not members:
            raise _Unbuildable(BuildIssue(Code.GEOMETRY_MISSING))
        return _collection([_build(m, issues) for m in members if isinstance(m, dict)])
    raise _Unbuildable(BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": str(kind)}))


def _collection(parts: Sequence[BaseGeometry]) -> BaseGeometry:
    """Flatten a GeometryCollection the way the EU system reads it: polygons, else points."""
    polygons: list[shapely.Polygon] = []
    points: list[shapely.Point] = []
    lines: list[shapely.LineString] = []
    for part in parts:
        for g in getattr(part, "geoms", [part]):
            if isinstance(g, shapely.Polygon):
                polygons.append(g)
            elif isinstance(g, shapely.Point):
                points.append(g)
            elif isinstance(g, shapely.LineString):
                lines.append(g)
    if polygons:
        return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)
    if points:
        return points[0] if len(points) == 1 else shapely.MultiPoint(points)
    if lines:
        return lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)
    raise _Unbuildable(BuildIssue(Code.GEOMETRY_MISSING))


def build_geometry(raw: dict[str, Any] | None) -> tuple[BaseGeometry | None, list[BuildIssue]]:
    """Build a 2-D shapely geometry; None (with the reason) when no geometry can be made."""
    if not raw:
        return None, [BuildIssue(Code.GEOMETRY_MISSING)]
    issues: list[BuildIssue] = []
    try:
        geom = _build(raw, issues)
    except _Unbuildable as exc:
        return None, [*issues, exc.issue]
    except (ValueError, TypeError, shapely.errors.GEOSException):
        return None, [*issues, BuildIssue(Code.GEOMETRY_UNSUPPORTED, {"detail": "geos"})]
    if geom.is_empty:
        return None, [*issues, BuildIssue(Code.GEOMETRY_MISSING)]
    return geom, issues


def _simple_ring(raw: dict[str, Any]) -> NDArray[np.float64] | None:
    """The ring of a plain Polygon (one closed 2-D ring of finite numbers), else None."""
    coords = raw.get("coordinates")
    if not isinstance(coords, list) or len(coords) != 1 or not isinstance(coords[0], list):
        return None
    try:
        ring = np.asarray(coords[0], dtype=np.float64)
    except (ValueError, TypeError):
        return None
    if ring.ndim != 2 or ring.shape[1] != 2 or len(ring) < 4:
        return None
    if not (ring[0] == ring[-1]).all() or not np.isfinite(ring).all():
        return None
    return ring


def build_geometries(
    raws: list[dict[str, Any] | None],
) -> list[tuple[BaseGeometry | None, list[BuildIssue]]]:
    """build_geometry for many features; plain polygons (nearly all) are built in one call."""
    out: list[tuple[BaseGeometry | None, list[BuildIssue]] | None] = [None] * len(raws)
    simple: list[int] = []
    rings: list[NDArray[np.float64]] = []
    for i, raw in enumerate(raws):
        ring = _simple_ring(raw) if raw and raw.get("type") == "Polygon" else None
        if ring is None:
            out[i] = build_geometry(raw)
        else:
            simple.append(i)
            rings.append(ring)
    if simple:
        lengths = np.fromiter((len(r) for r in rings), dtype=np.intp, count=len(rings))
        index = np.repeat(np.arange(len(rings)), lengths)
        polygons = shapely.polygons(shapely.linearrings(np.concatenate(rings), indices=index))
        for i, poly in zip(simple, polygons.tolist(), strict=True):
            out[i] = (poly, [])
    return [r if r is not None else (None, [BuildIssue(Code.GEOMETRY_MISSING)]) for r in out]
