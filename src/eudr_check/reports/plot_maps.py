"""The evidence map of one plot: the analysed shape over the forest-loss pixels by year.

The check reports draw one per flagged plot; the web service draws one on demand. Both come
here, so both show the same picture from the same windows, title and notes, and the same
vector-layer areas in view (`map_areas`: the layers overlaps.py reads, indexed once per
process; a disabled, missing or unreadable layer draws nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from eudr_check.analysis import point_circles
from eudr_check.datasets.catalog import AreaKind, Dataset, Role
from eudr_check.datasets.reader import RasterWindow, crop, read_window
from eudr_check.datasets.sources import DataSources
from eudr_check.datasets.vector import IndexedLayer, indexed
from eudr_check.engine.plan import PlotTask
from eudr_check.errors import ConfigError
from eudr_check.i18n import Lang, Text
from eudr_check.models import PlotResult
from eudr_check.reasons import Verdict, verdict_name
from eudr_check.reports import map_png
from eudr_check.reports.map_png import MapArea
from eudr_check.reports.maps import map_view, render_plot_map
from eudr_check.reports.options import MapMode
from eudr_check.reports.records import PlotRecord
from eudr_check.spatial import Bounds

MARGIN_PIXELS = 3
MAX_WINDOW_PIXELS = 4_000_000  # a plot needing more is not a farm plot (e.g. metres as degrees)

_NOTES = {
    "missing": Text("Falta el mosaico {tiles}.", "Tile {tiles} is missing."),
    "unreadable": Text("No se pudo leer: {error}", "Could not be read: {error}"),
    "too_large": Text(
        "La parcela está fuera del mapa o es demasiado grande.",
        "The plot is outside the map or too large.",
    ),
    "no_dataset": Text(
        "No hay un conjunto de datos de pérdida de bosque en el catálogo.",
        "There is no forest loss dataset in the catalog.",
    ),
}


def on_earth(geom: BaseGeometry) -> bool:
    return Bounds.of(geom.bounds).on_earth()


def analysed_shape(rec: PlotRecord, default_point_ha: float) -> BaseGeometry | None:
    """The shape the check looked at: a point becomes its circle, as in engine.plan."""
    geom = rec.geometry
    if geom is None or geom.geom_type not in ("Point", "MultiPoint") or not on_earth(geom):
        return geom
    declared = rec.declared_area_ha
    area = declared if declared is not None and declared > 0 else default_point_ha
    circle: BaseGeometry = point_circles([geom], np.array([area]))[0]
    return circle


def drawn_shape(rec: PlotRecord, default_point_ha: float) -> BaseGeometry | None:
    """What a map draws: the analysed shape, and for a point the point itself too (None: the
    plot has no geometry). Off the globe it is drawn with a note, never analysed."""
    shape = analysed_shape(rec, default_point_ha)
    if shape is None or shape.is_empty:
        return None
    if shape is not rec.geometry and rec.geometry is not None:
        return shapely.GeometryCollection([shape, rec.geometry])
    return shape


@dataclass(frozen=True, slots=True)
class MapLayer:
    """An enabled vector layer, read and indexed (datasets.vector's per-process cache)."""

    dataset_id: str
    kind: AreaKind
    index: IndexedLayer


def map_layers(sources: DataSources) -> list[MapLayer]:
    """The catalog's enabled vector layers that can be read; the others draw nothing (the
    check's legality findings already say a layer was not checked)."""
    out = []
    for vd in sources.catalog.enabled_vectors:
        try:
            out.append(MapLayer(vd.id, vd.kind, indexed(vd, sources.data_dir)))
        except ConfigError:
            continue
    return out


def map_areas(
    layers: Sequence[MapLayer], view: Bounds, result: PlotResult | None = None
) -> list[MapArea]:
    """Each layer polygon under the map's `view`, clipped to it with a margin of 1 % (the cut
    edges fall outside the picture), in catalog then file order; with the share of the plot
    from `result`'s overlaps when the check measured that layer."""
    clip = view.padded(0.01 * max(view.width, view.height))
    box = shapely.box(*clip)
    out: list[MapArea] = []
    for layer in layers:
        hits = layer.index.tree.query(box)  # boxes only: the clip tells the rest
        if not len(hits):
            continue
        shares = _shares(result, layer.dataset_id)
        for j in sorted(hits.tolist()):
            part = shapely.clip_by_rect(layer.index.geoms[j], *clip)
            polys = [p for p in shapely.get_parts(part).tolist()
                     if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]  # fmt: skip
            if not polys:
                continue
            geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
            a = layer.index.areas[j]
            share = None if shares is None else shares.get((a.name, a.category), 0.0)
            out.append(MapArea(layer.kind, a.name, a.category, geom, share))
    return out


Shares = dict[tuple[str, str | None], float]  # (name, category): share of the plot


def _shares(result: PlotResult | None, dataset_id: str) -> Shares | None:
    """The plot's share under each named area of the layer (None: not measured)."""
    stats = None if result is None else result.stats_for(dataset_id)
    if stats is None or not stats.vector or stats.error is not None:
        return None
    shares: Shares = {}
    for o in stats.overlaps:
        key = (o.name, o.category)
        shares[key] = min(1.0, shares.get(key, 0.0) + o.share)
    return shares


def _windows(
    ds: Dataset, shape: BaseGeometry, data_dir: Path, lang: Lang
) -> tuple[RasterWindow | None, RasterWindow | None, str | None]:
    """Loss and tree-cover windows around the shape, or None and why not."""
    bounds = Bounds.of(shape.bounds).padded(MARGIN_PIXELS * ds.pixel_deg)
    cells = bounds.width * bounds.height / ds.pixel_deg**2
    if not on_earth(shape) or cells > MAX_WINDOW_PIXELS:
        return None, None, _NOTES["too_large"](lang)
    loss = read_window(ds, "lossyear", bounds, data_dir)
    if loss.errors:
        return None, None, _NOTES["unreadable"](lang, error="; ".join(loss.errors.values()))
    if loss.nodata.all():
        tiles = ", ".join(loss.missing_tiles)
        return None, None, _NOTES["missing"](lang, tiles=tiles) if tiles else None
    treecover = None
    if "treecover2000" in ds.layers:
        treecover = read_window(ds, "treecover2000", bounds, data_dir)
    return loss, treecover, None


def draw_plot_map(
    sources: DataSources, rec: PlotRecord, shape: BaseGeometry, path: Path, lang: Lang
) -> Path:
    """Draw `shape` (see `drawn_shape`) for the plot `rec` into a PNG at `path`."""
    catalog = sources.catalog
    ds = next((d for d in catalog.enabled if d.role is Role.FOREST_LOSS), None)
    loss = treecover = None
    note: str | None = _NOTES["no_dataset"](lang)
    credit = None
    threshold, base = 10, 2000
    if ds is not None:
        loss, treecover, note = _windows(ds, shape, sources.data_dir, lang)
        credit = f"{ds.title}, {ds.version} ({ds.licence})"
        threshold = int(ds.encoding.get("treecover_threshold", threshold))
        base = int(ds.encoding.get("loss_year_base", base))
    areas = map_areas(map_layers(sources), map_view(shape, loss), rec.result)
    return render_plot_map(
        shape,
        loss,
        title=f"{rec.plot_id} · {verdict_name(rec.result.verdict, lang)}",
        lang=lang,
        path=path,
        treecover_window=treecover,
        treecover_threshold=threshold,
        cutoff_year=catalog.cutoff_date.year,
        loss_year_base=base,
        note=note,
        credit=credit,
        areas=areas,
    )


def report_map(
    sources: DataSources, rec: PlotRecord, shape: BaseGeometry, mode: MapMode
) -> bytes | None:
    """The report's small map of the plot (PNG bytes, see `map_png`); None when none is drawn:
    mode NONE, a free plot in FLAGGED mode, or a window that would show nothing but background
    (no loss, no forest, or no data at all: the HTML says so in words)."""
    if not wants_map(rec.result.verdict, mode):
        return None
    return _evidence_png(sources, shape, mode)


def wants_map(verdict: Verdict, mode: MapMode) -> bool:
    return mode is MapMode.ALL or (mode is MapMode.FLAGGED and
                                   verdict is not Verdict.DEFORESTATION_FREE)  # fmt: skip


Windows = Callable[[str, Bounds], RasterWindow]


def _evidence_png(sources: DataSources, shape: BaseGeometry, mode: MapMode,
                  windows: Windows | None = None,
                  layers: Sequence[MapLayer] | None = None) -> bytes | None:  # fmt: skip
    """The map of `shape`; `windows(layer, view)` reads the loss layer's windows (default:
    from the files); `layers` the vector layers drawn (default: the catalog's)."""
    catalog = sources.catalog
    ds = _loss_dataset(sources)
    if ds is None or not on_earth(shape):
        return None
    view = map_png.view_bounds(shape, ds.pixel_deg)
    if view.width * view.height / ds.pixel_deg**2 > MAX_WINDOW_PIXELS:
        return None
    read = windows or (lambda layer, b: read_window(ds, layer, b, sources.data_dir))
    loss = read("lossyear", view)
    treecover = read("treecover2000", view) if "treecover2000" in ds.layers else None
    threshold = int(ds.encoding.get("treecover_threshold", 10))
    if mode is MapMode.FLAGGED and not map_png.shows_something(loss, treecover, threshold):
        return None
    cutoff_code = catalog.cutoff_date.year - int(ds.encoding.get("loss_year_base", 2000))
    areas = map_areas(map_layers(sources) if layers is None else layers, view)
    return map_png.render_png(shape, view, loss, treecover, threshold=threshold,
                              cutoff_code=cutoff_code, areas=areas)  # fmt: skip


def _loss_dataset(sources: DataSources) -> Dataset | None:
    return next((d for d in sources.catalog.enabled if d.role is Role.FOREST_LOSS), None)


class _SharedWindows:
    """The windows of a chunk's maps, read once for all of them and cut per map (plots of a
    chunk are neighbours: one read instead of two per map); a view outside is read alone."""

    def __init__(self, ds: Dataset, views: list[Bounds], data_dir: Path) -> None:
        self.ds, self.data_dir = ds, data_dir
        self.whole: dict[str, RasterWindow] = {}
        self.box: Bounds | None = None
        box = Bounds(min(v.minx for v in views), min(v.miny for v in views),
                     max(v.maxx for v in views), max(v.maxy for v in views))  # fmt: skip
        if len(views) > 1 and box.width * box.height / ds.pixel_deg**2 <= MAX_WINDOW_PIXELS:
            self.box = box

    def __call__(self, layer: str, view: Bounds) -> RasterWindow:
        box = self.box
        if box is not None:
            if layer not in self.whole:
                self.whole[layer] = read_window(self.ds, layer, box, self.data_dir)
            part = crop(self.whole[layer], view)
            if part is not None:
                return part
        return read_window(self.ds, layer, view, self.data_dir)


@dataclass(frozen=True, slots=True)
class UnitMaps:
    """The report maps drawn where each unit runs (an engine `UnitExtra`): in parallel with
    `--workers`, while the unit's raster files are open. Per analysed row that wants a map:
    its PNG bytes, or None when it shows nothing. Rows it leaves out (plots not analysed,
    stored results reused) are drawn by the report sink itself, the same way."""

    mode: MapMode
    key: ClassVar[str] = "maps"

    def __call__(
        self, tasks: Sequence[PlotTask], results: Sequence[PlotResult], sources: DataSources
    ) -> dict[int, bytes | None]:
        shapes: dict[int, BaseGeometry] = {}
        for task, result in zip(tasks, results, strict=True):
            if task.shape is None or not wants_map(result.verdict, self.mode):
                continue
            shape = task.shape
            if task.marker is not None:  # a point: its circle and the point, as drawn_shape
                shape = shapely.GeometryCollection([task.shape, task.marker])
            shapes[task.row] = shape
        ds = _loss_dataset(sources)
        if ds is None or not shapes:
            return dict.fromkeys(shapes)
        views = [map_png.view_bounds(s, ds.pixel_deg) for s in shapes.values() if on_earth(s)]
        windows = _SharedWindows(ds, views, sources.data_dir) if views else None
        layers = map_layers(sources)  # once per unit: each map asks the indexes themselves
        return {row: _evidence_png(sources, s, self.mode, windows, layers)
                for row, s in shapes.items()}  # fmt: skip
