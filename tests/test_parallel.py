"""The Dask engine gives the serial pipeline's results, byte for byte, on a local cluster of
processes and on an external scheduler with its own workers; a worker killed mid-run loses and
duplicates nothing; the streaming check writes every plot once, in input order.

Real Dask on 127.0.0.1 only. Rasters: small clips of all three default datasets across the
10°S tile edge (so windows mosaic two files), written by tests/rasters.py.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
from numpy.typing import NDArray

from eudr_check.datasets.catalog import Catalog, load_catalog
from eudr_check.intake import read_plots
from eudr_check.parallel import (
    batch_chunks,
    check_plots_parallel,
    check_stream,
    cluster_client,
    plot_slices,
    read_plot_batches,
    stream_columns,
)
from eudr_check.pipeline import check_plots, plan, spatial_chunks
from eudr_check.reports.results_csv import write_results_csv
from eudr_check.rules import ValidationReport, validate
from tests.rasters import HANSEN_PX, JRC_PX, write_layer

WEST, NORTH = -75.6, -9.9  # central Peru (Pasco/Junín); the clip crosses the 10°S tile edge
SIDE = 0.2  # degrees
EDGE = -10.0
DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT_S = 60
# Even without a dashboard, schedulers and workers serve HTTP routes (health, metrics), on all
# interfaces by default: keep them on loopback, on free ports.
LOOPBACK_HTTP = ("--no-dashboard", "--dashboard-address", "127.0.0.1:0")


# --- data ----------------------------------------------------------------------------------------


def _field(rng: np.random.Generator, shape: tuple[int, int], lo: float, hi: float) -> Any:
    """A blocky random field (16-pixel blocks) with per-pixel noise."""
    blocks = rng.uniform(lo, hi, (shape[0] // 16 + 1, shape[1] // 16 + 1))
    out = np.kron(blocks, np.ones((16, 16)))[: shape[0], : shape[1]]
    return out + rng.normal(0, 5, shape)


def _write_clips(
    catalog: Catalog, data: Path, ds: str, layer: str, tiles: tuple[str, str],
    values: NDArray[np.generic], px: float,
) -> None:  # fmt: skip
    """Split a layer at the 10°S edge into the two tiles' clips, under their real names."""
    split = round((NORTH - EDGE) / px)
    write_layer(catalog, data, ds, layer, tiles[0], values[:split], WEST, NORTH)
    write_layer(catalog, data, ds, layer, tiles[1], values[split:], WEST, EDGE)


def _rasters(catalog: Catalog, data: Path, rng: np.random.Generator) -> None:
    n = round(SIDE / HANSEN_PX)
    tree = np.clip(_field(rng, (n, n), -40, 110), 0, 100).astype(np.uint8)
    loss = np.where(_field(rng, (n, n), 0, 1) > 0.85, rng.integers(1, 25, (n, n)), 0)
    loss = loss.astype(np.uint8)
    tree[10:40, 100:160] = 255  # some nodata
    hansen = ("00N_080W", "10S_080W")
    _write_clips(catalog, data, "hansen_gfc", "treecover2000", hansen, tree, HANSEN_PX)
    _write_clips(catalog, data, "hansen_gfc", "lossyear", hansen, loss, HANSEN_PX)
    m = round(SIDE / JRC_PX)
    forest = (_field(rng, (m, m), 0, 1) > 0.5).astype(np.uint8)
    forest[200:260, 400:500] = 255
    _write_clips(catalog, data, "jrc_gfc2020", "forest", ("N0_W80", "S10_W80"), forest, JRC_PX)
    alerts = np.where(rng.random((m, m)) < 0.002, 20_000 + rng.integers(1, 3_500, (m, m)), 0)
    _write_clips(
        catalog, data, "gfw_integrated_alerts", "alerts", hansen, alerts.astype(np.uint16), JRC_PX
    )


def _polygon(rng: np.random.Generator, x: float, y: float, r: float) -> list[list[float]]:
    k = int(rng.integers(5, 12))
    ang = np.sort(rng.uniform(0, 2 * math.pi, k))
    rad = r * rng.uniform(0.7, 1.0, k)
    ring = [[round(x + a * math.cos(t), 6), round(y + a * math.sin(t), 6)]
            for a, t in zip(rad, ang, strict=True)]  # fmt: skip
    return [*ring, ring[0]]


