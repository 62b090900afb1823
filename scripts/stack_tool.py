"""Helpers of the service stack, shared by scripts/start_stack.sh and docker/compose.yaml.

    python scripts/stack_tool.py health KIND TARGET [--wait S] [--pid PID ...]
    python scripts/stack_tool.py create-db SERVER_URL NAME [--extension EXT ...]
    python scripts/stack_tool.py ports-free PORT ...
    python scripts/stack_tool.py stop RUN_DIR [--timeout S]

One health check per process, used both by the start script (with --wait) and by compose's
healthchecks, so the two paths judge a process the same way. Health checks use only the standard
library (urllib), except `postgis`, which needs SQLAlchemy and psycopg (in the venv and the
image). Exit codes: 0 healthy, 1 not healthy (the reason on stderr), 3 a watched process exited.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# The deployments `python -m flows.deploy` serves, as flow/deployment.
DEPLOYMENTS = (
    "ingest/ingest",
    "check/check",
    "check-queue/check-queue",
    "nightly/nightly",
    "bundle/bundle",
    "dds-poll/dds-poll",
)
HTTP_TIMEOUT = 5.0
# Boot time in /proc/stat is whole seconds; the server and we share the host's clock.
CLOCK_SLACK_S = 2.0


class Unhealthy(Exception):
    """The reason a process is not (yet) healthy."""


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (OSError, ValueError) as exc:  # refused, reset, timed out, bad URL
        raise Unhealthy(f"GET {url}: {exc}") from None


def _get_json(url: str) -> Any:
    status, body = _get(url)
    if status != 200:
        raise Unhealthy(f"GET {url}: HTTP {status} {body[:200]!r}")
    try:
        return json.loads(body)
    except ValueError:
        raise Unhealthy(f"GET {url}: not JSON: {body[:200]!r}") from None


def check_api(base: str) -> str:
    doc = _get_json(base.rstrip("/") + "/healthz")
    if not isinstance(doc, dict) or doc.get("status") != "ok":
        raise Unhealthy(f"/healthz says {doc!r}")
    return f"api ok: {doc}"


def check_prefect(api_url: str) -> str:
    if _get_json(api_url.rstrip("/") + "/health") is not True:
        raise Unhealthy("Prefect /health did not answer true")
    return "prefect server ok"


def check_deployments(api_url: str, since: float | None = None) -> str:
    """Every deployment registered, READY and not paused. Prefect marks a served deployment
    READY while a runner polls for its runs; the status lives in Prefect's database, so with
    `since` (epoch seconds: when the serving process started) the last poll must also be
    newer than that, or a restarted worker would look healthy on its predecessor's polls."""
    for name in DEPLOYMENTS:
        status, body = _get(f"{api_url.rstrip('/')}/deployments/name/{name}")
        if status == 404:
            raise Unhealthy(f"deployment {name} is not registered yet")
        if status != 200:
            raise Unhealthy(f"deployment {name}: HTTP {status}")
        dep = json.loads(body)
        if dep.get("status") != "READY":
            raise Unhealthy(f"deployment {name} is {dep.get('status')}, not READY")
        if dep.get("paused"):
            raise Unhealthy(f"deployment {name} is paused")
        if since is not None:
            polled = dep.get("last_polled")
            when = dt.datetime.fromisoformat(polled.replace("Z", "+00:00")) if polled else None
            if when is None or when.timestamp() < since - CLOCK_SLACK_S:
                raise Unhealthy(f"deployment {name}: no poll since the worker started")
    return f"deployments ready: {', '.join(DEPLOYMENTS)}"


def process_started(pid: int) -> float:
    """When process `pid` started, in epoch seconds (to about a second: boot time is whole)."""
    btime = next(
        int(line.split()[1])
        for line in Path("/proc/stat").read_text().splitlines()
        if line.startswith("btime ")
    )
    ticks = _start_time(pid)
    if ticks is None:
        raise Unhealthy(f"no process {pid}")
    return btime + int(ticks) / os.sysconf("SC_CLK_TCK")


