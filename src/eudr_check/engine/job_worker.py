"""Running the registry's check jobs (`store.jobs`): claim one, keep its lease alive while the
engine checks its plots into the registry, finish it; or drain the queue.

The web service's worker thread and the `check-queue` Prefect flow both run jobs through
here, so a job is checked the same way wherever it runs: results committed batch by batch
(a crash loses one batch), the run tied to the job (failed with it if its lease runs out),
stored results reused (re-running a job never adds a result twice).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

from eudr_check.datasets.sources import DataSources
from eudr_check.engine.executors import Executor
from eudr_check.engine.inputs import RegisteredPlots, Reuse
from eudr_check.engine.preflight import PreflightWatch
from eudr_check.engine.record import RunRecord
from eudr_check.engine.registry_sink import RegistrySink
from eudr_check.engine.run import run_check
from eudr_check.engine.sinks import Sink
from eudr_check.store import Registry
from eudr_check.store.jobs import JobInfo

log = logging.getLogger(__name__)

LEASE_S = 30.0  # a job whose worker has not renewed it for this long goes back in the queue
BEAT_S = 5.0  # how often a working worker renews its lease (at most a third of the lease)


def worker_name() -> str:
    """host:pid:random, unique per worker, readable in the jobs table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _JobRun(Sink):
    """Ties the job to the check run working on it (failed with the job if its lease ends)."""

    wants_reused = False

    def __init__(self, registry: Registry, job_id: int) -> None:
        self.registry, self.job_id = registry, job_id

    def open(self, record: RunRecord) -> None:
        self.registry.job_run(self.job_id, record.run_id)


class JobWorker:
    """Runs claimed jobs. `executor` gives each job's executor (a context manager; None: run
    in this process); `watch` is told each job's preflight as it is found."""

    def __init__(
        self, registry: Registry, sources: DataSources, *, lease_s: float = LEASE_S,
        executor: Callable[[], contextlib.AbstractContextManager[Executor | None]] | None = None,
        watch: Callable[[JobInfo, PreflightWatch], None] | None = None,
    ) -> None:  # fmt: skip
        self.registry, self.sources, self.lease_s = registry, sources, lease_s
        self.executor = executor or (lambda: contextlib.nullcontext(None))
        self.watch = watch
        self.name = worker_name()

    def claim(self) -> JobInfo | None:
        return self.registry.claim(self.name, self.lease_s)

    def drain(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Run jobs until none is left to claim (or should_stop()); how many were run."""
        done = 0
        while not should_stop():
            job = self.claim()
            if job is None:
                break
            self.run(job)
            done += 1
        return done

    def run(self, job: JobInfo) -> str | None:
        """Check the job's plots and finish it; the error that failed it, if any."""
        beating = threading.Event()

        def beat() -> None:
            while not beating.wait(min(BEAT_S, self.lease_s / 3)):
                try:
                    if not self.registry.heartbeat(job.id, self.name, self.lease_s):
                        log.warning("job %s is no longer ours", job.id)
                except Exception:
                    log.exception("could not renew the lease of job %s", job.id)

        heart = threading.Thread(target=beat, name=f"eudr-check-lease-{job.id}", daemon=True)
        heart.start()
        error = None
        try:
            plots = RegisteredPlots(self.registry, job.version_ids, reuse=Reuse.MATCHING)
            watch = PreflightWatch(self.sources)
            if self.watch is not None:
                watch.seen = lambda *_: self._tell(job, watch)
            sinks = [RegistrySink(self.registry), _JobRun(self.registry, job.id)]
            with self.executor() as executor:
                run_check(plots, self.sources, executor=executor, inspect=watch, sinks=sinks)
        except Exception as exc:  # the job's end: keep the reason for the upload page
            log.exception("check job %s (%s) failed", job.id, job.key)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            beating.set()
            heart.join()
        self.registry.finish_job(job.id, self.name, error)
        return error

    def _tell(self, job: JobInfo, watch: PreflightWatch) -> None:
        if self.watch is not None:
            self.watch(job, watch)
