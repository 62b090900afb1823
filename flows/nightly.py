"""The nightly monitoring flow: refresh the alert tiles under registered plots -> re-check what
changed -> each organisation's digest -> its e-mail. Each step is a Prefect task (retried on I/O
only: downloads, the database, SMTP) and its outcome is recorded on the night's run in the
registry; a failed night is reported to the admins. A night run again (after a crash) fetches
what is still missing, re-checks nothing twice and sends no e-mail twice.

As in flows/check.py, the flow body only uses what it imports from installed modules.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import shapely
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from eudr_check import digest as digests
from eudr_check.datasets.download import needed_tiles, plot_bounds
from eudr_check.datasets.refresh import refresh
from eudr_check.datasets.sources import DataSources
from eudr_check.mail import MailError
from eudr_check.notify import mail_digest, tell_admins
from eudr_check.settings import get_settings
from eudr_check.store.registry import Registry
from flows.check import check

IO_RETRIES = 2
IO_DELAY = 5


def _io_error(task: Any, run: Any, state: Any) -> bool:
    """Retry a step only when it failed on I/O (network, files, the database, SMTP)."""
    try:
        state.result()
    except (OSError, MailError) as exc:
        return not isinstance(exc, (FileNotFoundError, PermissionError))
    except Exception as exc:  # the database drivers' errors have no common base
        return type(exc).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3"))
    return False


@task(retries=IO_RETRIES, retry_delay_seconds=IO_DELAY, retry_condition_fn=_io_error,
      cache_policy=NO_CACHE)  # fmt: skip
def refresh_alerts(registry_url: str | None, data_dir: str | None, catalog_path: str | None,
                   night_id: int) -> dict[str, Any]:  # fmt: skip
    """New alert tiles for the tiles under the registered plots (conditional requests)."""
    sources = DataSources.configured(data_dir, catalog_path)
    with Registry.open(registry_url) as registry:
        # Plots off the Earth (swapped coordinates) need no tile: their check says why.
        boxes = [b for b in plot_bounds(shapely.box(*b) for b in registry.current_bounds())
                 if b.on_earth()]  # fmt: skip
        tiles = {d.id: needed_tiles(d, boxes) for d in sources.catalog.enabled
                 if d.refresh != "never"}  # fmt: skip
        outcomes = [o.to_dict() for o in refresh(sources.catalog, sources.data_dir, tiles)]
        registry.record_fetches(night_id, outcomes)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[str(o["status"])] = counts.get(str(o["status"]), 0) + 1
    failed = [f"{o['dataset_id']} {o['tile']}: {o['error']}" for o in outcomes
              if str(o["status"]) == "failed"]  # fmt: skip
    return {"status": "done" if not failed else "partial", "tiles": counts, "failed": failed}


@task(retries=IO_RETRIES, retry_delay_seconds=IO_DELAY, retry_condition_fn=_io_error,
      cache_policy=NO_CACHE)  # fmt: skip
def build_digests(registry_url: str | None, night: str, started: str) -> dict[str, Any]:
    """Each organisation's digest of the results recorded since the previous digest."""
    with Registry.open(registry_url) as registry:
        since = registry.last_digest_until() or dt.datetime.fromisoformat(started)
        found = digests.build(registry, night, since, dt.datetime.now(dt.UTC))
    return {"status": "done", "digests": [d.id for d in found],
            "items": sum(d.counts.get("items", 0) for d in found)}  # fmt: skip


@task(retries=IO_RETRIES, retry_delay_seconds=IO_DELAY, retry_condition_fn=_io_error,
      cache_policy=NO_CACHE)  # fmt: skip
def send_digests(registry_url: str | None, night: str) -> dict[str, Any]:
    """The night's digests by e-mail, each at most once."""
    settings = get_settings()
    sent: list[dict[str, Any]] = []
    with Registry.open(registry_url) as registry:
        # Every digest of the night, also those a crashed run of the night made but did not send.
        for found in registry.night_digests(night):
            out = mail_digest(registry, found, settings)
            sent.append({"organisation_id": found.organisation_id, "status": out.status,
                         "to": list(out.to)})  # fmt: skip
    return {"status": "done", "mails": sent}


@flow(name="nightly")
def nightly(
    registry_url: str | None = None, data_dir: str | None = None, catalog_path: str | None = None,
    out_dir: str | None = None, night: str | None = None, refresh_data: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Every night: fresh alert data, re-check only what changed, tell people what did."""
    logger = get_run_logger()
    started = dt.datetime.now(dt.UTC)
    night = night or digests.night_of(started)
    with Registry.open(registry_url) as registry:
        night_id = registry.start_night(night)
    step = "refresh"
    clock = [time.perf_counter()]  # each step's outcome says how long it took
    try:
        if refresh_data:
            fetched = refresh_alerts(registry_url, data_dir, catalog_path, night_id)
            _record(registry_url, night_id, step, fetched, clock)
            for line in fetched["failed"]:
                logger.warning("refresh: %s", line)
        step = "check"
        checked = check(registry_url=registry_url, data_dir=data_dir, catalog_path=catalog_path,
                        out_dir=out_dir, only_changed=True, kind="nightly")  # fmt: skip
        _record(registry_url, night_id, step, {"status": "done", **checked}, clock)
        step = "digest"
        made = build_digests(registry_url, night, started.isoformat())
        _record(registry_url, night_id, step, made, clock)
        step = "notify"
        told = send_digests(registry_url, night)
        _record(registry_url, night_id, step, told, clock)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        with Registry.open(registry_url) as registry:
            registry.night_step(night_id, step, {"status": "failed", "error": error})
            registry.finish_night(night_id, "failed", error)
            try:
                tell_admins(registry, night_id, night, step, error, get_settings())
            except MailError as mail_exc:
                logger.error("could not tell the admins: %s", mail_exc)
        raise
    with Registry.open(registry_url) as registry:
        registry.finish_night(night_id, "done")
    logger.info("night %s: %s analysed, %s digest items", night, checked["analysed"],
                made["items"])  # fmt: skip
    return {**checked, "night": night, "night_id": night_id,
            "refresh": fetched if refresh_data else None, "digests": made["digests"],
            "mails": told["mails"]}  # fmt: skip


def _record(registry_url: str | None, night_id: int, step: str, outcome: dict[str, Any],
            clock: list[float]) -> None:  # fmt: skip
    now = time.perf_counter()
    seconds, clock[0] = round(now - clock[0], 2), now
    with Registry.open(registry_url) as registry:
        registry.night_step(night_id, step, {**outcome, "seconds": seconds})
