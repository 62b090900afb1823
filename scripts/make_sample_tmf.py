"""Generate synthetic JRC TMF tiles in sample_data/jrc_tmf/ (deterministic): the deforestation
year, degradation year and transition sub-type layers in TMF's file names, data types and
encoding, on the grids of the sample Hansen clips (TMF's grid too: 0.00025°, anchored at 0°).

The values are invented: no deforestation or degradation anywhere, except a degradation in 2016
painted over two sample plots (a disturbance before the cut-off), and the transition map's
plantation class 82 over three `needs_review` coffee plots, so that enabling `jrc_tmf` in the
catalog shows forest in 2020 "explained" by a plantation. `jrc_tmf` is off in the default
catalog: the sample's designed verdicts stay as sample_data/README.md says.

Run with `.venv/bin/python scripts/make_sample_tmf.py`; the same input gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.features import geometry_mask
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data"
PLOTS = ROOT / "sample_plots" / "cooperativa.geojson"
# Hansen clip -> TMF tile (same 10° tiles, named by the north-west corner the JRC way). The
# region and tile number are TMF's for N0_W80 (2025 edition: SAM_ID28); S10_W80's is made up.
TILES = {"00N_080W": ("N0_W80", "SAM_ID28"), "10S_080W": ("S10_W80", "SAM_ID00")}
PLANTED = ("JAE-006", "JAE-017", "JAE-020")  # class 82: plantation on former forest
DEGRADED_2016 = ("SIG-003", "SIG-006")
NOTE = "SYNTHETIC sample: not JRC TMF data (invented values, real naming and encoding)"


def main() -> None:
    features = json.loads(PLOTS.read_text(encoding="utf-8"))["features"]
    plots = {f["properties"]["plot_id"]: shape(f["geometry"]) for f in features if f["geometry"]}
    out = DATA / "jrc_tmf"
    out.mkdir(parents=True, exist_ok=True)
    for hansen_tile, (tile, region) in TILES.items():
        src = DATA / "hansen_gfc" / f"Hansen_GFC-2024-v1.12_treecover2000_{hansen_tile}.tif"
        with rasterio.open(src) as ref:
            profile = {"driver": "GTiff", "height": ref.height, "width": ref.width, "count": 1,
                       "crs": ref.crs, "transform": ref.transform, "compress": "lzw"}  # fmt: skip
            shape_hw = (ref.height, ref.width)
            transform = ref.transform

        def paint(ids: tuple[str, ...], hw: tuple[int, int] = shape_hw, at: object = transform):
            geoms = [shapely.buffer(plots[i], 0.0006) for i in ids if i in plots]
            if not geoms:
                return np.zeros(hw, bool)
            return ~geometry_mask(geoms, out_shape=hw, transform=at, all_touched=True)

        deforestation = np.zeros(shape_hw, np.int16)
        degradation = np.where(paint(DEGRADED_2016), 2016, 0).astype(np.int16)
        # 10: undisturbed forest elsewhere would add nothing here; 71 "other land cover" is the
        # background, 82 (plantation on former forest) over the planted plots.
        transition = np.where(paint(PLANTED), 82, 71).astype(np.uint8)
        for name, values in (
            (f"JRC_TMF_DeforestationYear_INT_1982_2024_v1_{region}_{tile}.tif", deforestation),
            (f"JRC_TMF_DegradationYear_INT_1982_2024_v1_{region}_{tile}.tif", degradation),
            (f"JRC_TMF_TransitionMap_Subtypes_v1_2024_{region}_{tile}.tif", transition),
        ):
            with rasterio.open(out / name, "w", dtype=values.dtype.name, **profile) as dst:
                dst.write(values, 1)
                dst.update_tags(SYNTHETIC="yes", DESCRIPTION=NOTE)
    (out / "README.md").write_text(README, encoding="utf-8")


README = """# JRC TMF de ejemplo / Sample JRC TMF tiles

> **DATOS SINTÉTICOS: NO son datos del JRC TMF.** / **SYNTHETIC DATA: NOT JRC TMF data.**

Written by `scripts/make_sample_tmf.py` on the sample Hansen clips' grids, in TMF's file names
(`JRC_TMF_DeforestationYear_INT_1982_2024_v1_<region>_ID<n>_<tile>.tif`, ...), data types and
encoding (years as such, 0 = none; transition sub-types, 82 = plantation on former forest).
Degradation in 2016 over SIG-003 and SIG-006; plantation over JAE-006, JAE-017 and JAE-020.
`jrc_tmf` is disabled in `config/datasets.yaml`; enable it to see those plots' indicators (and
the plantations explaining their forest in 2020).
"""


if __name__ == "__main__":
    main()
