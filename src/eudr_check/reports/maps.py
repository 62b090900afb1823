"""Evidence maps: one small PNG per flagged plot showing where and when forest was lost.

The vector layers' areas in the view (protected areas, buffer zones, indigenous lands,
production forests) are filled lightly and outlined in their kind's colour between the pixels
and the plot's outline, and named with their share of the plot in a legend of their own.

Drawn on a bare Agg canvas (no pyplot, so no global backend or figure state, safe in servers
and workers). The same inputs give the same bytes: fixed size and dpi, no software or date
metadata, pixels drawn with nearest-neighbour sampling.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FormatStrFormatter, MaxNLocator
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar
from numpy.typing import NDArray
from rasterio.features import shapes
from shapely.geometry.base import BaseGeometry

from eudr_check.datasets.reader import RasterWindow
from eudr_check.fileio import write_bytes
from eudr_check.i18n import Lang, Text
from eudr_check.reports.map_png import AREA_COLOURS, AREA_KINDS, MapArea
from eudr_check.spatial import Bounds

SIZE_IN, DPI = 6.0, 100  # 600 x 600 px
_M_PER_DEG_LON = 111_320.0  # at the equator

FOREST = "#c7e9c0"
OLD_LOSS = "#969696"
NODATA = "#f0f0f0"
OUTLINE = "#08306b"
HATCH = "#9e9e9e"
# One colour per year after the cut-off, orange to dark purple; none is close to the greens.
YEAR_COLOURS = ("#fd8d3c", "#e31a1c", "#a50f15", "#ae017e", "#7a0177", "#49006a", "#252525")

_TEXT = {
    "outline": Text("Parcela analizada", "Analysed plot"),
    "forest": Text("Bosque en 2000 (cobertura ≥ {t} %)", "Forest in 2000 (cover ≥ {t} %)"),
    "old_loss": Text("Pérdida {a}–{b}", "Loss {a}–{b}"),
    "year": Text("Pérdida {y}", "Loss {y}"),
    "nodata": Text("Sin datos", "No data"),
    "no_loss_data": Text("Sin datos de pérdida de bosque", "No forest loss data"),
    "lon": Text("Longitud (°)", "Longitude (°)"),
    "lat": Text("Latitud (°)", "Latitude (°)"),
    "area": Text("{kind}: {name}", "{kind}: {name}"),
    "area_category": Text("{kind}: {name} ({category})", "{kind}: {name} ({category})"),
    "area_share": Text(", {percent} % de la parcela", ", {percent} % of the plot"),
    "area_outside": Text(", fuera de la parcela", ", outside the plot"),
    "areas_more": Text("… y {n} áreas más en el mapa", "… and {n} more areas on the map"),
}
AREA_ALPHA = 0.18  # the fill of an area: light enough to see the pixels under it
MAX_AREA_ROWS = 4  # area legend rows; more areas are counted in one more row
AREA_LABEL_CHARS = 96  # what one legend row holds across the figure (at 7.5 pt)


def _t(key: str, lang: Lang, **kw: object) -> str:
    return _TEXT[key](lang, **kw)


def _year_colour(years_after_cutoff: int) -> str:
    return YEAR_COLOURS[min(years_after_cutoff - 1, len(YEAR_COLOURS) - 1)]


# Names Windows refuses for a file whatever its extension (CON.png cannot be created).
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
)


def map_file_name(plot_id: str) -> str:
    """A safe, stable file name for a plot id from an uploaded file.

    Ids that need changing get a short hash so that "A/1" and "A_1" never share a file.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", plot_id).strip("._")[:80]
    if safe != plot_id or not safe or safe.split(".")[0].upper() in _WINDOWS_RESERVED:
        digest = hashlib.sha256(plot_id.encode("utf-8")).hexdigest()[:8]
        safe = f"{safe}-{digest}" if safe else digest
    return f"{safe}.png"


def _extent(window: RasterWindow) -> tuple[float, float, float, float]:
    """(left, right, bottom, top) of the window, as imshow wants it."""
    t = window.transform
    height, width = window.data.shape
    return (t.c, t.c + t.a * width, t.f + t.e * height, t.f)


