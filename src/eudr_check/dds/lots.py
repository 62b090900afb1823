"""A lot from the registry to filed statements: build from its checked plots and the current
reviews that accepted its doubtful ones, refuse while the lot's risk is not negligible or any
plot cannot be declared, submit every part."""

from __future__ import annotations

from typing import Any

from eudr_check.datasets.sources import DataSources
from eudr_check.dds.builder import build_statements
from eudr_check.dds.client import TracesClient
from eudr_check.dds.inputs import lot_options, plots_from_lot
from eudr_check.dds.lifecycle import DEAD, submit
from eudr_check.dds.model import DdsBuild
from eudr_check.dds.request_xml import submit_request
from eudr_check.errors import DdsError
from eudr_check.i18n import Lang, Text
from eudr_check.reviews import Action, LotConclusion, ReasonCode, ReviewEvent, ReviewState
from eudr_check.store.access import LotInfo
from eudr_check.store.dds import DdsRecord
from eudr_check.store.registry import Registry

_SHOWN = 10


def build_for_lot(
    registry: Registry, lot_id: int, sources: DataSources, **given: Any
) -> tuple[LotInfo, DdsBuild]:
    info, plots = plots_from_lot(registry, lot_id, sources)
    accepted: dict[str | int, str] = {
        s.version_id: review_line(s.decision)
        for s in registry.lot_statuses(lot_id)
        if not s.taken_out and s.decision is not None and s.state is ReviewState.ACCEPTED
    }
    return info, build_statements(plots, lot_options(info, **given), accepted)


def review_line(e: ReviewEvent) -> str:
    """The accepting review, as the statement's record of why a doubtful plot is declared."""
    reasons = ", ".join(r.value for r in e.reasons)
    note = f": {e.note}" if e.note else ""
    when = f"{e.created_at:%Y-%m-%d}"
    return f"review #{e.id} {e.action.value} by {e.reviewer} ({e.role}) {when}, {reasons}{note}"


def accept_in_lot(
    registry: Registry, info: LotInfo, plot_id: str, note: str, *, reviewer: str, role: str
) -> list[ReviewEvent]:
    """The exporter's short way to accept a lot's doubtful plot: an `accepted` review for the
    reason "other" with the note (kept from issue 12's "declare anyway, reason")."""
    mine = [s for s in registry.lot_statuses(info.id) if s.plot_id == plot_id and not s.taken_out]
    if not mine:
        raise DdsError(Text(f"la parcela {plot_id} no está en el lote {info.reference}",
                            f"plot {plot_id} is not in lot {info.reference}"))  # fmt: skip
    return [
        registry.record_review(s.plot_key, Action.ACCEPTED, [ReasonCode.OTHER], reviewer=reviewer,
                               role=role, organisation_id=info.organisation_id, note=note)
        for s in {s.plot_key: s for s in mine}.values()
    ]  # fmt: skip


def conclusion_error(info: LotInfo, c: LotConclusion) -> DdsError:
    shown = c.blocking[:_SHOWN]
    more = len(c.blocking) - len(shown)

    def listed(lang: Lang) -> str:
        tail = (
            "" if more <= 0 else (f" (y {more} más)" if lang is Lang.ES else f" (and {more} more)")
        )
        return "; ".join(f"{b.plot_id}: {b.text(lang)}" for b in shown) + tail

    return DdsError(Text(
        f"El lote {info.reference} no se puede declarar: {c.summary(Lang.ES)} — "
        f"{listed(Lang.ES)}. Revise esas parcelas (aceptar o excluir) o sáquelas del lote.",
        f"Lot {info.reference} cannot be declared: {c.summary(Lang.EN)} — {listed(Lang.EN)}. "
        "Review those plots (accept or exclude) or take them out of the lot.",
    ))  # fmt: skip


def file_lot(
    registry: Registry, client: TracesClient, lot_id: int, sources: DataSources, **given: Any
) -> list[DdsRecord]:
    """Submit a lot's statements. A shipment is declared whole: while the lot's risk is not
    negligible, or a plot is refused (no country, too large, ...), nothing is sent; a lot
    already filed is not filed again."""
    info, build = build_for_lot(registry, lot_id, sources, **given)
    live = [r for r in registry.dds_find(lot_id=lot_id) if r.status not in DEAD]
    if live:
        raise DdsError(Text(
            f"El lote {info.reference} ya tiene declaraciones presentadas (UUID "
            f"{live[0].uuid}); retírelas antes de presentarlo otra vez.",
            f"Lot {info.reference} already has filed statements (UUID {live[0].uuid}); "
            "withdraw them before filing it again.",
        ))  # fmt: skip
    conclusion = registry.lot_conclusion(lot_id)
    if not conclusion.negligible:
        raise conclusion_error(info, conclusion)
    if build.refused:
        shown_es = "; ".join(f"{r.plot_id}: {r.es}" for r in build.refused[:_SHOWN])
        shown_en = "; ".join(f"{r.plot_id}: {r.en}" for r in build.refused[:_SHOWN])
        more = len(build.refused) - _SHOWN
        tail_es, tail_en = (f" (y {more} más)", f" (and {more} more)") if more > 0 else ("", "")
        raise DdsError(Text(
            f"El lote {info.reference} no se puede declarar: {len(build.refused)} parcela(s) no "
            f"admitida(s) — {shown_es}{tail_es}. Sáquelas del lote o revíselas.",
            f"Lot {info.reference} cannot be declared: {len(build.refused)} plot(s) not "
            f"accepted — {shown_en}{tail_en}. Take them out of the lot or review them.",
        ))  # fmt: skip
    overridden = [{"plot_id": o.plot_id, "reason": o.reason,
                   "verdict": None if o.verdict is None else o.verdict.value}
                  for o in build.overridden]  # fmt: skip
    out: list[DdsRecord] = []
    for st in build.statements:
        mine = {o["plot_id"] for o in overridden} & set(st.plot_ids)
        out.append(submit(
            registry, client, submit_request(st), organisation_id=info.organisation_id,
            lot_id=lot_id, part=st.part, parts=st.of,
            overrides=[o for o in overridden if o["plot_id"] in mine],
        ))  # fmt: skip
    return out
