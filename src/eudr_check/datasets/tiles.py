"""Tile names from a product's naming scheme, and the tiles a shape needs.

Hansen and JRC name 10° tiles by their north-west corner (10S_080W, S10_W80); ESA WorldCover
names 3° tiles by their south-west corner (S06W078). A national product that is one file has
a single tile, named "all". Names only say which file to look for: the reading code trusts each
file's own georeferencing, so clipped files under the real names work.
"""

from __future__ import annotations

import math

from eudr_check.datasets.catalog import TileScheme
from eudr_check.spatial import Bounds

TILE_DEG = 10  # Hansen's and JRC's tiles
_SIZE = {TileScheme.HANSEN: 10, TileScheme.JRC: 10, TileScheme.WORLDCOVER: 3}
SINGLE_TILE = "all"
# How each scheme spells a tile in a file name (for finding the files present).
TILE_PATTERNS = {
    TileScheme.HANSEN: r"\d{2}[NS]_\d{3}[EW]",
    TileScheme.JRC: r"[NS]\d{1,2}_[EW]\d{1,3}",
    TileScheme.WORLDCOVER: r"[NS]\d{2}[EW]\d{3}",
    TileScheme.SINGLE: SINGLE_TILE,
}


def tile_deg(scheme: TileScheme) -> int:
    """A tile's side in degrees (the whole world for a single file)."""
    return _SIZE.get(scheme, 360)


def _ns(lat: int) -> str:
    return "N" if lat >= 0 else "S"


def _ew(lon: int) -> str:
    return "E" if lon >= 0 else "W"


def _sign(letter: str) -> int:
    return 1 if letter in "NE" else -1


def tile_name(scheme: TileScheme, top: int, left: int) -> str:
    """Name of the tile whose north-west corner is (left, top) in degrees."""
    if scheme is TileScheme.HANSEN:
        return f"{abs(top):02d}{_ns(top)}_{abs(left):03d}{_ew(left)}"
    if scheme is TileScheme.WORLDCOVER:
        bottom = top - tile_deg(scheme)
        return f"{_ns(bottom)}{abs(bottom):02d}{_ew(left)}{abs(left):03d}"
    if scheme is TileScheme.SINGLE:
        return SINGLE_TILE
    return f"{_ns(top)}{abs(top)}_{_ew(left)}{abs(left)}"


def tile_corner(scheme: TileScheme, name: str) -> tuple[int, int]:
    """(top, left) of a tile name; the inverse of tile_name."""
    name = name.upper()
    if scheme is TileScheme.SINGLE:
        return 90, -180
    if scheme is TileScheme.WORLDCOVER:
        bottom = int(name[1:3]) * _sign(name[0])
        return bottom + tile_deg(scheme), int(name[4:7]) * _sign(name[3])
    lat, lon = name.split("_")
    if scheme is TileScheme.HANSEN:
        top = int(lat[:-1]) * (1 if lat[-1] == "N" else -1)
        left = int(lon[:-1]) * (1 if lon[-1] == "E" else -1)
    else:
        top = int(lat[1:]) * (1 if lat[0] == "N" else -1)
        left = int(lon[1:]) * (1 if lon[0] == "E" else -1)
    return top, left


def valid_corner(scheme: TileScheme, top: int, left: int) -> bool:
    """Whether (top, left) is the corner of a tile of the scheme on Earth."""
    if scheme is TileScheme.SINGLE:
        return (top, left) == (90, -180)
    size = tile_deg(scheme)
    on_grid = not (top % size or left % size)
    return on_grid and -90 + size <= top <= 90 and -180 <= left <= 180 - size


def tiles_for_bounds(scheme: TileScheme, bounds: Bounds) -> list[str]:
    """Every tile a bounding box (minx, miny, maxx, maxy) overlaps, north-west first.

    A box that only touches a tile's edge does not need that tile.
    """
    if scheme is TileScheme.SINGLE:
        return [SINGLE_TILE]
    size = tile_deg(scheme)
    minx, miny, maxx, maxy = bounds
    first_left = math.floor(minx / size) * size
    last_left = max(first_left, math.ceil(maxx / size) * size - size)
    last_top = math.floor(miny / size) * size + size
    first_top = max(last_top, math.ceil(maxy / size) * size)
    return [
        tile_name(scheme, top, left)
        for top in range(first_top, last_top - 1, -size)
        for left in range(first_left, last_left + 1, size)
    ]
