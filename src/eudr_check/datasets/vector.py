"""Vector layers (protected areas, buffer zones, indigenous and community lands, production
forests): read whole with pyogrio and indexed once per process (overlaps.py intersects them
with plots). A layer is small (Peru's SERNANP areas: a few thousand polygons), so one STRtree
per file and process is cheap; a changed file (size or time) is read again.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from eudr_check.datasets.catalog import VectorDataset
from eudr_check.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Area:
    name: str
    category: str | None
    zoning: str | None
    strict: bool


@dataclass(frozen=True, slots=True)
class IndexedLayer:
    geoms: np.ndarray  # of shapely geometries, EPSG:4326
    areas: tuple[Area, ...]
    tree: shapely.STRtree


def _plain(text: object) -> str:
    """Lower case without accents: 'Parque Nacional' == 'PARQUE NACIONAL' == 'parque nacional'."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


def _read(vd: VectorDataset, path: Path) -> IndexedLayer:
    import pyogrio

    target = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        frame = pyogrio.read_dataframe(target, layer=vd.layer)
    except Exception as exc:  # pyogrio raises its own DataSourceError, DataLayerError, ...
        raise ConfigError(f"{vd.id}: cannot read {path.name}: {exc}") from None
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    f = vd.fields
    missing = [c for c in (f.name, f.category, f.zoning) if c and c not in frame.columns]
    if missing:
        known = ", ".join(str(c) for c in frame.columns if c != "geometry")
        raise ConfigError(f"{vd.id}: {path.name} has no field {missing[0]!r} (it has: {known})")
    strict = {_plain(c) for c in vd.strict_categories}
    skip = {_plain(c) for c in vd.skip_categories}
    geoms: list[BaseGeometry] = []
    areas: list[Area] = []
    for row in frame.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue  # WDPA's point records have no boundary to intersect
        category = None if f.category is None else getattr(row, f.category)
        category = None if category is None or str(category) == "nan" else str(category)
        if category is not None and _plain(category) in skip:
            continue
        zoning = None if f.zoning is None else getattr(row, f.zoning)
        zoning = None if zoning is None or str(zoning) == "nan" else str(zoning)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        geoms.append(geom)
        areas.append(Area(str(getattr(row, f.name)), category, zoning,
                          category is not None and _plain(category) in strict))  # fmt: skip
    array = np.array(geoms, dtype=object)
    return IndexedLayer(array, tuple(areas), shapely.STRtree(array))


@lru_cache(maxsize=16)
def _cached(vd: VectorDataset, path: str, size: int, mtime_ns: int) -> IndexedLayer:
    return _read(vd, Path(path))


def indexed(vd: VectorDataset, data_dir: Path) -> IndexedLayer:
    path = vd.path(data_dir)
    try:
        st = path.stat()
    except OSError:
        how = (f"eudr-check datasets download --dataset {vd.id}" if vd.source
               else "put the producer's file there")  # fmt: skip
        raise ConfigError(f"{vd.id}: {path} is missing ({how})") from None
    return _cached(vd, str(path), st.st_size, st.st_mtime_ns)
