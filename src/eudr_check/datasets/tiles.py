"""10° tile names from a product's naming scheme (north-west corner), and the tiles a shape needs.

Names only say which file to look for: the reading code trusts each file's own georeferencing,
so clipped files under the real names work.
"""

from __future__ import annotations

import math

from eudr_check.datasets.catalog import TileScheme
from eudr_check.spatial import Bounds

TILE_DEG = 10
# How each scheme spells a tile in a file name (for finding the files present).
TILE_PATTERNS = {
    TileScheme.HANSEN: r"\d{2}[NS]_\d{3}[EW]",
    TileScheme.JRC: r"[NS]\d{1,2}_[EW]\d{1,3}",
}


def tile_name(scheme: TileScheme, top: int, left: int) -> str:
    """Name of the tile whose north-west corner is (left, top) in degrees."""
    if scheme is TileScheme.HANSEN:
        lat = f"{abs(top):02d}{'N' if top >= 0 else 'S'}"
        lon = f"{abs(left):03d}{'E' if left >= 0 else 'W'}"
        return f"{lat}_{lon}"
    return f"{'N' if top >= 0 else 'S'}{abs(top)}_{'E' if left >= 0 else 'W'}{abs(left)}"


def tile_corner(scheme: TileScheme, name: str) -> tuple[int, int]:
    """(top, left) of a tile name; the inverse of tile_name."""
    lat, lon = name.upper().split("_")
    if scheme is TileScheme.HANSEN:
        top = int(lat[:-1]) * (1 if lat[-1] == "N" else -1)
        left = int(lon[:-1]) * (1 if lon[-1] == "E" else -1)
    else:
        top = int(lat[1:]) * (1 if lat[0] == "N" else -1)
        left = int(lon[1:]) * (1 if lon[0] == "E" else -1)
    return top, left


def tiles_for_bounds(scheme: TileScheme, bounds: Bounds) -> list[str]:
    """Every tile a bounding box (minx, miny, maxx, maxy) overlaps, north-west first.

    A box that only touches a tile's edge does not need that tile.
    """
    minx, miny, maxx, maxy = bounds
    first_left = math.floor(minx / TILE_DEG) * TILE_DEG
    last_left = max(first_left, math.ceil(maxx / TILE_DEG) * TILE_DEG - TILE_DEG)
    last_top = math.floor(miny / TILE_DEG) * TILE_DEG + TILE_DEG
    first_top = max(last_top, math.ceil(maxy / TILE_DEG) * TILE_DEG)
    return [
        tile_name(scheme, top, left)
        for top in range(first_top, last_top - 1, -TILE_DEG)
        for left in range(first_left, last_left + 1, TILE_DEG)
    ]
