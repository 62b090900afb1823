"""Small evidence maps for the check reports, drawn straight into a palette PNG.

Thousands of plots need thousands of maps: matplotlib takes about 50 ms per figure, this about
1 ms. The picture is the loss raster window sampled at the image's pixel centres (nearest
cell), forest in 2000 under it, no-data cells hatched, the vector layers' areas in the view
(protected areas, buffer zones, indigenous lands, production forests: `MapArea`) outlined and
hatched in their kind's colour over that, and the plot's outline on top. The legend and the
scale note are in the HTML page once (`LEGEND`), not in every image. The same input gives the
same bytes: no timestamps, a fixed palette and fixed compression.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from shapely.geometry.base import BaseGeometry

from eudr_check.datasets.catalog import AreaKind
from eudr_check.datasets.reader import RasterWindow
from eudr_check.i18n import Text
from eudr_check.spatial import Bounds

SIZE = 256  # pixels per side
_BACKGROUND, _FOREST, _OLD_LOSS, _NODATA, _HATCH, _OUTLINE = range(6)
_FIRST_YEAR = 6
# One colour per year after the cut-off, orange to dark purple; the last stands for later years.
YEAR_COLOURS = ("#fd8d3c", "#e31a1c", "#a50f15", "#ae017e", "#7a0177", "#49006a", "#252525")
# One colour per kind of vector-layer area; none is close to the greens, the years or the outline.
AREA_COLOURS = {
    AreaKind.PROTECTED_AREA: "#00897b",
    AreaKind.BUFFER_ZONE: "#00b8d4",
    AreaKind.INDIGENOUS_LAND: "#8d4e2a",
    AreaKind.PRODUCTION_FOREST: "#9e9d24",
}
AREA_KINDS = {
    AreaKind.PROTECTED_AREA: Text("Área natural protegida", "Protected area"),
    AreaKind.BUFFER_ZONE: Text("Zona de amortiguamiento", "Buffer zone"),
    AreaKind.INDIGENOUS_LAND: Text("Tierra indígena o comunal", "Indigenous or community land"),
    AreaKind.PRODUCTION_FOREST: Text("Bosque de producción permanente",
                                     "Permanent production forest"),
}  # fmt: skip
_FIRST_AREA = _FIRST_YEAR + len(YEAR_COLOURS)
_AREA_INDEX = {kind: _FIRST_AREA + i for i, kind in enumerate(AREA_COLOURS)}
COLOURS = ("#ffffff", "#c7e9c0", "#969696", "#f0f0f0", "#9e9e9e", "#08306b", *YEAR_COLOURS,
           *AREA_COLOURS.values())  # fmt: skip

LEGEND = {
    "outline": (COLOURS[_OUTLINE], Text("Parcela analizada", "Analysed plot")),
    "forest": (COLOURS[_FOREST], Text("Bosque en 2000 (cobertura ≥ {t} %)",
                                      "Forest in 2000 (cover ≥ {t} %)")),
    "old_loss": (COLOURS[_OLD_LOSS], Text("Pérdida hasta {cutoff}", "Loss up to {cutoff}")),
    "nodata": (COLOURS[_HATCH], Text("Sin datos (rayado)", "No data (hatched)")),
    **{f"area_{kind.value}": (AREA_COLOURS[kind], text + Text(" (contorno y rayado)",
                                                               " (outline and hatching)"))
       for kind, text in AREA_KINDS.items()},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class MapArea:
    """A vector layer's polygon in a map's view: its part there (EPSG:4326, clipped a little
    outside the view, so the cut edges fall off the picture), what it is, and how much of the
    plot it covers when the check measured it (0: near the plot, not under it)."""

    kind: AreaKind
    name: str
    category: str | None
    geometry: BaseGeometry  # Polygon or MultiPolygon
    share: float | None = None


def _palette(colours: tuple[str, ...]) -> list[int]:
    flat: list[int] = []
    for colour in colours:
        flat += [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return flat + [0] * (768 - len(flat))


# A map without areas keeps the palette it had before there were areas: the same bytes.
_PALETTE = _palette(COLOURS[:_FIRST_AREA])
_PALETTE_AREAS = _palette(COLOURS)


def view_bounds(shape: BaseGeometry, pixel_deg: float) -> Bounds:
    """A square (on the ground) box around the shape, with a margin of a fifth of its size."""
    minx, miny, maxx, maxy = shape.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    shrink = max(math.cos(math.radians(cy)), 0.01)  # a degree of longitude is shorter
    half = max((maxx - minx) * shrink, maxy - miny, 4 * pixel_deg) * 0.6
    return Bounds(cx - half / shrink, cy - half, cx + half / shrink, cy + half)


def _sample(window: RasterWindow, view: Bounds) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Row and column of the window cell under each image pixel centre."""
    t = window.transform
    height, width = window.data.shape
    step_x, step_y = view.width / SIZE, view.height / SIZE
    xs = view.minx + (np.arange(SIZE) + 0.5) * step_x
    ys = view.maxy - (np.arange(SIZE) + 0.5) * step_y
    cols = np.clip(np.floor((xs - t.c) / t.a).astype(np.intp), 0, width - 1)
    rows = np.clip(np.floor((ys - t.f) / t.e).astype(np.intp), 0, height - 1)
    return rows, cols


