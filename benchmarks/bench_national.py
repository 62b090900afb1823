"""Benchmark: a national plot file through the check engine on a local Dask cluster.

    .venv/bin/python benchmarks/bench_national.py [--plots 1000000] [--workers 2]

N plots (default 1,000,000) over a 3° x 3° clip of Hansen tile 00N_080W (treecover2000 and
lossyear, 0.00025°) and JRC GFC2020 tile N0_W80 (0.0001°), in the real names and encoding
(uint8, LZW, striped), are generated once per (N, seed) and cached in benchmarks/_data/. The
plots are a FlatGeobuf with a spatial index, so slices are read by feature id in O(slice).

The measured job, in a fresh child process: read the file in slices, normalise and validate
each slice, check it with hansen_gfc and jrc_gfc2020 on a LocalCluster of process workers,
and write the compact CSV in input order (`engine.run_check` with `PlotFile`,
`DaskExecutor.local` and `reports.compact_csv.CompactCsvSink`). The parent samples the RSS
of the child's whole process tree (the client and scheduler, the nannies, the workers) every
0.5 s and reports the peak of the sum.

For comparison, in the same run and on the same plots, bench_check.py's single-layer job
(`loss_after` = loss after 2020 inside 2000 forest) with exactextract (one Python call over all
plots, feature- and raster-sequential) and rasterstats (a subset), each in one process. See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_check as bc  # a sibling script, reused for data and the other tools
from childproc import run_child  # a sibling module

DATA_DIR = bc.DATA_DIR
GEN_VERSION = 1
WEST, NORTH = -78.5, -5.5  # north-west corner of the clip: Cajamarca to San Martín, Peru
HANSEN_TILE, JRC_TILE = "00N_080W", "N0_W80"
JRC_PX = 0.0001
GOAL_S, GOAL_MIB = 600.0, 2048.0  # the goal for 1,000,000 plots on 2 cores
CLIENT_READS = False  # set by --client-reads: read and validate in the client, not the workers
COMPARE = {
    "ours_1layer": "ours: bench_check single-layer job, 1 process",
    "ee_sum": "exactextract sum, feature-sequential (default), 1 call",
    "ee_sum_rs": "exactextract sum, raster-sequential, 1 call",
    "rasterstats": "rasterstats sum, cell centres (subset)",
}


# --- data --------------------------------------------------------------------------------------


def data_dir(n: int, seed: int) -> Path:
    return DATA_DIR / f"national_n{n}_seed{seed}_v{GEN_VERSION}"


def _catalog() -> Any:
    """The default catalog with hansen_gfc and jrc_gfc2020 only (alerts off)."""
    from eudr_check.datasets.catalog import load_catalog

    full = load_catalog()
    keep = {"hansen_gfc", "jrc_gfc2020"}
    datasets = [d.model_copy(update={"enabled": d.id in keep}) for d in full.datasets]
    return full.model_copy(update={"datasets": datasets})


def _write_jrc(path: Path, tree: Any, side: float, rng: np.random.Generator, nodata: int) -> None:
    """JRC forest (1) / non-forest (0) at 0.0001°: Hansen tree cover >= 30 % at each cell
    centre, 3 % of cells flipped, a few nodata blocks; written in strips to bound memory."""
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    size = round(side / JRC_PX)
    ratio = JRC_PX / bc.PX
    hansen_idx = np.floor((np.arange(size) + 0.5) * ratio).astype(np.intp)
    profile = {"driver": "GTiff", "height": size, "width": size, "count": 1, "dtype": "uint8",
               "crs": "EPSG:4326", "transform": Affine(JRC_PX, 0, WEST, 0, -JRC_PX, NORTH),
               "compress": "lzw", "nodata": nodata}  # fmt: skip
    forest_src = tree >= 30
    with rasterio.open(path, "w", **profile) as dst:
        for r0 in range(0, size, 2000):
            r1 = min(size, r0 + 2000)
            block = forest_src[np.ix_(hansen_idx[r0:r1], hansen_idx)].astype(np.uint8)
            flip = rng.random(block.shape) < 0.03
            block[flip] ^= 1
            for _ in range((r1 - r0) // 1000):
                r, c = rng.integers(0, (r1 - r0) - 80), rng.integers(0, size - 150)
                block[r : r + 75, c : c + 150] = nodata
            dst.write(block, 1, window=Window(0, r0, size, r1 - r0))


def write_data(n: int, seed: int) -> dict[str, Any]:
    import geopandas as gpd
    import rasterio
    import shapely
    from affine import Affine

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    side = bc._side_deg(n)
    size = round(side / bc.PX)
    out = data_dir(n, seed)
    catalog = _catalog()
    hansen, jrc = catalog.get("hansen_gfc"), catalog.get("jrc_gfc2020")
    (out / "hansen_gfc").mkdir(parents=True, exist_ok=True)
    (out / "jrc_gfc2020").mkdir(parents=True, exist_ok=True)
    tree, loss = bc._rasters(rng, size)
    nodata = (tree == 255) | (loss == 255)
    after = np.where(nodata, 255, (loss >= 21) & (tree >= 10)).astype(np.uint8)
    # Striped, LZW, no overviews: as the real Hansen tiles are.
    transform = Affine(bc.PX, 0, WEST, 0, -bc.PX, NORTH)
    profile = {"driver": "GTiff", "height": size, "width": size, "count": 1, "crs": "EPSG:4326",
               "transform": transform, "compress": "lzw"}  # fmt: skip
    layers = {
        hansen.file_name("treecover2000", HANSEN_TILE): tree,
        hansen.file_name("lossyear", HANSEN_TILE): loss,
        bc.LOSS_FILE.format(version=hansen.version, tile=HANSEN_TILE): after,
    }
    for name, values in layers.items():
        with rasterio.open(out / "hansen_gfc" / name, "w", dtype="uint8", nodata=255,
                           **profile) as dst:  # fmt: skip
            dst.write(values, 1)
    del after, loss
    jrc_nodata = jrc.layers["forest"].nodata
    _write_jrc(out / "jrc_gfc2020" / jrc.file_name("forest", JRC_TILE), np.where(
        tree == 255, 0, tree), side, rng, 255 if jrc_nodata is None else jrc_nodata)  # fmt: skip
    del tree
    # bench_check's plots (one per 0.003° cell, 0.3-6 ha), moved onto this clip.
    shift = np.array([WEST - bc.WEST, NORTH - bc.NORTH])
    polys = shapely.transform(bc._plots(rng, n, side), lambda xy: np.round(xy + shift, 6))
    if not shapely.is_valid(polys).all():
        raise SystemExit("moving the plots made an invalid polygon; change the seed")
    frame = gpd.GeoDataFrame(
        {"plot_id": [f"PE{i:07d}" for i in range(n)], "ProducerCountry": ["PE"] * n},
        geometry=polys, crs="EPSG:4326",
    )  # fmt: skip
    # With its spatial index (the default), a FlatGeobuf lists features along a Hilbert curve
    # and reads any feature by id: slices are spatially compact and cost O(slice) to read.
    frame.to_file(out / "plots.fgb", driver="FlatGeobuf", engine="pyogrio")
    meta = {"plots": n, "side_deg": side, "hansen_px": size, "jrc_px": round(side / JRC_PX)}
    (out / "done.json").write_text(json.dumps(meta))
    return {"seconds": time.perf_counter() - t0, **meta}


def ensure_data(n: int, seed: int) -> Path:
    out = data_dir(n, seed)
    if (out / "done.json").is_file():
        print(f"using cached {out.name}")
    else:
        done = _child(["--generate", str(n), str(seed)])
        print(f"generated {out.name} in {done['seconds']:.1f} s")
    meta = json.loads((out / "done.json").read_text())
    mib = sum(p.stat().st_size for p in out.rglob("*.tif")) / 2**20
    print(f"  {n:,} plots over a {meta['side_deg']:g}° x {meta['side_deg']:g}° clip: Hansen "
          f"{meta['hansen_px']:,}² px per layer, JRC {meta['jrc_px']:,}² px; rasters "
          f"{mib:,.0f} MiB, plots.fgb {(out / 'plots.fgb').stat().st_size / 2**20:,.0f} "
          "MiB")  # fmt: skip
    return out


# --- the measured run (child) -------------------------------------------------------------------


def measure_ours(folder: Path, workers: int, batch_plots: int, profile: bool) -> dict[str, Any]:
    """The whole streamed check, from the plot file to the CSV; imports are not timed."""
    from eudr_check.engine import DaskExecutor, DataSources, PlotFile, run_check
    from eudr_check.reports.compact_csv import CompactCsvSink
    from eudr_check.settings import Settings

    sources = DataSources(_catalog(), folder)
    out_csv = folder / "results_national.csv"
    # Always in slices read by the workers; with --client-reads, read whole here.
    settings = Settings(stream_above_plots=10**12 if CLIENT_READS else 1,
                        stream_above_mb=10**9 if CLIENT_READS else 1e-9)  # fmt: skip
    plots = PlotFile(folder / "plots.fgb", settings=settings)
    t_start = time.perf_counter()
    with DaskExecutor.local(n_workers=workers) as executor:
        executor.client.wait_for_workers(workers, timeout=120)
        started = time.perf_counter() - t_start
        cpu0, t0 = time.process_time(), time.perf_counter()

        def job() -> Any:
            return run_check(plots, sources, executor=executor, sinks=[CompactCsvSink(out_csv)],
                             batch_plots=batch_plots)  # fmt: skip

        if profile:
            import cProfile

            with cProfile.Profile() as prof:
                record = job()
            prof.dump_stats(str(folder / "client.prof"))
        else:
            record = job()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        worker_cpu = executor.client.run(lambda: time.process_time())
    return {"job": "ours", "plots": record.plots, "batches": math.ceil(record.plots / batch_plots),
            "wall_s": wall, "client_cpu_s": cpu, "cluster_start_s": started,
            "client_reads": CLIENT_READS, "worker_cpu_s": sorted(worker_cpu.values()),
            "verdicts": record.verdicts, "csv_mib": out_csv.stat().st_size / 2**20,
            "machine": bc.machine()}  # fmt: skip


def profile_worker(folder: Path, batch_plots: int, batches: int) -> None:
    """cProfile of the workers' side, in-process: the same run on the first slices, serially
    (read, validate, check, format)."""
    import cProfile
    import dataclasses
    import itertools
    import pstats

    from eudr_check.engine import DataSources, PlotFile, run_check
    from eudr_check.reports.compact_csv import CompactCsvSink
    from eudr_check.settings import Settings

    sources = DataSources(_catalog(), folder)
    plots = PlotFile(folder / "plots.fgb", settings=Settings(stream_above_plots=1))
    opened = plots.open

    def first_slices(*args: Any) -> Any:  # the first `batches` slices only
        plan = opened(*args)
        # Cut short, the file is never read to its end: no checksum of it either.
        return dataclasses.replace(plan, batches=itertools.islice(plan.batches, batches),
                                   planned=None, sha256=lambda: "")  # fmt: skip

    plots.open = first_slices  # type: ignore[method-assign]
    t0 = time.perf_counter()
    with cProfile.Profile() as prof:
        n = run_check(plots, sources, sinks=[CompactCsvSink(folder / "profile.csv")],
                      batch_plots=batch_plots).plots  # fmt: skip
    wall = time.perf_counter() - t0
    print(f"\n  worker side in one process: {n:,} plots in {wall:.2f} s "
          f"({n / wall:,.0f} plots/s under cProfile); top 20 by own time:")  # fmt: skip
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        short = file.split("site-packages/", 1)[-1].split("src/", 1)[-1]
        rows.append((tottime, cumtime, ncalls, f"{short}:{line} {func}"))
    for tot, cum, ncalls, where in sorted(rows, reverse=True)[:20]:
        print(f"  {tot:8.2f} own  {cum:7.2f} cum  {ncalls:>9}  {where}")


# --- memory of a process tree (parent) ----------------------------------------------------------


def _tree_psutil(pid: int) -> list[tuple[int, int, float, int]]:
    """(pid, depth, cpu s, rss bytes) of a process and all its descendants."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [(root, 0)]
        for child in root.children(recursive=True):
            depth, p = 1, child
            while (parent := p.ppid()) != pid and depth < 10:
                p, depth = psutil.Process(parent), depth + 1
            procs.append((child, depth))
    except psutil.Error:
        return []
    out = []
    for p, depth in procs:
        try:
            t = p.cpu_times()
            out.append((p.pid, depth, t.user + t.system, p.memory_info().rss))
        except psutil.Error:
            continue
    return out


