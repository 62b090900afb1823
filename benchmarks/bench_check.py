"""Benchmark: per-plot zonal statistics, ours against exactextract and rasterstats.

    .venv/bin/python benchmarks/bench_check.py [--plots 100000] [--rasterstats-plots 10000]

Plots and rasters (Hansen clips in the real naming and encoding) are generated once per
(N, seed) and cached in benchmarks/_data/. Every measurement runs in a fresh child process
(this script with --measure JOB), so its peak RSS is its own. See benchmarks/README.md.

The identical job for every tool: one uint8 raster `loss_after` = 1 where Hansen shows loss
after 2020 inside 2000 forest (lossyear >= 21 and treecover2000 >= 10), 0 elsewhere, 255 where
either layer has no data; per plot, the sum over cells with data of value x coverage fraction
(x the cell's area in m² for the area-weighted variant).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from childproc import run_child

DATA_DIR = Path(__file__).resolve().parent / "_data"
# Bump when the generator changes, so stale cached data is not measured by mistake.
GEN_VERSION = 1
TILE = "00N_080W"
WEST, NORTH = -79.0, -5.0  # the clip's north-west corner, near Jaén (Cajamarca)
PX = 0.00025  # Hansen's pixel
CELL_DEG = 0.003  # one plot per grid cell (~330 m): plots cannot overlap
M_PER_DEG_LAT = 110_574.0
LOSS_LAYER = "loss_after"  # the single-layer job's raster, as an extra layer of hansen_gfc
LOSS_FILE = "Hansen_{version}_lossafter2020_{tile}.tif"
AREA_FILE = "cell_area_m2.tif"  # float64 weights for exactextract's weighted_sum

# exactextract variants: (operation, weights = the cell-area raster, strategy).
EE: dict[str, tuple[str, bool, str]] = {
    "ee_sum": ("sum", False, "feature-sequential"),
    "ee_sum_rs": ("sum", False, "raster-sequential"),
    "ee_weighted": ("weighted_sum", True, "feature-sequential"),
    "ee_weighted_rs": ("weighted_sum", True, "raster-sequential"),
    "ee_spherical_rs": ("sum(coverage_weight=area_spherical_m2)", False, "raster-sequential"),
}
JOBS: dict[str, str] = {
    "ours_1layer": "ours: zonal.coverage + cell_areas_m2, 1 layer",
    "ours_hansen": "ours: analyse_group, Hansen 2 layers, full stats",
    "ee_sum": "exactextract sum, feature-sequential (default)",
    "ee_sum_rs": "exactextract sum, raster-sequential",
    "ee_weighted": "exactextract weighted_sum (cell-area raster), feat.-seq.",
    "ee_weighted_rs": "exactextract weighted_sum (cell-area raster), raster-seq.",
    "ee_spherical_rs": "exactextract sum(coverage_weight=area_spherical_m2), r.-seq.",
    "rasterstats": "rasterstats sum, cell centres (subset)",
}


# --- data (generated in a child, cached) ------------------------------------------------------


def _side_deg(n: int) -> float:
    """Side of the square clip: 1° up to ~110,000 plots, in 0.25° steps beyond."""
    return max(1.0, math.ceil(math.sqrt(n) * CELL_DEG / 0.25) * 0.25)


def data_dir(n: int, seed: int) -> Path:
    return DATA_DIR / f"check_n{n}_seed{seed}_v{GEN_VERSION}"


def _smooth(rng: np.random.Generator, knots: int, size: int, lo: float, hi: float) -> Any:
    """A smooth random field: a knots x knots grid of random values, interpolated to size²."""
    coarse = rng.uniform(lo, hi, (knots, knots))
    t = np.linspace(0, knots - 1, size)
    k = np.arange(knots)
    rows = np.array([np.interp(t, k, coarse[:, j]) for j in range(knots)]).T
    return np.array([np.interp(t, k, r) for r in rows], dtype=np.float32)


def _rasters(rng: np.random.Generator, size: int) -> tuple[Any, Any]:
    # Tree cover 0-100 with treeless valleys; loss in 16-pixel patches (~12 %), plus specks.
    tree = _smooth(rng, max(4, size // 100), size, -50, 110)
    tree += rng.normal(0, 8, (size, size)).astype(np.float32)
    tree = np.rint(np.clip(tree, 0, 100)).astype(np.uint8)
    blocks = -(-size // 16)
    patches = np.where(rng.random((blocks, blocks)) < 0.12, rng.integers(1, 25, (blocks,) * 2), 0)
    loss = np.kron(patches.astype(np.uint8), np.ones((16, 16), np.uint8))[:size, :size]
    specks = rng.random((size, size)) < 0.02
    loss[specks] = rng.integers(1, 25, int(specks.sum()))
    # Hansen's nodata is rare: a few blocks, so that every tool's nodata handling is exercised.
    for layer in (tree, loss):
        for _ in range(size // 400):
            r, c = rng.integers(0, size - 60, 2)
            layer[r : r + 30, c : c + 60] = 255
    return tree, loss


def _plots(rng: np.random.Generator, n: int, side: float) -> Any:
    """n irregular, valid, non-overlapping polygons of 0.3-6 ha, one per grid cell, in the
    order of the cells (north to south, west to east), as a cooperative's sectors would list
    them. Coordinates rounded to 6 decimals."""
    import shapely

    per_side = round(side / CELL_DEG)
    cells = np.sort(rng.choice(per_side * per_side, n, replace=False))
    row, col = np.divmod(cells, per_side)
    m_per_deg_lon = 111_320.0 * math.cos(math.radians(NORTH - side / 2))
    area = np.clip(rng.lognormal(math.log(15_000), 0.6, n), 3_000, 60_000)
    nv = rng.integers(6, 21, n)
    owner = np.repeat(np.arange(n), nv)
    k = np.arange(owner.size) - np.repeat(np.cumsum(nv) - nv, nv)
    ang = (k + rng.uniform(-0.3, 0.3, owner.size)) * 2 * np.pi / nv[owner]
    rad = rng.uniform(0.75, 1.25, owner.size)
    x, y = rad * np.cos(ang), rad * np.sin(ang)
    nxt = np.where(
        k + 1 < nv[owner], np.arange(owner.size) + 1, np.arange(owner.size) + 1 - nv[owner]
    )
    unit = 0.5 * np.abs(np.bincount(owner, x * y[nxt] - y * x[nxt]))
    scale = np.sqrt(area / unit)
    # Keep each plot inside its cell (2 m short of the edge), shrinking the largest if needed.
    half = 0.5 * CELL_DEG * min(M_PER_DEG_LAT, m_per_deg_lon) - 2.0
    rmax = np.maximum.reduceat(rad, np.r_[0, np.cumsum(nv)[:-1]])
    scale = np.minimum(scale, half / rmax)
    slack = (half - scale * rmax) / np.array([m_per_deg_lon, M_PER_DEG_LAT])[:, None]
    cx = WEST + (col + 0.5) * CELL_DEG + rng.uniform(-1, 1, n) * slack[0]
    cy = NORTH - (row + 0.5) * CELL_DEG + rng.uniform(-1, 1, n) * slack[1]
    lon = np.round(cx[owner] + scale[owner] * x / m_per_deg_lon, 6)
    lat = np.round(cy[owner] + scale[owner] * y / M_PER_DEG_LAT, 6)
    # Close each ring: repeat the first vertex at its end.
    first = np.r_[0, np.cumsum(nv)[:-1]]
    idx = np.insert(np.arange(owner.size), np.cumsum(nv), first)
    ring_owner = np.repeat(np.arange(n), nv + 1)
    rings = shapely.linearrings(lon[idx], lat[idx], indices=ring_owner)
    polys = shapely.polygons(rings)
    if not shapely.is_valid(polys).all():
        raise SystemExit("generator made an invalid polygon; change the seed")
    return polys


def write_data(n: int, seed: int) -> dict[str, Any]:
    """Rasters and plots for (n, seed), written under data_dir(n, seed)."""
    import geopandas as gpd
    import rasterio
    from affine import Affine

    from eudr_check.datasets.catalog import load_catalog
    from eudr_check.zonal import cell_areas_m2

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    side = _side_deg(n)
    size = round(side / PX)
    out = data_dir(n, seed)
    hansen = load_catalog().get("hansen_gfc")
    folder = out / "hansen_gfc"
    folder.mkdir(parents=True, exist_ok=True)
    transform = Affine(PX, 0, WEST, 0, -PX, NORTH)
    tree, loss = _rasters(rng, size)
    nodata = (tree == 255) | (loss == 255)
    after = np.where(nodata, 255, (loss >= 21) & (tree >= 10)).astype(np.uint8)
    # Striped, LZW, no overviews: as the real Hansen tiles are.
    profile = {"driver": "GTiff", "height": size, "width": size, "count": 1, "crs": "EPSG:4326",
               "transform": transform, "compress": "lzw"}  # fmt: skip
    layers = {
        hansen.file_name("treecover2000", TILE): tree,
        hansen.file_name("lossyear", TILE): loss,
        LOSS_FILE.format(version=hansen.version, tile=TILE): after,
    }
    for name, values in layers.items():
        with rasterio.open(folder / name, "w", dtype="uint8", nodata=255, **profile) as dst:
            dst.write(values, 1)
    # Cell areas (constant along a row): the horizontal predictor makes this file tiny.
    areas = np.repeat(cell_areas_m2(transform, size)[:, None], size, axis=1)
    with rasterio.open(out / AREA_FILE, "w", dtype="float64", predictor=2, **profile) as dst:
        dst.write(areas, 1)
    del areas
    polys = _plots(rng, n, side)
    ids = [f"P{i:07d}" for i in range(n)]
    gpd.GeoDataFrame({"plot_id": ids}, geometry=polys, crs="EPSG:4326").to_file(
        out / "plots.fgb", driver="FlatGeobuf", engine="pyogrio"
    )
    (out / "done.json").write_text(json.dumps({"plots": n, "side_deg": side, "size_px": size}))
    return {"seconds": time.perf_counter() - t0, "side_deg": side, "size_px": size}


def ensure_data(n: int, seed: int) -> Path:
    out = data_dir(n, seed)
    if (out / "done.json").is_file():
        print(f"using cached {out.name}")
    else:
        done = _child(["--generate", str(n), str(seed)])
        print(f"generated {out.name} in {done['seconds']:.1f} s")
    meta = json.loads((out / "done.json").read_text())
    size = meta["size_px"]
    print(f"  {n:,} plots over a {meta['side_deg']:g}° x {meta['side_deg']:g}° clip "
          f"({size:,} x {size:,} px per layer) of tile {TILE}")  # fmt: skip
    return out


# --- measurement (child process) ---------------------------------------------------------------


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else KiB


def _rss_mib() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return _peak_rss_mib()
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _catalog_with_loss_layer() -> Any:
    """hansen_gfc alone, with the precomputed loss_after raster as one more layer."""
    from eudr_check.datasets.catalog import Layer, load_catalog

    full = load_catalog()
    datasets = [d if d.id == "hansen_gfc" else d.model_copy(update={"enabled": False})
                for d in full.datasets]  # fmt: skip
    catalog = full.model_copy(update={"datasets": datasets})
    hansen = catalog.get("hansen_gfc")
    layers = {**hansen.layers, LOSS_LAYER: Layer(file=LOSS_FILE, nodata=255)}
    return catalog, hansen.model_copy(update={"layers": layers})


def _chunks(shapes: Any) -> list[list[Any]]:
    from eudr_check.engine.plan import PlotTask, spatial_chunks

    tasks = [PlotTask(i, "", s, (), None) for i, s in enumerate(shapes)]
    return spatial_chunks(tasks)


def _ours_1layer(shapes: Any, folder: Path) -> dict[str, Any]:
    """The single-layer job through our building blocks, one window read per spatial chunk."""
    import shapely

    from eudr_check.datasets.reader import read_window
    from eudr_check.spatial import Bounds
    from eudr_check.zonal import cell_areas_m2, coverage

    _, ds = _catalog_with_loss_layer()
    n = len(shapes)
    frac_sum, area_sum = np.zeros(n), np.zeros(n)
    for chunk in _chunks(shapes):
        group = [t.shape for t in chunk]
        b = shapely.total_bounds(group)
        pad = 1e-6  # as analyse_group: cells touched only at the box edge are still read
        box = Bounds(b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
        w = read_window(ds, LOSS_LAYER, box, folder)
        cover = coverage(group, w.transform, w.data.shape)
        cell_m2 = cell_areas_m2(w.transform, w.data.shape[0])
        values = np.where(w.nodata, 0.0, w.data.astype(np.float64))
        lens = np.array([len(c.fraction) for c in cover])
        rows = np.concatenate([c.rows for c in cover])
        cols = np.concatenate([c.cols for c in cover])
        frac = np.concatenate([c.fraction for c in cover])
        owner = np.repeat(np.arange(len(group)), lens)
        v = values[rows, cols] * frac
        where = np.array([t.row for t in chunk])
        frac_sum[where] = np.bincount(owner, v, minlength=len(group))
        area_sum[where] = np.bincount(owner, v * cell_m2[rows], minlength=len(group))
    return {"sum": frac_sum, "m2": area_sum}


def _ours_hansen(shapes: Any, folder: Path) -> dict[str, Any]:
    """The full per-plot Hansen statistics, as check_plots computes them."""
    from eudr_check.analysis import analyse_group

    catalog, _ = _catalog_with_loss_layer()
    n = len(shapes)
    loss_ha, forest_ha = np.zeros(n), np.zeros(n)
    for chunk in _chunks(shapes):
        group = analyse_group([t.shape for t in chunk], catalog, folder)
        for task, (s,) in zip(chunk, group.stats, strict=True):
            loss_ha[task.row] = s.loss_after_cutoff_ha or 0.0
            forest_ha[task.row] = s.forest_2020_ha or 0.0
    return {"m2": loss_ha * 10_000, "forest_m2": forest_ha * 10_000}


def _loss_path(folder: Path) -> str:
    _, ds = _catalog_with_loss_layer()
    return str(folder / "hansen_gfc" / ds.file_name(LOSS_LAYER, TILE))


def _ee(op: str, weights: bool, strategy: str) -> Callable[[Any, Path], dict[str, Any]]:
    def run(gdf: Any, folder: Path) -> dict[str, Any]:
        from exactextract import exact_extract

        # One Python call over all plots; the raster and the weights are file paths.
        df = exact_extract(_loss_path(folder), gdf, [op], output="pandas", strategy=strategy,
                           weights=str(folder / AREA_FILE) if weights else None)  # fmt: skip
        return {"value": df.iloc[:, 0].to_numpy(np.float64)}

    return run


def _subset(n: int, k: int) -> Any:
    """Every (n // k)-th plot: a subset spread over the whole clip."""
    return np.arange(0, n, max(1, n // k))[:k]


def _rasterstats(subset: int) -> Callable[[Any, Path], dict[str, Any]]:
    def run(gdf: Any, folder: Path) -> dict[str, Any]:
        from rasterstats import zonal_stats

        polys = list(gdf.geometry.values[_subset(len(gdf), subset)])
        stats = zonal_stats(polys, _loss_path(folder), stats=["sum"], all_touched=False)
        return {"value": np.array([s["sum"] or 0.0 for s in stats], np.float64)}

    return run


def measure(job: str, folder: Path, subset: int, profile: Path | None) -> dict[str, Any]:
    """One job, timed from loaded plots to per-plot results; loading the plots is not timed."""
    import gc

    # Every job imports everything first: imports are not timed, and the RSS baseline is equal.
    import exactextract  # noqa: F401
    import geopandas as gpd
    import rasterstats  # noqa: F401

    import eudr_check.analysis  # noqa: F401

    gdf = gpd.read_file(folder / "plots.fgb", engine="pyogrio")
    shapes = gdf.geometry.values
    runs: dict[str, Callable[[Any, Path], dict[str, Any]]] = {
        "ours_1layer": lambda _, f: _ours_1layer(shapes, f),
        "ours_hansen": lambda _, f: _ours_hansen(shapes, f),
        **{job: _ee(*spec) for job, spec in EE.items()},
        "rasterstats": _rasterstats(subset),
    }
    gc.collect()
    rss_start = _rss_mib()
    cpu0, t0 = time.process_time(), time.perf_counter()
    if profile is None:
        result = runs[job](gdf, folder)
    else:
        import cProfile

        with cProfile.Profile() as prof:
            result = runs[job](gdf, folder)
        prof.dump_stats(str(profile))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    plots = len(next(iter(result.values())))
    np.savez(folder / f"result_{job}.npz", **result)
    return {"job": job, "plots": plots, "wall_s": wall, "cpu_s": cpu, "rss_start_mib": rss_start,
            "peak_rss_mib": _peak_rss_mib(), "machine": machine()}  # fmt: skip


# --- driver ------------------------------------------------------------------------------------


def _child(args: list[str]) -> dict[str, Any]:
    return run_child(__file__, args)


def machine() -> str:
    import exactextract
    import rasterio
    import rasterstats
    import shapely

    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, shapely {shapely.__version__}, rasterio {rasterio.__version__} "
        f"(GDAL {rasterio.__gdal_version__}), exactextract {exactextract.__version__}, "
        f"rasterstats {rasterstats.__version__}"
    )


def _agreement(folder: Path, subset_n: int, jobs: list[str]) -> list[str]:
    """Per-plot differences between the results of the jobs just run."""

    def load(job: str) -> dict[str, Any] | None:
        return dict(np.load(folder / f"result_{job}.npz")) if job in jobs else None

    ours, hansen = load("ours_1layer"), load("ours_hansen")
    lines = []
    if ours is None:
        return lines

    def diff(a: Any, b: Any, unit: str, what: str) -> None:
        d = np.abs(a - b)
        big = np.abs(b) > 1e-9  # plots with some loss
        rel = np.where(big, d / np.where(big, np.abs(b), 1.0), 0.0)
        odd = np.flatnonzero((rel > 1e-6) | (~big & (d > 1e-6)))
        lines.append(f"  {what}: {big.sum():,} plots with loss, totals {a.sum():,.9g} vs "
                     f"{b.sum():,.9g} {unit}")  # fmt: skip
        if odd.size > len(a) // 100:  # a systematic difference, not a few odd plots
            lines.append(f"    relative difference: median {np.median(rel[big]):.3g}, "
                         f"max {rel.max():.3g}")  # fmt: skip
            return
        line = f"    max relative {np.delete(rel, odd).max():.2g}, max |diff| "
        line += f"{np.delete(d, odd).max():.2g} {unit}"
        if odd.size:
            shown = ", ".join(f"#{i}: {a[i]:.6g} vs {b[i]:.6g}" for i in odd[:3])
            line += f", leaving out {odd.size} plot(s) that differ by more than 1e-6 ({shown})"
        lines.append(line)

    for job in EE:
        other = load(job)
        if other is not None:
            key, unit = ("sum", "cells") if EE[job][0] == "sum" else ("m2", "m²")
            diff(ours[key], other["value"], unit, f"ours vs {JOBS[job]}")
    if hansen is not None:
        diff(ours["m2"], hansen["m2"], "m²", "ours 1 layer vs ours Hansen 2 layers")
    rs = load("rasterstats")
    if rs is not None:
        sub, theirs = ours["sum"][_subset(len(ours["sum"]), subset_n)], rs["value"]
        d = np.abs(sub - theirs)
        lines.append(
            f"  ours vs rasterstats (cell centres; another estimator, not expected to match), "
            f"{len(sub):,} plots:\n    mean |diff| {d.mean():.3g} cells, max {d.max():.3g} cells;"
            f" totals {sub.sum():,.6g} vs {theirs.sum():,.6g}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rasterstats-plots", type=int, default=10_000,
                    help="rasterstats runs on this many plots (spread over the clip)")  # fmt: skip
    ap.add_argument(
        "--jobs", default=",".join(JOBS), help="comma-separated, from: " + ", ".join(JOBS)
    )
    ap.add_argument(
        "--repeat", type=int, default=1, help="runs per job (fresh processes); best kept"
    )
    ap.add_argument("--profile", action="store_true", help="cProfile our two jobs (extra runs)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)  # child modes
    ap.add_argument("--generate", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.generate is not None:
        print(json.dumps(write_data(int(args.generate[0]), int(args.generate[1]))))
        return 0
    folder = data_dir(args.plots, args.seed)
    if args.measure is not None:
        print(json.dumps(measure(args.measure, folder, args.rasterstats_plots, args.profile_out)))
        return 0

    ensure_data(args.plots, args.seed)
    jobs = [j for j in args.jobs.split(",") if j]
    unknown = set(jobs) - set(JOBS)
    if unknown:
        raise SystemExit(f"unknown jobs: {sorted(unknown)}")
    common = ["--plots", str(args.plots), "--seed", str(args.seed),
              "--rasterstats-plots", str(args.rasterstats_plots)]  # fmt: skip
    best: dict[str, dict[str, Any]] = {}
    for job in jobs:
        runs = [_child([*common, "--measure", job]) for _ in range(max(1, args.repeat))]
        best[job] = min(runs, key=lambda r: r["wall_s"])
        best[job]["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
        best[job]["all_wall_s"] = [r["wall_s"] for r in runs]
    _report(best)
    for line in _agreement(folder, args.rasterstats_plots, jobs):
        print(line)
    if args.profile:
        for job in ("ours_1layer", "ours_hansen"):
            out = folder / f"{job}.prof"
            _child([*common, "--measure", job, "--profile-out", str(out)])
            _print_profile(out, job)
    return 0


def _report(best: dict[str, dict[str, Any]]) -> None:
    first = next(iter(best.values()))
    print(f"\n[{first['machine']}]")
    print(f"  {'job':<64}{'plots':>9}{'wall s':>9}{'cpu s':>8}{'plots/s':>10}{'peak RSS MiB':>14}")
    for job, r in best.items():
        rate = r["plots"] / r["wall_s"]
        print(f"  {JOBS[job]:<64}{r['plots']:>9,}{r['wall_s']:>9.2f}{r['cpu_s']:>8.2f}"
              f"{rate:>10,.0f}{r['peak_rss_mib']:>8.0f} ({r['rss_start_mib']:.0f})")  # fmt: skip
        if len(r["all_wall_s"]) > 1:
            print(f"  {'':<64}all runs: {', '.join(f'{w:.2f}' for w in r['all_wall_s'])} s")
    print("  (peak RSS in brackets: RSS after imports and loading the plots)")

    def rate(job: str) -> float | None:
        return best[job]["plots"] / best[job]["wall_s"] if job in best else None

    for ours in ("ours_1layer", "ours_hansen"):
        a = rate(ours)
        ratios = [
            f"{other} {a / b:.2f}x" for other in (*EE, "rasterstats") if a and (b := rate(other))
        ]
        if ratios:
            print(f"  {ours} plots/s ÷ " + ", ".join(ratios))


def _print_profile(path: Path, job: str, top: int = 15) -> None:
    """Top functions by own time; cProfile's overhead inflates Python-heavy code."""
    import pstats

    print(f"\n  cProfile of {job} -> {path.name} (top {top} by own time)")
    stats = pstats.Stats(str(path))
    rows = []
    for (file, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        short = file.split("site-packages/", 1)[-1].split("src/", 1)[-1]
        rows.append((tottime, cumtime, ncalls, f"{short}:{line} {func}"))
    for tot, cum, ncalls, where in sorted(rows, reverse=True)[:top]:
        print(f"  {tot:8.2f} own  {cum:7.2f} cum  {ncalls:>9}  {where}")


if __name__ == "__main__":
    sys.exit(main())
