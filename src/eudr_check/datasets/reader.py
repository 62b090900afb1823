"""Read a window of a tiled product for a bounding box, mosaicking across tile edges.

The window's grid is the product's grid (its pixel size, aligned to whole pixels from 0°, as the
real 10° tiles are); each file's own georeferencing says where its pixels go, so clipped files
under the real names work. Tiles that are missing or unreadable are reported, and their part of
the window is nodata: callers turn that into `undetermined`, never into "no forest".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.errors import RasterioError
from rasterio.windows import Window

from eudr_check.datasets.catalog import Dataset
from eudr_check.datasets.sources import TileLocation, locate
from eudr_check.datasets.tiles import tile_corner, tile_deg, tiles_for_bounds
from eudr_check.errors import RasterError
from eudr_check.spatial import Bounds, Grid

# Misalignment between a file's grid and the product grid that is still "the same grid".
_ALIGN_TOLERANCE = 1e-3  # of a pixel
# Files kept open during a run (see open_files); beyond this many the oldest is closed.
_MAX_OPEN = 64
_OPEN: ContextVar[dict[str, rasterio.DatasetReader] | None] = ContextVar(
    "open_rasters", default=None
)


@contextlib.contextmanager
def open_files() -> Iterator[None]:
    """Keep raster files open while a run reads many windows from them.

    Reopening a file throws away what GDAL has decoded; real Hansen tiles are striped 40,000
    pixels wide, so every window would decode its rows again (about 20x slower).
    """
    cache: dict[str, rasterio.DatasetReader] = {}
    token = _OPEN.set(cache)
    try:
        yield
    finally:
        _OPEN.reset(token)
        for dataset in cache.values():
            dataset.close()


@contextlib.contextmanager
def _opened(path: str) -> Iterator[rasterio.DatasetReader]:
    cache = _OPEN.get()
    if cache is None:
        with rasterio.open(path) as src:
            yield src
        return
    src = cache.get(path)
    if src is None:
        src = rasterio.open(path)
        if len(cache) >= _MAX_OPEN:
            cache.pop(next(iter(cache))).close()
        cache[path] = src
    yield src


@dataclass(slots=True)
class RasterWindow:
    """Values of one layer over a grid window, with a mask of the cells that have no data."""

    data: NDArray[np.generic]
    nodata: NDArray[np.bool_]  # True where there is no data (nodata value or missing tile)
    grid: Grid  # where the cells are (product grid, EPSG:4326)
    # True where no file covered the cell (missing tile, a clip that stops short, a bad file):
    # for alert layers, whose "nodata" value 0 just means "no alert", only this is missing data.
    outside: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    missing_tiles: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # tile -> what went wrong reading it
    opened: list[str] = field(default_factory=list)  # GDAL paths of the files read

    @property
    def transform(self) -> Affine:
        return self.grid.transform


def read_window(dataset: Dataset, layer: str, bounds: Bounds, data_dir: Path) -> RasterWindow:
    """The product grid's smallest window covering `bounds`, filled from the tiles under it."""
    grid = Grid.covering(dataset.pixel_deg, bounds)
    height, width = grid.shape
    transform = grid.transform
    fill = dataset.layers[layer].nodata
    chosen = dataset.layers[layer].dtype
    dtype = (
        np.dtype(chosen) if chosen else np.uint16 if dataset.role.value == "alerts" else np.uint8
    )
    data = np.zeros((height, width), dtype=dtype)
    covered = np.zeros((height, width), dtype=bool)
    bad = np.zeros((height, width), dtype=bool)
    window = RasterWindow(data, bad, grid)
    for tile in tiles_for_bounds(dataset.tiles, grid.bounds):
        where = locate(dataset, layer, tile, data_dir)
        if not where.exists():
            window.missing_tiles.append(tile)
            continue
        try:
            _paste(where, window, covered, fill)
            window.opened.append(where.path)
        except (RasterioError, OSError, ValueError) as exc:  # RasterError is a ValueError
            # Nothing of a failed tile is pasted: its cells stay uncovered, hence nodata.
            window.errors[tile] = f"{Path(where.path).name}: {_short(exc)}"
    # Cells no file covered (a clip that stops short, a missing tile) have no data either.
    window.nodata |= ~covered
    window.outside = ~covered
    # A tile is only missing if some of its cells stayed uncovered: a neighbouring file that
    # reaches over the tile edge (files are trusted by their georeferencing) may cover them.
    window.missing_tiles = [
        t for t in window.missing_tiles if _uncovered_in_tile(dataset, t, transform, covered)
    ]
    return window


