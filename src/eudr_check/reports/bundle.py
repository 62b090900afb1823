"""A lot's compliance bundle: the zip an exporter attaches to a due diligence statement and
keeps for five years.

    eu_information_system/  GeoJSON for the EU Information System, split under the size limit,
                            with its index and the plots left out
    reports/                due-diligence GeoJSON, results CSV, HTML summary, a map per flagged
                            plot, and their own manifest
    evidence/               (when asked) the evidence files, each named by its SHA-256
    manifest.json           the SHA-256 of every other file, the lot, the datasets and the
                            checksums of the tiles under its plots, thresholds, cut-off, tool
                            version, the registry run and fingerprint behind each verdict, and
                            risk mitigation: the lot's conclusion and regime, the country
                            benchmark, every review that counts and the evidence hashes
    reports/<stem>.conclusion.html  the conclusion, reviews and evidence, for people

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

from eudr_check.datasets.sources import DataSources
from eudr_check.engine import RegisteredPlots, Reuse, RunRecord, run_check
from eudr_check.engine.record import LotRecord, StatementRef
from eudr_check.errors import BundleError, StaleResultsError
from eudr_check.fileio import atomic_path, sha256_bytes, sha256_file
from eudr_check.i18n import Lang
from eudr_check.reports.bundle_review import (
    conclusion_html,
    evidence_members,
    manifest_sections,
    mitigation,
)
from eudr_check.reports.bundle_verify import BUNDLE_FORMAT, MANIFEST_NAME
from eudr_check.reports.check_reports import ReportSink
from eudr_check.reports.traces import TracesExport, TracesSink
from eudr_check.reviews import result_keys
from eudr_check.settings import Settings, get_settings
from eudr_check.store.access import LotInfo
from eudr_check.store.registry import Registry, StoredResult

__all__ = ["bundle_stem", "write_bundle"]

log = logging.getLogger(__name__)

EU_DIR = "eu_information_system"
REPORTS_DIR = "reports"
_NAMED = 10  # plot ids an error message names before "and N more"


def bundle_stem(lot_id: int, reference: str) -> str:
    """`lot-<id>-<reference as a safe ASCII slug>`: the zip's name and its files' prefix."""
    ascii_text = unicodedata.normalize("NFKD", reference).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return f"lot-{lot_id}-{slug}" if slug else f"lot-{lot_id}"


def write_bundle(
    registry: Registry,
    lot_id: int,
    sources: DataSources,
    out_dir: Path,
    *,
    lang: Lang | str = Lang.ES,
    settings: Settings | None = None,
    with_evidence: bool = False,
) -> Path:
    """Write `<out_dir>/lot-<id>-<reference>.zip`; raises BundleError when the lot is unknown or
    a plot has no result that still holds (the engine's freshness check: stored results are
    required, nothing is analysed here)."""
    lang = Lang.of(lang)
    info = registry.lot(lot_id)
    if info is None:
        raise BundleError(lot_id, f"el lote {lot_id} no existe", f"lot {lot_id} does not exist",
                          unknown_lot=True)  # fmt: skip
    owners = registry.owners(info.version_ids)
    orgs = {o: registry.organisation(o) for o in sorted(set(owners.values()))}
    cooperatives = {o: (org.name if org else str(o)) for o, org in orgs.items()}
    # The lot's statements in the EU system (failed and withdrawn ones are not the lot's).
    filed = tuple(
        StatementRef(r.part, r.parts, r.uuid, r.status, r.reference_number, r.verification_number)
        for r in registry.dds_find(lot_id=info.id)
        if r.uuid is not None and r.status != "WITHDRAWN"
    )
    lot = LotRecord(
        info.id, info.reference, info.commodity, info.hs_code, info.net_mass_kg,
        info.organisation_name, tuple(cooperatives.values()), info.created_at, filed,
    )  # fmt: skip
    stem = bundle_stem(info.id, info.reference)
    max_mb = (settings or get_settings()).traces_max_mb
    plots = RegisteredPlots(registry, info.version_ids, reuse=Reuse.REQUIRED, name=stem)
    target = Path(out_dir) / f"{stem}.zip"
    with tempfile.TemporaryDirectory(prefix="eudr-bundle-") as tmp:
        work = Path(tmp)
        eu = TracesSink(work / EU_DIR, stem, max_mb)
        try:
            record = run_check(plots, sources, kind="bundle", lot=lot,
                               sinks=[ReportSink(work / REPORTS_DIR, lang=lang), eu])  # fmt: skip
        except StaleResultsError as exc:
            raise _unready(info, plots, exc) from None
        assert eu.export is not None
        used = [plots.stored[v] for v in sorted(plots.stored)]
        m = mitigation(registry, info)
        page = conclusion_html(m, info, lang, with_evidence)
        (work / REPORTS_DIR / f"{stem}.conclusion.html").write_text(page, encoding="utf-8")
        members: dict[str, Path | bytes] = {
            p.relative_to(work).as_posix(): p for p in work.rglob("*") if p.is_file()
        }
        if with_evidence:
            members.update(evidence_members(m, registry))
        sums = {
            name: sha256_bytes(d) if isinstance(d, bytes) else sha256_file(d)
            for name, d in members.items()
        }
        manifest = _manifest(record, info, used, cooperatives, eu.export, max_mb, sums, lang)
        manifest.update(manifest_sections(m, lang, with_evidence))
        text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
        _write_zip(target, {**members, MANIFEST_NAME: text.encode()}, info.created_at)
    # What it rests on, so that a later result or conclusion shows it stale (lot page, digest).
    keys = result_keys(registry.lot_statuses(info.id))
    registry.record_bundle(info.id, target.name, sha256_file(target),
                           m.conclusion.conclusion.value, keys)  # fmt: skip
    log.info("bundle of lot %s (%s plots) written to %s", lot_id, len(used), target)
    return target


def _unready(info: LotInfo, plots: RegisteredPlots, exc: StaleResultsError) -> BundleError:
    ids = plots.plot_ids
    n = len(ids)
    es, en = [], []
    if exc.unchecked:
        names = _names(exc.unchecked, ids)
        es.append(f"{len(exc.unchecked)} de {n} parcelas aún no tienen resultado ({names}): "
                  "verifíquelas primero")  # fmt: skip
        en.append(f"{len(exc.unchecked)} of {n} plots have no result yet ({names}): "
                  "check them first")  # fmt: skip
    if exc.stale:
        names = _names(exc.stale, ids)
        es.append(f"{len(exc.stale)} de {n} parcelas se verificaron con otros datos o umbrales "
                  f"que los actuales ({names}): hay que volver a verificarlas")  # fmt: skip
        en.append(f"{len(exc.stale)} of {n} plots were checked against other data or "
                  f"thresholds than today's ({names}): they need checking again")  # fmt: skip
    where = f"{info.id} ({info.reference})"
    return BundleError(
        info.id,
        f"El lote {where} no se puede empaquetar: " + "; ".join(es) + ".",
        f"Lot {where} cannot be bundled: " + "; ".join(en) + ".",
        unchecked=exc.unchecked,
        stale=exc.stale,
    )


def _names(versions: Sequence[int], ids: Mapping[int, str]) -> str:
    shown = ", ".join(ids[v] for v in versions[:_NAMED])
    more = len(versions) - _NAMED
    return shown + (f" (+{more})" if more > 0 else "")


def _manifest(
    record: RunRecord,
    info: LotInfo,
    used: Sequence[StoredResult],
    cooperatives: Mapping[int, str],
    eu: TracesExport,
    max_mb: float,
    sums: Mapping[str, str],
    lang: Lang,
) -> dict[str, Any]:
    base = record.manifest()
    per_org = Counter(s.organisation_id for s in used)
    lot = base["lot"]
    return {
        "format": BUNDLE_FORMAT,
        "tool": "eudr-check",
        "tool_version": record.tool_version,
        "report_lang": lang.value,
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
                "result_key": s.result_key,
                "checked_at": s.checked_at.isoformat(),
            }
            for s in used
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
