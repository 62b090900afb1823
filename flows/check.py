"""The flows: ingest (file -> rules -> registry), check (plots -> verdicts -> registry and
reports), check-queue (the web service's queued jobs -> registry), bundle (lot -> compliance
bundle); the nightly monitoring flow is flows/nightly.py. Each is a few lines
around the library: the check is the engine's `run_check` with Prefect tasks as executor.

A flow's body may use only what it imports from installed modules: Prefect sends the flow
(by value, when it is loaded from its file by a deployment) with every task to the Dask
scheduler, where a helper defined in this file could not be found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect_dask import DaskTaskRunner

from eudr_check.datasets.sources import DataSources
from eudr_check.engine import RegisteredPlots, RegistrySink, Reuse, Sink, run_check
from eudr_check.engine.job_worker import LEASE_S, JobWorker
from eudr_check.engine.prefect import PrefectExecutor
from eudr_check.engine.preflight import PreflightWatch
from eudr_check.i18n import Lang
from eudr_check.reports.bundle import write_bundle
from eudr_check.reports.check_reports import ReportSink
from eudr_check.settings import get_settings
from eudr_check.store.registry import Registry
from flows.tasks import read_and_validate, register_upload


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
    lang: Lang = Lang.ES,
) -> dict[str, Any]:
    """Verdicts for registered plots; with only_changed, just the plots whose fingerprint
    (plot version, dataset versions, tiles under the plot, thresholds) has no result yet. With
    out_dir, the reports of every plot asked for (stored results reused where they hold)."""
    sources = DataSources.configured(data_dir, catalog_path)
    with Registry.open(registry_url) as registry:
        ids = version_ids if version_ids is not None else registry.current_versions(organisation_id)
        reuse = Reuse.MATCHING if only_changed else Reuse.NONE
        plots = RegisteredPlots(
            registry, ids, reuse=reuse, name=f"{kind}-{organisation_id or 'all'}"
        )
        sinks: list[Sink] = [RegistrySink(registry)]
        if out_dir:
            sinks.insert(0, ReportSink(Path(out_dir), lang=Lang.of(lang)))
        watch = PreflightWatch(sources)
        record = run_check(plots, sources, executor=PrefectExecutor(), sinks=sinks, kind=kind,
                           inspect=watch)  # fmt: skip
    analysed = record.planned or 0
    logger = get_run_logger()
    logger.info("run %s: %s plots analysed, %s unchanged", record.run_id, analysed,
                len(ids) - analysed)  # fmt: skip
    found = watch.found
    for line in found.lines(sources, Lang.of(lang)) if found is not None else ():
        logger.warning("%s", line)  # missing tiles, clipped files, the download command
    missing = [{"dataset_id": m.dataset_id, "version": m.version, "tile": m.tile,
                "plots": m.plots, "optional": m.optional}
               for m in (found.missing if found is not None else ())]  # fmt: skip
    return {"analysed": analysed, "skipped": len(ids) - analysed,
            "run_id": record.run_id if analysed else None, "missing_tiles": missing}  # fmt: skip


@flow(name="check-queue", task_runner=dask_runner())
def check_queue(
    registry_url: str | None = None, data_dir: str | None = None, catalog_path: str | None = None,
    lease_s: float = LEASE_S,
) -> dict[str, Any]:  # fmt: skip
    """The web service's check jobs (`EUDR_CHECK_CHECK_DEPLOYMENT`), claimed from the registry
    until none is left: organisations in turn, each job under a lease, results committed batch
    by batch. Several runs at once share the queue; a run that dies leaves its job to the
    next once the lease runs out."""
    import contextlib

    sources = DataSources.configured(data_dir, catalog_path)
    logger = get_run_logger()

    def tell(job: Any, watch: PreflightWatch) -> None:
        found = watch.found
        for line in found.lines(sources, Lang.ES) if found is not None else ():
            logger.warning("job %s (%s): %s", job.id, job.key, line)

    with Registry.open(registry_url) as registry:
        registry.requeue_expired()
        worker = JobWorker(registry, sources, lease_s=lease_s, watch=tell,
                           executor=lambda: contextlib.nullcontext(PrefectExecutor()))  # fmt: skip
        done = worker.drain()
    logger.info("check-queue: %s jobs run", done)
    return {"jobs": done}


@flow(name="bundle")
def bundle(
    lot_id: int, out_dir: str, registry_url: str | None = None, data_dir: str | None = None,
    catalog_path: str | None = None, lang: Lang = Lang.ES,
) -> str:  # fmt: skip
    """The compliance bundle of a lot: EU files, due-diligence reports, manifest, as one zip.
    Fails with a BundleError when a plot is unchecked or its result is stale (re-check it)."""
    sources = DataSources.configured(data_dir, catalog_path)
    with Registry.open(registry_url) as registry:
        path = write_bundle(registry, lot_id, sources, Path(out_dir), lang=Lang.of(lang))
    get_run_logger().info("bundle for lot %s: %s", lot_id, path)
    return str(path)
