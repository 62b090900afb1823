"""Small typed Prefect tasks around library calls. Retries only where I/O can fail for a while
(files, the registry database, rasters on disk or over HTTP); the maths is deterministic."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from prefect import task

from eudr_check.datasets.catalog import Catalog
from eudr_check.datasets.reader import open_files
from eudr_check.intake import read_plots
from eudr_check.models import PlotResult
from eudr_check.pipeline import PlotTask, check_chunk
from eudr_check.rules import ValidationReport, validate
from eudr_check.store.registry import Registry, UploadSummary

IO_RETRIES = 2
IO_DELAY = 5


@task(retries=IO_RETRIES, retry_delay_seconds=IO_DELAY)
def read_and_validate(path: str, country: str | None = None) -> tuple[ValidationReport, str]:
    data = Path(path).read_bytes()
    report = validate(read_plots(path, default_country=country), fix=True)
    return report, hashlib.sha256(data).hexdigest()


@task(retries=IO_RETRIES, retry_delay_seconds=IO_DELAY)
def register_upload(
    registry_url: str | None, organisation_id: int, report: ValidationReport, name: str, sha: str
) -> UploadSummary:
    with Registry.open(registry_url) as registry:
        return registry.register_upload(organisation_id, report, name, sha)


@task(retries=1, retry_delay_seconds=IO_DELAY)
def analyse_batch(
    batch: Sequence[Sequence[PlotTask]], catalog: Catalog, data_dir: Path
) -> tuple[list[tuple[int, PlotResult]], set[tuple[str, str, str]]]:
    """Verdicts for a batch of spatial chunks (and the files read); pure, so a retry on
    another worker is safe."""
    out: list[tuple[int, PlotResult]] = []
    files: set[tuple[str, str, str]] = set()
    with open_files():
        for chunk in batch:
            results, used = check_chunk(chunk, catalog, data_dir)
            out.extend((t.row, r) for t, r in zip(chunk, results, strict=True))
            files |= used
    return out, files


@task(retries=IO_RETRIES, retry_delay_seconds=IO_DELAY)
def record_results(
    registry_url: str | None, run_id: int, items: Sequence[tuple[int, str, PlotResult]]
) -> None:
    with Registry.open(registry_url) as registry:
        registry.record_results(run_id, items)
