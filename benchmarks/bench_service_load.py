"""Benchmark: the web service under load, on loopback only, bounded in time.

    .venv/bin/python benchmarks/bench_service_load.py [--clients 8] [--seconds 60]
        [--plots 100000] [--registry sqlite|postgres]

A real `eudr-check serve` process (one uvicorn worker, its check worker thread) on 127.0.0.1,
its registry holding one cooperative of N plots (default 100,000, bench_national's plots and
synthetic Hansen/JRC rasters, registered and checked once and cached), shared with an exporter.
Then, for `--seconds`, `--clients` threads with their own keep-alive connection and token:

- two technicians of the big cooperative page through its plots (`/api/plots`, keyset
  `after`, filters by verdict, status and a search), one reads plot details and the HTML list;
- the exporter lists the shared plots (`organisation_id`), its lots and the `/lots` page;
- the others are technicians of small cooperatives, each uploading files of 25 new plots
  (`POST /api/uploads`), waiting for their check and listing their own plots.

Afterwards the queue is let drain (bounded) and the registry is read directly: every plot of
every upload answered 201 is there exactly once, each current version has exactly one result,
no run is left running, and the big cooperative still has its N plots. Printed: requests/s,
p50/p95/max per kind of request, errors (any non-2xx, timeouts, refused connections), the
server's peak RSS. The rate limit is raised for the run (each client is one token going flat
out; the default 240/min/token would answer 429 by design).

PostgreSQL: `--registry postgres` starts the project's test cluster (scripts/start_postgres.sh)
unless EUDR_CHECK_TEST_PG_URL is set, and keeps the loaded registry as a template database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_national as bn  # a sibling script: the plots and rasters

ROOT = Path(__file__).resolve().parents[1]
LOAD_VERSION = 1
SMALL_PLOTS = 25  # plots per upload of a small cooperative
PAGE = 100
GOAL_P95_MS = 300.0
DRAIN_S = 300.0


# --- the registry, loaded once --------------------------------------------------------------


@dataclass
class Loaded:
    url: str
    data: Path
    tokens: dict[str, str]  # role name -> secret
    orgs: dict[str, int]
    keys: list[int]  # plot keys of the big cooperative (for details)


def _load(url: str, data: Path, n: int, small: int) -> dict[str, Any]:
    """Register and check the big cooperative's plots; create the other organisations."""
    from eudr_check.datasets.sources import DataSources
    from eudr_check.engine import RegisteredPlots, RegistrySink, Reuse, run_check
    from eudr_check.intake import read_plots
    from eudr_check.rules import validate
    from eudr_check.store import Registry

    t0 = time.perf_counter()
    with Registry.open(url) as reg:
        big = reg.create_organisation("Cooperativa Grande del Alto Mayo", "cooperative")
        exporter = reg.create_organisation("Exportadora Andina", "exporter")
        reg.share(big, exporter)
        orgs = {"big": big, "exporter": exporter}
        tokens = {"big": reg.create_token("technician", "tec-grande", big)[1],
                  "exporter": reg.create_token("exporter", "exp", exporter)[1]}  # fmt: skip
        for i in range(small):
            org = reg.create_organisation(f"Cooperativa Chica {i + 1}", "cooperative")
            orgs[f"small{i}"] = org
            tokens[f"small{i}"] = reg.create_token("technician", f"tec-{i}", org)[1]
        table = read_plots(data / "plots.fgb")
        reg.register_upload(big, validate(table, fix=True), "socios_grande.fgb", table.sha256)
        registered = time.perf_counter() - t0
        plots = RegisteredPlots(reg, reg.current_versions(big), reuse=Reuse.MATCHING)
        run_check(plots, DataSources(bn._catalog(), data), sinks=[RegistrySink(reg)])
    return {"orgs": orgs, "tokens": tokens, "register_s": registered,
            "check_s": time.perf_counter() - t0 - registered}  # fmt: skip


def _plot_keys(url: str, org: int) -> list[int]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            q = sa.text("SELECT id FROM plots WHERE organisation_id = :o ORDER BY id")
            return [int(k) for k in c.execute(q, {"o": org}).scalars()]
    finally:
        engine.dispose()


def _pg_admin(url: str, sql: str) -> list[Any]:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            res = c.execute(sa.text(sql))
            return list(res.scalars()) if res.returns_rows else []
    finally:
        engine.dispose()


