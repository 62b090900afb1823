"""The check queue under faults and load: a server killed mid-check (kill -9, a real process)
and restarted ends with every plot checked once; a big cooperative does not keep a small one
waiting behind all of its plots."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from eudr_check.api.checks import CheckQueue
from eudr_check.datasets.catalog import load_catalog
from eudr_check.datasets.sources import DataSources
from eudr_check.intake import read_plots
from eudr_check.rules import validate
from eudr_check.store import Registry

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = ROOT / "sample_data"
# Inside the sample rasters' clip near Jaén (-78.95..-78.66, -5.70..-5.31).
WEST, NORTH, STEP, SIDE = -78.94, -5.32, 0.0011, 0.0005
DEADLINE_S = 240


def _plots(path: Path, n: int, prefix: str) -> Path:
    cols = int(n**0.5) + 1
    features = []
    for i in range(n):
        x, y = WEST + (i % cols) * STEP, NORTH - (i // cols) * STEP
        ring = [[x, y], [x + SIDE, y], [x + SIDE, y - SIDE], [x, y - SIDE], [x, y]]
        features.append({"type": "Feature", "properties": {"plot_id": f"{prefix}-{i:05d}",
                         "ProducerCountry": "PE"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _counts(url: str) -> tuple[int, int, int, list[str]]:
    """(results, distinct versions with a result, current versions, run statuses)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            results = c.execute(sa.text("SELECT count(*) FROM plot_results")).scalar_one()
            checked = c.execute(
                sa.text("SELECT count(DISTINCT plot_version_id) FROM plot_results")
            ).scalar_one()
            versions = c.execute(sa.text("SELECT count(*) FROM plot_versions")).scalar_one()
            runs = [str(r) for r in c.execute(sa.text("SELECT status FROM check_runs")).scalars()]
        return int(results), int(checked), int(versions), runs
    finally:
        engine.dispose()


class Server:
    def __init__(self, url: str, port: int, log: Path) -> None:
        env = {**os.environ, "EUDR_CHECK_REGISTRY_URL": url,
               "EUDR_CHECK_DATASETS": str(SAMPLE_DATA), "EUDR_CHECK_BATCH_PLOTS": "100",
               "EUDR_CHECK_CHECK_LEASE_S": "3",
               "EUDR_CHECK_RATE_LIMIT_PER_MINUTE": "100000"}  # fmt: skip
        env.pop("EUDR_CHECK_CHECK_DEPLOYMENT", None)
        self.port = port
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "eudr_check.cli", "serve", "--port", str(port)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        s.kill()


def _upload(port: int, secret: str, path: Path) -> int:
    boundary = "limite"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: application/geo+json\r\n\r\n'
    ).encode()
    body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()  # fmt: skip
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/uploads", data=body, method="POST",
        headers={"Authorization": f"Bearer {secret}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=120) as r:
        return int(r.status)


def test_a_server_killed_mid_check_and_restarted_checks_every_plot_once(
    tmp_path: Path, servers: list[Server]
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Registry.open(url) as reg:
        org = reg.create_organisation("Cooperativa Grande", "cooperative")
        _, secret = reg.create_token("technician", "tec", org)
    port = _free_port()
    servers.append(Server(url, port, tmp_path / "server.log"))
    assert _upload(port, secret, _plots(tmp_path / "socios.geojson", 3000, "G")) == 201
    # Kill -9 once some results are in, well before all are.
    deadline = time.monotonic() + DEADLINE_S
    while _counts(url)[1] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    servers[-1].kill()
    results, checked, versions, _ = _counts(url)
    assert 0 < checked < versions == 3000, "the kill should land mid-check"
    servers.append(Server(url, _free_port(), tmp_path / "server2.log"))
    while _counts(url)[1] < versions and time.monotonic() < deadline:
        time.sleep(0.2)
    results, checked, versions, runs = _counts(url)
    assert checked == versions == 3000 and results == checked  # each plot once
    assert "running" not in runs and "failed" in runs  # the killed run ended, as failed


def test_a_big_cooperative_does_not_keep_a_small_one_waiting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    sources = DataSources(load_catalog(), SAMPLE_DATA)
    with Registry.open(url) as reg:
        big = reg.create_organisation("Cooperativa Grande", "cooperative")
        small = reg.create_organisation("Cooperativa Chica", "cooperative")
        for org, path in ((big, _plots(tmp_path / "grande.geojson", 50_000, "G")),
                          (small, _plots(tmp_path / "chica.geojson", 1, "C"))):  # fmt: skip
            table = read_plots(path)
            reg.register_upload(org, validate(table, fix=True), path.name, table.sha256)
        queue = CheckQueue(reg, sources)
        try:
            queue.submit("upload-big", reg.current_versions(big), big)
            queue.submit("upload-small", reg.current_versions(small), small)
            deadline = time.monotonic() + DEADLINE_S
            while queue.busy("upload-small") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not queue.busy("upload-small")
            # The small one is done while most of the big one still waits.
            assert queue.busy("upload-big")
            assert reg.key_state("upload-big").pending >= 20
        finally:
            queue.close()
    checked = _counts(url)[1]
    assert 1 <= checked <= 3 * 2000 + 1
