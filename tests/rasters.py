"""Tiny rasters in the real products' naming and encoding, written for a test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray

from eudr_check.datasets.catalog import Catalog

HANSEN_PX = 0.00025
JRC_PX = 0.0001


def write_layer(
    catalog: Catalog, data_dir: Path, dataset_id: str, layer: str, tile: str,
    values: NDArray[np.generic], west: float, north: float,
) -> Path:  # fmt: skip
    """Write one layer clip under its real file name, in the catalog's folder layout."""
    ds = catalog.get(dataset_id)
    path = data_dir / dataset_id / ds.file_name(layer, tile)
    path.parent.mkdir(parents=True, exist_ok=True)
    px = ds.pixel_deg
    profile = {
        "driver": "GTiff", "height": values.shape[0], "width": values.shape[1], "count": 1,
        "dtype": values.dtype.name, "crs": "EPSG:4326", "compress": "lzw",
        "transform": Affine(px, 0, west, 0, -px, north), "nodata": ds.layers[layer].nodata,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def only_hansen(catalog: Catalog) -> Catalog:
    datasets = [d if d.id == "hansen_gfc" else d.model_copy(update={"enabled": False})
                for d in catalog.datasets]  # fmt: skip
    return catalog.model_copy(update={"datasets": datasets})
