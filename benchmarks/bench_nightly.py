"""Benchmark: one night of monitoring as the deployment runs it, a whole process: the `nightly`
flow (Prefect's ephemeral API, the check on a local Dask cluster of 2 processes) over a registry
of bench_national.py's plots, after a new GFW alert tile over them was published on a local
HTTP server. Then the same night again (nothing to fetch, check or send).

    .venv/bin/python benchmarks/bench_nightly.py [--plots 20000] [--alerted 0.02]

Set-up, not timed: the plots registered (SQLite), checked once without alert tiles, one lot of
all of them for an exporter, one person with an e-mail per organisation, a real SMTP server
(aiosmtpd) on 127.0.0.1. The new tile paints a high-confidence alert of 2026-11-20 over a share
of the plots (`--alerted`). Printed: wall time and peak RSS of each night, plots/s, each step's
outcome from the registry, the e-mails received. exactextract's single-layer `sum` on the same
plots, in the same run, for scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_national as bn  # a sibling script: data, process-tree sampler, comparisons

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
DAY = (dt.date(2026, 11, 20) - dt.date(2014, 12, 31)).days


class _Tiles(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        body, etag = self.server.files.get(self.path, (None, None))
        if body is None:
            self.send_error(404)
            return
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def alert_tile(folder: Path, share: float, seed: int) -> bytes:
    """A GFW integrated alerts clip over the plots' clip (the product's grid, uint16, LZW),
    with alerts over `share` of the plots' boxes."""
    import geopandas as gpd
    import rasterio
    from affine import Affine
    from rasterio.io import MemoryFile

    meta = json.loads((folder / "done.json").read_text())
    px = 0.0001
    size = round(meta["side_deg"] / px)
    values = np.zeros((size, size), np.uint16)
    plots = gpd.read_file(folder / "plots.fgb", engine="pyogrio")
    rng = np.random.default_rng(seed)
    chosen = plots.geometry.bounds.to_numpy()[rng.random(len(plots)) < share]
    for minx, miny, maxx, maxy in chosen:
        c0, c1 = int((minx - bn.WEST) / px), int(np.ceil((maxx - bn.WEST) / px))
        r0, r1 = int((bn.NORTH - maxy) / px), int(np.ceil((bn.NORTH - miny) / px))
        values[max(r0, 0) : r1, max(c0, 0) : c1] = 30000 + DAY
    profile = {"driver": "GTiff", "height": size, "width": size, "count": 1, "dtype": "uint16",
               "crs": "EPSG:4326", "transform": Affine(px, 0, bn.WEST, 0, -px, bn.NORTH),
               "nodata": 0, "compress": "lzw", "tiled": True}  # fmt: skip
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(values, 1)
        del rasterio
        return bytes(mem.read())


def setup(folder: Path, work: Path, base: str) -> tuple[str, Path]:
    """Registry with the plots checked once (no alert tiles), a lot, contacts; a catalog
    whose alerts come from the local server."""
    from eudr_check.datasets.sources import DataSources
    from eudr_check.engine import RegisteredPlots, RegistrySink, Reuse, run_check
    from eudr_check.intake import read_plots
    from eudr_check.rules import validate
    from eudr_check.store.registry import Registry

    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'registry.db'}"
    doc = yaml.safe_load((ROOT / "config" / "datasets.yaml").read_text(encoding="utf-8"))
    for d in doc["datasets"]:
        d["enabled"] = d["id"] in ("hansen_gfc", "jrc_gfc2020", "gfw_integrated_alerts")
        if d["id"] == "gfw_integrated_alerts":
            d["source"] = base + "/alerts/{file}"
    catalog = work / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with Registry.open(url) as registry:
        coop = registry.create_organisation("Cooperativa de prueba", "cooperative")
        exporter = registry.create_organisation("Exportadora de prueba", "exporter")
        registry.share(coop, exporter)
        for org, role, mail in ((coop, "technician", "coop@bench.example"),
                                (exporter, "exporter", "exp@bench.example")):  # fmt: skip
            info, _ = registry.create_token(role, role, org)
            registry.set_contact(info.id, mail, "es")
        report = validate(read_plots(folder / "plots.fgb"), fix=True)
        registry.register_upload(coop, report, "plots.fgb", "0" * 64)
        ids = registry.current_versions(coop)
        sources = DataSources.configured(folder, catalog)
        run_check(RegisteredPlots(registry, ids, reuse=Reuse.NONE, name="setup"), sources,
                  sinks=[RegistrySink(registry)], kind="check")  # fmt: skip
        registry.create_lot(exporter, "LOTE-BENCH", "coffee", "0901", 1e6, ids)
    return url, catalog


