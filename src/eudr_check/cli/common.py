"""What the commands share: consoles, common options, the language."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from eudr_check.i18n import Lang, Text

err = Console(stderr=True)
out = Console()

LangOption = Annotated[
    str | None, typer.Option("--lang", help="es | en (default: EUDR_CHECK_LANG, else es)")
]
Country = Annotated[
    str | None, typer.Option("--country", help="ISO-2 country for plots that name none, e.g. PE")
]
Crs = Annotated[str | None, typer.Option("--crs", help="CRS of the coordinates, e.g. EPSG:32717")]
Layer = Annotated[str | None, typer.Option("--layer", help="GeoPackage layer or XLSX sheet")]
Rules = Annotated[Path | None, typer.Option("--rules", help="YAML file of rule thresholds")]
DataDir = Annotated[
    Path | None,
    typer.Option("--datasets", help="Forest raster folder (default: EUDR_CHECK_DATASETS)"),
]
CatalogFile = Annotated[
    Path | None,
    typer.Option("--catalog", help="Dataset catalog (default: EUDR_CHECK_CATALOG)"),
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
