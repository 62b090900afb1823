"""Who is calling: a bearer token (API) or the same token in a cookie (web pages).

Tokens are looked up by their SHA-256 (store.access); revoked or unknown ones get 401. Each
token has a rate limit; roles decide which routes a caller may use (403 otherwise), and the
organisation decides what it may see (404 otherwise, see scope.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from eudr_check.api.ratelimit import retry_after
from eudr_check.errors import ApiError
from eudr_check.store import OrgKind, Role

COOKIE = "eudr_token"


@dataclass(frozen=True, slots=True)
class Caller:
    token_id: int
    role: Role
    name: str
    organisation_id: int | None
    organisation_name: str | None
    organisation_kind: OrgKind | None


def _unauthorised() -> ApiError:
    return ApiError(
        401,
        "unauthorised",
        "Falta el token o no es válido (¿fue revocado?).",
        "Missing or invalid token (was it revoked?).",
        headers={"WWW-Authenticate": "Bearer"},
    )


def token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


def identify(request: Request, secret: str | None) -> Caller | None:
    if not secret or len(secret) > 200:
        return None
    info = request.app.state.registry.token(secret)
    if info is None:
        return None
    return Caller(
        info.id, info.role, info.name, info.organisation_id, info.organisation_name,
        info.organisation_kind,
    )  # fmt: skip


def identify_guarded(request: Request, secret: str | None) -> Caller | None:
    """`identify`, counting failures per address: past `failed_auth_per_minute` the address
    gets 429 before any token is looked at, so tokens cannot be guessed at speed."""
    address = f"auth-fail:{request.client.host if request.client else '-'}"
    guard = request.app.state.sign_in_limiter
    wait = guard.blocked(address)
    if wait:
        raise _too_many(wait)
    caller = identify(request, secret)
    if caller is None:
        guard.take(address)
    return caller


def current_caller(request: Request) -> Caller:
    caller = identify_guarded(request, token_from(request))
    if caller is None:
        raise _unauthorised()
    rate_limit(request, caller)
    return caller


def _too_many(wait: float) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        "Demasiadas solicitudes: espere unos segundos.",
        "Too many requests: wait a few seconds.",
        headers={"Retry-After": retry_after(wait)},
    )


def rate_limit(request: Request, caller: Caller) -> None:
    """429 when the caller's token has used up its requests (API and pages alike), counted
    across every process of the service."""
    wait = request.app.state.limiter.take(f"token:{caller.token_id}")
    if wait:
        raise _too_many(wait)


def require(*roles: Role) -> Callable[..., Caller]:
    def dependency(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if caller.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise ApiError(
                403,
                "forbidden",
                f"Su rol ({caller.role.value}) no permite esto; hace falta: {allowed}.",
                f"Your role ({caller.role.value}) cannot do this; it needs: {allowed}.",
            )
        return caller

    return dependency


technician = require(Role.TECHNICIAN)
exporter = require(Role.EXPORTER)
admin = require(Role.ADMIN)
member = require(Role.TECHNICIAN, Role.EXPORTER, Role.REVIEWER)
decider = require(Role.EXPORTER, Role.REVIEWER)
