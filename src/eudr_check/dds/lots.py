"""A lot from the registry to filed statements: build from its checked plots and the user's
recorded overrides, refuse while any plot cannot be declared, submit every part."""

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
from eudr_check.i18n import Text
from eudr_check.store.access import LotInfo
from eudr_check.store.dds import DdsRecord
from eudr_check.store.registry import Registry

_SHOWN = 10


def build_for_lot(
    registry: Registry, lot_id: int, sources: DataSources, **given: Any
) -> tuple[LotInfo, DdsBuild]:
    info, plots = plots_from_lot(registry, lot_id, sources)
    overrides: dict[str | int, str] = {v: r for v, r in registry.overrides(lot_id).items()}  # noqa: C416
    return info, build_statements(plots, lot_options(info, **given), overrides)


def file_lot(
    registry: Registry, client: TracesClient, lot_id: int, sources: DataSources, **given: Any
) -> list[DdsRecord]:
    """Submit a lot's statements. A shipment is declared whole: while a plot is refused (its
    verdict, no country, ...) nothing is sent; a lot already filed is not filed again."""
    info, build = build_for_lot(registry, lot_id, sources, **given)
    live = [r for r in registry.dds_find(lot_id=lot_id) if r.status not in DEAD]
    if live:
        raise DdsError(Text(
            f"El lote {info.reference} ya tiene declaraciones presentadas (UUID "
            f"{live[0].uuid}); retírelas antes de presentarlo otra vez.",
            f"Lot {info.reference} already has filed statements (UUID {live[0].uuid}); "
            "withdraw them before filing it again.",
        ))  # fmt: skip
    if build.refused:
        shown_es = "; ".join(f"{r.plot_id}: {r.es}" for r in build.refused[:_SHOWN])
        shown_en = "; ".join(f"{r.plot_id}: {r.en}" for r in build.refused[:_SHOWN])
        more = len(build.refused) - _SHOWN
        tail_es, tail_en = (f" (y {more} más)", f" (and {more} more)") if more > 0 else ("", "")
        raise DdsError(Text(
            f"El lote {info.reference} no se puede declarar: {len(build.refused)} parcela(s) no "
            f"admitida(s) — {shown_es}{tail_es}. Sáquelas del lote o registre una excepción "
            "con su motivo.",
            f"Lot {info.reference} cannot be declared: {len(build.refused)} plot(s) not "
            f"accepted — {shown_en}{tail_en}. Take them out of the lot or record an override "
            "with its reason.",
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