def _features(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """n plots on a jittered grid inside the clip: polygons, points with an area, a few broken
    ones (out-of-range point, bow-tie) and a few outside the clip (missing tiles)."""
    per_side = math.ceil(math.sqrt(n))
    cell = (SIDE - 0.004) / per_side
    feats = []
    for i in range(n):
        row, col = divmod(i, per_side)
        x = WEST + 0.002 + (col + 0.5) * cell + rng.uniform(-0.2, 0.2) * cell
        y = NORTH - 0.002 - (row + 0.5) * cell + rng.uniform(-0.2, 0.2) * cell
        props: dict[str, Any] = {"plot_id": f"P{i:05d}", "ProducerCountry": "PE"}
        kind = i % 10
        if i % 97 == 13:  # outside the clips: missing tiles
            x, y = x - 1.0, y - 0.5
        if kind < 7:
            geom = {"type": "Polygon", "coordinates": [_polygon(rng, x, y, 0.3 * cell)]}
        elif i % 53 == 8:  # a latitude out of range: a geometry error, never analysed
            geom = {"type": "Point", "coordinates": [round(x, 6), -95.0]}
        else:
            geom = {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]}
            props["Area"] = round(float(rng.uniform(0.5, 3.5)), 2)
        if i % 61 == 5:  # bow-tie: repaired by validate(fix=True)
            d = 0.3 * cell
            ring = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
            geom = {"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)]
                                                        for a, b in ring]]}  # fmt: skip
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    return feats


@dataclass(frozen=True)
class Job:
    catalog: Catalog
    data: Path
    plots: Path  # GeoJSON
    report: ValidationReport
    serial_csv: bytes


def _job(folder: Path, n: int, seed: int) -> Job:
    catalog = load_catalog()  # all three default datasets
    rng = np.random.default_rng(seed)
    data = folder / "data"
    _rasters(catalog, data, rng)
    plots = folder / "plots.geojson"
    doc = {"type": "FeatureCollection", "features": _features(rng, n)}
    plots.write_text(json.dumps(doc), encoding="utf-8")
    report = validate(read_plots(plots), fix=True)
    run = check_plots(report, catalog, data)
    return Job(catalog, data, plots, report, _csv_bytes(run, folder / "serial.csv"))


def _csv_bytes(run: Any, path: Path) -> bytes:
    write_results_csv(run, path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Job:
    return _job(tmp_path_factory.mktemp("parallel"), 400, seed=7)


@pytest.fixture(scope="module")
def local_client() -> Iterator[Any]:
    with cluster_client(n_workers=2, threads_per_worker=1) as client:
        client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield client


# --- an external scheduler with two workers, started here -----------------------------------------


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate, wait, then kill: each process group started here, and nothing else."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
    for p in procs:
        with contextlib.suppress(ProcessLookupError):  # the group: a nanny's worker too
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=10)


@pytest.fixture(scope="module")
def external_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log: str) -> None:
        with (folder / log).open("wb") as out:
            procs.append(subprocess.Popen(
                [str(DASK), *args], stdout=out, stderr=subprocess.STDOUT, cwd=folder,
                start_new_session=True,  # its own process group, ended as one in _stop
            ))  # fmt: skip

    try:
        # Port 0: the scheduler takes a free port and writes its address to the file.
        start(["scheduler", "--host", "127.0.0.1", "--port", "0", *LOOPBACK_HTTP,
               "--scheduler-file", str(scheduler_file)], "scheduler.log")  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while not scheduler_file.is_file() or not scheduler_file.read_text().strip():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                log = (folder / "scheduler.log").read_text(errors="replace")
                pytest.fail(f"dask scheduler did not start:\n{log}")
            time.sleep(0.2)
        address = str(json.loads(scheduler_file.read_text())["address"])
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            start(["worker", address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads",
                   "1", *LOOPBACK_HTTP, "--name", f"ext-{i}"], f"worker{i}.log")  # fmt: skip
        yield address
    finally:
        _stop(procs)


# --- tests ---------------------------------------------------------------------------------------


def test_batches_are_consecutive_whole_chunks(job: Job) -> None:
    chunks = spatial_chunks(plan(job.report, job.catalog))
    assert len(chunks) > 4
    for size in (1, 50, 10_000):
        batches = batch_chunks(chunks, size)
        assert [c for b in batches for c in b] == chunks
        assert all(sum(map(len, b)) - len(b[-1]) < size for b in batches)
    with pytest.raises(ValueError):
        batch_chunks(chunks, 0)


def test_local_cluster_gives_the_serial_csv_byte_for_byte(
    job: Job, local_client: Any, tmp_path: Path
) -> None:
    done: list[int] = []
    run = check_plots_parallel(
        job.report, job.catalog, job.data, client=local_client, batch_plots=40,
        progress=done.append,
    )  # fmt: skip
    assert sum(done) == len(job.report.plots)
    assert {r.verdict.value for r in run.results} >= {"undetermined", "deforestation_detected"}
    assert _csv_bytes(run, tmp_path / "local.csv") == job.serial_csv
    assert [f.name for f in run.files] == [
        f.name for f in check_plots(job.report, job.catalog, job.data).files
    ]


def test_external_scheduler_gives_the_serial_csv_byte_for_byte(
    job: Job, external_address: str, tmp_path: Path
) -> None:
    with cluster_client(external_address) as client:
        client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        assert len(client.scheduler_info()["workers"]) == 2
        # Another batch size too: results never depend on how the chunks are batched.
        for batch_plots in (40, 7):
            run = check_plots_parallel(
                job.report, job.catalog, job.data, client=client, batch_plots=batch_plots
            )
            assert _csv_bytes(run, tmp_path / f"ext{batch_plots}.csv") == job.serial_csv


