"""Request body size limit, enforced before the multipart parser spools anything to disk."""

from __future__ import annotations

import contextlib
import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eudr_check.api.errors import error_body
from eudr_check.errors import BodyTooLarge


def _too_large_body(limit_mb: float) -> bytes:
    body = error_body(
        "too_large",
        f"El archivo es demasiado grande: el máximo es {limit_mb:g} MB.",
        f"The file is too large: the limit is {limit_mb:g} MB.",
    )
    return json.dumps(body).encode()


# Evidence files (a photo, a scanned land title) have their own cap: the body may hold one
# such file and its multipart envelope, whatever the plot-upload cap is.
_EVIDENCE_PATH = re.compile(r"^(/api)?/plots/[0-9]+/evidence$")
_ENVELOPE_MB = 1.0


class BodyLimit:
    """Refuses bodies over the limit: by Content-Length at once, else while streaming."""

    def __init__(self, app: ASGIApp, limit_mb: float, evidence_mb: float | None = None) -> None:
        self.app = app
        self.limit_mb = limit_mb
        self.evidence_mb = limit_mb if evidence_mb is None else evidence_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit_mb = self.limit_mb
        if _EVIDENCE_PATH.match(scope.get("path", "")):
            limit_mb = self.evidence_mb + _ENVELOPE_MB
        limit = int(limit_mb * 1024 * 1024)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(send, limit_mb)
            return
        seen = 0
        started = over = False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            # FastAPI turns an error while reading the body into its own 400; once the body is
            # over the limit the answer is ours (413), whatever the app makes of it.
            if over and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(BodyTooLarge):
            await self.app(scope, counted, tracked)
        if over and not started:
            await self._refuse(send, limit_mb)

    async def _refuse(self, send: Send, limit_mb: float) -> None:
        body = _too_large_body(limit_mb)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
