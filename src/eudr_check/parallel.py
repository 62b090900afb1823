"""The Dask engine: `check_plots` on a cluster, and a streaming check for national files.

The core (`pipeline`, `analysis`) does not know where it runs. This module cuts a run into
batches of whole spatial chunks, runs `pipeline.check_chunk` on each chunk of a batch inside a
worker, and puts the results back by row. Every chunk is checked exactly as `check_plots` checks
it, so results do not depend on the batch size, on the number of workers or on which worker ran
what: the CSV reports of a serial and of a parallel run are byte-for-byte identical.

Batches are pure functions of their arguments (the plots, the catalog and the data folder):
when a worker dies, Dask runs its batches again elsewhere, and nothing is lost or counted twice.

Two entry points:

- `check_plots_parallel`: the same `CheckRun` as `pipeline.check_plots`, for a plot table that
  fits in memory;
- `check_stream`: plot batches in, one compact CSV row per plot out, written in input order,
  with memory bounded by the batch size times the batches in flight, not by the number of
  plots. For a national file, hand it `plot_slices(path)`: the workers then read, validate and
  check each slice, and the client only writes.

A script that starts a local cluster must guard its entry point with
`if __name__ == "__main__":` (worker processes are spawned and import the main module).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from distributed import Client, Future, LocalCluster, as_completed
from distributed.comm.core import CommClosedError
from numpy.typing import NDArray
from shapely.geometry import mapping

from eudr_check.datasets.catalog import Catalog, Dataset, Role
from eudr_check.datasets.reader import open_files
from eudr_check.fileio import atomic_path
from eudr_check.gcpause import paused_gc
from eudr_check.intake import PlotTable
from eudr_check.intake.normalise import normalise
from eudr_check.intake.raw import RawFeature, RawLayer
from eudr_check.models import DatasetStats, PlotResult
from eudr_check.pipeline import (
    PlotTask,
    check_chunk,
    file_records,
    make_run,
    plan,
    spatial_chunks,
    undetermined_result,
)
from eudr_check.rules import ValidationReport, validate
from eudr_check.run import CheckRun, FileRecord

ADDRESS_ENV = "EUDR_CHECK_DASK_ADDRESS"
DEFAULT_BATCH_PLOTS = 5000
# GDAL's block cache defaults to 5 % of the machine's memory in every worker; striped tiles
# 40,000 px wide fill it fast. This bounds what each local worker keeps of decoded strips.
DEFAULT_GDAL_CACHE_MB = 256

Files = set[tuple[str, str, str]]  # (dataset, layer, GDAL path) of the raster files read
Progress = Callable[[int], None]
T = TypeVar("T")


# --- the cluster --------------------------------------------------------------------------------


@contextlib.contextmanager
def cluster_client(
    address: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    *,
    gdal_cache_mb: int | None = DEFAULT_GDAL_CACHE_MB,
) -> Iterator[Client]:
    """A client of an existing cluster, or of a local cluster of worker processes.

    `address` (else the environment variable EUDR_CHECK_DASK_ADDRESS), e.g.
    "tcp://10.0.0.5:8786", connects to a running scheduler; its workers must be able to import
    eudr_check and read the data folder under the same path. Without one, a LocalCluster of
    `n_workers` processes (each with a nanny that restarts it if it dies) listens on 127.0.0.1
    only, without a dashboard, and is closed on exit. The client is not made Dask's default
    scheduler: other Dask code in the process is not affected.
    """
    address = address or os.environ.get(ADDRESS_ENV) or None
    if address:
        with _client(address) as client:
            yield client
        return
    env = {} if gdal_cache_mb is None else {"GDAL_CACHEMAX": str(int(gdal_cache_mb))}
    with (
        _local_cluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # The scheduler serves its HTTP routes (health, metrics) even without a dashboard,
            # on port 8787 by default, warning when that is taken: any free loopback port.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            env=env,
        ) as cluster,
        _client(cluster) as client,
    ):
        yield client


def worker_count(client: Client) -> int:
    """Workers the scheduler knows of now (at least 1)."""
    workers: dict[str, Any] = client.scheduler_info().get("workers", {})
    return max(1, len(workers))


# --- typed wrappers over distributed's untyped API -------------------------------------------


def _client(target: str | LocalCluster) -> Client:
    # Not Dask's default scheduler: other Dask code in this process is not affected.
    make: Any = Client
    client: Client = make(target, set_as_default=False)
    return client


def _local_cluster(**kwargs: Any) -> LocalCluster:
    make: Any = LocalCluster
    cluster: LocalCluster = make(**kwargs)
    return cluster


def _done(future: Future[Any]) -> bool:
    f: Any = future
    return bool(f.done())


def _release(future: Future[Any]) -> None:
    f: Any = future
    f.release()


class _Completed(Generic[T]):
    """`distributed.as_completed`, typed: futures in the order they finish."""

    def __init__(self, client: Client, futures: Iterable[Future[T]] = ()) -> None:
        make: Any = as_completed
        loop: Any = client.loop  # not the process's default client: there may be none
        self._inner: Any = make(list(futures), loop=loop)

    def add(self, future: Future[T]) -> None:
        self._inner.add(future)

    def __iter__(self) -> Iterator[Future[T]]:
        return self

    def __next__(self) -> Future[T]:
        future: Future[T] = next(self._inner)
        return future


# --- one batch, on a worker --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchOutput:
    """What a worker sends back for one batch: results by row, and the files it read."""

    results: list[tuple[int, PlotResult]]
    files: Files


def check_batch(
    chunks: Sequence[Sequence[PlotTask]], catalog: Catalog, data_dir: Path
) -> BatchOutput:
    """`check_chunk` for every chunk of a batch, with the raster files kept open meanwhile.

    Pure: the same arguments give the same output, so Dask may run it again after a worker
    dies. Runs in a worker process; module-level so that it pickles by reference.
    """
    results: list[tuple[int, PlotResult]] = []
    files: Files = set()
    # Everything a batch builds stays alive until it is sent back: the cyclic collector would
    # only scan it in vain (see gcpause).
    with paused_gc(), open_files():
        for chunk in chunks:
            chunk_results, chunk_files = check_chunk(chunk, catalog, data_dir)
            files |= chunk_files
            results.extend(zip((t.row for t in chunk), chunk_results, strict=True))
    return BatchOutput(results, files)


def batch_chunks(
    chunks: Sequence[list[PlotTask]], batch_plots: int = DEFAULT_BATCH_PLOTS
) -> list[list[list[PlotTask]]]:
    """Consecutive spatial chunks merged into batches of about `batch_plots` plots.

    `spatial_chunks` lists chunks cell by cell, row after row, so consecutive chunks are
    neighbours and a batch stays spatially compact. A batch closes once it holds `batch_plots`
    plots or more; a chunk is never split. Batching depends on the plots alone, never on the
    cluster (and results do not depend on batching at all: each chunk is checked on its own).
    """
    if batch_plots < 1:
        raise ValueError("batch_plots must be at least 1")
    batches: list[list[list[PlotTask]]] = []
    current: list[list[PlotTask]] = []
    size = 0
    for chunk in chunks:
        current.append(chunk)
        size += len(chunk)
        if size >= batch_plots:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches


def _submit_any(
    client: Client, fn: Callable[..., T], *args: Any, key: str
) -> Future[T]:  # fmt: skip
    # An explicit key: Dask does not hash (tokenize) thousands of geometries to name the task.
    future: Future[T] = client.submit(fn, *args, key=key, pure=False)
    return future


def _scatter_catalog(client: Client, catalog: Catalog, attempts: int = 3) -> Future[Catalog]:
    """The catalog on every worker, once per run: a worker that dies does not take the only
    copy with it. A worker that dies during the broadcast fails it: then broadcast again."""
    any_client: Any = client
    for attempt in range(attempts):
        try:
            future: Future[Catalog] = any_client.scatter(catalog, broadcast=True, hash=False)
            return future
        except (CommClosedError, OSError):
            if attempt == attempts - 1:
                raise
            any_client.wait_for_workers(1, timeout=60)
    raise AssertionError("unreachable")


def _cancel(client: Client, futures: Iterable[Future[Any]]) -> None:
    any_client: Any = client
    pending = [f for f in futures if not _done(f)]
    if pending:
        with contextlib.suppress(Exception):  # the cluster may be gone already
            any_client.cancel(pending)


# --- a whole table in memory --------------------------------------------------------------------


def check_plots_parallel(
    report: ValidationReport,
    catalog: Catalog,
    data_dir: Path,
    *,
    client: Client,
    batch_plots: int = DEFAULT_BATCH_PLOTS,
    progress: Progress | None = None,
    input_name: str | None = None,
    input_sha256: str = "",
) -> CheckRun:
    """`pipeline.check_plots` on a Dask cluster: the same results, in the same order."""
    started = dt.datetime.now(dt.UTC)
    data_dir = Path(data_dir).resolve()
    tasks = plan(report, catalog)
    results: list[PlotResult | None] = [None] * len(tasks)
    for task in tasks:
        if task.shape is None:
            results[task.row] = undetermined_result(task, catalog)
    undetermined = sum(r is not None for r in results)
    if progress and undetermined:
        progress(undetermined)
    files: Files = set()
    batches = batch_chunks(spatial_chunks(tasks), batch_plots)
    if batches:
        run = uuid.uuid4().hex
        shared = _scatter_catalog(client, catalog)
        futures = [
            _submit_any(
                client, check_batch, batch, shared, data_dir, key=f"eudr-check-{run}-{i:06d}"
            )
            for i, batch in enumerate(batches)
        ]
        try:
            for future in _Completed(client, futures):
                out = future.result()
                _release(future)
                files |= out.files
                for row, result in out.results:
                    results[row] = result
                if progress:
                    progress(len(out.results))
        finally:
            _cancel(client, futures)
    missing = sum(r is None for r in results)
    if missing:  # a bug, never a partial run presented as complete
        raise RuntimeError(f"{missing} plots came back without a result")
    done = [r for r in results if r is not None]
    return make_run(report, catalog, data_dir, done, files, started, input_name, input_sha256)


# --- streams -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """What a streamed run wrote: the CSV, plots and batches, verdicts and files read."""

    path: Path
    plots: int
    batches: int
    verdicts: dict[str, int]
    files: list[FileRecord] = field(default_factory=list)


def stream_columns(catalog: Catalog) -> list[str]:
    """Header of the compact CSV that `check_stream` writes."""
    cols = ["source_index", "plot_id", "verdict", "area_ha"]
    for ds in catalog.enabled:
        cols += [f"{ds.id}_{name}" for name in _stat_names(ds)]
    return [*cols, "reasons"]


def _stat_names(ds: Dataset) -> tuple[str, ...]:
    if ds.role is Role.ALERTS:
        return ("alert_count", "alert_area_ha", "nodata_fraction")
    return ("forest_2020_ha", "loss_after_cutoff_ha", "nodata_fraction")


def _num(value: float | None) -> str:
    """Fixed-point, 6 decimals: the same text for the same value on every run and machine."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return ""
    text = f"{round(value, 6):.6f}"
    return "0.000000" if text == "-0.000000" else text


