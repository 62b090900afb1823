"""Where a tile lives: a local folder, http(s) (GDAL /vsicurl/), S3 or Google Cloud Storage.

The catalog's `location` template decides; every backend answers with a path GDAL can open,
so reading code is the same for all of them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from eudr_check.datasets.catalog import Catalog, Dataset
from eudr_check.datasets.tiles import tiles_for_bounds
from eudr_check.spatial import Bounds

_REMOTE = {"http://": "/vsicurl/", "https://": "/vsicurl/", "s3://": "/vsis3/", "gs://": "/vsigs/"}


@dataclass(frozen=True, slots=True)
class TileLocation:
    tile: str
    layer: str
    path: str  # something rasterio.open accepts
    remote: bool

    @property
    def local_file(self) -> Path | None:
        """The file on disk that holds the tile (the archive, for a file read inside a zip);
        None for a remote tile."""
        if self.remote:
            return None
        return Path(zip_archive(self.path) or self.path)

    def exists(self) -> bool:
        """Local files are checked here (a file inside a local zip too); a remote tile only
        shows when it is opened."""
        if self.remote:
            return True
        if self.path.startswith(_ZIP):
            archive, _, member = self.path[len(_ZIP) :].partition(".zip/")
            members = _zip_members(archive + ".zip", _mtime(archive + ".zip"))
            # An archive that is there but broken is "unreadable" (opening it says why).
            return members is None or member in members
        return Path(self.path).is_file()


_ZIP = "/vsizip/"  # GDAL reads a file inside a zip archive in place: /vsizip/a.zip/b.tif


def zip_archive(path: str) -> str | None:
    """The archive of a GDAL /vsizip/ path (`/vsizip/a.zip/b.tif` -> `a.zip`), else None."""
    if not path.startswith(_ZIP):
        return None
    return path[len(_ZIP) :].partition(".zip/")[0] + ".zip"


def _mtime(path: str) -> int:
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return -1


@lru_cache(maxsize=256)
def _zip_members(archive: str, mtime_ns: int) -> frozenset[str] | None:
    """The files in a zip archive (cached per archive state): none if it is not there, None
    if it is not a zip archive."""
    if mtime_ns < 0:
        return frozenset()
    try:
        with zipfile.ZipFile(archive) as z:
            return frozenset(z.namelist())
    except (OSError, zipfile.BadZipFile):
        return None


def locate(dataset: Dataset, layer: str, tile: str, data_dir: Path) -> TileLocation:
    file = dataset.file_name(layer, tile)
    where = dataset.location.format(
        data_dir=str(data_dir), file=file, version=dataset.version, tile=tile
    )
    for scheme, prefix in _REMOTE.items():
        if where.startswith(scheme):
            rest = where if prefix == "/vsicurl/" else where[len(scheme) :]
            return TileLocation(tile, layer, prefix + rest, remote=True)
    if "*" in where:  # a part of the name the producer varies per tile (TMF: SAM_ID28)
        where = _glob_one(where)
    return TileLocation(tile, layer, where, remote=False)


def _glob_one(pattern: str) -> str:
    """The one local file a name pattern matches (the newest name if several: a later
    edition); the pattern itself when none does, so it reads as a missing tile."""
    folder = Path(pattern).parent
    try:
        stamp = folder.stat().st_mtime_ns
    except OSError:
        return pattern
    found = _matches(pattern, stamp)
    return found[-1] if found else pattern


@lru_cache(maxsize=4096)
def _matches(pattern: str, folder_mtime_ns: int) -> tuple[str, ...]:
    """Cached per folder state: a file added to the folder changes its time."""
    path = Path(pattern)
    return tuple(sorted(str(p) for p in path.parent.glob(path.name) if p.is_file()))


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
