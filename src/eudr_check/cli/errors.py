"""The one mapping from the exception tree to exit codes and messages.

Exit codes of every command: 0 done, 1 done but the plots (or the lot) are not fit as they are,
2 the input, an option, a setting, the catalog, the registry or the disk could not be used,
3 the EU Information System refused the request or could not be reached (its error IDs shown).
Expected failures print one line in the user's language, never a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.markup import escape

from eudr_check.cli.common import err
from eudr_check.errors import BundleError, EudrCheckError, TracesError
from eudr_check.i18n import Lang, Text

EXIT_OK = 0
EXIT_NOT_FIT = 1
EXIT_UNUSABLE = 2
EXIT_EU_REFUSED = 3

ERROR = Text("Error", "Error")
_SETTINGS = Text("configuración inválida: {problem}", "invalid settings: {problem}")
_TOO_DEEP = Text(
    "los datos anidan objetos o geometrías a demasiada profundidad para leerlos",
    "the data nests objects or geometries too deeply to be read",
)
_REGISTRY = Text(
    "no se pudo usar el registro: {problem}", "the registry could not be used: {problem}"
)


def exit_code(exc: BaseException) -> int | None:
    """The exit code an expected failure ends the command with; None: not expected (a bug)."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, BundleError):
        # A lot that exists but is not ready (plots unchecked or stale) is the user's to fix.
        return EXIT_UNUSABLE if exc.unknown_lot else EXIT_NOT_FIT
    if isinstance(exc, TracesError):
        return EXIT_EU_REFUSED
    if isinstance(exc, EudrCheckError | ValidationError | SQLAlchemyError | OSError):
        return EXIT_UNUSABLE
    if isinstance(exc, RecursionError):  # input nested past what any reader caught
        return EXIT_UNUSABLE
    return None


def message(exc: BaseException, lang: Lang) -> str:
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, EudrCheckError):
        return exc.message(lang)
    if isinstance(exc, ValidationError):  # settings from the environment
        return _SETTINGS(lang, problem=exc.errors()[0]["msg"])
    if isinstance(exc, SQLAlchemyError):
        problem = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return _REGISTRY(lang, problem=problem)
    if isinstance(exc, OSError):
        return f"{exc.filename or ''} {exc.strerror or exc}".strip()
    if isinstance(exc, RecursionError):
        return _TOO_DEEP(lang)
    return str(exc)


def fail(text: str, lang: Lang, code: int = EXIT_UNUSABLE) -> typer.Exit:
    """Print an error line; the caller raises what this returns."""
    err.print(f"[bold red]{ERROR(lang)}:[/] {escape(text)}", soft_wrap=True)
    return typer.Exit(code)


@contextlib.contextmanager
def guard(lang: Lang) -> Iterator[None]:
    """Expected failures become their message and exit code, never a traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        code = exit_code(exc)
        if code is None:
            raise
        raise fail(message(exc, lang), lang, code) from None