def _layers(
    loss: RasterWindow,
    treecover: RasterWindow | None,
    *,
    threshold: int,
    cutoff_code: int,
) -> tuple[NDArray[np.uint8], dict[str, bool], list[int]]:
    """An RGBA image of the window, what it shows, and the loss codes after the cut-off."""
    codes = loss.data.astype(np.int32)
    nodata = loss.nodata
    rgba = np.zeros((*codes.shape, 4), dtype=np.uint8)

    def paint(where: NDArray[np.bool_], colour: str) -> bool:
        rgba[where] = np.round(np.array(to_rgba(colour)) * 255).astype(np.uint8)
        return bool(where.any())

    shown = {"forest": False, "old_loss": False, "nodata": False}
    if treecover is not None and treecover.data.shape == codes.shape:
        forest = (treecover.data.astype(np.int32) >= threshold) & ~treecover.nodata & ~nodata
        shown["forest"] = paint(forest, FOREST)
    shown["old_loss"] = paint((codes > 0) & (codes <= cutoff_code) & ~nodata, OLD_LOSS)
    years = sorted(int(c) for c in np.unique(codes[(codes > cutoff_code) & ~nodata]))
    for code in years:
        paint((codes == code) & ~nodata, _year_colour(code - cutoff_code))
    shown["nodata"] = paint(nodata, NODATA)
    return rgba, shown, years


def _hatch_nodata(ax: Axes, window: RasterWindow) -> None:
    """Hatch the no-data cells, outlined on the pixel edges."""
    mask = window.nodata.astype(np.uint8)
    for geom, _ in shapes(mask, mask=window.nodata, transform=window.transform):
        poly = shapely.geometry.shape(geom)
        ax.add_patch(PathPatch(_path(poly), facecolor="none", edgecolor=HATCH, hatch="///", lw=0))


def _path(poly: BaseGeometry) -> MplPath:
    rings = [poly.exterior, *poly.interiors]
    return MplPath.make_compound_path(*(MplPath(np.asarray(r.coords)[:, :2]) for r in rings))


def _draw_outline(ax: Axes, geometry: BaseGeometry) -> None:
    """Polygon rings as lines and points as dots (a point plot shows its centre and circle)."""
    if hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            _draw_outline(ax, part)
    elif geometry.geom_type == "Polygon":
        for ring in (geometry.exterior, *geometry.interiors):
            xy = np.asarray(ring.coords)
            ax.plot(xy[:, 0], xy[:, 1], color=OUTLINE, lw=2.0, solid_joinstyle="round")
    elif geometry.geom_type == "Point":
        ax.plot([geometry.x], [geometry.y], "o", color=OUTLINE, ms=5)
    elif not geometry.is_empty:
        xy = np.asarray(shapely.get_coordinates(geometry))
        ax.plot(xy[:, 0], xy[:, 1], color=OUTLINE, lw=2.0)


def _percent(share: float) -> str:
    return "< 0.1" if 0 < share < 0.0005 else f"{100 * share:.1f}"


def area_labels(areas: Sequence[MapArea], lang: Lang) -> list[tuple[MapArea | None, str]]:
    """The legend rows of the areas drawn: one per area (kind, name and category, as the
    layer's fields say; a category the name already says is left out), the first polygon
    standing for its namesakes, with the share of the plot when the check measured it (the
    name is shortened, never the share); at most MAX_AREA_ROWS, the last then saying how many
    more (its area None: no swatch)."""
    rows: dict[tuple[str, str, str | None], tuple[MapArea, str]] = {}
    for area in areas:
        key = (area.kind.value, area.name, area.category)
        if key in rows:
            continue
        kind = AREA_KINDS[area.kind](lang)
        cat = area.category
        if cat and cat.strip().casefold() not in area.name.casefold():
            label = _t("area_category", lang, kind=kind, name=area.name, category=cat)
        else:
            label = _t("area", lang, kind=kind, name=area.name)
        share = ""
        if area.share is not None:
            share = (_t("area_share", lang, percent=_percent(area.share)) if area.share > 0
                     else _t("area_outside", lang))  # fmt: skip
        rows[key] = (area, _shorten(label, AREA_LABEL_CHARS - len(share)) + share)
    out: list[tuple[MapArea | None, str]] = list(rows.values())
    if len(out) > MAX_AREA_ROWS:
        more = _t("areas_more", lang, n=len(out) - MAX_AREA_ROWS + 1)
        out = [*out[: MAX_AREA_ROWS - 1], (None, more)]
    return out


