"""Check registered plot versions in this process and record the verdicts in the registry.

The web service uses it when no Prefect deployment is configured; the Prefect `check` flow does
the same work with its analysis spread over Dask.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eudr_check import __version__
from eudr_check.datasets.catalog import Catalog
from eudr_check.fingerprint import fingerprints
from eudr_check.pipeline import check_plots, plan
from eudr_check.rules import ValidationReport
from eudr_check.store.registry import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RegistryCheck:
    run_id: int | None  # None: nothing needed checking
    analysed: int
    skipped: int


def subset(report: ValidationReport, rows: Sequence[int]) -> ValidationReport:
    """The report restricted to some rows, with their findings only."""
    plots = report.plots.iloc[list(rows)].reset_index(drop=True)
    keys = set(zip(plots["source_file"], plots["source_index"], plots["plot_id"], strict=True))
    findings = [f for f in report.findings if (f.source_file, f.source_index, f.plot_id) in keys]
    return ValidationReport(plots, findings, report.fixed, report.thresholds)


def check_registered(
    registry: Registry,
    version_ids: Sequence[int],
    catalog: Catalog,
    data_dir: Path,
    *,
    only_changed: bool = True,
    kind: str = "check",
) -> RegistryCheck:
    """Verdicts for these plot versions; with only_changed, only those without a result for
    their current fingerprint (plot, datasets, tiles under the plot, thresholds)."""
    if not version_ids:
        return RegistryCheck(None, 0, 0)
    report = registry.report_for(version_ids)
    tasks = plan(report, catalog)
    prints = fingerprints(tasks, catalog, data_dir)
    versions = report.plots["version_id"].astype(int).tolist()
    pairs = list(zip(versions, prints, strict=True))
    done = registry.checked(pairs) if only_changed else set()
    rows = [i for i, pair in enumerate(pairs) if pair not in done]
    if not rows:
        return RegistryCheck(None, 0, len(pairs))
    run_id = registry.start_run(kind, __version__, {"plots": len(rows)})
    try:
        run = check_plots(subset(report, rows), catalog, data_dir)
        items = [(versions[r], prints[r], res) for r, res in zip(rows, run.results, strict=True)]
        registry.record_results(run_id, items)
    except BaseException:
        registry.finish_run(run_id, "failed")
        raise
    registry.finish_run(run_id, "done")
    log.info("run %s: %s plots analysed, %s unchanged", run_id, len(rows), len(pairs) - len(rows))
    return RegistryCheck(run_id, len(rows), len(pairs) - len(rows))
