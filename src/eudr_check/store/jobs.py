"""The check queue in the registry: jobs that survive a crash, served organisation by
organisation.

A job is some plot versions to check (an upload's are split into jobs of `JOB_PLOTS`). A worker
claims one under a lease and renews it while it works (`heartbeat`); a worker that dies stops
renewing, and once its lease runs out the job is queued again and the run it had started is
marked failed. Claims go to the organisation served least recently, so one cooperative's
100,000 plots never keep another's single plot waiting for more than one job. Re-running a job
duplicates nothing: results are unique per (plot version, fingerprint), and stored results are
reused. A mixin of `Registry`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eudr_check.store.schema import CheckJob, CheckRun, JobState, RunStatus, utcnow

JOB_PLOTS = 2000  # plot versions per job: what one claim holds up the others for


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: int
    key: str
    organisation_id: int | None
    version_ids: tuple[int, ...]
    attempts: int


@dataclass(frozen=True, slots=True)
class KeyState:
    """How the jobs of one key stand: any still to do, and the last error if one failed."""

    pending: int
    failed: int
    error: str | None


class JobQueue:
    def _write(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def enqueue(self, key: str, organisation_id: int | None, version_ids: Sequence[int],
                job_plots: int = JOB_PLOTS) -> list[int]:  # fmt: skip
        """Queue the versions as jobs of at most `job_plots`; their ids. Versions already
        queued or running under the same key are not queued twice."""
        with self._write() as s:
            waiting = s.execute(select(CheckJob.version_ids).where(
                CheckJob.key == key,
                CheckJob.state.in_([JobState.QUEUED, JobState.RUNNING]))).scalars()  # fmt: skip
            seen = {int(v) for ids in waiting for v in ids}
            todo = [int(v) for v in dict.fromkeys(version_ids) if int(v) not in seen]
            jobs = [CheckJob(key=key, organisation_id=organisation_id, state=JobState.QUEUED,
                             version_ids=todo[i : i + job_plots], attempts=0)
                    for i in range(0, len(todo), job_plots)]  # fmt: skip
            s.add_all(jobs)
            s.flush()
            return [j.id for j in jobs]

    def claim(self, worker: str, lease_s: float) -> JobInfo | None:
        """The next job for `worker`, leased for `lease_s` seconds: of the organisation served
        least recently, oldest first. None: nothing to do."""
        now = utcnow()
        with self._write() as s:
            served = (select(CheckJob.organisation_id, func.max(CheckJob.claimed_at).label("at"))
                      .where(CheckJob.claimed_at.is_not(None))
                      .group_by(CheckJob.organisation_id).subquery())  # fmt: skip
            query = (
                select(CheckJob)
                .outerjoin(served, served.c.organisation_id == CheckJob.organisation_id)
                .where(CheckJob.state == JobState.QUEUED)
                .order_by(served.c.at.is_not(None), served.c.at, CheckJob.id)
                .limit(1)
            )
            if s.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=CheckJob)
            job = s.execute(query).scalar_one_or_none()
            if job is None:
                return None
            job.state, job.worker, job.claimed_at = JobState.RUNNING, worker, now
            job.lease_until = now + dt.timedelta(seconds=lease_s)
            job.attempts += 1
            return JobInfo(job.id, job.key, job.organisation_id,
                           tuple(int(v) for v in job.version_ids), job.attempts)  # fmt: skip

    def heartbeat(self, job_id: int, worker: str, lease_s: float) -> bool:
        """Renew the lease; False when the job is no longer this worker's."""
        with self._write() as s:
            done = s.execute(sa.update(CheckJob).where(
                CheckJob.id == job_id, CheckJob.worker == worker,
                CheckJob.state == JobState.RUNNING,
            ).values(lease_until=utcnow() + dt.timedelta(seconds=lease_s)))  # fmt: skip
            return bool(getattr(done, "rowcount", 0))

    def job_run(self, job_id: int, run_uid: str) -> None:
        """The check run now working on the job (marked failed if the job's lease runs out)."""
        with self._write() as s:
            s.execute(sa.update(CheckJob).where(CheckJob.id == job_id).values(run_uid=run_uid))

    def finish_job(self, job_id: int, worker: str, error: str | None = None) -> None:
        state = JobState.FAILED if error else JobState.DONE
        with self._write() as s:
            s.execute(sa.update(CheckJob).where(CheckJob.id == job_id, CheckJob.worker == worker)
                      .values(state=state, error=error, lease_until=None))  # fmt: skip

    def requeue_expired(self) -> int:
        """Jobs whose worker stopped renewing its lease back in the queue, their runs failed;
        how many."""
        now = utcnow()
        with self._write() as s:
            expired = (
                s.execute(
                    select(CheckJob).where(
                        CheckJob.state == JobState.RUNNING, CheckJob.lease_until < now
                    )
                )
                .scalars()
                .all()
            )
            for job in expired:
                if job.run_uid is not None:
                    s.execute(sa.update(CheckRun).where(
                        CheckRun.uid == job.run_uid, CheckRun.status == RunStatus.RUNNING,
                    ).values(status=RunStatus.FAILED, finished_at=now))  # fmt: skip
                job.state, job.worker, job.lease_until, job.run_uid = (
                    JobState.QUEUED, None, None, None)  # fmt: skip
            return len(expired)

    def jobs_pending(self) -> int:
        """Jobs queued or running, of every key."""
        with self._read() as s:
            return int(s.execute(select(func.count()).select_from(CheckJob).where(
                CheckJob.state.in_([JobState.QUEUED, JobState.RUNNING]))).scalar_one())  # fmt: skip

    def job_counts(self) -> tuple[int, int]:
        """(queued, running) jobs, of every key."""
        with self._read() as s:
            rows = dict(s.execute(select(CheckJob.state, func.count()).where(
                CheckJob.state.in_([JobState.QUEUED, JobState.RUNNING]))
                .group_by(CheckJob.state)).all())  # fmt: skip
        return int(rows.get(JobState.QUEUED, 0)), int(rows.get(JobState.RUNNING, 0))

    def key_state(self, key: str) -> KeyState:
        with self._read() as s:
            rows = s.execute(select(CheckJob.state, CheckJob.error).where(CheckJob.key == key)
                             .order_by(CheckJob.id)).all()  # fmt: skip
        pending = sum(1 for state, _ in rows if state in (JobState.QUEUED, JobState.RUNNING))
        failed = [error for state, error in rows if state is JobState.FAILED]
        return KeyState(pending, len(failed), failed[-1] if failed else None)