def _oriented(geometry: BaseGeometry) -> list[BaseGeometry]:
    """The polygons, exteriors counter-clockwise and holes clockwise (the fill rule's way)."""
    parts = shapely.get_parts(geometry).tolist()
    return [shapely.geometry.polygon.orient(p) for p in parts if p.geom_type == "Polygon"]


def _draw_areas(ax: Axes, areas: Sequence[MapArea]) -> None:
    """Fill each area lightly and outline it, over the pixels (z 0, no-data hatching 1) and
    under the plot's outline (z 2)."""
    for area in areas:
        colour = AREA_COLOURS[area.kind]
        for poly in _oriented(area.geometry):
            ax.add_patch(PathPatch(_path(poly), facecolor=to_rgba(colour, AREA_ALPHA),
                                   edgecolor="none", lw=0, zorder=1.5))  # fmt: skip
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)
                ax.plot(xy[:, 0], xy[:, 1], color=colour, lw=1.2, zorder=1.6)


def _area_handles(areas: Sequence[MapArea], lang: Lang) -> list[Line2D | Patch]:
    return [
        Patch(facecolor="none", edgecolor="none", label=label) if a is None else
        Patch(facecolor=to_rgba(AREA_COLOURS[a.kind], AREA_ALPHA * 2),
              edgecolor=AREA_COLOURS[a.kind], lw=1.2, label=label)
        for a, label in area_labels(areas, lang)
    ]  # fmt: skip


def _nice_length(metres: float) -> float:
    """The largest 1-2-5 step not over `metres` (the scale bar's length)."""
    exp = 10.0 ** math.floor(math.log10(max(metres, 1.0)))
    return max(step * exp for step in (1, 2, 5) if step * exp <= max(metres, 1.0))


def _scale_and_north(ax: Axes, width_deg: float, lat: float) -> None:
    m_per_deg = _M_PER_DEG_LON * math.cos(math.radians(lat))
    metres = _nice_length(width_deg * m_per_deg / 4)
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    bar = AnchoredSizeBar(
        ax.transData,
        metres / m_per_deg,
        label,
        "lower left",
        pad=0.4,
        borderpad=0.6,
        sep=3,
        frameon=True,
        size_vertical=0,
        fontproperties={"size": 8},
    )
    bar.patch.set_alpha(0.8)
    ax.add_artist(bar)
    ax.annotate(
        "",
        xy=(0.94, 0.93),
        xytext=(0.94, 0.80),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
    )
    ax.text(
        0.94,
        0.955,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
    )


def map_view(geometry: BaseGeometry, window: RasterWindow | None) -> Bounds:
    """What `render_plot_map` shows of the ground: the window, else the plot with a margin."""
    left, right, bottom, top = _view(geometry, window)
    return Bounds(left, bottom, right, top)


def _view(geometry: BaseGeometry, window: RasterWindow | None) -> tuple[float, float, float, float]:
    """(left, right, bottom, top): the window, else the plot with a margin."""
    if window is not None:
        return _extent(window)
    minx, miny, maxx, maxy = geometry.bounds
    pad = max(maxx - minx, maxy - miny) * 0.15 or 0.001
    return (minx - pad, maxx + pad, miny - pad, maxy + pad)


def _raster_layers(
    ax: Axes,
    loss: RasterWindow,
    treecover: RasterWindow | None,
    *,
    lang: Lang,
    threshold: int,
    cutoff_year: int,
    base: int,
) -> list[Line2D | Patch]:
    """Draw the window's pixels; returns the legend entries of what is shown."""
    cutoff_code = cutoff_year - base
    rgba, shown, codes = _layers(loss, treecover, threshold=threshold, cutoff_code=cutoff_code)
    ax.imshow(rgba, extent=_extent(loss), interpolation="nearest", origin="upper")
    handles: list[Line2D | Patch] = []
    if shown["forest"]:
        handles.append(Patch(color=FOREST, label=_t("forest", lang, t=threshold)))
    if shown["old_loss"]:
        handles.append(Patch(color=OLD_LOSS, label=_t("old_loss", lang, a=base + 1, b=cutoff_year)))
    for code in codes:
        label = _t("year", lang, y=base + code)
        handles.append(Patch(color=_year_colour(code - cutoff_code), label=label))
    if shown["nodata"]:
        _hatch_nodata(ax, loss)
        handles.append(_nodata_patch(lang))
    return handles


