"""The flows: ingest (file -> rules -> registry), check (plots -> verdicts -> registry and
reports), nightly (only what changed), bundle (lot -> compliance bundle)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, unmapped
from prefect_dask import DaskTaskRunner

from eudr_check import __version__
from eudr_check.datasets.catalog import load_catalog
from eudr_check.fingerprint import fingerprints
from eudr_check.models import PlotResult
from eudr_check.parallel import batch_chunks
from eudr_check.pipeline import file_records, plan, spatial_chunks, undetermined_result
from eudr_check.registry_check import subset
from eudr_check.reports.bundle import write_bundle
from eudr_check.reports.check_reports import write_check_reports
from eudr_check.run import CheckRun
from eudr_check.settings import get_settings
from eudr_check.store.registry import Registry
from flows.tasks import analyse_batch, read_and_validate, record_results, register_upload

# Plots per Dask task: large enough to amortise task overhead, small enough to spread.
BATCH_PLOTS = 2000


def dask_runner() -> DaskTaskRunner:
    """An existing cluster (EUDR_CHECK_DASK_ADDRESS) or a local cluster of 2 processes."""
    address = get_settings().dask_address
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": 2,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )


@flow(name="ingest")
def ingest(
    path: str, organisation_id: int, registry_url: str | None = None, country: str | None = None
) -> dict[str, Any]:
    report, sha = read_and_validate(path, country)
    summary = register_upload(registry_url, organisation_id, report, Path(path).name, sha)
    get_run_logger().info("registered %s: %s", path, summary)
    return {"upload_id": summary.upload_id, "new_plots": summary.new_plots,
            "new_versions": summary.new_versions, "unchanged": summary.unchanged}  # fmt: skip


@flow(name="check", task_runner=dask_runner())
def check(
    organisation_id: int | None = None,
    version_ids: list[int] | None = None,
    registry_url: str | None = None,
    data_dir: str | None = None,
    catalog_path: str | None = None,
    out_dir: str | None = None,
    only_changed: bool = False,
    kind: str = "check",
    lang: str = "es",
) -> dict[str, Any]:
    """Verdicts for registered plots; with only_changed, just the plots whose fingerprint
    (plot version, dataset versions, tiles under the plot, thresholds) has no result yet."""
    log = get_run_logger()
    settings = get_settings()
    data = Path(data_dir) if data_dir else settings.datasets
    catalog = load_catalog(Path(catalog_path) if catalog_path else settings.catalog)
    started = dt.datetime.now(dt.UTC)
    with Registry.open(registry_url) as registry:
        ids = version_ids if version_ids is not None else registry.current_versions(organisation_id)
        report = registry.report_for(ids)
        tasks = plan(report, catalog)
        prints = fingerprints(tasks, catalog, data)
        row_version = report.plots["version_id"].astype(int).tolist()
        done = (
            registry.checked(list(zip(row_version, prints, strict=True))) if only_changed else set()
        )
        todo = [t for t in tasks if (row_version[t.row], prints[t.row]) not in done]
        if not todo:
            log.info("nothing changed since the last run: no analysis")
            return {"analysed": 0, "skipped": len(tasks), "run_id": None}
        run_id = registry.start_run(kind, __version__, {"plots": len(todo)})
    results: dict[int, PlotResult] = {
        t.row: undetermined_result(t, catalog) for t in todo if t.shape is None
    }
    files: set[tuple[str, str, str]] = set()
    work = batch_chunks(spatial_chunks(todo), BATCH_PLOTS)
    futures = analyse_batch.map(work, unmapped(catalog), unmapped(data))
    for future in futures:
        pairs, used = future.result()
        results.update(pairs)
        files |= used
    items = [(row_version[row], prints[row], r) for row, r in sorted(results.items())]
    record_results(registry_url, run_id, items)
    rows = sorted(results)
    if out_dir:
        validation = subset(report, rows)
        run = CheckRun(uuid.uuid4().hex, f"registry-run-{run_id}", "", validation,
                       [results[r] for r in rows], catalog, data, file_records(files), started,
                       dt.datetime.now(dt.UTC), __version__)  # fmt: skip
        write_check_reports(run, Path(out_dir), lang=lang)
    with Registry.open(registry_url) as registry:
        registry.finish_run(run_id, "done")
    log.info("run %s: %s plots analysed, %s unchanged", run_id, len(rows), len(tasks) - len(rows))
    return {"analysed": len(rows), "skipped": len(tasks) - len(rows), "run_id": run_id}


@flow(name="nightly")
def nightly(
    registry_url: str | None = None, data_dir: str | None = None, catalog_path: str | None = None,
    out_dir: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Every night: re-check only new or edited plots, and plots under new data."""
    return check(registry_url=registry_url, data_dir=data_dir, catalog_path=catalog_path,
                 out_dir=out_dir, only_changed=True, kind="nightly")  # fmt: skip


@flow(name="bundle")
def bundle(
    lot_id: int, out_dir: str, registry_url: str | None = None, data_dir: str | None = None,
    catalog_path: str | None = None, lang: str = "es",
) -> str:  # fmt: skip
    """The compliance bundle of a lot: EU files, due-diligence reports, manifest, as one zip.
    Fails with a BundleError when a plot is unchecked or its result is stale (re-check it)."""
    settings = get_settings()
    catalog = load_catalog(Path(catalog_path) if catalog_path else settings.catalog)
    data = Path(data_dir) if data_dir else settings.datasets
    with Registry.open(registry_url) as registry:
        path = write_bundle(registry, lot_id, catalog, data, Path(out_dir), lang=lang)
    get_run_logger().info("bundle for lot %s: %s", lot_id, path)
    return str(path)
