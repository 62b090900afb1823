"""Request body size limit, enforced before the multipart parser spools anything to disk."""

from __future__ import annotations

import contextlib
import json

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


class BodyLimit:
    """Refuses bodies over the limit: by Content-Length at once, else while streaming."""

    def __init__(self, app: ASGIApp, limit_mb: float) -> None:
        self.app = app
        self.limit_mb = limit_mb
        self.limit = int(limit_mb * 1024 * 1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = over = False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
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
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = _too_large_body(self.limit_mb)
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
