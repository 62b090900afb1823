"""What changed overnight, per organisation: plots whose verdict changed (old -> new, with the
reasons), new alerts (date, area, confidence), reviews the new results made outdated, lots whose
conclusion changed, and the bundles and filed statements of those lots that are now stale.

The window is the registry's results recorded after the previous digest (or, the first
time, after the night's run began), so a night run again after a crash finds the same changes;
each organisation's digest is stored once per night (`Registry.save_digest`).

A cooperative hears about its own plots; an exporter about the plots of its lots and about the
lots themselves. Items are data (codes, ids, figures); `describe` words them in either language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from eudr_check.i18n import Lang, Text
from eudr_check.reasons import Verdict, verdict_name
from eudr_check.reviews import LotPlotStatus, ReviewState, result_keys
from eudr_check.store.nightly import BundleInfo, DigestInfo, ResultChange
from eudr_check.store.registry import Registry

NIGHT_ZONE = ZoneInfo("America/Lima")  # the nightly deployment's schedule zone
KINDS = ("verdict_changed", "new_alerts", "review_outdated", "lot_changed", "bundle_stale",
         "statement_stale")  # fmt: skip
_LIVE_STATEMENTS = {"SUBMITTED", "AVAILABLE"}


def night_of(when: dt.datetime) -> str:
    """The night a run belongs to, as a Lima date (a run at 02:00 on the 5th is the 5th's)."""
    return when.astimezone(NIGHT_ZONE).date().isoformat()


def build(registry: Registry, night: str, since: dt.datetime,
          until: dt.datetime) -> list[DigestInfo]:  # fmt: skip
    """Store and return the night's digest of every organisation something changed for (an
    organisation whose digest of the night exists already gets that one back)."""
    # A plot re-checked because a tile under it changed, whose result says the same, has no news.
    changes = [c for c in registry.result_changes(since, until)
               if c.old is not None and not _same(c.old, c.new)]  # fmt: skip
    # Only plots someone decided on can have a review gone out of date (one query for all).
    decided = {e.plot_key for e in registry.review_events([c.plot_key for c in changes])
               if e.action.value in ("accepted", "excluded")}  # fmt: skip
    items: dict[int, list[dict[str, Any]]] = {}
    for c in changes:
        for item in _plot_items(registry, c, decided=c.plot_key in decided):
            items.setdefault(c.organisation_id, []).append(item)
    lots = registry.lots_of_versions([c.version_id for c in changes])
    by_version = {c.version_id: c for c in changes}
    for lot_id, versions in sorted(lots.items()):
        info = registry.lot(lot_id)
        if info is None:
            continue
        mine = items.setdefault(info.organisation_id, [])
        for vid in versions:  # the exporter hears about the plots of its lots too
            mine.extend(_plot_items(registry, by_version[vid], lot=info.reference))
        mine.extend(_lot_items(registry, lot_id, info.reference))
    return [
        registry.save_digest(org, night, since, until, found, _counts(found))
        for org, found in sorted(items.items())
        if found
    ]


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    key = new.get("result_key")
    return key is not None and key == old.get("result_key")


def _counts(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, Any] = dict.fromkeys(KINDS, 0)
    for i in items:
        counts[i["kind"]] += 1
    counts["items"] = len(items)
    return counts


def _plot_items(
    registry: Registry, c: ResultChange, lot: str | None = None, decided: bool = False
) -> list[dict[str, Any]]:
    assert c.old is not None
    base = {"plot_id": c.plot_id, "plot_key": c.plot_key, **({"lot": lot} if lot else {})}
    out: list[dict[str, Any]] = []
    old, new = c.old["verdict"], c.new["verdict"]
    if old != new:
        out.append({"kind": "verdict_changed", **base, "old": old, "new": new,
                    "reasons": c.new["reasons"]})  # fmt: skip
    before = {s["dataset_id"]: s for s in c.old["stats"]}
    for s in c.new["stats"]:
        count = s.get("alert_count") or 0
        prev = before.get(s["dataset_id"], {})
        if count and (s.get("alert_latest") or "") > (prev.get("alert_latest") or ""):
            out.append({"kind": "new_alerts", **base, "dataset": s["dataset_id"],
                        "count": count, "area_ha": s.get("alert_area_ha"),
                        "latest": s.get("alert_latest"),
                        "confidence": s.get("alert_confidence")})  # fmt: skip
    if lot is None and decided:  # once per plot, with the owner's decisions
        state, decision = registry.review_state_of(c.plot_key, [c.organisation_id])
        if state is ReviewState.OUTDATED and decision is not None:
            out.append({"kind": "review_outdated", **base, "action": decision.action.value})
    return out


def _lot_items(registry: Registry, lot_id: int, reference: str) -> list[dict[str, Any]]:
    base = {"lot_id": lot_id, "lot": reference}
    out: list[dict[str, Any]] = []
    statuses = registry.lot_statuses(lot_id)
    now = registry.lot_conclusion(lot_id, statuses).conclusion.value
    bundles = registry.bundles(lot_id)
    before = registry.watched_conclusion(lot_id) or (bundles[0].conclusion if bundles else None)
    if before is not None and before != now:
        out.append({"kind": "lot_changed", **base, "old": before, "new": now})
    registry.watch_conclusion(lot_id, now)
    if bundles and is_stale(bundles[0], statuses):
        b = bundles[0]
        out.append({"kind": "bundle_stale", **base, "file": b.file_name,
                    "built_at": b.built_at.isoformat()})  # fmt: skip
    for r in registry.dds_find(lot_id=lot_id):
        if r.uuid is not None and r.status in _LIVE_STATEMENTS:
            out.append({"kind": "statement_stale", **base, "status": r.status,
                        "reference_number": r.reference_number, "part": r.part})  # fmt: skip
    return out


def is_stale(bundle: BundleInfo, statuses: Sequence[LotPlotStatus]) -> bool:
    """A bundle no longer matches its lot: a plot's newest result says something else than
    the one it carries (or is of another version), or the lot's plots changed."""
    return bundle.fingerprints != {str(k): v for k, v in result_keys(statuses).items()}


# --- words -------------------------------------------------------------------------------------

_TEXT = {
    "verdict_changed": Text("Parcela {plot_id}: {old} → {new}. {why}",
                            "Plot {plot_id}: {old} → {new}. {why}"),
    "new_alerts": Text(
        "Parcela {plot_id}: {count} alerta(s) nueva(s) de {dataset}, la última del {latest}, "
        "{area} ha, confianza {confidence}.",
        "Plot {plot_id}: {count} new alert(s) from {dataset}, the latest on {latest}, "
        "{area} ha, confidence {confidence}."),
    "review_outdated": Text(
        "Parcela {plot_id}: la revisión ({action}) quedó desactualizada; decida de nuevo.",
        "Plot {plot_id}: its review ({action}) is outdated; decide again."),
    "lot_changed": Text("Lote {lot}: la conclusión pasó de {old} a {new}.",
                        "Lot {lot}: the conclusion went from {old} to {new}."),
    "bundle_stale": Text(
        "Lote {lot}: el paquete {file} ya no corresponde a los resultados; genérelo de nuevo.",
        "Lot {lot}: bundle {file} no longer matches the results; build it again."),
    "statement_stale": Text(
        "Lote {lot}: la declaración {reference} ({status}) se basa en resultados que cambiaron; "
        "revise si debe corregirla.",
        "Lot {lot}: statement {reference} ({status}) rests on results that changed; check "
        "whether it must be amended."),
}  # fmt: skip
_CONFIDENCE = {2: Text("baja", "low"), 3: Text("alta", "high"), 4: Text("máxima", "highest")}
_CONCLUSION = {
    "negligible": Text("riesgo insignificante", "negligible risk"),
    "not_negligible": Text("riesgo no insignificante", "not negligible risk"),
}


def describe(item: dict[str, Any], lang: Lang | str) -> str:
    """One line for a digest item, in the language asked for."""
    lang = Lang.of(lang)
    kind = item["kind"]
    params: dict[str, Any] = dict(item)
    if kind == "verdict_changed":
        params["old"] = verdict_name(Verdict(item["old"]), lang)
        params["new"] = verdict_name(Verdict(item["new"]), lang)
        key = f"message_{lang.value}"
        params["why"] = " ".join(str(r.get(key, "")) for r in item.get("reasons", []))
    elif kind == "new_alerts":
        conf = _CONFIDENCE.get(item.get("confidence") or 0)
        params["confidence"] = conf(lang) if conf else "–"
        params["area"] = f"{item.get('area_ha') or 0:.2f}"
    elif kind == "lot_changed":
        params["old"] = _CONCLUSION[item["old"]](lang) if item["old"] in _CONCLUSION else "?"
        params["new"] = _CONCLUSION[item["new"]](lang) if item["new"] in _CONCLUSION else "?"
    elif kind == "statement_stale":
        params["reference"] = item.get("reference_number") or "–"
    text = _TEXT[kind](lang, **params)
    return f"[{item['lot']}] {text}" if "lot" in item and kind in _PLOT_KINDS else text


_PLOT_KINDS = ("verdict_changed", "new_alerts", "review_outdated")