def check_dask(http_url: str, workers: int) -> str:
    """The scheduler's /health (its HTTP server runs even with --no-dashboard), and with
    workers > 0 at least that many workers registered with it."""
    status, body = _get(http_url.rstrip("/") + "/health")
    if status != 200 or body.strip() != b"ok":
        raise Unhealthy(f"scheduler /health: HTTP {status} {body[:100]!r}")
    if workers <= 0:
        return "dask ok"
    counts = _get_json(http_url.rstrip("/") + "/json/counts.json")
    if counts.get("workers", 0) < workers:
        raise Unhealthy(f"{counts.get('workers', 0)} of {workers} dask workers registered")
    return f"dask ok: {counts['workers']} workers"


def check_http(url: str) -> str:
    status, body = _get(url)
    if status != 200:
        raise Unhealthy(f"GET {url}: HTTP {status} {body[:200]!r}")
    return f"{url} ok"


def check_postgis(url: str) -> str:
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    engine = sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT postgis_version()").scalar_one()
    except sa.exc.SQLAlchemyError as exc:
        raise Unhealthy(f"PostgreSQL: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    return f"postgis {version}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def health(check: Callable[[], str], wait: float, pids: Iterable[int]) -> int:
    deadline = time.monotonic() + wait
    while True:
        try:
            print(check())
            return 0
        except Unhealthy as exc:
            reason = str(exc)
        dead = [p for p in pids if not _alive(p)]
        if dead:
            print(f"process {', '.join(map(str, dead))} exited ({reason})", file=sys.stderr)
            return 3
        if time.monotonic() >= deadline:
            print(reason, file=sys.stderr)
            return 1
        time.sleep(0.5)


def create_db(server_url: str, name: str, extensions: list[str]) -> int:
    """Create database `name` on the server of `server_url` (owned by its role) if missing,
    with the extensions; print its URL. The role needs CREATEDB; PostGIS needs a superuser
    unless the template database already has it (scripts/start_postgres.sh puts it in
    template1, so a plain role suffices there)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    if not name.replace("_", "").isalnum():
        print(f"bad database name {name!r}: letters, digits and _ only", file=sys.stderr)
        return 2
    base = make_url(server_url)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    target = base.set(database=name)
    engine = sa.create_engine(target, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}
            ).first()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        with engine.connect() as conn:
            for ext in extensions:
                conn.exec_driver_sql(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')
    except sa.exc.SQLAlchemyError as exc:
        print(f"database {name}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        admin.dispose()
        engine.dispose()
    print(target.render_as_string(hide_password=False))
    return 0


def ports_free(ports: list[int]) -> int:
    busy = []
    for port in ports:
        with socket.socket() as s:
            # As the servers do: a port left in TIME_WAIT by a stopped stack is free to them.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                busy.append(port)
    if busy:
        print(f"port(s) in use on 127.0.0.1: {', '.join(map(str, busy))}", file=sys.stderr)
        return 1
    return 0


# stop --------------------------------------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat): with
    the pid it names one process, whatever pids the system reuses later."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every process we can see."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return out


def _tree(leaders: set[int]) -> set[int]:
    """Everything in the leaders' process groups, and their descendants wherever they moved
    (a Prefect runner starts each flow run in a session of its own)."""
    procs = _processes()
    found = {pid for pid, (_, pgid) in procs.items() if pgid in leaders}
    grew = True
    while grew:
        more = {pid for pid, (ppid, _) in procs.items() if ppid in found} - found
        found |= more
        grew = bool(more)
    return found


def _signal(pgid: int, members: set[int], starts: dict[int, str | None], sig: int) -> None:
    """Signal the process group, and those members that left it (each only while it is still
    the process we saw: same pid and start time). Each gets the signal once: a repeated one
    re-enters handlers that are not made for it (Prefect's runner)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
    for pid in members:
        try:
            moved = os.getpgid(pid) != pgid
        except ProcessLookupError:
            continue
        if moved and _start_time(pid) == starts.get(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)


def stop(run_dir: Path, timeout: float) -> int:
    """Stop the processes recorded in RUN_DIR/pids, last started first: each group gets its
    stop signal and up to `timeout` seconds to exit, then SIGKILL.

    A record `<order>-<name>.pid` holds `pid start-time [signal]`; the signal is TERM unless
    named (the Prefect worker gets INT: see scripts/start_stack.sh).
    A recorded pid whose start time differs is another process now (the pid was reused): left
    alone. While any member of a group lives its pid cannot be reused, so a group whose leader
    is gone is still ours."""
    pid_dir = run_dir / "pids"
    records = sorted(pid_dir.glob("*.pid"), reverse=True) if pid_dir.is_dir() else []
    for record in records:
        pid_s, start, *rest = record.read_text().split()
        pid, name = int(pid_s), record.stem.split("-", 1)[1]
        sig = signal.Signals[f"SIG{rest[0]}"] if rest else signal.SIGTERM
        current = _start_time(pid)
        members = _tree({pid})
        if current not in (None, start) or not members:
            record.unlink()
            continue
        starts = {m: _start_time(m) for m in members}
        t0 = time.monotonic()
        _signal(pid, members, starts, sig)
        deadline = t0 + timeout
        while time.monotonic() < deadline and any(_alive(m) for m in members):
            time.sleep(0.1)
        left = {m for m in members if _alive(m) and _start_time(m) == starts[m]}
        if left:
            _signal(pid, left, starts, signal.SIGKILL)
            kill_deadline = time.monotonic() + 5
            while time.monotonic() < kill_deadline and any(_alive(m) for m in left):
                time.sleep(0.1)
            how = f"{len(left)} process(es) killed after {timeout:g} s"
        else:
            how = f"{time.monotonic() - t0:.1f} s"
        print(f"stopped {name} (process group {pid}, {sig.name}): {how}", file=sys.stderr)
        record.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack_tool", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("health", help="one health check (exit 0 when healthy)")
    h.add_argument("kind", choices=["api", "prefect", "deployments", "dask", "http", "postgis"])
    h.add_argument("target", help="base URL (API, Prefect API, scheduler HTTP) or database URL")
    h.add_argument("--workers", type=int, default=0, help="dask: workers required")
    h.add_argument("--wait", type=float, default=0.0, help="retry for this many seconds")
    h.add_argument("--pid", type=int, action="append", default=[], help="give up if it exits")
    h.add_argument("--since-pid", type=int, help="deployments: polled since this process started")
    c = sub.add_parser("create-db", help="create a database (if missing) and extensions")
    c.add_argument("server_url")
    c.add_argument("name")
    c.add_argument("--extension", action="append", default=[])
    p = sub.add_parser("ports-free", help="exit 1 naming the ports in use on 127.0.0.1")
    p.add_argument("ports", type=int, nargs="+")
    s = sub.add_parser("stop", help="stop the processes recorded in a run directory")
    s.add_argument("run_dir", type=Path)
    s.add_argument("--timeout", type=float, default=20.0, help="seconds per process")
    args = parser.parse_args(argv)

    if args.cmd == "health":
        checks: dict[str, Callable[[], str]] = {
            "api": lambda: check_api(args.target),
            "prefect": lambda: check_prefect(args.target),
            "deployments": lambda: check_deployments(
                args.target, process_started(args.since_pid) if args.since_pid else None
            ),
            "dask": lambda: check_dask(args.target, args.workers),
            "http": lambda: check_http(args.target),
            "postgis": lambda: check_postgis(args.target),
        }
        return health(checks[args.kind], args.wait, args.pid)
    if args.cmd == "create-db":
        return create_db(args.server_url, args.name, args.extension)
    if args.cmd == "ports-free":
        return ports_free(args.ports)
    return stop(args.run_dir, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