def _stat_cells(ds: Dataset, s: DatasetStats | None) -> list[str]:
    if s is None:
        return [""] * len(_stat_names(ds))
    if ds.role is Role.ALERTS:
        count = "" if s.alert_count is None else str(s.alert_count)
        return [count, _num(s.alert_area_ha), _num(s.nodata_fraction)]
    return [_num(s.forest_2020_ha), _num(s.loss_after_cutoff_ha), _num(s.nodata_fraction)]


def stream_row(source_index: int, result: PlotResult, datasets: Sequence[Dataset]) -> list[str]:
    """One plot's row of the compact CSV (see `stream_columns`)."""
    row = [str(source_index), result.plot_id, result.verdict.value, _num(result.area_ha)]
    for ds in datasets:
        row += _stat_cells(ds, result.stats_for(ds.id))
    reasons = dict.fromkeys(
        r.code.value if r.dataset_id is None else f"{r.code.value}:{r.dataset_id}"
        for r in result.reasons
    )
    return [*row, " ".join(reasons)]


# --- reading a large file in slices -------------------------------------------------------------


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if value != value else value
    return str(value)


def _layer_info(path: Path, layer: str | None) -> dict[str, Any]:
    info: dict[str, Any] = pyogrio.read_info(path, layer=layer, force_feature_count=True)
    return info


