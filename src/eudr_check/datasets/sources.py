"""Where a tile lives: a local folder, http(s) (GDAL /vsicurl/), S3 or Google Cloud Storage.

The catalog's `location` template decides; every backend answers with a path GDAL can open,
so reading code is the same for all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from eudr_check.datasets.catalog import Catalog, Dataset
from eudr_check.datasets.tiles import tile_corner, tiles_for_bounds
from eudr_check.spatial import Bounds

_REMOTE = {"http://": "/vsicurl/", "https://": "/vsicurl/", "s3://": "/vsis3/", "gs://": "/vsigs/"}


@dataclass(frozen=True, slots=True)
class TileLocation:
    tile: str
    layer: str
    path: str  # something rasterio.open accepts
    remote: bool

    def exists(self) -> bool:
        """Local files are checked here; a remote tile only shows when it is opened."""
        return self.remote or Path(self.path).is_file()


def locate(dataset: Dataset, layer: str, tile: str, data_dir: Path) -> TileLocation:
    file = dataset.file_name(layer, tile)
    where = dataset.location.format(
        data_dir=str(data_dir), file=file, version=dataset.version, tile=tile
    )
    for scheme, prefix in _REMOTE.items():
        if where.startswith(scheme):
            rest = where if prefix == "/vsicurl/" else where[len(scheme) :]
            return TileLocation(tile, layer, prefix + rest, remote=True)
    return TileLocation(tile, layer, where, remote=False)


def download_url(dataset: Dataset, layer: str, tile: str) -> str | None:
    if dataset.source is None:
        return None
    top, left = tile_corner(dataset.tiles, tile)
    return dataset.source.format(
        file=dataset.file_name(layer, tile), version=dataset.version, tile=tile, lat=top, lon=left
    )


@dataclass(frozen=True, slots=True)
class DataSources:
    """The dataset sources of a check: the catalog and the folder its `{data_dir}` names.

    Small and picklable: a run hands it to every worker once.
    """

    catalog: Catalog
    data_dir: Path

    @classmethod
    def configured(
        cls, data_dir: Path | str | None = None, catalog_path: Path | str | None = None
    ) -> DataSources:
        """The given folder and catalog file, else the settings' (EUDR_CHECK_DATASETS,
        EUDR_CHECK_CATALOG)."""
        from eudr_check.datasets.catalog import load_catalog
        from eudr_check.settings import get_settings

        settings = get_settings()
        catalog = load_catalog(Path(catalog_path) if catalog_path else settings.catalog)
        return cls(catalog, Path(data_dir) if data_dir else settings.datasets)

    def locate(self, dataset: Dataset, layer: str, tile: str) -> TileLocation:
        return locate(dataset, layer, tile, self.data_dir)

    def tiles_under(self, bounds: Bounds) -> Iterator[tuple[Dataset, TileLocation]]:
        """Every tile file of every enabled dataset and layer that a box needs."""
        for d in self.catalog.enabled:
            for tile in tiles_for_bounds(d.tiles, bounds):
                for layer in d.layers:
                    yield d, self.locate(d, layer, tile)
