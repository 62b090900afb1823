"""The lot page's due diligence statement: file it, follow its numbers, accept a doubtful plot.

Plain forms (no script needed): each posts, does the library call the API route does, and
comes back to the lot page, with the refusal shown there when there is one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from eudr_check.api import deps, i18n, schemas
from eudr_check.api.errors import as_api_error
from eudr_check.api.pages_base import PageRoute, need, redirect, signed_in
from eudr_check.api.pages_lots import lot_page
from eudr_check.api.routes import dds
from eudr_check.api.scope import lot_for
from eudr_check.dds.lifecycle import refresh
from eudr_check.dds.lots import file_lot
from eudr_check.errors import EudrCheckError
from eudr_check.store import Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _opt(value: str) -> str | None:
    return value.strip() or None


@router.post("/lots/{lot_id}/dds")
def file_page(
    request: Request, lot_id: deps.Id,
    activity: Annotated[str, Form(max_length=20)] = "IMPORT",
    country_of_activity: Annotated[str, Form(max_length=2)] = "",
    border_cross_country: Annotated[str, Form(max_length=2)] = "",
    description: Annotated[str, Form(max_length=150)] = "",
    operator_name: Annotated[str, Form(max_length=200)] = "",
    eori: Annotated[str, Form(max_length=17)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    confidential: Annotated[str, Form(max_length=5)] = "",
) -> Response:  # fmt: skip
    caller = need(signed_in(request), Role.EXPORTER)
    registry = deps.registry(request)
    lot = lot_for(registry, caller, lot_id)
    lang = i18n.lang_of(request)
    try:
        body = schemas.DdsFiling.model_validate({
            "activity": activity, "country_of_activity": _opt(country_of_activity),
            "border_cross_country": _opt(border_cross_country),
            "description": _opt(description), "operator_name": _opt(operator_name),
            "eori": _opt(eori.upper()), "comment": _opt(comment),
            "confidential": confidential == "on",
        })  # fmt: skip
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        message = i18n.pick(lang, f"Revise: {fields}.", f"Please check: {fields}.")
        return lot_page(request, lot_id, status=422, dds_errors=[message])
    try:
        client = deps.traces(request)
        file_lot(registry, client, lot.id, deps.sources(request), **dds.filing_options(body))
    except EudrCheckError as exc:
        err = as_api_error(exc)
        return lot_page(request, lot_id, status=err.status,
                        dds_errors=[i18n.pick(lang, err.text.es, err.text.en)])  # fmt: skip
    return redirect(f"/lots/{lot.id}#dds")


@router.post("/lots/{lot_id}/dds/refresh")
def refresh_page(request: Request, lot_id: deps.Id) -> Response:
    caller = need(signed_in(request), Role.EXPORTER)
    registry = deps.registry(request)
    lot = lot_for(registry, caller, lot_id)
    lang = i18n.lang_of(request)
    try:
        records = [r for r in registry.dds_find(lot_id=lot.id) if r.uuid]
        refresh(registry, deps.traces(request), records)
    except EudrCheckError as exc:
        err = as_api_error(exc)
        return lot_page(request, lot_id, status=err.status,
                        dds_errors=[i18n.pick(lang, err.text.es, err.text.en)])  # fmt: skip
    return redirect(f"/lots/{lot.id}#dds")


@router.post("/lots/{lot_id}/overrides")
def override_page(
    request: Request, lot_id: deps.Id,
    plot_id: Annotated[str, Form(min_length=1, max_length=200)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    caller = need(signed_in(request), Role.EXPORTER)
    registry = deps.registry(request)
    lang = i18n.lang_of(request)
    try:
        dds.set_override(lot_id, schemas.NewOverride(plot_id=plot_id, reason=reason), caller,
                         registry)  # fmt: skip
    except EudrCheckError as exc:
        err = as_api_error(exc)
        return lot_page(request, lot_id, status=err.status,
                        dds_errors=[i18n.pick(lang, err.text.es, err.text.en)])  # fmt: skip
    return redirect(f"/lots/{lot_id}#conclusion")