def feature_count(path: Path, layer: str | None = None) -> int:
    """Features in a vector file's layer (counted by GDAL if the format does not store it)."""
    return int(_layer_info(path, layer)["features"])


def _geojson_like(shapes: NDArray[np.object_]) -> list[dict[str, Any] | None]:
    """GeoJSON-like mappings of shapes, as intake's readers make them (None: no geometry).

    Plain polygons (one 2-D ring, nearly every plot) get lists of [x, y] lists, built from one
    coordinate array, which is also what intake's fast path for them expects; anything else
    goes through shapely's `mapping`, Z values and all, for intake to judge.
    """
    out: list[dict[str, Any] | None] = [None] * len(shapes)
    present = ~shapely.is_missing(shapes)
    present[present] &= ~shapely.is_empty(shapes[present])
    plain = present.copy()
    plain[present] &= (shapely.get_type_id(shapes[present]) == 3) & ~shapely.has_z(shapes[present])
    plain[plain] &= shapely.get_num_interior_rings(shapes[plain]) == 0
    where = np.flatnonzero(plain)
    if len(where):
        rings = shapely.get_exterior_ring(shapes[where])
        coords = shapely.get_coordinates(rings).tolist()
        ends = np.cumsum(shapely.get_num_coordinates(rings)).tolist()
        start = 0
        for i, end in zip(where.tolist(), ends, strict=True):
            out[i] = {"type": "Polygon", "coordinates": [coords[start:end]]}
            start = end
    for i in np.flatnonzero(present & ~plain).tolist():
        out[i] = dict(mapping(shapes[i]))
    return out


