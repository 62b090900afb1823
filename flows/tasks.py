"""Small typed Prefect tasks around library calls. Retries only where I/O can fail for a while
(files, the registry database); the analysis runs as the engine's own tasks
(`eudr_check.engine.prefect`), which are pure and retried once."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from eudr_check.intake import read_plots
from eudr_check.rules import ValidationReport, validate
from eudr_check.store.registry import Registry, UploadSummary

IO_RETRIES = 2
IO_DELAY = 5


@task(retries=IO_RETRIES, retry_delay_seconds=IO_DELAY, cache_policy=NO_CACHE)
def read_and_validate(path: str, country: str | None = None) -> tuple[ValidationReport, str]:
    """The file through the one input gate (default country and all), and its SHA-256."""
    table = read_plots(Path(path), default_country=country)
    return validate(table, fix=True), table.sha256


@task(retries=IO_RETRIES, retry_delay_seconds=IO_DELAY, cache_policy=NO_CACHE)
def register_upload(
    registry_url: str | None, organisation_id: int, report: ValidationReport, name: str, sha: str
) -> UploadSummary:
    with Registry.open(registry_url) as registry:
        return registry.register_upload(organisation_id, report, name, sha)