def prepare(n: int, small: int, registry: str, work: Path) -> Loaded:
    data = bn.ensure_data(n, 1)
    cache = data / f"load_v{LOAD_VERSION}_small{small}.json"
    if registry == "sqlite":
        template = data / f"load_v{LOAD_VERSION}_small{small}.db"
        if not template.is_file() or not cache.is_file():
            template.unlink(missing_ok=True)
            print(f"loading {n:,} plots into a registry (once; cached) ...", flush=True)
            meta = _load(f"sqlite:///{template}", data, n, small)
            cache.write_text(json.dumps(meta))
        db = work / "registry.db"
        shutil.copyfile(template, db)
        url = f"sqlite:///{db}"
    else:
        base = os.environ.get("EUDR_CHECK_TEST_PG_URL") or subprocess.run(
            ["bash", str(ROOT / "scripts" / "start_postgres.sh")], check=True,
            capture_output=True, text=True).stdout.strip()  # fmt: skip
        head, _, _ = base.rpartition("/")
        tname = f"eudr_load_v{LOAD_VERSION}_n{n}_s{small}"
        have = _pg_admin(base, f"SELECT 1 FROM pg_database WHERE datname = '{tname}'")
        if not have or not cache.with_suffix(".pg.json").is_file():
            _pg_admin(base, f'DROP DATABASE IF EXISTS "{tname}"')
            _pg_admin(base, f'CREATE DATABASE "{tname}"')
            print(f"loading {n:,} plots into PostgreSQL (once; kept as a template) ...")
            meta = _load(f"{head}/{tname}", data, n, small)
            cache.with_suffix(".pg.json").write_text(json.dumps(meta))
        cache = cache.with_suffix(".pg.json")
        run_db = f"eudr_load_run_{os.getpid()}"
        _pg_admin(base, f'DROP DATABASE IF EXISTS "{run_db}"')
        _pg_admin(base, f'CREATE DATABASE "{run_db}" TEMPLATE "{tname}"')
        url = f"{head}/{run_db}"
    meta = json.loads(cache.read_text())
    print(f"  registry loaded in {meta['register_s']:.0f} s + checked in {meta['check_s']:.0f} s"
          " (when first made)")  # fmt: skip
    return Loaded(url, data, meta["tokens"], meta["orgs"], _plot_keys(url, meta["orgs"]["big"]))


# --- the server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hwm_kib(pid: int) -> int:
    """Peak RSS of the process (VmHWM), in KiB; 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    def __init__(self, loaded: Loaded, log: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "EUDR_CHECK_REGISTRY_URL": loaded.url,
               "EUDR_CHECK_DATASETS": str(loaded.data),
               "EUDR_CHECK_RATE_LIMIT_PER_MINUTE": "1000000"}  # fmt: skip
        env.pop("EUDR_CHECK_CHECK_DEPLOYMENT", None)
        env.pop("EUDR_CHECK_DASK_ADDRESS", None)
        self.log = log.open("wb")
        exe = Path(sys.executable).with_name("eudr-check")
        cmd = [str(exe) if exe.is_file() else sys.executable, *([] if exe.is_file() else
               ["-m", "eudr_check.cli"]), "serve", "--host", "127.0.0.1", "--port",
               str(self.port)]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)  # fmt: skip
        import httpx

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base}/healthz", timeout=2).raise_for_status()
                return
            except Exception:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"the server did not start; see {log}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()


# --- the clients --------------------------------------------------------------------------


@dataclass
class Tally:
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    uploads: dict[str, list[tuple[int, list[str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # client -> [(upload id, plot ids sent)]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.samples[kind].append(seconds)
            if error is not None:
                self.errors[kind].append(error)


class Client:
    def __init__(self, name: str, base: str, secret: str, tally: Tally, until: float) -> None:
        import httpx

        self.name, self.tally, self.until = name, tally, until
        self.http = httpx.Client(base_url=base, timeout=60,
                                 headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
        self.secret = secret
        self.rng = random.Random(name)

    def call(self, kind: str, method: str, url: str, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            r = self.http.request(method, url, **kw)
        except Exception as exc:  # a timeout or a refused connection counts as an error
            self.tally.add(kind, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
            return None
        spent = time.perf_counter() - t0
        if r.status_code >= 300:
            self.tally.add(kind, spent, f"{r.status_code} {url}: {r.text[:200]}")
            return None
        self.tally.add(kind, spent)
        return r

    def running(self) -> bool:
        return time.monotonic() < self.until

    def close(self) -> None:
        self.http.close()


def technician_pages(c: Client, org: int) -> None:
    """Page through the cooperative's plots with filters, as the plot list does."""
    filters: list[dict[str, Any]] = [
        {},
        {"verdict": "needs_review"},
        {"status": "warning"},
        {"verdict": "deforestation_detected"},
        {"q": "PE00012"},
    ]
    while c.running():
        params: dict[str, Any] = {"limit": PAGE, **c.rng.choice(filters)}
        kind = "list /api/plots?q= (search)" if "q" in params else "list /api/plots"
        for _ in range(3):  # the first page, then two more by keyset
            r = c.call(kind, "GET", "/api/plots", params=params)
            if r is None or not c.running():
                break
            nxt = r.json()["next_after"]
            if nxt is None:
                break
            params["after"] = nxt