def _nodata_patch(lang: Lang) -> Patch:
    return Patch(facecolor=NODATA, edgecolor=HATCH, hatch="///", label=_t("nodata", lang))


def _no_raster(ax: Axes, lang: Lang) -> list[Line2D | Patch]:
    """Without a loss window the whole view is "no data"."""
    ax.add_patch(
        Rectangle((0, 0), 1, 1, transform=ax.transAxes, facecolor=NODATA, edgecolor=HATCH,
                  hatch="///", lw=0)
    )  # fmt: skip
    return [_nodata_patch(lang)]


def _frame(ax: Axes, view: tuple[float, float, float, float], lang: Lang) -> None:
    """Limits true to scale on the ground, degree ticks, scale bar and north arrow."""
    left, right, bottom, top = view
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    lat = (bottom + top) / 2
    ax.set_aspect(1 / max(math.cos(math.radians(lat)), 0.01), adjustable="box")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(3))
        axis.set_major_formatter(FormatStrFormatter("%.4f"))
    ax.tick_params(labelsize=7)
    ax.set_xlabel(_t("lon", lang), fontsize=8)
    ax.set_ylabel(_t("lat", lang), fontsize=8)
    _scale_and_north(ax, right - left, lat)


def _save(fig: Figure, path: Path) -> Path:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # Plot ids from uploads may use characters the bundled font lacks: draw boxes, quietly.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    write_bytes(path, buf.getvalue())
    return path


def render_plot_map(
    geometry: BaseGeometry,
    loss_window: RasterWindow | None,
    *,
    title: str,
    lang: Lang,
    path: Path,
    treecover_window: RasterWindow | None = None,
    treecover_threshold: int = 10,
    cutoff_year: int = 2020,
    loss_year_base: int = 2000,
    note: str | None = None,
    credit: str | None = None,
    areas: Sequence[MapArea] = (),
) -> Path:
    """Draw the plot over its loss pixels; without a loss window, the outline and a note.
    `areas` (see `map_view` for the ground shown) are drawn between the two and named in a
    legend below the main one."""
    fig = Figure(figsize=(SIZE_IN, SIZE_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    # Map on top, legend and notes below it: long legend labels never squeeze the map.
    ax = fig.add_axes((0.14, 0.29, 0.82, 0.63))
    handles: list[Line2D | Patch] = [Line2D([], [], color=OUTLINE, lw=2, label=_t("outline", lang))]
    if loss_window is not None:
        handles += _raster_layers(ax, loss_window, treecover_window, lang=lang,
                                  threshold=treecover_threshold, cutoff_year=cutoff_year,
                                  base=loss_year_base)  # fmt: skip
    else:
        handles += _no_raster(ax, lang)
        note = _t("no_loss_data", lang) + (f". {note}" if note else ".")
    _draw_areas(ax, areas)
    _draw_outline(ax, geometry)
    _frame(ax, _view(geometry, loss_window), lang)
    ax.set_title(_shorten(title, 70), fontsize=10, parse_math=False)
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.04, 0.2), ncol=3,
                        fontsize=7.5, frameon=False, columnspacing=1.2)  # fmt: skip
    if areas:
        _area_legend(fig, ax, legend, _area_handles(areas, lang))
    if note:
        fig.text(0.05, 0.075, _shorten(note, 150), fontsize=8, wrap=True, parse_math=False)
    if credit:
        fig.text(0.05, 0.02, _shorten(credit, 120), fontsize=6, color="#555555", parse_math=False)
    return _save(fig, path)


def _area_legend(fig: Figure, ax: Axes, legend: Legend, handles: list[Line2D | Patch]) -> None:
    """The areas' legend, one per row under the main legend; the map and the main legend move
    up by its height, so the notes below keep their place."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    height = fig.bbox.height
    main = legend.get_window_extent(renderer).height / height
    own = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.04, 0.2 - main),
                     ncol=1, fontsize=7.5, frameon=False)  # fmt: skip
    shift = own.get_window_extent(renderer).height / height
    left, bottom, width, top_height = ax.get_position(original=True).bounds
    ax.set_position((left, bottom + shift, width, top_height - shift))
    legend.set_bbox_to_anchor((0.04, 0.2 + shift), transform=fig.transFigure)
    own.set_bbox_to_anchor((0.04, 0.2 + shift - main), transform=fig.transFigure)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