def read_slice(path: Path, skip: int, count: int, layer: str | None = None) -> RawLayer:
    """Features skip+1 .. skip+count of a GDAL vector file as intake's raw layer.

    Feature numbers (`RawFeature.index`) count from the start of the file, so findings and
    results name the same feature whichever slice it came in. Formats with random access
    (GeoPackage; FlatGeobuf with its spatial index) read a slice in O(slice); others skip the
    features before it one by one.
    """
    info = _layer_info(path, layer)
    caps = info.get("capabilities", {})
    options: dict[str, Any] = {"skip_features": skip, "max_features": count}
    if info.get("driver") == "FlatGeobuf" and caps.get("random_read"):
        # FlatGeobuf feature ids are 0-based positions in the file; skipping would walk.
        total = int(info["features"])
        options = {"fids": np.arange(skip, min(skip + count, total), dtype=np.int64)}
    meta, _fids, wkbs, columns = pyogrio.raw.read(
        path, layer=layer, datetime_as_string=True, **options
    )
    names = list(meta["fields"])
    values = [[_plain(v) for v in column.tolist()] for column in columns]
    n = len(wkbs) if wkbs is not None else (len(values[0]) if values else 0)
    if wkbs is None:
        wkbs = np.full(n, None, dtype=object)
    shapes = shapely.from_wkb(wkbs, on_invalid="ignore")
    geometries = _geojson_like(shapes)
    features = []
    for i in range(n):
        props = {name: column[i] for name, column in zip(names, values, strict=True)}
        if wkbs[i] is not None and shapes[i] is None:
            props["_geometry_error"] = "invalid geometry (WKB)"
        features.append(RawFeature(props, geometries[i], skip + i + 1))
    return RawLayer(Path(path), layer, meta.get("crs"), features, typed_properties=True)


@dataclass(frozen=True, slots=True)
class PlotSlice:
    """Features skip+1 .. skip+count of a plot file, read and validated where it is checked.

    Handing slices to `check_stream` moves reading, normalising and validating to the
    workers too: the client then only writes the CSV. The file must be readable under the same
    path on every worker.
    """

    path: Path
    skip: int
    count: int
    layer: str | None = None
    fix: bool = True
    default_country: str | None = None

    def read(self) -> ValidationReport:
        """This slice through intake's normalisation and `validate`, on its own: rules that
        compare plots with each other (duplicates, overlaps) only see plots of the slice."""
        raw = read_slice(self.path, self.skip, self.count, self.layer)
        plots, findings = normalise([raw], default_country=self.default_country)
        return validate(PlotTable(plots, findings), fix=self.fix)


def plot_slices(
    path: Path,
    batch_plots: int = DEFAULT_BATCH_PLOTS,
    *,
    layer: str | None = None,
    fix: bool = True,
    default_country: str | None = None,
) -> Iterator[PlotSlice]:
    """A large plot file (any format GDAL reads by feature: FlatGeobuf, GeoPackage...) as
    slices of `batch_plots` features, for `check_stream`."""
    if batch_plots < 1:
        raise ValueError("batch_plots must be at least 1")
    path = Path(path).resolve()
    total = feature_count(path, layer)
    for skip in range(0, total, batch_plots):
        yield PlotSlice(path, skip, min(batch_plots, total - skip), layer, fix, default_country)


def read_plot_batches(
    path: Path,
    batch_plots: int = DEFAULT_BATCH_PLOTS,
    *,
    layer: str | None = None,
    fix: bool = True,
    default_country: str | None = None,
) -> Iterator[ValidationReport]:
    """The slices of `plot_slices`, read and validated here, one at a time."""
    for piece in plot_slices(
        path, batch_plots, layer=layer, fix=fix, default_country=default_country
    ):
        yield piece.read()


