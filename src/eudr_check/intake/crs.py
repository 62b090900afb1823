"""Coordinate reference systems: reprojection to WGS84 and guessing UTM zones for bare metres."""

from __future__ import annotations

from functools import cache

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from eudr_check.intake.countries import countries


@cache
def parse_crs(text: str) -> pyproj.CRS | None:
    try:
        return pyproj.CRS.from_user_input(text)
    except CRSError:
        return None


def is_wgs84(crs: pyproj.CRS) -> bool:
    return crs.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True)


@cache
def _to_wgs84(crs_wkt: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(pyproj.CRS.from_wkt(crs_wkt), 4326, always_xy=True)


def reproject(geoms: list[BaseGeometry], crs: pyproj.CRS) -> list[BaseGeometry]:
    """Reproject geometries (x=easting/lon, y=northing/lat order) to EPSG:4326."""
    transformer = _to_wgs84(crs.to_wkt())
    arr = shapely.transform(
        shapely.from_wkb(shapely.to_wkb(geoms)),
        lambda xy: _stack(*transformer.transform(xy[:, 0], xy[:, 1])),
    )
    return list(arr)


def _stack(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.column_stack([x, y])


# Coordinates in metres (UTM and the like) are far outside the degree range.
METRES_BEYOND = 1000.0


def suggest_utm(x: float, y: float, iso2: str | None) -> int | None:
    """EPSG code of the UTM zone (WGS84) that puts (x, y) inside the declared country."""
    if not iso2:
        return None
    country = countries().geometry(iso2)
    if country is None:
        return None
    minx, _, maxx, _ = country.bounds
    first, last = int((minx + 180) // 6) + 1, int((maxx + 180) // 6) + 1
    for zone in range(max(first, 1), min(last, 60) + 1):
        for base in (32700, 32600):  # southern hemisphere first: false northing 10,000 km
            epsg = base + zone
            lon, lat = pyproj.Transformer.from_crs(epsg, 4326, always_xy=True).transform(x, y)
            if country.contains(shapely.Point(lon, lat)):
                return epsg
    return None


def utm_zone_name(epsg: int) -> str:
    return f"{epsg % 100}{'S' if epsg // 100 == 327 else 'N'}"