def technician_details(c: Client, keys: list[int]) -> None:
    while c.running():
        c.call("detail /api/plots/{key}", "GET", f"/api/plots/{c.rng.choice(keys)}")
        if c.rng.random() < 0.25:
            c.call("page /plots (HTML)", "GET", "/plots", params={"page": c.rng.randint(1, 50)})


def exporter(c: Client, org: int) -> None:
    while c.running():
        c.call(
            "list /api/plots (shared)",
            "GET",
            "/api/plots",
            params={"organisation_id": org, "limit": PAGE},
        )
        c.call("list /api/lots", "GET", "/api/lots")
        c.call("page /lots (HTML)", "GET", "/lots")


def uploader(c: Client, shapes: list[dict[str, Any]]) -> None:
    n = 0
    while c.running():
        n += 1
        picks = c.rng.sample(range(len(shapes)), SMALL_PLOTS)
        ids = [f"{c.name}-{n:04d}-{i:02d}" for i in range(SMALL_PLOTS)]
        features = [{"type": "Feature", "geometry": shapes[p],
                     "properties": {"plot_id": pid, "ProducerCountry": "PE",
                                    "ProducerName": f"Socio {pid}"}}
                    for p, pid in zip(picks, ids, strict=True)]  # fmt: skip
        body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
        r = c.call(
            "upload POST /api/uploads",
            "POST",
            "/api/uploads",
            files={"file": (f"{c.name}_{n}.geojson", body, "application/geo+json")},
        )
        if r is None:
            continue
        upload = r.json()
        with c.tally.lock:
            c.tally.uploads[c.name].append((int(upload["id"]), ids))
        state = upload["check"]["state"]
        while state == "pending" and c.running():
            time.sleep(1.0)
            r = c.call("status /api/uploads/{id}", "GET", f"/api/uploads/{upload['id']}")
            state = "pending" if r is None else r.json()["check"]["state"]
        c.call("list /api/plots (own)", "GET", "/api/plots", params={"limit": PAGE})


# --- checks after the run -------------------------------------------------------------------


def verify(url: str, loaded: Loaded, tally: Tally, n: int) -> list[str]:
    """What the registry holds after the run: nothing lost, nothing twice."""
    import sqlalchemy as sa

    problems = []
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:

            def one(sql: str, **p: Any) -> int:
                return int(c.execute(sa.text(sql), p).scalar_one())

            big = one("SELECT count(*) FROM plots WHERE organisation_id = :o",
                      o=loaded.orgs["big"])  # fmt: skip
            if big != n:
                problems.append(f"the big cooperative has {big:,} plots, not {n:,}")
            for client, ups in tally.uploads.items():
                org = loaded.orgs[client]
                sent = [pid for _, ids in ups for pid in ids]
                have = [
                    str(p)
                    for p in c.execute(
                        sa.text("SELECT plot_id FROM plots WHERE organisation_id = :o"), {"o": org}
                    ).scalars()
                ]
                if sorted(have) != sorted(sent):
                    problems.append(f"{client}: sent {len(sent)} plots, registry has {len(have)}"
                                    f" ({len(set(sent) - set(have))} missing)")  # fmt: skip
            dup = one("SELECT count(*) FROM (SELECT organisation_id, plot_id FROM plots "
                      "GROUP BY organisation_id, plot_id HAVING count(*) > 1) d")  # fmt: skip
            if dup:
                problems.append(f"{dup} plot ids registered twice")
            unchecked = one(
                "SELECT count(*) FROM plots p WHERE NOT EXISTS (SELECT 1 FROM "
                "plot_results r WHERE r.plot_version_id = p.current_version_id)"
            )
            if unchecked:
                problems.append(f"{unchecked} current versions without a result")
            twice = one("SELECT count(*) FROM (SELECT plot_version_id FROM plot_results "
                        "GROUP BY plot_version_id HAVING count(*) > 1) d")  # fmt: skip
            if twice:
                problems.append(f"{twice} versions checked more than once")
            running = one("SELECT count(*) FROM check_runs WHERE status = 'running'")
            if running:
                problems.append(f"{running} check runs left running")
    finally:
        engine.dispose()
    return problems


def drain(url: str, limit_s: float) -> float:
    import sqlalchemy as sa

    t0 = time.monotonic()
    engine = sa.create_engine(url)
    try:
        while time.monotonic() - t0 < limit_s:
            with engine.connect() as c:
                left = c.execute(sa.text(
                    "SELECT count(*) FROM check_jobs WHERE state IN ('queued', 'running')"
                )).scalar_one()  # fmt: skip
            if not left:
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
    return time.monotonic() - t0


