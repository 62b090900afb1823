"""Benchmark: `eudr-check check` as the user runs it, a whole process, every report written.

    .venv/bin/python benchmarks/bench_cli_check.py [--plots 100000] [--workers 0] [--maps flagged]

The plots and rasters are bench_national.py's (a FlatGeobuf of N synthetic plots over a clip of
Hansen tile 00N_080W and JRC GFC2020 tile N0_W80 in the real names and encoding; the GFW alert
tiles are absent, so the preflight lists them as optional). The command is timed from start to
exit, with the peak RSS of its process tree sampled every 0.5 s; the maps written are counted
(maps/s over the whole run and over the time the maps took: the same run with `--maps none`).
In the same run, on the same plots, exactextract's single-layer `sum` (bench_check's
`loss_after` job, one Python call, one process) for the ratio the issue asks for.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_national as bn  # a sibling script: data, process-tree sampler, comparisons

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "eudr-check"


def run_cli(folder: Path, out: Path, workers: int, maps: str) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(CLI), "check", str(folder / "plots.fgb"), "--datasets", str(folder), "--out",
           str(out), "--lang", "en", "--maps", maps, "--workers", str(workers)]  # fmt: skip
    r = bn.timed(cmd, out.parent / f"{out.name}.log")
    maps_dir = out / "maps"
    n_maps = sum(1 for _ in maps_dir.rglob("*.png")) if maps_dir.is_dir() else 0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {**r, "maps": n_maps, "out_mib": size / 2**20}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=0, help="eudr-check --workers")
    ap.add_argument("--maps", default="flagged", help="eudr-check --maps")
    ap.add_argument("--compare", default="ee_sum", help="exactextract job (bench_check), or ''")
    args = ap.parse_args(argv)
    folder = bn.ensure_data(args.plots, args.seed)
    out = folder / "cli_out"
    ours = run_cli(folder, out, args.workers, args.maps)
    bare = run_cli(folder, folder / "cli_out_nomaps", args.workers, "none")
    print(f"\n  eudr-check check, {args.plots:,} plots, --workers {args.workers}, every report:")
    print(f"    whole process {ours['wall_s']:.1f} s: {args.plots / ours['wall_s']:,.0f} plots/s; "
          f"peak RSS of the process tree {ours['peak_mib']:,.0f} MiB; reports "
          f"{ours['out_mib']:,.0f} MiB")  # fmt: skip
    drawing = max(ours["wall_s"] - bare["wall_s"], 1e-9)
    print(f"    maps ({args.maps}): {ours['maps']:,}, {ours['maps'] / drawing:,.0f} maps/s while "
          f"drawing ({drawing:.1f} s = this run - the same with --maps none, "
          f"{bare['wall_s']:.1f} s)")  # fmt: skip
    if args.compare:
        r = bn.compare(args.plots, args.seed, args.compare)
        ratio = ours["wall_s"] / r["wall_s"]
        goal = "met" if ratio <= 1.0 else "NOT met"
        print(f"  whole job / exactextract's one layer: {ratio:.2f} (goal <= 1.0: {goal})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
