"""What the commands share: consoles, common options, the language."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from eudr_check.i18n import Lang, Text

err = Console(stderr=True)
out = Console()


def _help_lang(argv: list[str]) -> Lang:
    """The language of `--help`: the --lang on the command line, else EUDR_CHECK_LANG, else
    Spanish (the default language). Read from the arguments and the environment, as help texts
    are fixed when the commands are made; the variable is read here, not through `Settings`,
    whose import alone would double the start-up of `--help`."""
    env = os.environ.get("EUDR_CHECK_LANG", "")
    for i, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--lang=") else None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        if value:
            try:
                return Lang.of(value)
            except ValueError:
                return Lang.ES
    try:
        return Lang.of(env) if env else Lang.ES
    except ValueError:
        return Lang.ES


HELP_LANG = _help_lang(sys.argv)


def h(es: str, en: str) -> str:
    """A help text in the language of `--help`."""
    return Text(es, en)(HELP_LANG)


LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help=h(
            "es | en (por defecto: EUDR_CHECK_LANG, si no es)",
            "es | en (default: EUDR_CHECK_LANG, else es)",
        ),
    ),
]
Country = Annotated[
    str | None,
    typer.Option(
        "--country",
        help=h(
            "País ISO-2 para las parcelas que no lo indican, p. ej. PE",
            "ISO-2 country for plots that name none, e.g. PE",
        ),
    ),
]
Crs = Annotated[
    str | None,
    typer.Option(
        "--crs",
        help=h(
            "Sistema de coordenadas, p. ej. EPSG:32717", "CRS of the coordinates, e.g. EPSG:32717"
        ),
    ),
]
Layer = Annotated[
    str | None,
    typer.Option(
        "--layer", help=h("Capa de GeoPackage u hoja de XLSX", "GeoPackage layer or XLSX sheet")
    ),
]
Rules = Annotated[
    Path | None,
    typer.Option(
        "--rules", help=h("Archivo YAML de umbrales de las reglas", "YAML file of rule thresholds")
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--datasets",
        help=h(
            "Carpeta de rásteres forestales (por defecto: EUDR_CHECK_DATASETS)",
            "Forest raster folder (default: EUDR_CHECK_DATASETS)",
        ),
    ),
]
CatalogFile = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help=h(
            "Catálogo de datos (por defecto: EUDR_CHECK_CATALOG)",
            "Dataset catalog (default: EUDR_CHECK_CATALOG)",
        ),
    ),
]

WRITTEN = Text("Escrito: {path}", "Written: {path}")


def language(value: str | None) -> Lang:
    """The --lang asked for, else the settings' language; anything else exits 2."""
    from pydantic import ValidationError

    from eudr_check.settings import get_settings

    try:
        return Lang.of(value, default=None) if value else get_settings().lang
    except ValidationError as exc:  # a setting in the environment cannot be read
        err.print(f"[bold red]Error:[/] EUDR_CHECK_{exc.errors()[0]['loc'][0]}: ".upper()
                  + exc.errors()[0]["msg"])  # fmt: skip
        raise typer.Exit(2) from None
    except ValueError:
        err.print("[bold red]Error:[/] --lang: es | en")
        raise typer.Exit(2) from None
