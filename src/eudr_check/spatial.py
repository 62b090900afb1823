"""Spatial values that travel together: a bounding box, and a raster grid with its CRS.

Everything in the core is in WGS84 longitude/latitude (EPSG:4326); the grid says so itself, so
code that meets a raster in another CRS can refuse it instead of misreading it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from affine import Affine

WGS84 = "EPSG:4326"


@dataclass(frozen=True, slots=True)
class Bounds:
    """A box in degrees (minx, miny, maxx, maxy); unpacks like the tuple GDAL and shapely use."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    @classmethod
    def of(cls, values: object) -> Bounds:
        """From anything with four numbers (a tuple, shapely's `bounds`, a numpy row)."""
        minx, miny, maxx, maxy = (float(v) for v in values)  # type: ignore[attr-defined]
        return cls(minx, miny, maxx, maxy)

    def __iter__(self) -> Iterator[float]:
        return iter((self.minx, self.miny, self.maxx, self.maxy))

    @property
    def width(self) -> float:
        return self.maxx - self.minx

    @property
    def height(self) -> float:
        return self.maxy - self.miny

    def padded(self, margin: float) -> Bounds:
        return Bounds(
            self.minx - margin, self.miny - margin, self.maxx + margin, self.maxy + margin
        )

    def on_earth(self) -> bool:
        return -180 <= self.minx <= self.maxx <= 180 and -90 <= self.miny <= self.maxy <= 90


@dataclass(frozen=True, slots=True)
class Grid:
    """A north-up raster grid window: where its cells are, how many, in which CRS."""

    transform: Affine
    height: int
    width: int
    crs: str = WGS84

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def pixel(self) -> float:
        return float(self.transform.a)

    @property
    def bounds(self) -> Bounds:
        t = self.transform
        return Bounds(t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)

    @classmethod
    def covering(cls, pixel: float, bounds: Bounds) -> Grid:
        """The smallest window of a product grid (square pixels aligned on whole pixels from
        0°, as the real 10° tiles are) that covers the box."""
        col0 = math.floor(bounds.minx / pixel + 1e-9)
        col1 = max(col0 + 1, math.ceil(bounds.maxx / pixel - 1e-9))
        row0 = math.floor(-bounds.maxy / pixel + 1e-9)
        row1 = max(row0 + 1, math.ceil(-bounds.miny / pixel - 1e-9))
        transform = Affine(pixel, 0.0, col0 * pixel, 0.0, -pixel, -row0 * pixel)
        return cls(transform, row1 - row0, col1 - col0)
