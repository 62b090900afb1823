"""Checking uploaded plots without making the uploader wait, through a queue that survives.

Jobs live in the registry (`store.jobs`): a check queued is a row, so a crash loses nothing
but the batch in flight (results are committed batch by batch), a restarted service, or any
other process of it, takes the job up again once its lease runs out, and organisations are
served in turn (an upload's plots are split into jobs of `store.jobs.JOB_PLOTS`). Jobs are run
by `engine.job_worker.JobWorker`:

- by default in one worker thread per process (the analysis is CPU-bound: a second would
  only slow both), on the Dask cluster at `EUDR_CHECK_DASK_ADDRESS` when one is set;
- with `EUDR_CHECK_CHECK_DEPLOYMENT` (the `check-queue` flow's deployment), by Prefect
  workers: each submit starts a flow run that drains the queue, and this process only
  re-queues expired leases and starts another run when jobs wait with none running.

Progress is read from the registry (which versions have a result); the preflight of each key
(what the plots need that the data folder lacks) is kept in memory, for the upload page (in
this process's own worker only: Prefect's runs log theirs).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence

from eudr_check.datasets.preflight import Preflight
from eudr_check.datasets.sources import DataSources
from eudr_check.engine import DaskExecutor, Executor
from eudr_check.engine.job_worker import LEASE_S, JobWorker
from eudr_check.engine.preflight import PreflightWatch
from eudr_check.store import Registry
from eudr_check.store.jobs import JOB_PLOTS, JobInfo

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often an idle worker looks for jobs other processes queued


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
        self.worker = JobWorker(registry, sources, lease_s=lease_s, executor=self._executor,
                                watch=self._keep)  # fmt: skip
        self._preflight: dict[str, Preflight] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._started = 0.0  # when the last flow run was started (deployment mode)
        # Start-up: jobs a dead process held go back in the queue once their lease is out.
        registry.requeue_expired()
        loop = self._loop if deployment is None else self._watch_flows
        self._thread = threading.Thread(target=loop, name="eudr-check", daemon=True)
        self._thread.start()

    def submit(self, key: str, version_ids: Sequence[int], organisation_id: int | None = None,
               ) -> None:  # fmt: skip
        """Queue a check; `key` names the job ("upload-7", "lot-3") for error() and busy()."""
        ids = [int(v) for v in version_ids]
        self.registry.enqueue(key, organisation_id, ids, self.job_plots)
        if self.deployment:
            self._start_flow()
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
                job = self.worker.claim()
            except Exception:  # the registry is away: try again, never let the worker die
                log.exception("could not claim a check job")
                job = None
            if job is None:
                self._wake.wait(POLL_S)
                self._wake.clear()
                continue
            self.worker.run(job)

    @contextlib.contextmanager
    def _executor(self) -> Iterator[Executor | None]:
        if not self.dask_address:
            yield None
            return
        with DaskExecutor.connect(self.dask_address) as executor:  # the analysis on the cluster
            yield executor

    def _keep(self, job: JobInfo, watch: PreflightWatch) -> None:
        if watch.found is None:
            return
        with self._lock:  # shown while the analysis runs; a key's jobs add up
            had = self._preflight.get(job.key)
            self._preflight[job.key] = watch.found if had is None else had.merged(watch.found)

    # --- with a Prefect deployment ------------------------------------------------------

    def _watch_flows(self) -> None:
        """Expired leases back in the queue, and a flow run started when jobs wait with none
        running (a Prefect worker died, or the run that drained the queue ended early)."""
        while not self._stop.wait(min(POLL_S * 5, self.lease_s)):
            try:
                self.registry.requeue_expired()
                queued, running = self.registry.job_counts()
                if queued and not running and time.monotonic() - self._started > self.lease_s:
                    self._start_flow()
            except Exception:
                log.exception("could not watch the check queue")

    def _start_flow(self) -> None:
        from prefect.deployments import run_deployment

        # timeout=0: hand the run to a Prefect worker and return; it claims the queued jobs
        # from the registry. The worker uses its own settings (EUDR_CHECK_REGISTRY_URL,
        # _DATASETS): a URL with its password passed here would be stored and shown by
        # Prefect as a flow-run parameter.
        self._started = time.monotonic()
        run_deployment(name=self.deployment or "", parameters={}, timeout=0)
