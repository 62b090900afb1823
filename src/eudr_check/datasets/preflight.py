"""Before analysing: which tiles the plots need, per dataset, and which are not there.

The answer is a table (dataset, version, tile, plots affected, size when known) and, per
dataset with a download source, the exact `eudr-check datasets download` command that fetches
what is missing. A required dataset's missing tile makes its plots `undetermined`; an optional
one's only leaves its evidence out.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eudr_check.datasets.catalog import Dataset
from eudr_check.datasets.download import plot_bounds
from eudr_check.datasets.sources import DataSources
from eudr_check.datasets.tiles import tiles_for_bounds


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

    @property
    def blocking(self) -> tuple[MissingTile, ...]:
        """Missing tiles of required datasets: their plots cannot be called free."""
        return tuple(m for m in self.missing if not m.optional)

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


def preflight(sources: DataSources, geometries: Iterable[Any]) -> Preflight:
    """The tiles the plots need (points as the circle they stand for) and the absent ones.
    Remote locations are not probed: a remote tile shows only when it is read."""
    boxes = plot_bounds(geometries)
    missing: list[MissingTile] = []
    affected: dict[str, int] = {}
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
    return Preflight(len(boxes), tuple(missing), affected)