def _tree_proc(pid: int) -> list[tuple[int, int, float, int]]:
    """The same from /proc, when psutil is not installed (Linux only)."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        stats[int(entry.name)] = fields
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    out = []
    for p, fields in stats.items():
        depth, q = 0, p
        while q != pid and q in parents and depth < 10:
            q, depth = parents[q], depth + 1
        if q == pid:
            cpu = (int(fields[11]) + int(fields[12])) / tick
            out.append((p, depth, cpu, int(fields[21]) * page))
    return out


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process tree every `interval` s; keeps the peak, and the
    last CPU time seen for every process (by depth: 0 the client, 1 nannies, 2 workers)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.peak_by_depth: dict[int, int] = {}
        self.cpu: dict[int, tuple[int, float]] = {}
        self.samples = 0
        self.stop = threading.Event()
        try:
            import psutil  # noqa: F401

            self.tree = _tree_psutil
            self.source = "psutil"
        except ImportError:
            self.tree = _tree_proc
            self.source = "/proc"

    def run(self) -> None:
        while not self.stop.is_set():
            procs = self.tree(self.pid)
            total = sum(rss for *_, rss in procs)
            if total > self.peak:
                self.peak = total
                self.peak_by_depth = {}
                for _, depth, _, rss in procs:
                    self.peak_by_depth[depth] = self.peak_by_depth.get(depth, 0) + rss
            for p, depth, cpu, _ in procs:
                self.cpu[p] = (depth, cpu)
            self.samples += 1
            self.stop.wait(self.interval)


def timed(cmd: list[str], log: Path, ok: tuple[int, ...] = (0,),
          env: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Run a command as a whole process, output to `log`: wall time and the peak RSS of its
    process tree (sampled every 0.5 s); exits unless its code is in `ok`. `env`: variables
    added to this process's environment."""
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})  # fmt: skip
        sampler = TreeSampler(proc.pid)
        sampler.start()
        proc.wait()
        sampler.stop.set()
        sampler.join()
    wall = time.perf_counter() - t0
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd[1:3]} failed (exit {proc.returncode}): see {log}")
    return {"wall_s": wall, "peak_mib": sampler.peak / 2**20, "exit": proc.returncode}


