"""One engine, every executor: the same cases run through the serial executor, a local Dask
cluster of processes, an external `dask scheduler` with two `dask worker`s started here, and
Prefect tasks on a Dask task runner under the Prefect test harness. Each must give the serial
run's bytes; a crash injected in the middle of a run (in a unit, or in a sink) must leave the
run `failed` in the registry and no report behind, in every path.

Real Dask and a real Prefect server on 127.0.0.1 only. Rasters: small clips of the three
default datasets across the 10°S tile edge (so windows mosaic two files), by tests/rasters.py.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import sqlalchemy as sa
from numpy.typing import NDArray

from eudr_check.datasets.catalog import Catalog, load_catalog
from eudr_check.engine import (
    CollectSink,
    DaskExecutor,
    DataSources,
    Delivered,
    PlotFile,
    PlotInput,
    PlotReport,
    RegisteredPlots,
    RegistrySink,
    Reuse,
    RunRecord,
    SerialExecutor,
    Sink,
    check_report,
    dask_executor,
    run_check,
)
from eudr_check.engine.plan import batch_chunks, plan, spatial_chunks
from eudr_check.intake import read_plots
from eudr_check.reports.check_reports import ReportSink, write_check_reports
from eudr_check.reports.compact_csv import CompactCsvSink, compact_columns
from eudr_check.rules import validate
from eudr_check.settings import Settings
from eudr_check.store.registry import Registry
from tests.engine_faults import InjectedFault, crash_after_first_batch
from tests.rasters import HANSEN_PX, JRC_PX, write_layer

ROOT = Path(__file__).parent.parent
WEST, NORTH = -75.6, -9.9  # central Peru (Pasco/Junín); the clip crosses the 10°S tile edge
SIDE = 0.2  # degrees
EDGE = -10.0
DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT_S = 60
# Even without a dashboard, schedulers and workers serve HTTP routes (health, metrics), on all
# interfaces by default: keep them on loopback, on free ports.
LOOPBACK_HTTP = ("--no-dashboard", "--dashboard-address", "127.0.0.1:0")
EXECUTORS = ("serial", "local", "external", "prefect")
SLICE = 37  # plots per slice of a streamed file

Run = Callable[..., RunRecord]


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


def _geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


@dataclass(frozen=True)
class Job:
    sources: DataSources
    plots: Path  # 400 plots, GeoJSON
    few: Path  # the first 90 of them: every report (maps drawn) is checked on these
    fgb: Path  # the 400 plots as FlatGeobuf, in the same order
    reports: dict[str, bytes]  # the serial run's reports of `few`, times and run ids taken out
    compact: bytes  # the serial run's compact CSV of `plots`, read at once
    streamed: bytes  # the same, the file read in slices


def _streaming() -> Settings:
    return Settings(stream_above_mb=0.0001)  # every file here counts as large: slices


def _normalised(out: Path) -> dict[str, bytes]:
    """Every report file's bytes, with what differs between runs (run id, times) removed."""
    files: dict[str, bytes] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        data = path.read_bytes()
        if name.endswith(".due_diligence.geojson"):
            doc = json.loads(data)
            doc["run"] = {k: v for k, v in doc["run"].items() if k not in ("run_id", "started")}
            data = json.dumps(doc, sort_keys=True).encode()
        elif name.endswith(".manifest.json"):
            doc = json.loads(data)
            for key in ("run_id", "started", "finished"):
                doc.pop(key)
            doc["outputs"] = {
                k: v for k, v in doc["outputs"].items() if k.endswith((".csv", ".png"))
            }
            data = json.dumps(doc, sort_keys=True).encode()
        elif name.endswith(".html"):
            text = data.decode()
            data = text[text.index("</header>") :].encode()  # the header names run and date
        files[name] = data
    return files


def _report_sinks(out: Path) -> list[Sink]:
    return [ReportSink(out), CompactCsvSink(out / "compact.csv")]


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Job:
    folder = tmp_path_factory.mktemp("engine")
    catalog = load_catalog()  # all three default datasets
    rng = np.random.default_rng(7)
    data = folder / "data"
    _rasters(catalog, data, rng)
    features = _features(rng, 400)
    plots = _geojson(folder / "plots.geojson", features)
    few = _geojson(folder / "few.geojson", features[:90])
    fgb = folder / "plots.fgb"
    frame = pyogrio.read_dataframe(plots)
    pyogrio.write_dataframe(frame, fgb, driver="FlatGeobuf", layer_options={"SPATIAL_INDEX": "NO"})
    sources = DataSources(catalog, data)
    run_check(PlotFile(few), sources, sinks=_report_sinks(folder / "serial-reports"))
    run_check(PlotFile(plots), sources, sinks=[CompactCsvSink(folder / "compact.csv")])
    run_check(PlotFile(plots, settings=_streaming()), sources, batch_plots=SLICE,
              sinks=[CompactCsvSink(folder / "streamed.csv")])  # fmt: skip
    return Job(
        sources,
        plots,
        few,
        fgb,
        _normalised(folder / "serial-reports"),
        (folder / "compact.csv").read_bytes(),
        (folder / "streamed.csv").read_bytes(),
    )


