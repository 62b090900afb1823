"""Benchmark: what each evidence layer costs, in the same run: `eudr-check check` as a whole
process on the same plots with the Hansen-only catalog, then adding JRC GFC2020, the GFW alerts
(tiles absent: optional), JRC TMF (three layers), ESA WorldCover 2020 (four 3° tiles meet in
the clip), MINAM GeoBosques' loss raster (read inside its zip), and the vector layers
(protected areas, buffer zones, native communities): every layer, with the Whisp indicators
(always computed). plots/s and peak RSS of the process tree for each, and exactextract's
single-layer `sum` for scale.

    .venv/bin/python benchmarks/bench_layers.py [--plots 100000] [--areas 2000] [--workers 0]

The plots and the Hansen/JRC rasters are bench_national.py's; TMF, WorldCover and GeoBosques
are derived here from its Hansen clip, in their real names, grids and encodings (the values
only need to be plausible: the cost is in reading and intersecting). The vector layers are
synthetic GeoJSON written here in the shape of SERNANP's (random squares of 50 to 5,000 ha,
log-uniform, over the same clip: 300 of them cover about a quarter of it, like Peru's
protected areas, buffer zones and titled communities together; `--areas 2000` is a stress
case, five overlaps per plot).
Reports are written in full (`--maps none`: maps are bench_cli_check's subject).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_national as bn  # a sibling script: data, process-tree sampler, comparisons

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "eudr-check"
VECTORS = {  # id -> (file, kind, category)
    "sernanp_anp": ("sernanp/sernanp_anp_nacional_2025.geojson", "protected_area",
                    "Parque Nacional"),
    "sernanp_za": ("sernanp/sernanp_zonas_amortiguamiento_2025.geojson", "buffer_zone",
                   "Zona de Amortiguamiento"),
    "comunidades_nativas": ("comunidades/comunidades_nativas_2025.geojson", "indigenous_land",
                            "Comunidad Nativa titulada"),
}  # fmt: skip


def write_vectors(folder: Path, areas: int, side: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for vid, (file, _, category) in VECTORS.items():
        feats = []
        for i in range(areas // len(VECTORS)):
            ha = float(np.exp(rng.uniform(np.log(50), np.log(5_000))))
            half = np.sqrt(ha * 1e4) / 111_000 / 2  # degrees, about
            x = bn.WEST + rng.uniform(0, side)
            y = bn.NORTH - rng.uniform(0, side)
            ring = [[x - half, y - half], [x + half, y - half], [x + half, y + half],
                    [x - half, y + half], [x - half, y - half]]  # fmt: skip
            props = {"OBJECTID": i + 1, "anp_nomb": f"{vid} {i}", "anp_cate": category,
                     "nomb_cn": f"CN {i}", "tipo": category}  # fmt: skip
            coords = [[[round(a, 6), round(b, 6)] for a, b in ring]]
            feats.append({"type": "Feature", "properties": props,
                          "geometry": {"type": "Polygon", "coordinates": coords}})  # fmt: skip
        path = folder / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))


def _write(path: Path, values: Any, transform: Any, nodata: int | None) -> None:
    import rasterio

    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {"driver": "GTiff", "height": values.shape[0], "width": values.shape[1],
               "count": 1, "dtype": values.dtype.name, "crs": "EPSG:4326",
               "transform": transform, "compress": "lzw", "nodata": nodata}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)


def write_national(folder: Path) -> None:
    """TMF, WorldCover 2020 and GeoBosques files over the Hansen clip (once per data folder)."""
    import zipfile

    import rasterio
    from affine import Affine

    done = folder / "national_done"
    if done.is_file():
        return
    cat = bn._catalog()
    hansen = cat.get("hansen_gfc")
    with rasterio.open(folder / "hansen_gfc" / hansen.file_name("treecover2000", "00N_080W")) as f:
        tree, t = f.read(1), f.transform
    with rasterio.open(folder / "hansen_gfc" / hansen.file_name("lossyear", "00N_080W")) as f:
        loss = f.read(1)
    lost = (loss >= 1) & (loss <= 24)
    # TMF (same grid as Hansen): deforestation years from the loss, degradation none,
    # transition 71 (other) with some plantation (82) where the canopy is 40-50 %.
    years = np.where(lost, 2000 + loss.astype(np.int16), 0).astype(np.int16)
    transition = np.where((tree >= 40) & (tree < 50), 82, 71).astype(np.uint8)
    tmf = folder / "jrc_tmf"
    part = "v1_SAM_ID28_N0_W80.tif"
    for name, values in (
        (f"JRC_TMF_DeforestationYear_INT_1982_2024_{part}", years),
        (f"JRC_TMF_DegradationYear_INT_1982_2024_{part}", np.zeros_like(years)),
        ("JRC_TMF_TransitionMap_Subtypes_v1_2024_SAM_ID28_N0_W80.tif", transition),
    ):
        _write(tmf / name, values, t, None)
    del years, transition
    # WorldCover 2020: 3 x 3 pixels per Hansen cell, cut at the 3° tile edges (6° S, 78° W).
    classes = np.where((tree >= 30) & ~((loss >= 1) & (loss <= 20)), 10, 40).astype(np.uint8)
    px = 1 / 12000
    wc = cat.get("esa_worldcover_2020")
    for top, left in ((-3, -81), (-3, -78), (-6, -81), (-6, -78)):
        r0 = max(0, round((t.f - top) / -t.e))
        r1 = min(tree.shape[0], round((t.f - (top - 3)) / -t.e))
        c0 = max(0, round((left - t.c) / t.a))
        c1 = min(tree.shape[1], round((left + 3 - t.c) / t.a))
        if r1 <= r0 or c1 <= c0:
            continue
        part = np.repeat(np.repeat(classes[r0:r1, c0:c1], 3, axis=0), 3, axis=1)
        at = Affine(px, 0, t.c + c0 * t.a, 0, -px, t.f + r0 * t.e)
        tile = f"{'S' if top - 3 < 0 else 'N'}{abs(top - 3):02d}W{abs(left):03d}"
        _write(folder / "esa_worldcover" / wc.file_name("map", tile), part, at, 0)
    del classes
    # GeoBosques loss (UMD's coding), a GeoTIFF stored in its zip.
    gb = folder / "minam_geobosques"
    tif = gb / "Perdida_2001_2024.tif"
    _write(tif, np.where(lost & (tree >= 10), loss, 0).astype(np.uint8), t, 255)
    with zipfile.ZipFile(gb / "Perdida_2001_2024.zip", "w", zipfile.ZIP_STORED) as z:
        z.write(tif, tif.name)
    tif.unlink()
    done.write_text("ok")


def catalog(folder: Path, name: str, rasters: set[str], vectors: bool) -> Path:
    doc = yaml.safe_load((ROOT / "config" / "datasets.yaml").read_text(encoding="utf-8"))
    for d in doc["datasets"]:
        d["enabled"] = d["id"] in rasters
    doc["vector_layers"] = [
        v for v in doc.get("vector_layers", []) if vectors and v["id"] in VECTORS
    ]
    path = folder / f"catalog_{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run(folder: Path, cat: Path, name: str, workers: int) -> dict[str, Any]:
    out = folder / f"layers_{name}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(CLI), "check", str(folder / "plots.fgb"), "--datasets", str(folder), "--catalog",
           str(cat), "--out", str(out), "--lang", "en", "--maps", "none", "--workers",
           str(workers)]  # fmt: skip
    # 1: some plots are not free; the reports are written all the same
    r = bn.timed(cmd, folder / f"layers_{name}.log", ok=(0, 1))
    csv = next(out.glob("*.results.csv")).read_text(encoding="utf-8-sig")
    legal = sum(csv.count(c) for c in ("in_protected_area", "on_indigenous_land"))
    return {**r, "legal": legal}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--areas", type=int, default=300, help="polygons over the three layers")
    ap.add_argument("--workers", type=int, default=0, help="eudr-check --workers")
    ap.add_argument("--compare", default="ee_sum", help="exactextract job (bench_check), or ''")
    args = ap.parse_args(argv)
    folder = bn.ensure_data(args.plots, args.seed)
    meta = json.loads((folder / "done.json").read_text())
    write_vectors(folder, args.areas, meta["side_deg"], args.seed)
    write_national(folder)
    added = ["hansen_gfc", "jrc_gfc2020", "gfw_integrated_alerts", "jrc_tmf",
             "esa_worldcover_2020", "minam_geobosques_perdida"]  # fmt: skip
    names = ["hansen", "+jrc", "+alerts", "+tmf", "+worldcover", "+geobosques"]
    steps = [(name, set(added[: i + 1]), False) for i, name in enumerate(names)]
    steps.append(("+vectors", set(added), True))
    print(f"\n  eudr-check check, {args.plots:,} plots, --workers {args.workers}, every report, "
          f"Whisp indicators always on; vector layers: {args.areas:,} polygons")  # fmt: skip
    previous = None
    for name, rasters, vectors in steps:
        r = run(folder, catalog(folder, name.strip("+"), rasters, vectors), name.strip("+"),
                args.workers)  # fmt: skip
        cost = "" if previous is None else f"; this layer: +{r['wall_s'] - previous:.1f} s"
        rate = args.plots / r["wall_s"]
        print(f"    {name:<12} {r['wall_s']:6.1f} s  {rate:8,.0f} plots/s  peak "
              f"{r['peak_mib']:6,.0f} MiB  legality findings {r['legal']:,}{cost}")  # fmt: skip
        previous = r["wall_s"]
    if args.compare:
        bn.compare(args.plots, args.seed, args.compare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