def main(argv: list[str] | None = None) -> int:
    from aiosmtpd.controller import Controller

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--plots", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--alerted", type=float, default=0.02, help="share of plots under new alerts")
    ap.add_argument("--compare", default="ee_sum", help="exactextract job (bench_check), or ''")
    args = ap.parse_args(argv)
    folder = bn.ensure_data(args.plots, args.seed)
    work = folder / "nightly"
    if work.exists():
        import shutil

        shutil.rmtree(work)
    alerts = folder / "gfw_integrated_alerts"
    if alerts.exists():
        import shutil

        shutil.rmtree(alerts)

    received: list[list[str]] = []

    class Box:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(list(envelope.rcpt_tos))
            return "250 OK"

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(Box(), hostname="127.0.0.1", port=port)
    smtp.start()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    httpd.files = {}  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        # Yesterday's tile: no alerts over the plots (so last night's results saw the tile).
        name = "gfw_integrated_alerts_latest_00N_080W.tif"
        alerts.mkdir(parents=True)
        (alerts / name).write_bytes(alert_tile(folder, 0.0, args.seed))
        url, catalog = setup(folder, work, base)
        body = alert_tile(folder, args.alerted, args.seed)
        httpd.files[f"/alerts/{name}"] = (body, '"v2"')  # type: ignore[attr-defined]
        env = {"EUDR_CHECK_SMTP_HOST": "127.0.0.1", "EUDR_CHECK_SMTP_PORT": str(port),
               "EUDR_CHECK_SMTP_STARTTLS": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}  # fmt: skip
        code = ("from flows.nightly import nightly; import json; r = nightly("
                f"registry_url={url!r}, data_dir={str(folder)!r}, catalog_path={str(catalog)!r}, "
                "night='2026-12-05'); print(json.dumps({k: r[k] for k in ('analysed', 'refresh', "
                "'digests')}, default=str))")  # fmt: skip
        print(f"\n  nightly flow, {args.plots:,} registered plots, a new alert tile over "
              f"{args.alerted:.0%} of them ({len(body) / 2**20:.1f} MiB)")  # fmt: skip
        for label in ("night", "again"):
            r = bn.timed([str(PYTHON), "-c", code], work / f"{label}.log", env=env)
            lines = (work / f"{label}.log").read_text().splitlines()
            out = next((x for x in lines if x.startswith('{"analysed"')), "?")
            print(f"    {label:<6} {r['wall_s']:6.1f} s  {args.plots / r['wall_s']:7,.0f} plots/s  "
                  f"peak {r['peak_mib']:6,.0f} MiB  {out[:200]}")  # fmt: skip
        from eudr_check.store.registry import Registry

        with Registry.open(url) as registry:
            for night in reversed(registry.nights()):
                print(f"    night run {night.id}:")
                for step, outcome in night.steps.items():
                    brief = {k: v for k, v in outcome.items()
                             if k not in ("missing_tiles", "mails", "run_id")}  # fmt: skip
                    print(f"      {step:<8} {json.dumps(brief, default=str)[:150]}")
            digests = registry.night_digests("2026-12-05")
        print(f"    digests: {[(d.organisation_id, d.counts.get('items')) for d in digests]}; "
              f"e-mails received: {len(received)}")  # fmt: skip
    finally:
        smtp.stop()
        httpd.shutdown()
    if args.compare:
        bn.compare(args.plots, args.seed, args.compare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
