"""Geodesic plot areas in hectares, vectorised.

Coordinates are projected to a cylindrical equal-area projection on the WGS84 ellipsoid
(EPSG:6933), which preserves area exactly; only the straight-edge approximation differs from a
geodesic polygon, far below 1e-6 relative for plots of a few kilometres. Tests compare with
pyproj.Geod.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

EQUAL_AREA = "EPSG:6933"


@cache
def _transformer() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(4326, EQUAL_AREA, always_xy=True)


def to_equal_area(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    t = _transformer()

    def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, project), dtype=object)


def geodesic_area_ha(geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    """Area of each geometry in hectares (0 for points and lines, NaN for missing)."""
    out = np.full(len(geoms), np.nan)
    present = ~shapely.is_missing(geoms)
    if present.any():
        out[present] = shapely.area(to_equal_area(geoms[present])) / 10_000.0
    return out
