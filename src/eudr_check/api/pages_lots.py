"""Exporters' pages: their lots, a form to make one from shared plots, and the bundle link."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from eudr_check.api import deps, i18n, schemas, views
from eudr_check.api.pages_base import PageRoute, need, redirect, render, signed_in
from eudr_check.api.routes import lots, reviews
from eudr_check.api.scope import lot_for
from eudr_check.dds.lifecycle import DEAD
from eudr_check.dds.model import EU_COUNTRIES
from eudr_check.digest import is_stale
from eudr_check.errors import ApiError
from eudr_check.reviews import STATE_TEXT, ReviewState
from eudr_check.store import Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FIELDS = ("reference", "commodity", "hs_code", "net_mass_kg", "plots")
BUNDLE_JS_KEYS = ("lot.bundle_busy", "lot.bundle_done", "lot.bundle_failed")


def _number(text: str) -> str:
    """A mass as people type it -> '1250.5': '1 250,5', '1.250,5', '1,250.5', '12,500' (Peru
    writes thousands with a comma), '12,5'. The lot page shows the mass as read."""
    text = "".join(text.split())
    if "," in text and "." in text:  # both: the last one is the decimal mark
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return text.replace(thousands, "").replace(decimal, ".")
    for sep in (",", "."):
        if text.count(sep) > 1:  # 1.250.000
            return text.replace(sep, "")
    if "," in text:
        whole, fraction = text.split(",")
        return whole + fraction if len(fraction) == 3 else f"{whole}.{fraction}"
    return text


PICKER_PLOTS = 1000
PICK_VERDICTS = (*views.VERDICTS, views.UNCHECKED)


def _lots_page(
    request: Request, status: int = 200, form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
) -> Response:  # fmt: skip
    caller = need(signed_in(request), Role.EXPORTER)
    registry = deps.registry(request)
    # The picker shows one page of the shared plots (searched and paged in SQL): a lot is
    # made from what an exporter can look through, never a page with 100,000 rows.
    params = request.query_params
    q = (params.get("q") or "").strip()[:100] or None
    verdict = params.get("verdict") if params.get("verdict") in PICK_VERDICTS else None
    after = params.get("after", "")
    start = int(after) if after.isdigit() and int(after) <= deps.MAX_ID else None
    found = views.plot_page(registry, caller, views.PlotFilter(
        verdict=verdict, q=q, limit=PICKER_PLOTS, after=start))  # fmt: skip
    plots = found.items
    form = form or {"reference": "", "commodity": "coffee", "hs_code": "", "net_mass_kg": "",
                    "plots": set()}  # fmt: skip
    return render(
        request,
        "lots.html",
        status=status,
        lots=lots.lots(caller, registry),
        plots=plots,
        picker={
            "q": q or "",
            "verdict": verdict or "",
            "total": found.total,
            "next": found.next_after,
        },
        form=form,
        errors=errors or [],
        verdicts=(*views.VERDICTS, views.UNCHECKED),
        js={"selected": i18n.text(i18n.lang_of(request), "lots.selected", n="{n}")},
    )


@router.get("/lots")
def lots_page(request: Request) -> Response:
    return _lots_page(request)


@router.post("/lots")
def create_lot(
    request: Request,
    reference: Annotated[str, Form(max_length=400)] = "",
    commodity: Annotated[str, Form(max_length=20)] = "",
    hs_code: Annotated[str, Form(max_length=20)] = "",
    net_mass_kg: Annotated[str, Form(max_length=40)] = "",
    plots: Annotated[list[str] | None, Form()] = None,
) -> Response:
    caller = need(signed_in(request), Role.EXPORTER)
    registry = deps.registry(request)
    keys = [int(p) for p in plots or () if p.isdigit() and 0 < int(p) <= deps.MAX_ID]
    form = {"reference": reference, "commodity": commodity, "hs_code": hs_code,
            "net_mass_kg": net_mass_kg, "plots": set(keys)}  # fmt: skip
    lang = i18n.lang_of(request)
    try:
        body = schemas.NewLot.model_validate(
            {"reference": reference.strip(), "commodity": commodity, "hs_code": hs_code.strip(),
             "net_mass_kg": _number(net_mass_kg), "plots": keys}
        )  # fmt: skip
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        messages = [i18n.text(lang, f"lots.field.{f}") for f in FIELDS if f in bad]
        return _lots_page(request, 422, form, messages)
    try:
        lot = lots.create_lot_for(registry, caller, body)
    except ApiError as err:
        return _lots_page(request, err.status, form, [i18n.pick(lang, err.text.es, err.text.en)])
    return redirect(f"/lots/{lot.id}")


@router.get("/lots/{lot_id}")
def lot_page_route(request: Request, lot_id: deps.Id) -> Response:
    return lot_page(request, lot_id)


def lot_page(
    request: Request, lot_id: int, status: int = 200, dds_errors: list[str] | None = None
) -> Response:
    """The lot page; the statement forms come back to it with their refusal shown."""
    caller = need(signed_in(request), Role.EXPORTER)
    registry = deps.registry(request)
    lot = views.lot_out(registry, lot_for(registry, caller, lot_id))
    lang = i18n.lang_of(request)
    counts = lot.verdicts
    statements = registry.dds_find(lot_id=lot.id)
    live = [s for s in statements if s.status not in DEAD]
    statuses = registry.lot_statuses(lot.id)
    built = registry.bundles(lot.id)
    last_bundle = (
        {"file": built[0].file_name, "when": built[0].built_at,
         "stale": is_stale(built[0], statuses)} if built else None
    )  # fmt: skip
    return render(
        request,
        "lot.html",
        last_bundle=last_bundle,
        status=status,
        lot=lot,
        statements=statements,
        can_file=not live,
        conclusion=reviews.lot_conclusion(registry, lot.id, statuses),
        states={x.version_id: x.state.value for x in statuses},
        state_labels={k.value: v(lang) for k, v in STATE_TEXT.items()},
        plot_keys={x.version_id: x.plot_key for x in statuses},
        doubtful=sorted(
            {
                x.plot_id
                for x in statuses
                if not x.taken_out and x.state in (ReviewState.OPEN, ReviewState.OUTDATED)
            }
        ),
        eu_countries=sorted(EU_COUNTRIES),
        dds_errors=dds_errors or [],
        bundle_url=f"/api/lots/{lot.id}/bundle?lang={lang}",
        warn_detected=counts.get("deforestation_detected", 0) + counts.get("undetermined", 0),
        warn_review=counts.get("needs_review", 0),
        js={"lang": lang, "text": {k: i18n.text(lang, k) for k in BUNDLE_JS_KEYS}},
    )
