"""Generate synthetic ESA WorldCover and MINAM GeoBosques files in sample_data/ (deterministic),
in those products' file names, grids, data types and encodings, from the sample Hansen clips.

- esa_worldcover/: 2020 (v100) and 2021 (v200) maps, 3° tiles named by their south-west corner
  (S06W081 holds Cajamarca, S15W075 Cusco), 1/12000° pixels: class 10 (tree cover) where the
  Hansen clip has 30 % canopy and no loss up to the map's year, 40 (cropland) elsewhere.
- minam_geobosques/: the loss raster (value N = loss in 2000 + N, as the Hansen clip says) and
  one early-warning archive per year 2021-2025 (1 = alert that year), each a GeoTIFF inside its
  zip, over Cajamarca only (Cusco lies outside these national files: no map there).

The values are invented; both datasets are off in the default catalog, so the sample's designed
verdicts stay as sample_data/README.md says. Run with
`.venv/bin/python scripts/make_sample_national.py`; the same input gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.io import MemoryFile

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data"
HANSEN = DATA / "hansen_gfc" / "Hansen_GFC-2024-v1.12_{layer}_{tile}.tif"
WORLDCOVER = {"00N_080W": "S06W081", "10S_080W": "S15W075"}  # Hansen clip -> WorldCover tile
EDITIONS = {2020: "v100", 2021: "v200"}
NOTE = "SYNTHETIC sample: not {product} data (invented values, real naming and encoding)"
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed, so the archives are the same bytes on every run


def _hansen(tile: str) -> tuple[NDArray[np.uint8], NDArray[np.uint8], Affine, object]:
    with rasterio.open(str(HANSEN).format(layer="treecover2000", tile=tile)) as tc:
        cover, transform, crs = tc.read(1), tc.transform, tc.crs
    with rasterio.open(str(HANSEN).format(layer="lossyear", tile=tile)) as ly:
        loss = ly.read(1)
    return cover, loss, transform, crs


def _write(path: Path, values: NDArray[np.generic], transform: Affine, crs: object,
           product: str, nodata: int | None) -> None:  # fmt: skip
    profile = {"driver": "GTiff", "height": values.shape[0], "width": values.shape[1],
               "count": 1, "dtype": values.dtype.name, "crs": crs, "transform": transform,
               "compress": "deflate", "nodata": nodata}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
        dst.update_tags(SYNTHETIC="yes", DESCRIPTION=NOTE.format(product=product))


def worldcover() -> None:
    out = DATA / "esa_worldcover"
    out.mkdir(parents=True, exist_ok=True)
    for hansen_tile, tile in WORLDCOVER.items():
        cover, loss, t, crs = _hansen(hansen_tile)
        # 0.00025° = 3 WorldCover pixels: each Hansen cell becomes 3 x 3 of them.
        fine = Affine(t.a / 3, 0, t.c, 0, t.e / 3, t.f)
        for year, version in EDITIONS.items():
            lost = (loss >= 1) & (loss <= year - 2000)
            classes = np.where((cover >= 30) & ~lost, 10, 40).astype(np.uint8)
            classes = np.repeat(np.repeat(classes, 3, axis=0), 3, axis=1)
            name = f"ESA_WorldCover_10m_{year}_{version}_{tile}_Map.tif"
            _write(out / name, classes, fine, crs, "ESA WorldCover", 0)
    (out / "README.md").write_text(WORLDCOVER_README, encoding="utf-8")


def _zipped(zip_path: Path, member: str, values: NDArray[np.generic], transform: Affine,
            crs: object, nodata: int | None) -> None:  # fmt: skip
    with MemoryFile() as mem:
        with mem.open(driver="GTiff", height=values.shape[0], width=values.shape[1], count=1,
                      dtype=values.dtype.name, crs=crs, transform=transform, nodata=nodata,
                      compress="deflate") as dst:  # fmt: skip
            dst.write(values, 1)
            dst.update_tags(SYNTHETIC="yes", DESCRIPTION=NOTE.format(product="MINAM GeoBosques"))
        data = mem.read()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo(member, date_time=_ZIP_TIME), data)
    zip_path.write_bytes(buffer.getvalue())


def geobosques() -> None:
    out = DATA / "minam_geobosques"
    out.mkdir(parents=True, exist_ok=True)
    cover, loss, t, crs = _hansen("00N_080W")
    perdida = np.where((cover >= 10) & (loss >= 1) & (loss <= 24), loss, 0).astype(np.uint8)
    _zipped(out / "Perdida_2001_2024.zip", "Perdida_2001_2024.tif", perdida, t, crs, 255)
    for year in range(2021, 2026):
        alerts = (perdida == year - 2000).astype(np.uint8)
        _zipped(out / f"Alertas_{year}.zip", f"Alertas_{year}.tif", alerts, t, crs, None)
    (out / "README.md").write_text(GEOBOSQUES_README, encoding="utf-8")


WORLDCOVER_README = """# ESA WorldCover de ejemplo / Sample ESA WorldCover tiles

> **DATOS SINTÉTICOS: NO son datos de ESA WorldCover.** / **SYNTHETIC DATA: NOT ESA WorldCover.**

Written by `scripts/make_sample_national.py` in WorldCover's file names
(`ESA_WorldCover_10m_2021_v200_S06W081_Map.tif`: 3° tiles named by their south-west corner),
grid (1/12000°), type (uint8) and classes (10 tree cover, 40 cropland; 0 = nodata), clipped to
the sample regions. Tree cover where the sample Hansen clip has 30 % canopy and no loss up to
the map's year. `esa_worldcover_2020` / `_2021` are disabled in `config/datasets.yaml`.
"""

GEOBOSQUES_README = """# GeoBosques de ejemplo / Sample MINAM GeoBosques files

> **DATOS SINTÉTICOS: NO son datos del MINAM.** / **SYNTHETIC DATA: NOT MINAM data.**

Written by `scripts/make_sample_national.py`: `Perdida_2001_2024.zip` (a GeoTIFF of the year
of forest loss, N = 2000 + N, from the sample Hansen clip) and `Alertas_<year>.zip` (1 = an
early-warning alert that year), read inside the zips through GDAL's /vsizip/. Cajamarca only.
The real archives' names and codes were not checkable from here: see `config/datasets.yaml`.
`minam_geobosques_perdida` / `_alertas` are disabled there.
"""


if __name__ == "__main__":
    worldcover()
    geobosques()
