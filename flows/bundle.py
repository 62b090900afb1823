"""A lot's compliance bundle: one deterministic zip (same lot and results, same bytes)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import zipfile
from pathlib import Path

from eudr_check import __version__
from eudr_check.datasets.catalog import Catalog
from eudr_check.reports.atomic import atomic_path
from eudr_check.reports.check_reports import write_check_reports
from eudr_check.reports.traces import export_traces
from eudr_check.run import CheckRun
from eudr_check.store.registry import Registry

# Zip entries carry a date: a fixed one keeps the bundle's bytes a function of its content.
_ZIP_DATE = (2020, 12, 31, 0, 0, 0)


def write_bundle(
    registry: Registry, lot_id: int, catalog: Catalog, data_dir: Path, out_dir: Path,
    *, lang: str = "es",
) -> Path:  # fmt: skip
    versions = registry.lot_versions(lot_id)
    report = registry.report_for(versions)
    stored = registry.results_for(versions)
    missing = [v for v in versions if v not in stored]
    if missing:
        raise ValueError(f"lot {lot_id}: plot versions without a result yet: {missing[:10]}")
    results = [stored[v] for v in report.plots["version_id"].astype(int)]
    # Times and ids come from the lot, not the clock, so the same lot gives the same bytes.
    when = dt.datetime(2020, 12, 31, tzinfo=dt.UTC)
    run = CheckRun(f"lot-{lot_id}", f"lot-{lot_id}.geojson", "", report, results, catalog,
                   data_dir, [], when, when, __version__)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_check_reports(run, work / "reports", lang=lang)
        export_traces(report, Path(f"lot-{lot_id}.geojson"), work / "eu_information_system")
        files = sorted(p for p in work.rglob("*") if p.is_file())
        manifest = {
            "lot_id": lot_id,
            "tool_version": __version__,
            "files": {str(p.relative_to(work)): _sha256(p) for p in files},
        }
        target = out_dir / f"lot-{lot_id}.zip"
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as part, zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
            for p in files:
                _add(z, str(p.relative_to(work)), p.read_bytes())
            _add(z, "manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode())
    return target


def _add(z: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    z.writestr(info, data, compresslevel=6)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