def test_address_from_the_environment(
    job: Job, external_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EUDR_CHECK_DASK_ADDRESS", external_address)
    with cluster_client() as client:
        assert client.scheduler.address == external_address


def test_worker_killed_mid_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    big = _job(tmp_path, 2_500, seed=11)
    total = len(big.report.plots)
    with cluster_client(n_workers=2, threads_per_worker=1) as client:
        client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        pids: dict[str, int] = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        done: list[int] = []
        killed_at: list[int] = []

        def progress(n: int) -> None:
            done.append(n)
            # Once some batches are back (the first call counts the plots with geometry errors)
            # and most are still to come: kill a worker outright.
            if not killed_at and len(done) >= 4:
                killed_at.append(sum(done))
                os.kill(victim, signal.SIGKILL)

        run = check_plots_parallel(
            big.report, big.catalog, big.data, client=client, batch_plots=15, progress=progress
        )
        assert killed_at and killed_at[0] < total // 2, "the kill came too late to matter"
        assert sum(done) == total  # every plot reported once
        assert len(run.results) == total
        assert [r.plot_id for r in run.results] == big.report.plots["plot_id"].tolist()
        assert _csv_bytes(run, tmp_path / "killed.csv") == big.serial_csv
        # The nanny brought a new worker process up in place of the killed one.
        client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        assert victim not in client.run(os.getpid).values()


def _stream_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _fgb(job: Job, folder: Path) -> Path:
    """The job's plots as a FlatGeobuf, features in the GeoJSON's order (no spatial index)."""
    fgb = folder / "plots.fgb"
    frame = pyogrio.read_dataframe(job.plots)
    pyogrio.write_dataframe(frame, fgb, driver="FlatGeobuf", layer_options={"SPATIAL_INDEX": "NO"})
    return fgb


def test_stream_writes_every_plot_once_in_input_order(
    job: Job, local_client: Any, tmp_path: Path
) -> None:
    fgb = _fgb(job, tmp_path)
    out = tmp_path / "out" / "results.csv"
    seen: list[int] = []
    summary = check_stream(
        read_plot_batches(fgb, 37), job.catalog, job.data, out, client=local_client,
        max_in_flight=3, progress=seen.append,
    )  # fmt: skip
    # What the stream must reproduce: check_plots on the same slices, one after the other.
    slices = [check_plots(rep, job.catalog, job.data) for rep in read_plot_batches(fgb, 37)]
    serial = [r for run in slices for r in run.results]
    rows = _stream_rows(out)
    assert summary.plots == len(rows) == len(serial) == len(job.report.plots) == sum(seen)
    assert summary.batches == len(slices) == math.ceil(len(serial) / 37)
    assert list(rows[0]) == stream_columns(job.catalog)
    assert [int(r["source_index"]) for r in rows] == job.report.plots["source_index"].tolist()
    assert [r["plot_id"] for r in rows] == job.report.plots["plot_id"].tolist()
    assert [r["verdict"] for r in rows] == [r.verdict.value for r in serial]
    for row, result in zip(rows, serial, strict=True):
        assert row["area_ha"] == ("" if result.area_ha is None else f"{result.area_ha:.6f}")
        jrc = result.stats_for("jrc_gfc2020")
        loss = row["jrc_gfc2020_loss_after_cutoff_ha"]
        assert loss == ("" if jrc is None else f"{jrc.loss_after_cutoff_ha:.6f}")
    assert summary.verdicts == dict(Counter(r.verdict.value for r in serial).most_common())
    assert {f.name for f in summary.files} == {f.name for run in slices for f in run.files}
    assert sorted(p.name for p in out.parent.iterdir()) == ["results.csv"]  # no temp file left

    # Slices read and validated by the workers themselves, one in flight: the same bytes.
    again = tmp_path / "again.csv"
    check_stream(plot_slices(fgb, 37), job.catalog, job.data, again,
                 client=local_client, max_in_flight=1)  # fmt: skip
    assert again.read_bytes() == out.read_bytes()


def test_a_plots_result_does_not_depend_on_the_other_plots_checked_with_it(
    job: Job, tmp_path: Path
) -> None:
    whole = check_plots(job.report, job.catalog, job.data).results
    sliced = [
        r
        for rep in read_plot_batches(_fgb(job, tmp_path), 37)
        for r in check_plots(rep, job.catalog, job.data).results
    ]
    assert [r.verdict for r in sliced] == [r.verdict for r in whole]


def test_stream_failure_leaves_no_file(job: Job, local_client: Any, tmp_path: Path) -> None:
    out = tmp_path / "results.csv"

    def batches() -> Iterator[ValidationReport]:
        yield job.report
        raise RuntimeError("input broke")

    with pytest.raises(RuntimeError, match="input broke"):
        check_stream(batches(), job.catalog, job.data, out, client=local_client)
    assert list(tmp_path.iterdir()) == []
