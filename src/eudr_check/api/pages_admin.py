"""The administrator's page: organisations and access tokens (a new secret is shown once)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from eudr_check.api import deps, i18n, schemas
from eudr_check.api.errors import as_api_error
from eudr_check.api.pages_base import PageRoute, need, redirect, render, signed_in
from eudr_check.api.routes import admin
from eudr_check.errors import EudrCheckError
from eudr_check.store import OrgKind, Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _admin_page(request: Request, status: int = 200, **context: Any) -> Response:
    caller = need(signed_in(request), Role.ADMIN)
    registry = deps.registry(request)
    context.setdefault("notice", None)
    context.setdefault("error", None)
    context.setdefault("secret", None)
    return render(
        request,
        "admin.html",
        status=status,
        orgs=admin.organisations(caller, registry),
        tokens=admin.tokens(caller, registry),
        kinds=list(OrgKind),
        roles=list(Role),
        **context,
    )


def _failed(request: Request, exc: Exception) -> Response:
    lang = i18n.lang_of(request)
    if isinstance(exc, ValidationError):
        return _admin_page(request, 422, error=i18n.text(lang, "error.form"))
    err = as_api_error(exc)
    return _admin_page(request, err.status, error=i18n.pick(lang, err.text.es, err.text.en))


@router.get("/admin")
def admin_page(request: Request, org: int | None = None, revoked: int | None = None) -> Response:
    lang = i18n.lang_of(request)
    notice = None
    if revoked is not None:
        notice = i18n.text(lang, "admin.revoked_done", id=revoked)
    elif org is not None and org <= deps.MAX_ID:
        named = deps.registry(request).organisation(org)
        if named is not None:
            notice = i18n.text(lang, "admin.org_created", name=named.name)
    return _admin_page(request, notice=notice)


@router.post("/admin/organisations")
def create_organisation(
    request: Request,
    name: Annotated[str, Form(max_length=400)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    caller = need(signed_in(request), Role.ADMIN)
    try:
        body = schemas.NewOrganisation.model_validate({"name": name.strip(), "kind": kind})
        org = admin.create_organisation(body, caller, deps.registry(request))
    except (ValidationError, EudrCheckError) as exc:
        return _failed(request, exc)
    return redirect(f"/admin?org={org.id}")


@router.post("/admin/tokens")
def create_token(
    request: Request,
    name: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    organisation_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    caller = need(signed_in(request), Role.ADMIN)
    org = organisation_id.strip() or None
    try:
        body = schemas.NewToken.model_validate(
            {"name": name.strip(), "role": role, "organisation_id": org}
        )
        created = admin.create_token(body, caller, deps.registry(request))
    except (ValidationError, EudrCheckError) as exc:
        return _failed(request, exc)
    # Rendered, not redirected: the secret must never appear in a URL or a browser history.
    return _admin_page(request, 201, secret=created)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: deps.Id) -> Response:
    caller = need(signed_in(request), Role.ADMIN)
    admin.revoke_token(token_id, caller, deps.registry(request))
    return redirect(f"/admin?revoked={token_id}")
