"""The web pages: sign-in, language switch and the start page; the rest in pages_*.py.

Server-rendered HTML with a little vanilla JavaScript (static/), Spanish by default. Signing in
stores the API token in an HttpOnly cookie, which the JSON API accepts as well, so the pages'
scripts call /api/... directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request, Response
from fastapi.staticfiles import StaticFiles

from eudr_check.api import (
    auth,
    i18n,
    pages_admin,
    pages_dds,
    pages_lots,
    pages_news,
    pages_plots,
    pages_reviews,
)
from eudr_check.api.pages_base import (
    PageRoute,
    error_page,
    local_path,
    redirect,
    render,
    signed_in,
)
from eudr_check.store import Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)
STATIC = Path(__file__).parent / "static"
# A signed-in phone stays signed in for a month; revoking the token ends it at once anyway.
COOKIE_DAYS = 30
HOME = {
    Role.TECHNICIAN: "/plots",
    Role.EXPORTER: "/lots",
    Role.REVIEWER: "/reviews",
    Role.ADMIN: "/admin",
}


@router.get("/")
def home(request: Request) -> Response:
    return redirect(HOME.get(signed_in(request).role, "/plots"))


@router.get("/signin")
def signin_form(request: Request, next: str = "/", out: bool = False) -> Response:
    caller = auth.identify(request, auth.token_from(request))
    if caller is not None and not out:
        return redirect(local_path(next))
    return render(request, "signin.html", next=local_path(next), error=None, signed_out=out)


@router.post("/signin")
def signin(
    request: Request,
    token: Annotated[str, Form(max_length=2000)] = "",  # identify() refuses long ones
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    token = token.strip()
    caller = auth.identify_guarded(request, token)
    if caller is None:
        lang = i18n.lang_of(request)
        return render(
            request,
            "signin.html",
            status=401,
            next=local_path(next),
            error=i18n.text(lang, "signin.failed"),
            signed_out=False,
        )
    target = local_path(next)
    response = redirect(HOME.get(caller.role, "/plots") if target == "/" else target)
    response.set_cookie(
        auth.COOKIE,
        token,
        max_age=COOKIE_DAYS * 86_400,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/signout")
def signout(request: Request) -> Response:
    response = redirect("/signin?out=1")
    response.delete_cookie(
        auth.COOKIE, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.get("/lang/{code}")
def language(request: Request, code: str, next: str = "/") -> Response:
    if code not in i18n.LANGS:
        return error_page(request, 404, i18n.text("es", "error.not_found"),
                          i18n.text("en", "error.not_found"))  # fmt: skip
    response = redirect(local_path(next))
    # Not secret: readable by scripts is fine, Lax so a shared link opens in the chosen language.
    response.set_cookie(i18n.COOKIE, code, max_age=365 * 86_400, samesite="lax")
    return response


for _module in (pages_plots, pages_lots, pages_dds, pages_admin, pages_reviews, pages_news):
    router.include_router(_module.router)


def install(app: FastAPI) -> None:
    """Add the pages and their static files (CSS, scripts, the vendored Leaflet) to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
