"""The FastAPI application: state, middleware, routers, error table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from eudr_check import __version__
from eudr_check.api import errors, pages
from eudr_check.api.checks import CheckQueue
from eudr_check.api.guard import SiteGuard
from eudr_check.api.limits import BodyLimit
from eudr_check.api.ratelimit import RateLimiter
from eudr_check.api.routes import admin, dds, lots, news, plots, reviews, shares, uploads
from eudr_check.datasets.catalog import load_catalog
from eudr_check.datasets.sources import DataSources
from eudr_check.settings import Settings, get_settings
from eudr_check.store import Registry


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    registry = Registry.open(settings.registry_url)
    sources = DataSources(load_catalog(settings.catalog), settings.datasets)
    checks = CheckQueue(
        registry, sources, settings.check_deployment, lease_s=settings.check_lease_s
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        checks.close()
        registry.close()

    app = FastAPI(
        title="eudr_check",
        version=__version__,
        description="EUDR plot checks for cooperatives and exporters. Authenticate with "
        "`Authorization: Bearer <token>`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.sources = sources
    app.state.checks = checks
    app.state.limiter = RateLimiter(registry, settings.rate_limit_per_minute)
    app.state.sign_in_limiter = RateLimiter(registry, settings.failed_auth_per_minute)
    app.add_middleware(
        BodyLimit, limit_mb=settings.max_upload_mb, evidence_mb=settings.max_evidence_mb
    )
    app.add_middleware(SiteGuard)  # added last: runs first
    errors.install(app)
    for module in (admin, uploads, plots, shares, lots, dds, reviews, news):
        app.include_router(module.router)
    pages.install(app)  # the web pages and their /static files

    @app.get("/healthz", tags=["health"])
    def healthz(request: Request) -> JSONResponse:
        """Liveness and readiness: the registry answers."""
        body: dict[str, Any] = {"status": "ok", "version": __version__}
        try:
            request.app.state.registry.organisations()
        except Exception as exc:  # health must report, not raise
            body = {"status": "error", "version": __version__, "registry": str(exc)}
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    return app
