"""Two rules for every API request, before any route runs (the pages check their own posts,
with an error page: `pages_base.PageRoute`).

- A cookie-authenticated unsafe request (POST, PUT, PATCH, DELETE) must come from this site:
  its Origin, else its Referer, names this host, or it is refused with 403 (es/en). SameSite
  keeps the cookie off most cross-site requests; this does not rest on it. A request with a
  bearer token is not a browser's ambient credential and passes; so does one naming neither
  Origin nor Referer (not a browser: browsers send Origin with every POST).
- API responses (downloads included) say `Cache-Control: no-store` (they hold one
  organisation's data) and `X-Content-Type-Options: nosniff`, unless the route set its own.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eudr_check.api.auth import COOKIE
from eudr_check.api.errors import error_body

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HEADERS = ((b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"))


def _cross_site(headers: dict[bytes, bytes]) -> bool:
    if headers.get(b"authorization", b"").lower().startswith(b"bearer "):
        return False
    if (COOKIE.encode() + b"=") not in headers.get(b"cookie", b""):
        return False
    claimed = headers.get(b"origin") or headers.get(b"referer")
    if claimed is None:
        return False
    host = headers.get(b"host", b"").decode("latin-1")
    netloc = urlsplit(claimed.decode("latin-1")).netloc
    return claimed == b"null" or netloc != host


_REFUSED = json.dumps(
    error_body(
        "cross_site",
        "Solicitud rechazada: no viene de este sitio (Origin/Referer).",
        "Request refused: it does not come from this site (Origin/Referer).",
    )
).encode()


class SiteGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if not path.startswith("/api/"):  # the API and its downloads (bundles, exports)
            await self.app(scope, receive, send)
            return
        if scope["method"] in UNSAFE and _cross_site(dict(scope["headers"])):
            await send({"type": "http.response.start", "status": 403, "headers": [
                (b"content-type", b"application/json"), *_HEADERS,
                (b"content-length", str(len(_REFUSED)).encode())]})  # fmt: skip
            await send({"type": "http.response.body", "body": _REFUSED})
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, stamped)
