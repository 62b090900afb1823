"""Checking uploaded plots without making the uploader wait, through a queue that survives.

Jobs live in the registry (`store.jobs`): a check queued is a row, so a crash loses nothing
but the batch in flight (results are committed batch by batch), a restarted service, or any
other process of it, takes the job up again once its lease runs out, and organisations are
served in turn (an upload's plots are split into jobs of `store.jobs.JOB_PLOTS`). Each
process runs one worker thread (the analysis is CPU-bound: a second would only slow both).
With `EUDR_CHECK_CHECK_DEPLOYMENT` set, jobs go to that Prefect deployment (the `check` flow
on Dask) and a Prefect worker runs them instead.

Progress is read from the registry (which versions have a result); the preflight of each key
(what the plots need that the data folder lacks) is kept in memory, for the upload page.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence

from eudr_check.datasets.preflight import Preflight
from eudr_check.datasets.sources import DataSources
from eudr_check.engine import DaskExecutor, RegisteredPlots, RegistrySink, Reuse, run_check
from eudr_check.engine.preflight import PreflightWatch
from eudr_check.engine.record import RunRecord
from eudr_check.engine.sinks import Sink
from eudr_check.store import Registry
from eudr_check.store.jobs import JOB_PLOTS, JobInfo

log = logging.getLogger(__name__)

LEASE_S = 30.0  # a job whose worker has not renewed it for this long goes back in the queue
BEAT_S = 5.0  # how often a working worker renews its lease (at most a third of the lease)
POLL_S = 1.0  # how often an idle worker looks for jobs other processes queued


class _JobRun(Sink):
    """Ties the job to the check run working on it (failed with the job if its lease ends)."""

    wants_reused = False

    def __init__(self, registry: Registry, job_id: int) -> None:
        self.registry, self.job_id = registry, job_id

    def open(self, record: RunRecord) -> None:
        self.registry.job_run(self.job_id, record.run_id)


class CheckQueue:
    def __init__(
        self, registry: Registry, sources: DataSources, deployment: str | None = None, *,
        job_plots: int = JOB_PLOTS, lease_s: float = LEASE_S, dask_address: str | None = None,
    ) -> None:  # fmt: skip
        self.registry = registry
        self.sources = sources
        self.deployment = deployment
        self.job_plots = job_plots
        self.lease_s = lease_s
        self.dask_address = dask_address
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._preflight: dict[str, Preflight] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if deployment is None:
            # Start-up: jobs a dead process held go back in the queue once their lease is out.
            registry.requeue_expired()
            self._thread = threading.Thread(target=self._loop, name="eudr-check", daemon=True)
            self._thread.start()

    def submit(self, key: str, version_ids: Sequence[int], organisation_id: int | None = None,
               ) -> None:  # fmt: skip
        """Queue a check; `key` names the job ("upload-7", "lot-3") for error() and busy()."""
        ids = [int(v) for v in version_ids]
        if self.deployment:
            self._submit_flow(ids)
            return
        self.registry.enqueue(key, organisation_id, ids, self.job_plots)
        self._wake.set()

    def error(self, key: str) -> str | None:
        """The last error of the key's jobs, once none is left to run."""
        state = self.registry.key_state(key)
        return state.error if state.failed and not state.pending else None

    def preflight(self, key: str) -> Preflight | None:
        """What the job's plots need that the data folder lacks (None: not known yet)."""
        with self._lock:
            return self._preflight.get(key)

    def busy(self, key: str) -> bool:
        return self.registry.key_state(key).pending > 0

    def wait(self, timeout: float | None = None) -> None:
        """Block until no job is queued or running (tests, shutdown)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.registry.jobs_pending():
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"check jobs still pending after {timeout} s")
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    # --- the worker ---------------------------------------------------------------------

    def _loop(self) -> None:
        swept = time.monotonic()
        while not self._stop.is_set():
            try:
                if time.monotonic() - swept > self.lease_s:
                    self.registry.requeue_expired()
                    swept = time.monotonic()
                job = self.registry.claim(self.worker, self.lease_s)
            except Exception:  # the registry is away: try again, never let the worker die
                log.exception("could not claim a check job")
                job = None
            if job is None:
                self._wake.wait(POLL_S)
                self._wake.clear()
                continue
            self._run(job)

    def _run(self, job: JobInfo) -> None:
        beating = threading.Event()

        def beat() -> None:
            while not beating.wait(min(BEAT_S, self.lease_s / 3)):
                try:
                    if not self.registry.heartbeat(job.id, self.worker, self.lease_s):
                        log.warning("job %s is no longer ours", job.id)
                except Exception:
                    log.exception("could not renew the lease of job %s", job.id)

        heart = threading.Thread(target=beat, name=f"eudr-check-lease-{job.id}", daemon=True)
        heart.start()
        error = None
        try:
            plots = RegisteredPlots(self.registry, job.version_ids, reuse=Reuse.MATCHING)
            watch = PreflightWatch(self.sources, lambda *_: self._keep(job.key, watch))
            sinks = [RegistrySink(self.registry), _JobRun(self.registry, job.id)]
            with contextlib.ExitStack() as stack:
                executor = None
                if self.dask_address:  # the analysis on the cluster, not in this process
                    executor = stack.enter_context(DaskExecutor.connect(self.dask_address))
                run_check(plots, self.sources, executor=executor, inspect=watch, sinks=sinks)
        except Exception as exc:  # the job's end: keep the reason for the upload page
            log.exception("check job %s (%s) failed", job.id, job.key)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            beating.set()
            heart.join()
        self.registry.finish_job(job.id, self.worker, error)

    def _keep(self, key: str, watch: PreflightWatch) -> None:
        if watch.found is None:
            return
        with self._lock:  # shown while the analysis runs; a key's jobs add up
            had = self._preflight.get(key)
            self._preflight[key] = watch.found if had is None else had.merged(watch.found)

    def _submit_flow(self, version_ids: list[int]) -> None:
        from prefect.deployments import run_deployment

        # timeout=0: hand the run to the Prefect worker and return; results land in the registry.
        # The worker uses its own settings (EUDR_CHECK_REGISTRY_URL, _DATASETS): a URL with its
        # password passed here would be stored and shown by Prefect as a flow-run parameter.
        run_deployment(
            name=self.deployment or "",
            parameters={
                "version_ids": version_ids,
                "only_changed": True,
            },
            timeout=0,
        )
