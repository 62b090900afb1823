"""Organisations and tokens (admins), and who-am-I (anyone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from eudr_check.api import deps, schemas
from eudr_check.api.auth import Caller, admin, current_caller
from eudr_check.api.errors import not_found
from eudr_check.store import Registry, TokenInfo

router = APIRouter(prefix="/api", tags=["admin"], responses=schemas.ERROR_RESPONSES)
Reg = Annotated[Registry, Depends(deps.registry)]
Admin = Annotated[Caller, Depends(admin)]


def _token(t: TokenInfo) -> schemas.Token:
    return schemas.Token(
        id=t.id, name=t.name, role=t.role, organisation_id=t.organisation_id,
        organisation_name=t.organisation_name, created_at=t.created_at, revoked_at=t.revoked_at,
    )  # fmt: skip


@router.get("/me", response_model=schemas.Me)
def me(caller: Annotated[Caller, Depends(current_caller)]) -> schemas.Me:
    return schemas.Me(
        token_id=caller.token_id, name=caller.name, role=caller.role,
        organisation_id=caller.organisation_id, organisation_name=caller.organisation_name,
    )  # fmt: skip


@router.get("/organisations", response_model=list[schemas.Organisation])
def organisations(_: Admin, registry: Reg) -> list[schemas.Organisation]:
    return [schemas.Organisation(**vars_of(o)) for o in registry.organisations()]


@router.post("/organisations", response_model=schemas.Organisation, status_code=201)
def create_organisation(
    body: schemas.NewOrganisation, _: Admin, registry: Reg
) -> schemas.Organisation:
    org_id = registry.create_organisation(body.name, body.kind)
    org = registry.organisation(org_id)
    assert org is not None
    return schemas.Organisation(**vars_of(org))


@router.get("/tokens", response_model=list[schemas.Token])
def tokens(_: Admin, registry: Reg) -> list[schemas.Token]:
    return [_token(t) for t in registry.tokens()]


@router.post("/tokens", response_model=schemas.CreatedToken, status_code=201)
def create_token(body: schemas.NewToken, _: Admin, registry: Reg) -> schemas.CreatedToken:
    info, secret = registry.create_token(body.role, body.name, body.organisation_id)
    return schemas.CreatedToken(**_token(info).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: deps.Id, _: Admin, registry: Reg) -> Response:
    if not registry.revoke_token(token_id):
        raise not_found("Token", "el token")
    return Response(status_code=204)


def vars_of(obj: object) -> dict[str, object]:
    return {name: getattr(obj, name) for name in obj.__slots__}  # type: ignore[attr-defined]
