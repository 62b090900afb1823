"""`eudr-check serve`: the web service (API + pages) under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from eudr_check.cli.common import h


def serve_cmd(
    host: Annotated[
        str, typer.Option(help=h("Dirección en la que escuchar", "Address to listen on"))
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=h("Puerto", "Port"))] = 8000,
    workers: Annotated[
        int, typer.Option(help=h("Procesos del servidor web", "Web worker processes"))
    ] = 1,
) -> None:
    """Run the web service (API + pages) with uvicorn."""
    import uvicorn

    uvicorn.run(
        "eudr_check.api:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )
