"""Checking uploaded plots without making the uploader wait.

In-process (default): one background thread runs the engine on the registered plots (only
those without a result for their current fingerprint are analysed; the analysis is CPU-bound,
a second thread would only slow both). With `EUDR_CHECK_CHECK_DEPLOYMENT` set, the job goes to
that Prefect deployment (the `check` flow on Dask) and a Prefect worker runs it.

Progress is read from the registry (which versions have a result), so it survives restarts;
only the last error of a job, and its preflight (the tiles its plots need that the data
folder lacks, with the download command), are kept in memory, for the upload page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from eudr_check.datasets.preflight import Preflight
from eudr_check.datasets.sources import DataSources
from eudr_check.engine import RegisteredPlots, RegistrySink, Reuse, run_check
from eudr_check.engine.preflight import PreflightWatch
from eudr_check.store import Registry

log = logging.getLogger(__name__)


class CheckQueue:
    def __init__(
        self, registry: Registry, sources: DataSources, deployment: str | None = None
    ) -> None:
        self.registry = registry
        self.sources = sources
        self.deployment = deployment
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eudr-check")
        self._errors: dict[str, str] = {}
        self._preflight: dict[str, Preflight] = {}
        self._pending: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def submit(self, key: str, version_ids: Sequence[int]) -> None:
        """Queue a check; `key` names the job ("upload-7", "lot-3") for error() and busy()."""
        ids = [int(v) for v in version_ids]
        future = self._pool.submit(self._run, key, ids)
        with self._lock:
            # Finished jobs are forgotten (their outcome is in the registry or in _errors).
            self._pending = {k: f for k, f in self._pending.items() if not f.done()}
            self._pending[key] = future

    def error(self, key: str) -> str | None:
        with self._lock:
            return self._errors.get(key)

    def preflight(self, key: str) -> Preflight | None:
        """What the job's plots need that the data folder lacks (None: not known yet)."""
        with self._lock:
            return self._preflight.get(key)

    def busy(self, key: str) -> bool:
        with self._lock:
            future = self._pending.get(key)
        return future is not None and not future.done()

    def wait(self, timeout: float | None = None) -> None:
        """Block until every submitted job has finished (tests, shutdown)."""
        with self._lock:
            futures = list(self._pending.values())
        for f in futures:
            f.result(timeout=timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, key: str, version_ids: list[int]) -> None:
        try:
            if self.deployment:
                self._submit_flow(version_ids)
            else:
                plots = RegisteredPlots(self.registry, version_ids, reuse=Reuse.MATCHING)
                watch = PreflightWatch(self.sources, lambda *_: self._keep(key, watch))
                run_check(plots, self.sources, sinks=[RegistrySink(self.registry)],
                          inspect=watch)  # fmt: skip
        except Exception as exc:  # the job's end: keep the reason for the upload page
            log.exception("check %s failed", key)
            with self._lock:
                self._errors[key] = f"{type(exc).__name__}: {exc}"
        else:
            with self._lock:
                self._errors.pop(key, None)

    def _keep(self, key: str, watch: PreflightWatch) -> None:
        if watch.found is not None:  # shown while the analysis runs
            with self._lock:
                self._preflight[key] = watch.found

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
