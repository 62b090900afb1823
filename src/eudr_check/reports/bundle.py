"""A lot's compliance bundle: the zip an exporter attaches to a due diligence statement and
keeps for five years.

    eu_information_system/  GeoJSON for the EU Information System, split under the size limit,
                            with its index and the plots left out
    reports/                due-diligence GeoJSON, results CSV, HTML summary, a map per flagged
                            plot, and their own manifest
    manifest.json           the SHA-256 of every other file, the lot, the datasets and the
                            checksums of the tiles under its plots, thresholds, cut-off, tool
                            version, and the registry run and fingerprint behind each verdict

The same lot with the same stored results (and language) gives the same bytes: times come from
the registry, never the clock, and entries are sorted with fixed dates. Only evidence that still
holds goes in: a plot without a result, or whose data or thresholds changed since its check (its
fingerprint differs from today's), stops the bundle.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import tempfile
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from eudr_check import __version__
from eudr_check.datasets.catalog import Catalog
from eudr_check.datasets.sources import locate
from eudr_check.datasets.tiles import tiles_for_bounds
from eudr_check.errors import BundleError
from eudr_check.fileio import atomic_path, sha256_file
from eudr_check.fingerprint import fingerprints
from eudr_check.pipeline import PlotTask, plan, sha256_of
from eudr_check.reports.bundle_verify import BUNDLE_FORMAT, MANIFEST_NAME
from eudr_check.reports.check_reports import write_check_reports
from eudr_check.reports.traces import TracesExport, export_traces
from eudr_check.run import CheckRun, FileRecord, LotRecord
from eudr_check.settings import get_settings
from eudr_check.store.access import LotInfo
from eudr_check.store.registry import Registry, StoredResult

__all__ = ["BundleError", "bundle_stem", "tile_files", "write_bundle"]

log = logging.getLogger(__name__)

EU_DIR = "eu_information_system"
REPORTS_DIR = "reports"
_NAMED = 10  # plot ids an error message names before "and N more"


def bundle_stem(lot_id: int, reference: str) -> str:
    """`lot-<id>-<reference as a safe ASCII slug>`: the zip's name and its files' prefix."""
    ascii_text = unicodedata.normalize("NFKD", reference).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return f"lot-{lot_id}-{slug}" if slug else f"lot-{lot_id}"


def tile_files(tasks: Sequence[PlotTask], catalog: Catalog, data_dir: Path) -> list[FileRecord]:
    """The raster files under the plots with their SHA-256 (None when remote): the same tiles
    the fingerprints cover, so they are the files the stored verdicts were computed from."""
    seen: set[tuple[str, str, str]] = set()
    found: list[FileRecord] = []
    for task in tasks:
        if task.shape is None:
            continue
        bounds = tuple(task.shape.bounds)
        for d in catalog.enabled:
            for tile in tiles_for_bounds(d.tiles, bounds):
                for layer in d.layers:
                    if (d.id, layer, tile) in seen:
                        continue
                    seen.add((d.id, layer, tile))
                    where = locate(d, layer, tile, data_dir)
                    if where.exists():
                        sha = None if where.remote else sha256_of(where.path)
                        found.append(FileRecord(d.id, layer, tile, Path(where.path).name, sha))
    return sorted(found, key=lambda f: (f.dataset_id, f.layer, f.tile))


def write_bundle(
    registry: Registry,
    lot_id: int,
    catalog: Catalog,
    data_dir: Path,
    out_dir: Path,
    *,
    lang: str = "es",
) -> Path:
    """Write `<out_dir>/lot-<id>-<reference>.zip`; raises BundleError when the lot is unknown or
    a plot has no result that still holds."""
    lang = "es" if lang == "es" else "en"
    info = registry.lot(lot_id)
    if info is None:
        raise BundleError(lot_id, f"el lote {lot_id} no existe", f"lot {lot_id} does not exist",
                          unknown_lot=True)  # fmt: skip
    report = registry.report_for(info.version_ids)
    rows = [int(v) for v in report.plots["version_id"]]
    tasks = plan(report, catalog)
    today = dict(zip(rows, fingerprints(tasks, catalog, data_dir), strict=True))
    stored = registry.stored_results(rows, today)
    _refuse_unready(info, report.plots, stored, today)
    used = [stored[v] for v in rows]
    orgs = {o: registry.organisation(o) for o in sorted({s.organisation_id for s in used})}
    cooperatives = {o: (org.name if org else str(o)) for o, org in orgs.items()}
    lot = LotRecord(
        info.id, info.reference, info.commodity, info.hs_code, info.net_mass_kg,
        info.organisation_name, tuple(cooperatives.values()), info.created_at,
    )  # fmt: skip
    stem = bundle_stem(info.id, info.reference)
    checked = [s.checked_at for s in used]
    run = CheckRun(
        run_id=", ".join(f"registry-run-{r}" for r in sorted({s.run_id for s in used})),
        input_name=stem,
        input_sha256="",
        validation=report,
        results=[s.result for s in used],
        catalog=catalog,
        data_dir=data_dir,
        files=tile_files(tasks, catalog, data_dir),
        started=min(checked),
        finished=max(checked),
        tool_version=__version__,
        lot=lot,
    )
    max_mb = get_settings().traces_max_mb
    target = Path(out_dir) / f"{stem}.zip"
    with tempfile.TemporaryDirectory(prefix="eudr-bundle-") as tmp:
        work = Path(tmp)
        write_check_reports(run, work / REPORTS_DIR, lang=lang)
        eu = export_traces(report, Path(f"{stem}.geojson"), work / EU_DIR, max_mb)
        members = {p.relative_to(work).as_posix(): p for p in work.rglob("*") if p.is_file()}
        sums = {name: sha256_file(p) for name, p in members.items()}
        manifest = _manifest(run, info, used, cooperatives, eu, max_mb, sums, lang)
        text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
        _write_zip(target, {**members, MANIFEST_NAME: text.encode()}, info.created_at)
    log.info("bundle of lot %s (%s plots) written to %s", lot_id, len(rows), target)
    return target


def _refuse_unready(
    info: LotInfo,
    plots: pd.DataFrame,
    stored: Mapping[int, StoredResult],
    today: Mapping[int, str],
) -> None:
    ids = dict(zip(map(int, plots["version_id"]), map(str, plots["plot_id"]), strict=True))
    unchecked = [v for v in ids if v not in stored]
    stale = [v for v in ids if v in stored and stored[v].fingerprint != today[v]]
    if not unchecked and not stale:
        return
    n = len(ids)
    es, en = [], []
    if unchecked:
        names = _names(unchecked, ids)
        es.append(f"{len(unchecked)} de {n} parcelas aún no tienen resultado ({names}): "
                  "verifíquelas primero")  # fmt: skip
        en.append(f"{len(unchecked)} of {n} plots have no result yet ({names}): check them first")
    if stale:
        names = _names(stale, ids)
        es.append(f"{len(stale)} de {n} parcelas se verificaron con otros datos o umbrales que "
                  f"los actuales ({names}): hay que volver a verificarlas")  # fmt: skip
        en.append(f"{len(stale)} of {n} plots were checked against other data or thresholds "
                  f"than today's ({names}): they need checking again")  # fmt: skip
    where = f"{info.id} ({info.reference})"
    raise BundleError(
        info.id,
        f"El lote {where} no se puede empaquetar: " + "; ".join(es) + ".",
        f"Lot {where} cannot be bundled: " + "; ".join(en) + ".",
        unchecked=unchecked,
        stale=stale,
    )


def _names(versions: Sequence[int], ids: Mapping[int, str]) -> str:
    shown = ", ".join(ids[v] for v in versions[:_NAMED])
    more = len(versions) - _NAMED
    return shown + (f" (+{more})" if more > 0 else "")


def _manifest(
    run: CheckRun,
    info: LotInfo,
    used: Sequence[StoredResult],
    cooperatives: Mapping[int, str],
    eu: TracesExport,
    max_mb: float,
    sums: Mapping[str, str],
    lang: str,
) -> dict[str, Any]:
    base = run.manifest()
    per_org = Counter(s.organisation_id for s in used)
    lot = base["lot"]
    return {
        "format": BUNDLE_FORMAT,
        "tool": "eudr-check",
        "tool_version": run.tool_version,
        "report_lang": lang,
        "lot": {**lot, "exporter_id": info.organisation_id, "plots": len(used)},
        "cooperatives": [
            {"id": o, "name": name, "plots": per_org[o]} for o, name in cooperatives.items()
        ],
        "cutoff_date": base["cutoff_date"],
        "thresholds": base["thresholds"],
        "datasets": base["datasets"],
        "verdicts": base["verdicts"],
        "eu_information_system": {
            "max_mb": max_mb,
            "files": [f"{EU_DIR}/{p.name}" for p in eu.files],
            "index": f"{EU_DIR}/{eu.index.name}",
            "excluded": f"{EU_DIR}/{eu.excluded.name}",
            "exported": eu.exported,
            "left_out": eu.left_out,
        },
        "runs": sorted({s.run_id for s in used}),
        "results": [
            {
                "version_id": s.version_id,
                "plot_id": s.result.plot_id,
                "cooperative_id": s.organisation_id,
                "verdict": s.result.verdict.value,
                "run_id": s.run_id,
                "tool_version": s.tool_version,
                "fingerprint": s.fingerprint,
                "checked_at": s.checked_at.isoformat(),
            }
            for s in sorted(used, key=lambda s: s.version_id)
        ],
        "files": dict(sorted(sums.items())),
    }


def _zip_time(when: dt.datetime) -> tuple[int, int, int, int, int, int]:
    """The lot's creation time (UTC) as a zip entry date; zip dates start in 1980."""
    t = when.astimezone(dt.UTC) if when.tzinfo else when
    t = max(t.replace(tzinfo=None), dt.datetime(1980, 1, 1))
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def _write_zip(target: Path, members: Mapping[str, Path | bytes], when: dt.datetime) -> None:
    stamp = _zip_time(when)
    with atomic_path(target) as part, zipfile.ZipFile(part, "w") as zf:
        for name in sorted(members):
            data = members[name]
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # "Unix" whichever system writes it: the same bytes everywhere
            info.external_attr = 0o644 << 16
            zf.writestr(
                info, data if isinstance(data, bytes) else data.read_bytes(), compresslevel=6
            )
