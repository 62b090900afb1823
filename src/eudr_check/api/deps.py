"""The app's shared objects, as FastAPI dependencies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Path, Request

from eudr_check.api.checks import CheckQueue
from eudr_check.datasets.sources import DataSources
from eudr_check.settings import Settings
from eudr_check.store import Registry

if TYPE_CHECKING:
    from eudr_check.dds.client import TracesClient


def registry(request: Request) -> Registry:
    reg: Registry = request.app.state.registry
    return reg


def queue(request: Request) -> CheckQueue:
    q: CheckQueue = request.app.state.checks
    return q


def settings(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


def sources(request: Request) -> DataSources:
    """The dataset sources checks and evidence maps read (catalog and data folder)."""
    s: DataSources = request.app.state.sources
    return s


# Ids fit PostgreSQL's integer; bigger numbers would make the database driver fail, not 404.
MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def traces(request: Request) -> TracesClient:
    """The EU Information System client, made once from the settings (credentials missing:
    the exporter is told the instance is not set up for filing, 409)."""
    client: TracesClient | None = getattr(request.app.state, "traces", None)
    if client is None:
        from eudr_check.dds.client import TracesClient
        from eudr_check.errors import ApiError, ConfigError

        try:
            client = TracesClient.from_settings(request.app.state.settings)
        except ConfigError as exc:
            raise ApiError(409, "eu_not_configured", exc.text.es, exc.text.en) from None
        request.app.state.traces = client
    return client