def compare(plots: int, seed: int, job: str) -> dict[str, Any]:
    """Run an exactextract job (bench_check's) on the same plots in a child process and print
    its line, for scale beside ours; its figures."""
    r = _child(["--plots", str(plots), "--seed", str(seed), "--measure", job])
    rate = r["plots"] / r["wall_s"]
    print(f"  {COMPARE[job]}: {r['plots']:,} plots in {r['wall_s']:.1f} s "
          f"({rate:,.0f} plots/s, peak {r['peak_rss_mib']:,.0f} MiB)")  # fmt: skip
    return r


def _run_sampled(args: list[str], log: Path) -> tuple[dict[str, Any], TreeSampler]:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        stdout, _ = proc.communicate()
        sampler.stop.set()
        sampler.join()
    if proc.returncode != 0:
        sys.stderr.write(log.read_text()[-5000:])
        raise SystemExit(f"child failed (exit {proc.returncode}): {' '.join(cmd)}")
    return json.loads(stdout.strip().splitlines()[-1]), sampler


def _child(args: list[str]) -> dict[str, Any]:
    return run_child(__file__, args)


# --- driver -------------------------------------------------------------------------------------


def _report_ours(r: dict[str, Any], s: TreeSampler) -> None:
    mib = 2**20
    rate = r["plots"] / r["wall_s"]
    ok = r["wall_s"] * 1_000_000 / r["plots"] <= GOAL_S and s.peak / mib <= GOAL_MIB
    print(f"\n[{r['machine']}]")
    print(f"  ours: read + validate + check (hansen_gfc, jrc_gfc2020) + CSV, {r['batches']} "
          f"batches, LocalCluster of {len(r['worker_cpu_s'])} process workers")  # fmt: skip
    print(f"    {r['plots']:,} plots in {r['wall_s']:.1f} s: {rate:,.0f} plots/s "
          f"(cluster start {r['cluster_start_s']:.1f} s, not counted)")  # fmt: skip
    depth = {0: "client + scheduler + nannies", 1: "workers (and helpers)"}
    parts = ", ".join(
        f"{depth.get(d, d)} {v / mib:,.0f}" for d, v in sorted(s.peak_by_depth.items())
    )
    print(f"    peak RSS of the process tree: {s.peak / mib:,.0f} MiB ({parts}); "
          f"{s.samples} samples via {s.source}")  # fmt: skip
    cpu: dict[int, float] = {}
    for d, c in s.cpu.values():
        cpu[d] = cpu.get(d, 0.0) + c
    print("    cpu s (whole processes, imports included): "
          + ", ".join(f"{depth.get(d, d)} {c:.1f}" for d, c in sorted(cpu.items())))  # fmt: skip
    where = "the client" if r["client_reads"] else "the workers"
    print(f"    in the run: client {r['client_cpu_s']:.1f} cpu s, workers "
          + ", ".join(f"{c:.1f}" for c in r["worker_cpu_s"])
          + f" cpu s (process totals); slices read and validated by {where}")  # fmt: skip
    print(f"    verdicts: {r['verdicts']}; CSV {r['csv_mib']:.0f} MiB")
    goal = "met" if ok else "NOT met"
    print(f"    goal (1,000,000 plots in <= {GOAL_S:.0f} s, <= {GOAL_MIB:.0f} MiB): {goal}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--plots", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-plots", type=int, default=5000, help="plots per slice and task")
    ap.add_argument("--rasterstats-plots", type=int, default=10_000)
    ap.add_argument("--compare", default=",".join(COMPARE),
                    help="comparison jobs, from: " + ", ".join(COMPARE))  # fmt: skip
    ap.add_argument("--profile", action="store_true",
                    help="cProfile the client (extra run) and the worker side")  # fmt: skip
    ap.add_argument("--client-reads", action="store_true",
                    help="read and validate in the client (workers only check)")  # fmt: skip
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--generate", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--client-profile", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    global CLIENT_READS
    CLIENT_READS = args.client_reads

    if args.generate is not None:
        print(json.dumps(write_data(int(args.generate[0]), int(args.generate[1]))))
        return 0
    folder = data_dir(args.plots, args.seed)
    if args.measure == "ours":
        print(json.dumps(measure_ours(folder, args.workers, args.batch_plots,
                                      args.client_profile)))  # fmt: skip
        return 0
    if args.measure is not None:
        print(json.dumps(bc.measure(args.measure, folder, args.rasterstats_plots, None)))
        return 0

    ensure_data(args.plots, args.seed)
    common = ["--plots", str(args.plots), "--seed", str(args.seed), "--workers",
              str(args.workers), "--batch-plots", str(args.batch_plots),
              *(["--client-reads"] if args.client_reads else [])]  # fmt: skip
    ours, sampler = _run_sampled([*common, "--measure", "ours"], folder / "ours.log")
    _report_ours(ours, sampler)
    rate = ours["plots"] / ours["wall_s"]
    jobs = [j for j in args.compare.split(",") if j]
    if jobs:
        print(f"\n  {'comparison (single-layer job, one process each)':<58}{'plots':>10}"
              f"{'wall s':>9}{'plots/s':>10}{'peak RSS MiB':>14}{'ours ÷':>8}")  # fmt: skip
    for job in jobs:
        r = _child([*common, "--rasterstats-plots", str(args.rasterstats_plots),
                    "--measure", job])  # fmt: skip
        other = r["plots"] / r["wall_s"]
        print(f"  {COMPARE[job]:<58}{r['plots']:>10,}{r['wall_s']:>9.1f}{other:>10,.0f}"
              f"{r['peak_rss_mib']:>14,.0f}{rate / other:>7.2f}x")  # fmt: skip
    if jobs:
        print("  ours ÷: our full streamed check's plots/s (2 datasets, 3 layers, validation,"
              " CSV, all workers) over the tool's single-layer plots/s")  # fmt: skip
    if args.profile:
        _run_sampled([*common, "--measure", "ours", "--client-profile"], folder / "prof.log")
        bc._print_profile(folder / "client.prof", "the client process (run_check)", top=20)
        profile_worker(
            folder, args.batch_plots, batches=max(1, math.ceil(50_000 / args.batch_plots))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
