"""A real HTTP server on 127.0.0.1 for the download, refresh and nightly tests: a handler
class and a state object the handler reads as `self.server.state`; stopped on exit."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import pytest

TIMEOUT = 5.0


class HasBase(Protocol):
    base: str


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler], state: Any) -> Iterator[Any]:
    """Serve `handler` on a free port; `state.base` is set to the server's URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        release = getattr(state, "release", None)
        if release is not None:  # a handler holding a response back lets it go
            release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(TIMEOUT)


def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours proxy variables; the test server must be reached directly."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
