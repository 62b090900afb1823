"""Where a tile lives: a local folder, http(s) (GDAL /vsicurl/), S3 or Google Cloud Storage.

The catalog's `location` template decides; every backend answers with a path GDAL can open,
so reading code is the same for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eudr_check.datasets.catalog import Dataset
from eudr_check.datasets.tiles import tile_corner

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
