"""Is each plot in its declared country? Also detects swapped latitude/longitude."""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from eudr_check.intake.countries import countries

_GEOD = pyproj.Geod(ellps="WGS84")


def inside_declared(xy: NDArray[np.float64], iso2: NDArray[np.object_]) -> NDArray[np.bool_]:
    """For each point, True if inside its declared country; False if outside or unknown.

    Points are grouped by country so each boundary is tested once, vectorised.
    """
    out = np.zeros(len(xy), bool)
    c = countries()
    for code in set(iso2.tolist()) - {None}:
        geom = c.geometry(code)
        if geom is None:
            continue
        sel = iso2 == code
        out[sel] = shapely.contains_xy(geom, xy[sel, 0], xy[sel, 1])
    return out


def has_boundaries(iso2: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Per plot: does its declared country have a boundary to test against?"""
    known = countries().by_code
    codes = {c: c in known for c in set(iso2.tolist()) if c is not None}
    return np.fromiter((codes.get(c, False) for c in iso2.tolist()), bool, count=len(iso2))


def distance_outside_km(point: BaseGeometry, iso2: str) -> float:
    """Geodesic distance from a point to the nearest point of the country's boundary."""
    geom = countries().geometry(iso2)
    if geom is None:
        return float("nan")
    line = shapely.shortest_line(point, geom)
    (x1, y1), (x2, y2) = line.coords
    return float(_GEOD.inv(x1, y1, x2, y2)[2] / 1000.0)


def centroids(geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    return np.asarray(shapely.get_coordinates(shapely.centroid(geoms)), dtype=np.float64)


def swap_xy(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: xy[:, ::-1].copy())


# No coffee or cocoa grows there; a swapped Latin American position (lat, lon) lands on it.
_NO_PRODUCTION = frozenset({"AQ"})


def locate(xy: NDArray[np.float64]) -> NDArray[np.object_]:
    """The ISO-2 code of the country containing each point; None at sea or in Antarctica."""
    out = np.full(len(xy), None, dtype=object)
    if not len(xy):
        return out
    c = countries()
    points = shapely.points(xy)
    src, dst = c.tree.query(points, predicate="within")
    for i, j in zip(src.tolist(), dst.tolist(), strict=True):
        code = c.codes[j]
        if out[i] is None and code not in _NO_PRODUCTION:
            out[i] = code
    return out


def neighbour_within(x: float, y: float, iso2: str, km: float) -> str | None:
    """Another country whose boundary is within `km` of the point (the border band), if any."""
    c = countries()
    # A box sure to hold everything within km: a degree of longitude shrinks with latitude.
    dy = km / 110.0
    dx = dy / max(np.cos(np.radians(min(abs(y), 89.0))), 0.01)
    for j in c.tree.query(shapely.box(x - dx, y - dy, x + dx, y + dy)).tolist():
        code: str = c.codes[j]
        if code == iso2 or code in _NO_PRODUCTION:
            continue
        if distance_outside_km(shapely.Point(x, y), code) <= km:
            return code
    return None