# --- the streamed check -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamBatchOutput:
    """One checked input batch as the worker sends it back: its CSV rows, already formatted
    (the client only writes them), and what the summary needs."""

    text: str
    plots: int
    verdicts: dict[str, int]
    files: Files


def stream_batch(
    source: ValidationReport | PlotSlice, catalog: Catalog, data_dir: Path
) -> StreamBatchOutput:
    """Read (for a slice), plan, check and format one input batch. Pure, like `check_batch`."""
    with paused_gc():
        return _stream_batch(source, catalog, data_dir)


def _stream_batch(
    source: ValidationReport | PlotSlice, catalog: Catalog, data_dir: Path
) -> StreamBatchOutput:
    report = source.read() if isinstance(source, PlotSlice) else source
    tasks = plan(report, catalog)
    results: list[PlotResult | None] = [None] * len(tasks)
    for task in tasks:
        if task.shape is None:
            results[task.row] = undetermined_result(task, catalog)
    checked = check_batch(spatial_chunks(tasks), catalog, data_dir)
    for row, done in checked.results:
        results[row] = done
    index = [int(i) for i in report.plots["source_index"].tolist()]
    datasets = catalog.enabled
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    verdicts: Counter[str] = Counter()
    for i, maybe in zip(index, results, strict=True):
        if maybe is None:  # a bug, never a silent gap in the output
            raise RuntimeError(f"plot at source index {i} came back without a result")
        writer.writerow(stream_row(i, maybe, datasets))
        verdicts[maybe.verdict.value] += 1
    return StreamBatchOutput(buffer.getvalue(), len(results), dict(verdicts), checked.files)


def check_stream(
    plot_batches: Iterable[ValidationReport | PlotSlice],
    catalog: Catalog,
    data_dir: Path,
    out_csv: Path,
    *,
    client: Client,
    max_in_flight: int | None = None,
    progress: Progress | None = None,
) -> StreamSummary:
    """Check plot batches as they come and write one CSV row per plot, in input order.

    Each input batch is one task: validated plots (e.g. from `read_plot_batches`), or a
    `PlotSlice` of a file (from `plot_slices`) that the worker reads and validates itself, so
    that the client does nothing but write. Batches that finish early are held back (as text)
    until those before them are written, and at most `max_in_flight` batches (default: twice
    the workers) are submitted or held at any time: memory is bounded by the batch size, not
    by the number of plots. The CSV (UTF-8, comma, "\\n" line ends, numbers with 6 decimals;
    see `stream_columns`) is written to a temporary file beside `out_csv` and renamed when
    complete; on failure no `out_csv` appears. The same batches give the same bytes, whatever
    the cluster.
    """
    data_dir = Path(data_dir).resolve()
    limit = max_in_flight or 2 * worker_count(client)
    if limit < 1:
        raise ValueError("max_in_flight must be at least 1")
    run = uuid.uuid4().hex
    shared: Future[Catalog] | None = None
    waiting: _Completed[StreamBatchOutput] = _Completed(client)
    by_key: dict[str, int] = {}
    futures: dict[int, Future[StreamBatchOutput]] = {}  # submitted, not yet back
    held: dict[int, StreamBatchOutput] = {}  # back, waiting for the batches before them
    verdicts: Counter[str] = Counter()
    files: Files = set()
    written = plots = submitted = 0

    with atomic_path(out_csv) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow(stream_columns(catalog))

        def collect_one() -> None:
            nonlocal written, plots
            future = next(waiting)
            number = by_key.pop(str(future.key))
            out = future.result()
            _release(future)
            del futures[number]
            held[number] = out
            if progress:
                progress(out.plots)
            while written in held:
                done = held.pop(written)
                fh.write(done.text)
                verdicts.update(done.verdicts)
                files.update(done.files)
                plots += done.plots
                written += 1

        try:
            for source in plot_batches:
                while len(futures) + len(held) >= limit:
                    collect_one()
                if shared is None:
                    shared = _scatter_catalog(client, catalog)
                key = f"eudr-stream-{run}-{submitted:07d}"
                future = _submit_any(client, stream_batch, source, shared, data_dir, key=key)
                futures[submitted] = future
                by_key[key] = submitted
                waiting.add(future)
                submitted += 1
            while futures:
                collect_one()
        finally:
            _cancel(client, futures.values())
        if held or written != submitted:
            raise RuntimeError(f"{submitted - written} batches were not written")
    return StreamSummary(Path(out_csv), plots, submitted, dict(sorted(verdicts.items())),
                         file_records(files))  # fmt: skip