def _ms(values: list[float], q: float) -> float:
    return float(np.quantile(np.asarray(values), q)) * 1000 if values else float("nan")


def report(tally: Tally, seconds: float) -> tuple[int, float]:
    total = sum(len(v) for v in tally.samples.values())
    errors = sum(len(v) for v in tally.errors.values())
    print(f"\n{total:,} requests in {seconds:.0f} s: {total / seconds:,.1f} req/s, "
          f"{errors} errors")  # fmt: skip
    print(f"  {'request':<30} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>6}")
    listing: list[float] = []
    for kind in sorted(tally.samples):
        v = tally.samples[kind]
        if kind.startswith("list "):
            listing += v
        print(f"  {kind:<30} {len(v):>6} {_ms(v, 0.5):>8.0f} {_ms(v, 0.95):>8.0f} "
              f"{max(v) * 1000:>8.0f} {len(tally.errors.get(kind, [])):>6}")  # fmt: skip
    p95 = _ms(listing, 0.95)
    print(f"  {'all listings (/api/plots)':<30} {len(listing):>6} {_ms(listing, 0.5):>8.0f} "
          f"{p95:>8.0f}   goal p95 < {GOAL_P95_MS:.0f} ms: "
          f"{'met' if p95 < GOAL_P95_MS else 'NOT met'}")  # fmt: skip
    for kind, errs in tally.errors.items():
        for e in errs[:3]:
            print(f"  error {kind}: {e}")
    return errors, p95


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--registry", choices=["sqlite", "postgres"], default="sqlite")
    args = ap.parse_args(argv)
    if args.clients < 4:
        raise SystemExit("--clients: at least 4 (three technicians of the big one, the exporter)")
    uploaders = args.clients - 4
    work = bn.DATA_DIR / f"load_run_{os.getpid()}"
    work.mkdir(parents=True)
    try:
        loaded = prepare(args.plots, max(uploaders, 1), args.registry, work)
        import geopandas as gpd

        frame = gpd.read_file(loaded.data / "plots.fgb", rows=slice(0, 5000), engine="pyogrio")
        shapes = [json.loads(gpd.GeoSeries([g]).to_json())["features"][0]["geometry"]
                  for g in frame.geometry]  # fmt: skip
        server = Server(loaded, work / "server.log")
        tally = Tally()
        try:
            print(f"server on {server.base} (pid {server.proc.pid}); {args.clients} clients for "
                  f"{args.seconds:.0f} s ...", flush=True)  # fmt: skip
            until = time.monotonic() + args.seconds
            big = loaded.orgs["big"]
            roles: list[tuple[str, str, Callable[[Client], None]]] = [
                ("tec-a", "big", lambda c: technician_pages(c, big)),
                ("tec-b", "big", lambda c: technician_pages(c, big)),
                ("tec-c", "big", lambda c: technician_details(c, loaded.keys)),
                ("exporter", "exporter", lambda c: exporter(c, big)),
            ] + [(f"small{i}", f"small{i}", lambda c: uploader(c, shapes))
                 for i in range(uploaders)]  # fmt: skip
            threads, clients = [], []
            for name, who, fn in roles:
                client = Client(name, server.base, loaded.tokens[who], tally, until)
                clients.append(client)
                threads.append(threading.Thread(target=fn, args=(client,), name=name))
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=args.seconds + 120)
            spent = time.monotonic() - t0
            for client in clients:
                client.close()
            drained = drain(loaded.url, DRAIN_S)
            peak = _hwm_kib(server.proc.pid) / 1024
        finally:
            server.stop()
        errors, _ = report(tally, spent)
        sent = sum(len(ids) for ups in tally.uploads.values() for _, ids in ups)
        print(
            f"  uploads answered 201: {sum(len(u) for u in tally.uploads.values())} "
            f"({sent:,} plots); queue drained {drained:.1f} s after the clients stopped"
        )
        print(f"  server peak RSS {peak:,.0f} MiB; registry {args.registry}")
        problems = verify(loaded.url, loaded, tally, args.plots)
        for p in problems:
            print(f"  LOST OR DUPLICATED: {p}")
        if not problems:
            print("  registry after the run: every uploaded plot once, every current version "
                  "checked once, no run left running")  # fmt: skip
        return 1 if problems or errors else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.registry == "postgres":
            base = os.environ.get("EUDR_CHECK_TEST_PG_URL")
            if base:
                _pg_admin(base, f'DROP DATABASE IF EXISTS "eudr_load_run_{os.getpid()}"')


if __name__ == "__main__":
    raise SystemExit(main())
