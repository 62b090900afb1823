"""The service stack: started by scripts/start_stack.sh (the documented no-Docker path) on free
ports of 127.0.0.1, each process checked healthy, a sample upload checked end to end through
the Prefect deployment on the Dask cluster; and docker/compose.yaml checked against the script
(same services, same commands, a health check on each), since no Docker engine runs here.

Needs the PostgreSQL of scripts/start_postgres.sh: EUDR_CHECK_TEST_PG_URL (scripts/run_tests.sh
sets it), else this module starts it through that script. The stack gets databases of its own,
dropped afterwards.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from flows.deploy import deployments
from tests.test_sample_verdicts import verdict_table

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "scripts" / "start_stack.sh"
TOOL = ROOT / "scripts" / "stack_tool.py"
COMPOSE = ROOT / "docker" / "compose.yaml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
SAMPLE = ROOT / "sample_plots" / "cooperativa.geojson"
BIN = Path(sys.executable).parent

SERVICES = {"db", "prefect-server", "dask-scheduler", "dask-worker", "worker", "api"}
# Every deployment flows/deploy.py defines, as "flow/deployment".
DEPLOYMENTS = tuple(f"{d.flow_name}/{d.name}" for d in deployments())
# The stack_tool health check each compose service uses (the script waits on the same ones).
HEALTH_KIND = {
    "prefect-server": "prefect",
    "dask-scheduler": "dask",
    "dask-worker": "http",
    "worker": "deployments",
    "api": "api",
}
DASK_WORKERS = 2
CHECK_DEADLINE_S = 180

# The first test using the stack pays its start (up to 150 s per process); the end-to-end one
# waits up to CHECK_DEADLINE_S: more than the default 300 s per test.
STACK_TIMEOUT = 900


# ---------------------------------------------------------------------------------------------
# docker/ against the script (no Docker engine needed)


def compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def script_commands() -> dict[str, list[str]]:
    done = subprocess.run(
        ["bash", str(START), "commands"], capture_output=True, text=True, check=True, timeout=60
    )
    out = {}
    for line in done.stdout.splitlines():
        name, cmd = line.split("\t", 1)
        out[name] = shlex.split(cmd)
    return out


# Where a process listens and keeps scratch files differs (0.0.0.0 and service names in
# containers, 127.0.0.1 and chosen ports here); the program and its options must not.
PLACE_OPTIONS = {"--host", "--port", "--dashboard-address", "--local-directory"}


def normalised(argv: list[str]) -> list[str]:
    out: list[str] = []
    for i, arg in enumerate(argv):
        if i > 0 and argv[i - 1] in PLACE_OPTIONS:
            out.append("<place>")
        elif arg.startswith("tcp://"):
            out.append("<scheduler>")
        else:
            out.append(arg)
    return out


def test_compose_has_every_service_each_with_a_healthcheck() -> None:
    services = compose()["services"]
    assert set(services) == SERVICES
    for name, svc in services.items():
        test = svc.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name
        for dep, cond in svc.get("depends_on", {}).items():
            assert dep in SERVICES and cond == {"condition": "service_healthy"}, (name, dep)
    assert services["db"]["image"] == "postgis/postgis:15-3.4"
    assert "pg_isready" in services["db"]["healthcheck"]["test"][1]
    for name, kind in HEALTH_KIND.items():
        test = services[name]["healthcheck"]["test"]
        assert test[1:5] == ["python", "scripts/stack_tool.py", "health", kind], name
    assert services["dask-worker"]["deploy"]["replicas"] == DASK_WORKERS
    assert set(services["api"]["depends_on"]) == {"db", "worker"}


def test_compose_environment_and_volumes_fit_together() -> None:
    doc = compose()
    services = doc["services"]
    assert set(doc["volumes"]) == {"pgdata", "datasets"}
    assert any(v.startswith("pgdata:") for v in services["db"]["volumes"])
    env = {name: services[name]["environment"] for name in ("api", "worker", "dask-worker")}
    api = env["api"]
    assert api["EUDR_CHECK_REGISTRY_URL"].startswith("postgresql+psycopg://")
    assert "@db:5432/" in api["EUDR_CHECK_REGISTRY_URL"]
    assert api["EUDR_CHECK_CHECK_DEPLOYMENT"] == "check-queue/check-queue"
    assert api["EUDR_CHECK_DASK_ADDRESS"] == "tcp://dask-scheduler:8786"
    assert api["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    # The API passes its datasets path to the flows and they to the Dask workers.
    assert env["worker"] == env["dask-worker"] == api
    for name in env:
        assert "datasets:/data" in services[name]["volumes"], name
    server = services["prefect-server"]["environment"]
    assert server["PREFECT_SERVER_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")


def test_compose_runs_the_commands_of_the_script() -> None:
    services = compose()["services"]
    ours = script_commands()
    assert set(ours) == SERVICES - {"db"}  # the database: postgis image / start_postgres.sh
    for name, argv in ours.items():
        assert normalised(services[name]["command"]) == normalised(argv), name


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def test_dockerfile_one_image_for_every_process() -> None:
    steps = dockerfile_instructions()
    assert steps[0] == ("FROM", "python:3.11-slim-bookworm")
    runs = " ".join(arg for word, arg in steps if word == "RUN")
    assert "pip install -c constraints.txt" in runs
    assert "apt-get" not in runs  # the wheels carry GDAL
    users = [arg for word, arg in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    copied = {arg.split()[0] for word, arg in steps if word == "COPY"}
    assert {"config", "sample_data", "flows", "scripts/stack_tool.py", "src"} <= copied
    (health,) = [arg for word, arg in steps if word == "HEALTHCHECK"]
    assert '"scripts/stack_tool.py", "health", "api"' in health
    (cmd,) = [arg for word, arg in steps if word == "CMD"]
    assert json.loads(cmd) == compose()["services"]["api"]["command"]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "out", "data", ".stack"} <= set(ignored)


def test_health_tool_names_what_is_wrong() -> None:
    (port,) = free_ports(1)
    done = subprocess.run(
        [sys.executable, str(TOOL), "health", "api", f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"127.0.0.1:{port}/healthz" in done.stderr
    # A watched process that exits ends the wait at once, with its own exit code.
    with subprocess.Popen([sys.executable, "-c", "pass"]) as gone:
        gone.wait()
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(TOOL), "health", "api", f"http://127.0.0.1:{port}", "--wait", "60",
         "--pid", str(gone.pid)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 3 and "exited" in done.stderr
    assert time.monotonic() - t0 < 30


# ---------------------------------------------------------------------------------------------
# the stack itself


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def pg_url() -> str:
    url = os.environ.get("EUDR_CHECK_TEST_PG_URL")
    if url:
        return url
    # Outside scripts/run_tests.sh: the same private server, started the same way.
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "start_postgres.sh")],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"scripts/start_postgres.sh failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def drop_databases(server_url: str, names: list[str]) -> None:
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Stack:
    run_dir: Path
    env: dict[str, str]  # what start_stack.sh printed, for clients
    stdout: str
    script_env: dict[str, str]  # the script's own settings
    dask_http: str

    @property
    def api(self) -> str:
        return self.env["EUDR_CHECK_API_URL"]

    @property
    def prefect(self) -> str:
        return self.env["PREFECT_API_URL"]

    def group_leaders(self) -> dict[str, int]:
        out = {}
        for record in sorted((self.run_dir / "pids").glob("*.pid")):
            out[record.stem.split("-", 1)[1]] = int(record.read_text().split()[0])
        return out


def parse_env(stdout: str) -> dict[str, str]:
    env = {}
    for line in stdout.splitlines():
        if line.startswith("export "):
            key, _, value = shlex.split(line)[1].partition("=")
            env[key] = value
    return env


def run_script(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(START), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def members(leaders: dict[str, int]) -> list[psutil.Process]:
    out = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) in leaders.values() and proc.status() != "zombie":
                out.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return out


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    server = pg_url()
    run_dir = tmp_path_factory.mktemp("stack")
    api, prefect, dask, dask_http = free_ports(4)
    db = f"eudr_stack_test_{uuid.uuid4().hex[:12]}"
    # Nothing of the caller's Prefect or eudr_check settings leaks into the stack.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "EUDR_CHECK_"))}
    env.update(
        EUDR_CHECK_STACK_DIR=str(run_dir),
        EUDR_CHECK_STACK_API_PORT=str(api),
        EUDR_CHECK_STACK_PREFECT_PORT=str(prefect),
        EUDR_CHECK_STACK_DASK_PORT=str(dask),
        EUDR_CHECK_STACK_DASK_HTTP_PORT=str(dask_http),
        EUDR_CHECK_STACK_PG_URL=server,
        EUDR_CHECK_STACK_DB=db,
        EUDR_CHECK_STACK_TIMEOUT="150",
        EUDR_CHECK_STACK_STOP_TIMEOUT="30",
    )
    leaders: dict[str, int] = {}
    try:
        t0 = time.monotonic()
        started = run_script(env=env, timeout=420)
        if started.returncode != 0:
            pytest.fail(f"start_stack.sh failed ({started.returncode}):\n{started.stderr[-6000:]}")
        found = Stack(run_dir, parse_env(started.stdout), started.stdout, env,
                      f"http://127.0.0.1:{dask_http}")  # fmt: skip
        leaders = found.group_leaders()
        print(f"stack up in {time.monotonic() - t0:.1f} s: {found.api}")
        yield found
    finally:
        # Stop is bounded (30 s SIGTERM, then SIGKILL) and must leave nothing of ours behind.
        stopped = run_script("stop", env=env, timeout=180)
        drop_databases(server, [db, f"{db}_prefect"])
        left = members(leaders) if leaders else []
        assert stopped.returncode == 0, stopped.stderr
        assert not left, f"still running after stop: {[p.cmdline() for p in left]}"


@pytest.mark.slow
@pytest.mark.timeout(STACK_TIMEOUT)
def test_every_process_is_healthy(stack: Stack) -> None:
    env = stack.env
    assert set(stack.group_leaders()) == {
        "dask-scheduler", "prefect-server", "dask-worker-1", "dask-worker-2", "worker", "api",
    }  # fmt: skip

    engine = sa.create_engine(env["EUDR_CHECK_REGISTRY_URL"], poolclass=NullPool)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT postgis_version()").scalar_one()
    finally:
        engine.dispose()
    db = make_url(env["EUDR_CHECK_REGISTRY_URL"]).database
    assert db == stack.script_env["EUDR_CHECK_STACK_DB"]  # not the test database

    from distributed import Client

    with Client(env["EUDR_CHECK_DASK_ADDRESS"], timeout=30) as client:
        assert len(client.scheduler_info()["workers"]) == DASK_WORKERS

    with httpx.Client(timeout=10) as http:
        assert http.get(f"{stack.prefect}/health").json() is True
        for name in DEPLOYMENTS:
            dep = http.get(f"{stack.prefect}/deployments/name/{name}")
            assert dep.status_code == 200, name
            assert dep.json()["status"] == "READY", name
        health = http.get(f"{stack.api}/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"

    # Only 127.0.0.1: every listening socket of every process the script started.
    listening = [
        (p.pid, c.laddr)
        for p in members(stack.group_leaders())
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening
    assert all(addr.ip == "127.0.0.1" for _, addr in listening), listening


@pytest.mark.slow
@pytest.mark.timeout(STACK_TIMEOUT)
def test_a_second_start_reuses_the_running_stack(stack: Stack) -> None:
    again = run_script(env=stack.script_env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stderr
    assert again.stdout == stack.stdout


@pytest.mark.slow
@pytest.mark.timeout(STACK_TIMEOUT)
def test_an_upload_is_checked_by_the_prefect_deployment_on_dask(stack: Stack) -> None:
    env = {**os.environ, **stack.env}

    def admin(*args: str) -> str:
        done = subprocess.run(
            [str(BIN / "eudr-check"), "admin", *args],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    org = admin("create-org", "Cooperativa Sol Andino", "--kind", "cooperative")
    token = admin("create-token", "--role", "technician", "--org", org, "--name", "técnico")
    auth = {"Authorization": f"Bearer {token}"}

    with httpx.Client(base_url=stack.api, headers=auth, timeout=60) as http:
        with SAMPLE.open("rb") as fh:
            sent = http.post("/api/uploads", files={"file": (SAMPLE.name, fh, "application/json")})
        assert sent.status_code == 201, sent.text
        upload = sent.json()
        assert upload["new_plots"] >= 70

        deadline = time.monotonic() + CHECK_DEADLINE_S
        while True:
            page = http.get("/api/plots", params={"limit": 1000}).json()
            if page["total"] and "unchecked" not in page["counts"]:
                break
            assert time.monotonic() < deadline, f"not all checked in {CHECK_DEADLINE_S}s: {page}"
            time.sleep(2)

    assert page["total"] == upload["new_plots"] == len(page["items"])
    assert sum(page["counts"].values()) == page["total"]
    # Each plot gets the verdict sample_data/README.md promises (a repeated ID is one plot in
    # the registry: left out of the comparison).
    rows = verdict_table()
    repeated = {pid for pid, n in Counter(r.plot_id for r in rows).items() if n > 1}
    expected = {r.plot_id: r.verdict for r in rows if r.plot_id not in repeated}
    got = {p["plot_id"]: p["verdict"] for p in page["items"] if p["plot_id"] not in repeated}
    assert got == expected
    assert {"deforestation_free", "needs_review", "deforestation_detected", "undetermined"} == set(
        page["counts"]
    )

    # It ran as a flow run of the check-queue deployment (the registry's jobs), on the
    # stack's Dask scheduler, and every job it took is done.
    with httpx.Client(timeout=30) as http:
        dep = http.get(f"{stack.prefect}/deployments/name/check-queue/check-queue").json()
        runs = http.post(
            f"{stack.prefect}/flow_runs/filter",
            json={"flow_runs": {"deployment_id": {"any_": [dep["id"]]}}},
        ).json()
    assert runs and all(r["state_type"] == "COMPLETED" for r in runs), runs
    engine = sa.create_engine(stack.env["EUDR_CHECK_REGISTRY_URL"], poolclass=NullPool)
    try:
        with engine.connect() as conn:
            states = conn.execute(sa.text("SELECT state, worker FROM check_jobs")).all()
    finally:
        engine.dispose()
    assert states and all(state == "done" for state, _ in states), states

    from distributed import Client

    with Client(stack.env["EUDR_CHECK_DASK_ADDRESS"], timeout=30) as client:
        prefixes = client.run_on_scheduler(
            lambda dask_scheduler: list(dask_scheduler.task_prefixes)
        )
    assert "analyse_plots" in prefixes
