"""Before analysing: which tiles the plots need, per dataset, and which are not there.

The answer is a table (dataset, version, tile, plots affected, size when known) and, per
dataset with a download source, the exact `eudr-check datasets download` command that fetches
what is missing. A required dataset's missing tile makes its plots `undetermined`; an optional
one's only leaves its evidence out. A tile file that is there may still be a clip that stops
short of the plots (a cooperative cut out of a bigger area): the plots outside every file
present are counted and named too, since the rasters have no data for them.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from eudr_check.datasets.catalog import Dataset
from eudr_check.datasets.download import plot_bounds
from eudr_check.datasets.sources import DataSources
from eudr_check.datasets.tiles import tiles_for_bounds
from eudr_check.i18n import Lang, Text
from eudr_check.spatial import Bounds

_T = {
    "missing": Text(
        "{dataset} {version}: falta la tesela {tile} ({layers}) para {n} parcela(s): {effect}.",
        "{dataset} {version}: tile {tile} ({layers}) is missing for {n} plot(s): {effect}.",
    ),
    "blocking": Text("quedan indeterminadas", "they stay undetermined"),
    "optional": Text("quedan sin esa evidencia", "they go without that evidence"),
    "outside": Text(
        "{dataset}: {n} parcela(s) fuera (en todo o en parte) de los archivos presentes, que son "
        "recortes: sin datos para ellas.",
        "{dataset}: {n} plot(s) (wholly or partly) outside the files present, which are clips: "
        "no data for them.",
    ),
    "fetch": Text("Para descargarlas: {command}", "To fetch them: {command}"),
    "no_source": Text(
        "{dataset}: sin fuente de descarga en el catálogo; obténgalas a mano.",
        "{dataset}: no download source in the catalog; fetch them by hand.",
    ),
}


@dataclass(frozen=True, slots=True)
class MissingTile:
    dataset_id: str
    version: str
    tile: str
    layers: tuple[str, ...]  # the layers whose file is absent
    plots: int  # plots that need this tile
    optional: bool


@dataclass(frozen=True, slots=True)
class Preflight:
    plots: int  # plots with a usable geometry
    missing: tuple[MissingTile, ...]
    # Per dataset: plots for which at least one needed tile is absent.
    affected: dict[str, int]
    # Per dataset: ids of the plots whose tiles are all there but not wholly inside the files
    # (clips that stop short), in input order.
    outside: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def blocking(self) -> tuple[MissingTile, ...]:
        """Missing tiles of required datasets: their plots cannot be called free."""
        return tuple(m for m in self.missing if not m.optional)

    def merged(self, other: Preflight) -> Preflight:
        """This answer and another batch's, as one (tiles counted over both)."""
        tiles = {(m.dataset_id, m.tile): m for m in self.missing}
        for m in other.missing:
            had = tiles.get((m.dataset_id, m.tile))
            plots = m.plots + (had.plots if had else 0)
            tiles[(m.dataset_id, m.tile)] = MissingTile(m.dataset_id, m.version, m.tile,
                                                        m.layers, plots, m.optional)  # fmt: skip
        affected = dict(Counter(self.affected) + Counter(other.affected))
        outside = dict(self.outside)
        for d, ids in other.outside.items():
            outside[d] = outside.get(d, ()) + ids
        return Preflight(self.plots + other.plots, tuple(tiles[k] for k in sorted(tiles)),
                         affected, outside)  # fmt: skip

    def lines(self, sources: DataSources, lang: Lang, catalog_file: Path | None = None,
              ) -> list[str]:  # fmt: skip
        """The answer in words, one line per missing tile and per clipped dataset, then the
        download command per dataset: for logs and the web service (the CLI draws a table)."""
        out = [
            _T["missing"](lang, dataset=m.dataset_id, version=m.version, tile=m.tile,
                          layers=", ".join(m.layers), n=m.plots,
                          effect=_T["optional" if m.optional else "blocking"](lang))
            for m in self.missing
        ]  # fmt: skip
        out += [_T["outside"](lang, dataset=d, n=len(ids)) for d, ids in self.outside.items()]
        for d in sources.catalog.enabled:
            if d.id in self.affected:
                command = self.command(d, sources.data_dir, catalog_file)
                out.append(_T["fetch"](lang, command=command) if command
                           else _T["no_source"](lang, dataset=d.id))  # fmt: skip
        return out

    def command(self, dataset: Dataset, data_dir: Path, catalog_file: Path | None = None,
                ) -> str | None:  # fmt: skip
        """The download command for this dataset's missing tiles; None if nothing is missing
        or the catalog gives no download source."""
        tiles = sorted({m.tile for m in self.missing if m.dataset_id == dataset.id})
        if not tiles or dataset.source is None:
            return None
        args = ["eudr-check", "datasets", "download", "--dataset", dataset.id]
        for tile in tiles:
            args += ["--tiles", tile]
        args += ["--datasets", str(data_dir)]
        if catalog_file is not None:
            args += ["--catalog", str(catalog_file)]
        return shlex.join(args)


