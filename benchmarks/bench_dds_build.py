"""Benchmark: `eudr-check dds build` as the exporter runs it, a whole process, on the report of
a national check.

    .venv/bin/python benchmarks/bench_dds_build.py [--plots 20000] [--seed 1]

The plots and rasters are bench_national.py's (with producer names added, three plots each);
`eudr-check check --maps none` writes the `*.due_diligence.geojson` first (timed too, for
scale), then `dds build` turns it into
statements: producers grouped, GeoJSON encoded, statements split at the EU's limits and every
request validated against the EU's XSDs. Timed from start to exit with the peak RSS of the
process sampled every 0.5 s. In the same run, exactextract's single-layer `sum` on the same
plots (bench_check's job), as everywhere in benchmarks/, for scale.
"""

from __future__ import annotations

import argparse
import collections
import csv
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_national as bn  # a sibling script: data, process-tree sampler, comparisons

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "eudr-check"


def with_producers(folder: Path) -> Path:
    """bench_national's plots with producer names, three plots per farmer as in the sample
    cooperative (its plots carry none, which would make one unnamed producer)."""
    import geopandas as gpd

    target = folder / "plots_named.fgb"
    if not target.exists():
        plots = gpd.read_file(folder / "plots.fgb", engine="pyogrio")
        plots["ProducerName"] = [f"Productor {i // 3:06d}" for i in range(len(plots))]
        plots.to_file(target.with_suffix(".tmp.fgb"), engine="pyogrio")
        target.with_suffix(".tmp.fgb").rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--plots", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compare", default="ee_sum", help="exactextract job (bench_check), or ''")
    args = ap.parse_args(argv)
    folder = bn.ensure_data(args.plots, args.seed)
    checked, built = folder / "dds_check", folder / "dds_build"
    for d in (checked, built):
        shutil.rmtree(d, ignore_errors=True)
    named = with_producers(folder)
    check = bn.timed([str(CLI), "check", str(named), "--datasets", str(folder),
                   "--out", str(checked), "--lang", "en", "--maps", "none"],
                  folder / "dds_check.log", ok=(0, 1))  # fmt: skip
    (report,) = checked.glob("*.due_diligence.geojson")
    # Exit 1: plots were refused (not deforestation-free); the statements are still written.
    build = bn.timed([str(CLI), "dds", "build", str(report), "--out", str(built), "--hs", "090111",
                   "--net-mass-kg", "250000", "--activity", "IMPORT", "--country-of-activity",
                   "DE", "--internal-ref", "BENCH-DDS", "--lang", "en"],
                  folder / "dds_build.log", ok=(0, 1))  # fmt: skip
    xml = sorted(built.glob("*.xml"))
    mib = sum(p.stat().st_size for p in xml) / 2**20
    (plots_csv,) = built.glob("*.dds_plots.csv")
    with plots_csv.open(encoding="utf-8", newline="") as fh:
        fates = collections.Counter(row["status"] for row in csv.DictReader(fh))
    print(f"\n  {args.plots:,} plots (bench_national seed {args.seed}):")
    print(
        f"    eudr-check check --maps none: {check['wall_s']:.1f} s, "
        f"{args.plots / check['wall_s']:,.0f} plots/s, peak RSS {check['peak_mib']:,.0f} MiB"
    )
    print(f"    eudr-check dds build: {build['wall_s']:.1f} s, "
          f"{args.plots / build['wall_s']:,.0f} plots/s, peak RSS {build['peak_mib']:,.0f} MiB, "
          f"exit {build['exit']}")  # fmt: skip
    print(f"      {len(xml)} statement(s), {mib:,.1f} MiB of XML; plots: {dict(fates)}")
    if args.compare:
        bn.compare(args.plots, args.seed, args.compare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
