"""What every web page shares: templates, the signed-in caller, errors shown as pages.

Pages are thin: they call the same view and route helpers as the JSON API, scoped the same way,
and render Jinja templates (autoescaped). Errors never reach the visitor as JSON or a traceback:
`PageRoute` turns them into an error page in the visitor's language, and a visitor who is not
signed in is sent to the sign-in page.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from eudr_check import __version__
from eudr_check.api import auth, i18n
from eudr_check.api.errors import as_api_error
from eudr_check.errors import EudrCheckError, SignInRequired
from eudr_check.i18n import visible
from eudr_check.store import Role

log = logging.getLogger(__name__)

# No inline script or style at all: the pages' data travels in <script type="application/json">
# blocks (never executed) and Leaflet styles elements through the DOM, which CSP allows.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Pages show one organisation's data: never kept by shared caches.
    "Cache-Control": "private, no-store",
}

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("eudr_check.api", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # Every value a page shows: bidirectional controls visible, never obeyed.
    finalize=lambda value: visible(value) if isinstance(value, str) else value,
)


@jinja2.pass_context
def _t(ctx: Mapping[str, Any], key: str, **values: object) -> str:
    return i18n.text(ctx["lang"], key, **values)


@jinja2.pass_context
def _msg(ctx: Mapping[str, Any], message: Any) -> str:
    """A {es, en} message (a pydantic Message or a dict) in the page's language."""
    if isinstance(message, Mapping):
        return str(message.get(ctx["lang"]) or message.get("en") or "")
    return str(getattr(message, ctx["lang"]))


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _when(value: dt.datetime | str | None) -> str:
    """Server side: UTC, minutes. app.js shows it in the visitor's own time zone."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: dt.datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def _qs(base: Mapping[str, object], **changes: object) -> str:
    """A query string from `base` with `changes`, leaving out empty values."""
    merged = {**base, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


_SEVERITY_ORDER = {"error": 0, "warning": 1, "repaired": 2}


def _by_severity(findings: list[Any]) -> list[Any]:
    """Errors first (they block the EU export), then warnings, then what was repaired."""
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 3), f.source_index or 0))


_env.globals.update(t=_t, msg=_msg, qs=_qs, version=__version__)
_env.filters.update(num=_num, when=_when, iso=_iso, by_severity=_by_severity)


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def here(request: Request) -> str:
    """This page's path and query, for sign-in and language redirects back to it."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def render(
    request: Request,
    template: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    caller: auth.Caller | None = getattr(request.state, "caller", None)
    if caller is not None and caller.organisation_id is not None and "news_count" not in context:
        # The navigation's count of digest items this person has not seen yet.
        registry = request.app.state.registry
        context["news_count"] = registry.news_count(caller.organisation_id, caller.token_id)
    page = _env.get_template(template).render(
        lang=lang, caller=caller, here=here(request), path=request.url.path, **context
    )
    security = dict(SECURITY_HEADERS)
    imagery = _imagery_host(request)
    if imagery:  # the one outside origin a page may load from: the configured imagery tiles
        security["Content-Security-Policy"] = CSP.replace(
            "img-src 'self' data: blob:", f"img-src 'self' data: blob: {imagery}"
        )
    return HTMLResponse(page, status_code=status, headers={**security, **(headers or {})})


def _imagery_host(request: Request) -> str | None:
    settings = getattr(request.app.state, "settings", None)
    return None if settings is None else settings.imagery_host


def signed_in(request: Request) -> auth.Caller:
    """The caller of a page (same token and rate limit as the API), or SignInRequired."""
    caller = auth.identify(request, auth.token_from(request))
    if caller is None:
        raise SignInRequired
    request.state.caller = caller
    auth.rate_limit(request, caller)
    return caller


def need(caller: auth.Caller, *roles: Role) -> auth.Caller:
    """403 unless the caller has one of the roles (the API's own check and message)."""
    check: Callable[[auth.Caller], auth.Caller] = auth.require(*roles)
    return check(caller)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status: int, es: str, en: str, **kw: Any) -> HTMLResponse:
    message = i18n.pick(i18n.lang_of(request), es, en)
    return render(request, "error.html", status=status, message=message, status_code=status, **kw)


def _text_pair(key: str) -> tuple[str, str]:
    return i18n.text("es", key), i18n.text("en", key)


def _same_origin(request: Request) -> bool:
    """A POST from a page of this site. SameSite=Strict already keeps the cookie off other
    sites' requests; this also refuses cross-site posts to the sign-in form."""
    origin = request.headers.get("origin")
    if origin is None:  # not a browser form post (browsers send Origin with every POST)
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


class PageRoute(APIRoute):
    """Route class of the page router: every failure becomes a page, never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            if request.method == "POST" and not _same_origin(request):
                return error_page(request, 403, *_text_pair("error.origin"))
            try:
                return await handler(request)
            except SignInRequired:
                return redirect(f"/signin?next={quote(here(request), safe='')}")
            except EudrCheckError as exc:
                err = as_api_error(exc)
                if err.status >= 500:
                    log.error("%s %s: %s", request.method, request.url.path, exc)
                return error_page(
                    request, err.status, err.text.es, err.text.en, headers=err.headers
                )
            except RequestValidationError as exc:
                # A malformed id in the path is a page that does not exist; else a bad form.
                if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
                    return error_page(request, 404, *_text_pair("error.not_found"))
                return error_page(request, 422, *_text_pair("error.form"))
            except Exception:  # the visitor gets a page; the traceback goes to the log only
                log.exception("%s %s failed", request.method, request.url.path)
                return error_page(request, 500, *_text_pair("error.server"))

        return page_handler
