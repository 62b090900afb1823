"""`eudr-check admin`: organisations and API tokens in the registry."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from eudr_check.cli.common import h, out
from eudr_check.cli.errors import fail, guard
from eudr_check.i18n import Lang

if TYPE_CHECKING:
    from eudr_check.store import Registry

admin_app = typer.Typer(
    no_args_is_help=True,
    help=h(
        "Organizaciones y tokens de la API (registro en EUDR_CHECK_REGISTRY_URL).",
        "Organisations and API tokens (registry at EUDR_CHECK_REGISTRY_URL).",
    ),
)


def _registry() -> Registry:
    from eudr_check.settings import get_settings
    from eudr_check.store import Registry

    return Registry.open(get_settings().registry_url)


@admin_app.command(
    "create-org",
    help=h(
        "Crea una organización; muestra su identificador.", "Create an organisation; prints its id."
    ),
)
def create_org(
    name: Annotated[str, typer.Argument(help=h("Nombre de la organización", "Organisation name"))],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help=h("cooperative | exporter (cooperativa | exportador)", "cooperative | exporter"),
        ),
    ],
) -> None:
    """Create an organisation; prints its id."""
    with guard(Lang.EN), _registry() as reg:
        org_id = reg.create_organisation(name, kind)
    out.print(org_id)


@admin_app.command(
    "create-token",
    help=h(
        "Crea un token; muestra el secreto (solo esta vez).",
        "Create a token; prints the secret (shown only this once).",
    ),
)
def create_token(
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help=h(
                "technician | exporter | admin (técnico | exportador | administrador)",
                "technician | exporter | admin",
            ),
        ),
    ],
    name: Annotated[
        str,
        typer.Option(
            "--name", help=h("Para quién o qué es el token", "Who or what the token is for")
        ),
    ],
    org: Annotated[
        int | None,
        typer.Option(
            "--org",
            help=h(
                "Identificador de la organización (ninguno: administración)",
                "Organisation id (none: admin)",
            ),
        ),
    ] = None,
) -> None:
    """Create a token; prints the secret (shown only this once)."""
    with guard(Lang.EN), _registry() as reg:
        _, secret = reg.create_token(role, name, org)
    out.print(secret, soft_wrap=True)


@admin_app.command(
    "revoke-token",
    help=h(
        "Revoca un token (deja de funcionar enseguida).",
        "Revoke a token (it stops working at once).",
    ),
)
def revoke_token(
    token_id: Annotated[int, typer.Argument(help=h("Identificador del token", "Token id"))],
) -> None:
    """Revoke a token (it stops working at once)."""
    with guard(Lang.EN), _registry() as reg:
        revoked = reg.revoke_token(token_id)
    if not revoked:
        raise fail(f"no token {token_id}", Lang.EN)


@admin_app.command(
    "set-contact",
    help=h(
        "E-mail e idioma de la persona de un token (recibe el resumen nocturno).",
        "E-mail and language of a token's person (gets the nightly digest).",
    ),
)
def set_contact(
    token_id: Annotated[int, typer.Argument(help=h("Identificador del token", "Token id"))],
    email: Annotated[
        str,
        typer.Option(
            "--email", help=h("Dirección; vacía: ningún correo", "Address; empty: no e-mail")
        ),
    ],
    lang: Annotated[str, typer.Option("--lang", help="es | en")] = "es",
) -> None:
    """E-mail and language of a token's person (gets the nightly digest)."""
    address = email.strip() or None
    if address is not None and not EMAIL.fullmatch(address):
        raise fail(f"not an e-mail address: {email!r}", Lang.EN)
    if lang not in ("es", "en"):
        raise fail(f"--lang must be es or en, not {lang!r}", Lang.EN)
    with guard(Lang.EN), _registry() as reg:
        reg.set_contact(token_id, address, lang)


EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


@admin_app.command(
    "list",
    help=h(
        "Organizaciones y tokens (nunca sus secretos).",
        "Organisations and tokens (never their secrets).",
    ),
)
def list_all() -> None:
    """Organisations and tokens (never their secrets)."""
    with guard(Lang.EN), _registry() as reg:
        for o in reg.organisations():
            out.print(f"org {o.id}\t{o.kind.value}\t{escape(o.name)}")
        for t in reg.tokens():
            state = "revoked" if t.revoked_at else "active"
            out.print(
                f"token {t.id}\t{t.role.value}\torg {t.organisation_id or '-'}\t{state}\t"
                f"{escape(t.name)}"
            )