def shows_something(loss: RasterWindow | None, treecover: RasterWindow | None,
                    threshold: int) -> bool:  # fmt: skip
    """Whether a map would show more than background: loss of any year or forest in 2000."""
    if loss is None:
        return False
    valid = ~loss.nodata
    if bool((loss.data[valid].astype(np.int32) > 0).any()):
        return True
    if treecover is None or treecover.data.shape != loss.data.shape:
        return False
    return bool(((treecover.data.astype(np.int32) >= threshold) & ~treecover.nodata).any())


# Every eighth diagonal of the image: the hatching of no-data cells. Every eighth row: the
# hatching of the areas (rows compress far better than the other diagonals: the maps of a
# national run stay as fast to write).
_HATCHED = (np.add.outer(np.arange(SIZE), np.arange(SIZE)) % 8) == 0
_AREA_HATCHED = np.zeros((SIZE, SIZE), dtype=bool)
_AREA_HATCHED[4::8] = True


def _classes(loss: RasterWindow, treecover: RasterWindow | None, threshold: int,
             cutoff_code: int) -> NDArray[np.uint8]:  # fmt: skip
    """Palette index per window cell (small: the plot's cells), before sampling."""
    codes = loss.data.astype(np.int32)
    nodata = loss.nodata
    out = np.full(codes.shape, _BACKGROUND, dtype=np.uint8)
    if treecover is not None and treecover.data.shape == codes.shape:
        forest = (treecover.data.astype(np.int32) >= threshold) & ~treecover.nodata
        out[forest] = _FOREST
    out[(codes > 0) & (codes <= cutoff_code)] = _OLD_LOSS
    after = codes > cutoff_code
    years = np.minimum(codes - cutoff_code - 1, len(YEAR_COLOURS) - 1)
    out[after] = (_FIRST_YEAR + years[after]).astype(np.uint8)
    out[nodata] = _NODATA
    return out