def preflight(
    sources: DataSources, geometries: Iterable[Any], ids: Sequence[str] | None = None
) -> Preflight:
    """The tiles the plots need (points as the circle they stand for) and the absent ones;
    with `ids` (one per geometry), the plots outside the extent of the files present.
    Remote locations are not probed: a remote tile shows only when it is read."""
    geoms = list(geometries)
    names = list(ids) if ids is not None else None
    keep = [i for i, g in enumerate(geoms) if g is not None and not g.is_empty]
    boxes = plot_bounds(geoms[i] for i in keep)
    missing: list[MissingTile] = []
    affected: dict[str, int] = {}
    outside: dict[str, tuple[str, ...]] = {}
    for d in sources.catalog.enabled:
        per_plot = [tiles_for_bounds(d.tiles, b) for b in boxes]
        counts = Counter(t for tiles in per_plot for t in tiles)
        absent: dict[str, tuple[str, ...]] = {}
        for tile in sorted(counts):
            gone = tuple(layer for layer in d.layers if not sources.locate(d, layer, tile).exists())
            if gone:
                absent[tile] = gone
        for tile, layers in absent.items():
            missing.append(MissingTile(d.id, d.version, tile, layers, counts[tile], d.optional))
        if absent:
            affected[d.id] = sum(1 for tiles in per_plot if any(t in absent for t in tiles))
        if names is not None:
            complete = [
                k for k, tiles in enumerate(per_plot) if not any(t in absent for t in tiles)
            ]
            beyond = _beyond_files(sources, d, sorted(set(counts) - set(absent)),
                                   [boxes[k] for k in complete])  # fmt: skip
            if beyond:
                outside[d.id] = tuple(names[keep[complete[k]]] for k in beyond)
    return Preflight(len(boxes), tuple(missing), affected, outside)


def _beyond_files(sources: DataSources, d: Dataset, tiles: list[str],
                  boxes: list[Bounds]) -> list[int]:  # fmt: skip
    """Which boxes some layer's local files (of those tiles) do not wholly cover."""
    import rasterio  # the data stack only when there are plots to look at

    if not boxes or not tiles:
        return []
    polygons = shapely.box(*np.array([tuple(b) for b in boxes], dtype=float).T)
    out = np.zeros(len(boxes), dtype=bool)
    for layer in d.layers:
        extents = []
        for tile in tiles:
            where = sources.locate(d, layer, tile)
            if where.remote:
                return []
            try:
                with rasterio.open(where.path) as src:
                    extents.append(shapely.box(*src.bounds))
            except (rasterio.RasterioError, OSError):
                continue  # the analysis says why it cannot read it, plot by plot
        # A hair of tolerance: files end on pixel edges, boxes on float coordinates.
        union = shapely.union_all(extents).buffer(1e-9) if extents else shapely.Polygon()
        out |= ~shapely.covers(union, polygons)
    return np.flatnonzero(out).tolist()