# --- the executors --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[DaskExecutor]:
    with DaskExecutor.local(2) as executor:
        executor.client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield executor


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
    # The workers import the fault injected by a test (tests.engine_faults), as any unit function.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }

    def start(args: list[str], log: str) -> None:
        with (folder / log).open("wb") as out:
            procs.append(subprocess.Popen(
                [str(DASK), *args], stdout=out, stderr=subprocess.STDOUT, cwd=folder, env=env,
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


@pytest.fixture(scope="module")
def external_cluster(external_address: str) -> Iterator[DaskExecutor]:
    with DaskExecutor.connect(external_address) as executor:
        executor.client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        assert len(executor.client.scheduler_info()["workers"]) == 2
        yield executor


# What the flow below runs: a flow's parameters and closure travel with its tasks to the Dask
# workers (Prefect sends the flow run's context along), and sinks hold open files, so the flow
# takes only a key and finds its arguments here.
_FLOW_ARGS: dict[str, tuple[PlotInput, DataSources, dict[str, Any]]] = {}


def _engine_flow(key: str) -> RunRecord:
    from eudr_check.engine.prefect import PrefectExecutor

    plots, sources, kw = _FLOW_ARGS.pop(key)
    return run_check(plots, sources, executor=PrefectExecutor(window=4, retries=0), **kw)


def _prefect_runner(address: str) -> Run:
    """run_check inside a Prefect flow whose task runner is the local Dask cluster: the units
    become Prefect tasks, pickled to the Dask workers."""
    from prefect import flow
    from prefect_dask import DaskTaskRunner

    checked = flow(name="engine-test", task_runner=DaskTaskRunner(address=address))(_engine_flow)

    def run(plots: PlotInput, sources: DataSources, **kw: Any) -> RunRecord:
        key = f"run-{len(_FLOW_ARGS)}-{time.monotonic_ns()}"
        _FLOW_ARGS[key] = (plots, sources, kw)
        result: RunRecord = checked(key)
        return result

    return run


@pytest.fixture(params=EXECUTORS)
def runner(request: pytest.FixtureRequest) -> Run:
    name = request.param
    if name == "serial":
        executor: Any = SerialExecutor()
    elif name == "local":
        executor = request.getfixturevalue("local_cluster")
    elif name == "external":
        executor = request.getfixturevalue("external_cluster")
    else:
        request.getfixturevalue("prefect_server")
        local: DaskExecutor = request.getfixturevalue("local_cluster")
        return _prefect_runner(local.client.scheduler.address)

    def run(plots: PlotInput, sources: DataSources, **kw: Any) -> RunRecord:
        return run_check(plots, sources, executor=executor, **kw)

    return run


# --- the same cases through every executor -------------------------------------------------------


def test_a_file_gives_the_serial_reports_byte_for_byte(
    runner: Run, job: Job, tmp_path: Path
) -> None:
    seen: list[int] = []
    record = runner(PlotFile(job.few), job.sources, sinks=_report_sinks(tmp_path / "out"),
                    batch_plots=20, progress=seen.append)  # fmt: skip
    assert sum(seen) == record.plots == 90
    assert set(record.verdicts) >= {"undetermined", "deforestation_detected"}
    reports = _normalised(tmp_path / "out")
    assert list(reports) == list(job.reports)
    assert sum(name.endswith(".png") for name in reports) > 20  # the maps are part of it
    for name, data in job.reports.items():
        assert reports[name] == data, name
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no staging


class _MapSpy(ReportSink):
    """A report sink that also keeps what the units drew for it."""

    def __init__(self, out: Path) -> None:
        super().__init__(out)
        self.drawn: dict[tuple[int, int], bytes | None] = {}

    def write(self, batch: Delivered) -> None:
        for row, png in batch.extras.get("maps", {}).items():
            self.drawn[(batch.number, row)] = png
        super().write(batch)


def test_maps_are_drawn_in_the_units_with_the_bytes_the_sink_would_draw(
    runner: Run, job: Job, tmp_path: Path
) -> None:
    spy = _MapSpy(tmp_path / "units")
    runner(PlotFile(job.few), job.sources, sinks=[spy], batch_plots=20)
    drawn = [png for png in spy.drawn.values() if png is not None]
    assert len(drawn) > 20 and len(drawn) == len(spy.map_files)
    # The same run in memory has no units' maps: the sink draws each itself.
    collect = CollectSink()
    run_check(PlotFile(job.few), job.sources, sinks=[collect])
    assert collect.run is not None
    here = write_check_reports(collect.run, tmp_path / "sink")
    pngs = sorted(p for p in here if p.suffix == ".png")
    assert [p.name for p in pngs] == sorted(p.name for p in spy.map_files)
    for p in pngs:
        twin = tmp_path / "units" / p.relative_to(tmp_path / "sink")
        assert p.read_bytes() == twin.read_bytes()


@pytest.mark.parametrize("kind", ["geojson", "fgb"])
def test_a_large_file_streams_through_in_slices_with_the_same_bytes(
    runner: Run, job: Job, tmp_path: Path, kind: str
) -> None:
    path = job.plots if kind == "geojson" else job.fgb
    out = tmp_path / "streamed.csv"
    record = runner(PlotFile(path, settings=_streaming()), job.sources, batch_plots=SLICE,
                    sinks=[CompactCsvSink(out)])  # fmt: skip
    assert record.streamed and record.plots == 400
    assert out.read_bytes() == job.streamed
    # Read in slices or at once: every plot gets the same verdict and figures (the rules that
    # compare plots with each other find nothing to compare in these plots).
    assert out.read_bytes() == job.compact
    assert record.input_sha256 == read_plots(path).sha256


def _registry_results(url: str) -> list[tuple[str, str, str]]:
    with Registry.open(url) as reg:
        ids = reg.current_versions()
        report = reg.report_for(ids)
        stored = reg.stored_results(ids)
    plots = dict(zip(map(int, report.plots["version_id"]), report.plots["plot_id"], strict=True))
    return sorted((plots[v], s.fingerprint, s.result.verdict.value) for v, s in stored.items())


def _registered(tmp_path: Path, job: Job) -> str:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Registry.open(url) as reg:
        org = reg.create_organisation("Cooperativa Prueba", "cooperative")
        table = read_plots(job.plots)
        reg.register_upload(org, validate(table, fix=True), job.plots.name, table.sha256)
    return url


def _runs(url: str) -> list[tuple[str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT uid, status FROM check_runs ORDER BY id"))
            return [(str(uid), str(status)) for uid, status in rows]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def registry_baseline(job: Job, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, ...]]:
    url = _registered(tmp_path_factory.mktemp("baseline"), job)
    with Registry.open(url) as reg:
        run_check(RegisteredPlots(reg, reg.current_versions()), job.sources,
                  sinks=[RegistrySink(reg)])  # fmt: skip
    return _registry_results(url)


def test_registered_plots_get_the_serial_results_and_a_finished_run(
    runner: Run, job: Job, tmp_path: Path, registry_baseline: list[tuple[str, ...]]
) -> None:
    url = _registered(tmp_path, job)
    with Registry.open(url) as reg:
        record = runner(RegisteredPlots(reg, reg.current_versions()), job.sources,
                        sinks=[RegistrySink(reg)], batch_plots=60)  # fmt: skip
    assert _registry_results(url) == registry_baseline
    assert _runs(url) == [(record.run_id, "done")]
    with Registry.open(url) as reg:  # nothing changed: nothing to analyse, no new run
        again = runner(RegisteredPlots(reg, reg.current_versions(), reuse=Reuse.MATCHING),
                       job.sources, sinks=[RegistrySink(reg)])  # fmt: skip
    assert again.plots == 0 and len(_runs(url)) == 1


class _BreaksOnSecondBatch(Sink):
    def write(self, batch: Delivered) -> None:
        if batch.number == 1:
            raise InjectedFault("a sink broke while writing batch 1")


@pytest.mark.parametrize("where", ["unit", "sink"])
def test_a_crash_mid_run_leaves_the_run_failed_and_no_report(
    runner: Run, job: Job, tmp_path: Path, where: str, registry_baseline: list[tuple[str, ...]]
) -> None:
    url = _registered(tmp_path, job)
    out = tmp_path / "out"
    with Registry.open(url) as reg:
        sinks: list[Sink] = [ReportSink(out), RegistrySink(reg)]
        kw: dict[str, Any] = {}
        if where == "unit":
            kw["work"] = crash_after_first_batch
        else:
            sinks.append(_BreaksOnSecondBatch())
        with pytest.raises(InjectedFault):
            runner(RegisteredPlots(reg, reg.current_versions()), job.sources, sinks=sinks,
                   batch_plots=60, **kw)  # fmt: skip
    ((_, status),) = _runs(url)
    assert status == "failed"
    # What came back before the crash is kept, as the serial run has it (a re-run skips it);
    # the rest never came. (Which batches came first depends on the executor.)
    recorded = _registry_results(url)
    assert len(recorded) < 400 and set(recorded) <= set(registry_baseline)
    assert not out.exists() or list(out.iterdir()) == []  # no report, no staging left


# --- Dask only ------------------------------------------------------------------------------------


def test_units_are_consecutive_whole_chunks(job: Job) -> None:
    report = validate(read_plots(job.plots), fix=True)
    chunks = spatial_chunks(plan(report, job.sources.catalog))
    assert len(chunks) > 4
    for size in (1, 50, 10_000):
        units = batch_chunks(chunks, size)
        assert [c for u in units for c in u] == chunks
        assert all(sum(map(len, u)) - len(u[-1]) < size for u in units)
    with pytest.raises(ValueError):
        batch_chunks(chunks, 0)


def test_address_from_the_settings(external_address: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EUDR_CHECK_DASK_ADDRESS", external_address)
    with dask_executor() as executor:
        assert executor.client.scheduler.address == external_address


def test_worker_killed_mid_run_loses_and_duplicates_nothing(job: Job, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    big = _geojson(tmp_path / "big.geojson", _features(rng, 2_500))
    report = validate(read_plots(big), fix=True)
    serial = CollectSink()
    run_check(PlotReport(report, big.name), job.sources, sinks=[serial], batch_plots=15)
    assert serial.run is not None
    total = len(report.plots)
    with DaskExecutor.local(2) as executor:
        client = executor.client
        client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        pids: dict[str, int] = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        done: list[int] = []
        killed_at: list[int] = []

        def progress(n: int) -> None:
            done.append(n)
            # Once some units are back (the first call counts the plots with geometry errors)
            # and most are still to come: kill a worker outright.
            if not killed_at and len(done) >= 4:
                killed_at.append(sum(done))
                os.kill(victim, signal.SIGKILL)

        collect = CollectSink()
        run_check(PlotReport(report, big.name), job.sources, executor=executor,
                  sinks=[collect], batch_plots=15, progress=progress)  # fmt: skip
        assert killed_at and killed_at[0] < total // 2, "the kill came too late to matter"
        assert sum(done) == total  # every plot reported once
        assert collect.run is not None
        assert collect.run.results == serial.run.results
        # The nanny brought a new worker process up in place of the killed one.
        client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        assert victim not in client.run(os.getpid).values()


def test_a_plots_result_does_not_depend_on_the_other_plots_checked_with_it(job: Job) -> None:
    report = validate(read_plots(job.plots), fix=True)
    whole = check_report(report, job.sources).results
    alone = CollectSink()  # every plot in a batch of its own: its own raster windows
    run_check(PlotReport(report, "p"), job.sources, sinks=[alone], batch_plots=1)
    assert alone.run is not None
    assert [r.verdict for r in alone.run.results] == [r.verdict for r in whole]
    # The figures agree to rounding: coverage is computed relative to each window's origin.
    for a, b in zip(alone.run.results, whole, strict=True):
        for one, other in zip(a.stats, b.stats, strict=True):
            assert one.plot_area_ha == pytest.approx(other.plot_area_ha, rel=1e-9)
            for name in ("forest_2020_ha", "loss_after_cutoff_ha", "alert_area_ha"):
                value, expected = getattr(one, name), getattr(other, name)
                assert (value is None) == (expected is None)
                if expected is not None:
                    assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_an_input_that_breaks_part_way_leaves_no_file(job: Job, tmp_path: Path) -> None:
    out = tmp_path / "compact.csv"

    class Breaking(PlotFile):
        def open(self, sources: DataSources, batch_plots: int, want_reused: bool) -> Any:
            plan = super().open(sources, batch_plots, want_reused)
            real = plan.batches

            def batches() -> Iterator[Any]:
                yield next(real)
                raise InjectedFault("input broke")

            plan.batches = batches()
            return plan

    with pytest.raises(InjectedFault, match="input broke"):
        run_check(Breaking(job.plots, settings=_streaming()), job.sources,
                  batch_plots=SLICE, sinks=[CompactCsvSink(out)])  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_compact_csv_columns(job: Job, tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    run_check(PlotFile(job.few), job.sources, sinks=[CompactCsvSink(out)])
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == compact_columns(job.sources.catalog)
    assert [r["plot_id"] for r in rows] == [f"P{i:05d}" for i in range(90)]
