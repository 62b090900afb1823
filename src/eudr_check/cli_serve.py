"""`eudr-check serve` (the web service) and `eudr-check admin` (organisations and tokens)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from eudr_check.cli_common import err, out
from eudr_check.errors import AccessError, StoreError
from eudr_check.settings import get_settings
from eudr_check.store import Registry

admin_app = typer.Typer(
    no_args_is_help=True, help="Organisations and API tokens (registry at EUDR_CHECK_REGISTRY_URL)."
)


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Web worker processes")] = 1,
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


def _registry() -> Registry:
    return Registry.open(get_settings().registry_url)


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {escape(str(exc))}")
    return typer.Exit(2)


@admin_app.command("create-org")
def create_org(
    name: Annotated[str, typer.Argument(help="Organisation name")],
    kind: Annotated[str, typer.Option("--kind", help="cooperative | exporter")],
) -> None:
    """Create an organisation; prints its id."""
    with _registry() as reg:
        try:
            org_id = reg.create_organisation(name, kind)
        except (StoreError, AccessError) as exc:
            raise _fail(exc) from None
    out.print(org_id)


@admin_app.command("create-token")
def create_token(
    role: Annotated[str, typer.Option("--role", help="technician | exporter | admin")],
    name: Annotated[str, typer.Option("--name", help="Who or what the token is for")],
    org: Annotated[int | None, typer.Option("--org", help="Organisation id (none: admin)")] = None,
) -> None:
    """Create a token; prints the secret (shown only this once)."""
    with _registry() as reg:
        try:
            _, secret = reg.create_token(role, name, org)
        except (StoreError, AccessError) as exc:
            raise _fail(exc) from None
    out.print(secret, soft_wrap=True)


@admin_app.command("revoke-token")
def revoke_token(token_id: Annotated[int, typer.Argument(help="Token id")]) -> None:
    """Revoke a token (it stops working at once)."""
    with _registry() as reg:
        if not reg.revoke_token(token_id):
            raise _fail(LookupError(f"no token {token_id}"))


@admin_app.command("list")
def list_all() -> None:
    """Organisations and tokens (never their secrets)."""
    with _registry() as reg:
        for o in reg.organisations():
            out.print(f"org {o.id}\t{o.kind.value}\t{escape(o.name)}")
        for t in reg.tokens():
            state = "revoked" if t.revoked_at else "active"
            out.print(
                f"token {t.id}\t{t.role.value}\torg {t.organisation_id or '-'}\t{state}\t"
                f"{escape(t.name)}"
            )