def crop(window: RasterWindow, bounds: Bounds) -> RasterWindow | None:
    """The window `read_window` would give for `bounds`, cut out of a bigger window read
    before (same cells, same grid); None when the window does not cover it."""
    pixel = window.grid.pixel
    grid = Grid.covering(pixel, bounds)
    r0 = round((window.transform.f - grid.transform.f) / pixel)
    c0 = round((grid.transform.c - window.transform.c) / pixel)
    h, w = grid.shape
    if r0 < 0 or c0 < 0 or r0 + h > window.data.shape[0] or c0 + w > window.data.shape[1]:
        return None
    rows, cols = slice(r0, r0 + h), slice(c0, c0 + w)
    outside = window.outside[rows, cols] if window.outside.size else window.outside
    return RasterWindow(window.data[rows, cols], window.nodata[rows, cols], grid, outside,
                        window.missing_tiles, window.errors, window.opened)  # fmt: skip


def _uncovered_in_tile(dataset: Dataset, tile: str, t: Affine, covered: NDArray[np.bool_]) -> bool:
    top, left = tile_corner(dataset.tiles, tile)
    size = tile_deg(dataset.tiles)
    c0 = max(0, round((left - t.c) / t.a))
    c1 = min(covered.shape[1], round((left + size - t.c) / t.a))
    r0 = max(0, round((t.f - top) / -t.e))
    r1 = min(covered.shape[0], round((t.f - (top - size)) / -t.e))
    return bool(c1 > c0 and r1 > r0 and not covered[r0:r1, c0:c1].all())


def _paste(where: TileLocation, window: RasterWindow, covered: NDArray[np.bool_],
           fill: int | None) -> None:  # fmt: skip
    t = window.transform
    height, width = window.data.shape
    with _opened(where.path) as src:
        # Longitude/latitude cells of the product grid are assumed below: a file in another
        # CRS, or one that does not say, would be misread, not reprojected.
        if src.crs is None:
            raise RasterError("the file has no CRS (the product is in EPSG:4326)")
        if src.crs.to_epsg() != 4326:
            raise RasterError(f"CRS {src.crs} is not EPSG:4326, the product's")
        st = src.transform
        if abs(abs(st.a) - t.a) > 1e-12 or abs(abs(st.e) - abs(t.e)) > 1e-12:
            raise RasterError(f"pixel size {st.a} differs from the product's {t.a}")
        # Where the window's first cell falls in the file, in file pixels: must be whole.
        fcol = (t.c - st.c) / st.a
        frow = (t.f - st.f) / st.e
        if abs(fcol - round(fcol)) > _ALIGN_TOLERANCE or abs(frow - round(frow)) > _ALIGN_TOLERANCE:
            raise RasterError("file grid is not aligned with the product grid")
        c0, r0 = round(fcol), round(frow)
        # Intersect the wanted window with the file.
        fc0, fr0 = max(c0, 0), max(r0, 0)
        fc1, fr1 = min(c0 + width, src.width), min(r0 + height, src.height)
        if fc1 <= fc0 or fr1 <= fr0:
            return
        block = src.read(1, window=Window(fc0, fr0, fc1 - fc0, fr1 - fr0))
        file_nodata = src.nodata
    rows = slice(fr0 - r0, fr1 - r0)
    cols = slice(fc0 - c0, fc1 - c0)
    window.data[rows, cols] = block
    covered[rows, cols] = True
    for value in {fill, file_nodata} - {None}:
        window.nodata[rows, cols] |= block == value


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