def render_png(
    shape: BaseGeometry, view: Bounds, loss: RasterWindow | None,
    treecover: RasterWindow | None, *, threshold: int, cutoff_code: int,
    areas: Sequence[MapArea] = (),
) -> bytes:  # fmt: skip
    """The map as PNG bytes (`view` from `view_bounds`; the windows must cover it). `areas`
    are hatched over the pixels and outlined, under the plot's outline."""
    if loss is None:
        index = np.full((SIZE, SIZE), _BACKGROUND, dtype=np.uint8)
    else:
        rows, cols = _sample(loss, view)
        classes = _classes(loss, treecover, threshold, cutoff_code)
        # rows and cols never decrease: repeating each cell as often as it is sampled is the
        # same picture as indexing with them, at a quarter of the time.
        height, width = classes.shape
        index = np.repeat(np.repeat(classes, np.bincount(rows, minlength=height), axis=0),
                          np.bincount(cols, minlength=width), axis=1)  # fmt: skip
        if (classes == _NODATA).any():
            index[(index == _NODATA) & _HATCHED] = _HATCH
    for area in areas:
        index[_area_mask(area.geometry, view) & _AREA_HATCHED] = _AREA_INDEX[area.kind]
    image = Image.fromarray(index, mode="P")
    image.putpalette(_PALETTE_AREAS if areas else _PALETTE)
    draw = ImageDraw.Draw(image)
    for area in areas:
        for ring in _rings(area.geometry):
            draw.line(_pixels(ring, view), fill=_AREA_INDEX[area.kind], width=1)
    _outline(draw, shape, view)
    buf = io.BytesIO()
    # Flat colours compress well at the fastest level; fixed, so the bytes never change.
    image.save(buf, format="PNG", optimize=False, compress_level=1)
    return buf.getvalue()


def _pixels(ring: BaseGeometry, view: Bounds) -> list[float]:
    """A ring's vertices in image pixels, flat (x0, y0, x1, y1, ...), as `_outline` places them."""
    xy = shapely.get_coordinates(ring)
    px = np.empty_like(xy)
    px[:, 0] = (xy[:, 0] - view.minx) * (SIZE / view.width)
    px[:, 1] = (view.maxy - xy[:, 1]) * (SIZE / view.height)
    flat: list[float] = px.ravel().tolist()
    return flat


def _polygons(geometry: BaseGeometry) -> list[BaseGeometry]:
    if geometry.geom_type == "Polygon":
        return [geometry]
    return [p for p in shapely.get_parts(geometry).tolist() if p.geom_type == "Polygon"]


def _rings(geometry: BaseGeometry) -> list[BaseGeometry]:
    return [ring for p in _polygons(geometry) for ring in (p.exterior, *p.interiors)]


def _area_mask(geometry: BaseGeometry, view: Bounds) -> NDArray[np.bool_]:
    """The image pixels inside the polygons (holes left out)."""
    if _covers(geometry, view):
        return np.ones((SIZE, SIZE), dtype=bool)
    mask = Image.new("L", (SIZE, SIZE), 0)
    draw = ImageDraw.Draw(mask)
    for poly in _polygons(geometry):
        draw.polygon(_pixels(poly.exterior, view), fill=1)
        for hole in poly.interiors:
            draw.polygon(_pixels(hole, view), fill=0)
    return np.asarray(mask, dtype=bool)


def _covers(geometry: BaseGeometry, view: Bounds) -> bool:
    """Whether a clipped area is a plain box around the whole view (a plot deep inside)."""
    if geometry.geom_type != "Polygon" or shapely.get_num_coordinates(geometry) != 5:
        return False
    minx, miny, maxx, maxy = geometry.bounds
    if minx > view.minx or miny > view.miny or maxx < view.maxx or maxy < view.maxy:
        return False
    xy = shapely.get_coordinates(geometry)  # every corner on the box: the box itself
    return bool((((xy[:, 0] == minx) | (xy[:, 0] == maxx))
                 & ((xy[:, 1] == miny) | (xy[:, 1] == maxy))).all())  # fmt: skip


def _outline(draw: ImageDraw.ImageDraw, shape: BaseGeometry, view: Bounds) -> None:
    sx, sy = SIZE / view.width, SIZE / view.height
    for part in getattr(shape, "geoms", [shape]):
        if part.geom_type in ("Polygon", "MultiPolygon", "GeometryCollection"):
            if part.geom_type != "Polygon":
                _outline(draw, part, view)
                continue
            for ring in (part.exterior, *part.interiors):
                xy = shapely.get_coordinates(ring)
                px = [((x - view.minx) * sx, (view.maxy - y) * sy) for x, y in xy]
                draw.line(px, fill=_OUTLINE, width=2, joint="curve")
        elif part.geom_type == "Point":
            x, y = (part.x - view.minx) * sx, (view.maxy - part.y) * sy
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=_OUTLINE)
