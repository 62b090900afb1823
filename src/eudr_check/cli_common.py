"""What the commands share: consoles, common options, bilingual texts, error handling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from eudr_check.errors import ConfigError, PlotFileError
from eudr_check.intake import read_plots
from eudr_check.intake.countries import normalise_country
from eudr_check.rules import RuleThresholds, ValidationReport, validate

err = Console(stderr=True)
out = Console()

Lang = Annotated[str, typer.Option("--lang", help="es | en", case_sensitive=False)]
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

T = {
    "summary": ("Resumen de {file}: {n} parcelas", "Summary of {file}: {n} plots"),
    "code": ("Código", "Code"),
    "severity": ("Gravedad", "Severity"),
    "count": ("Parcelas", "Plots"),
    "plot": ("Parcela", "Plot"),
    "problem": ("Problema", "Problem"),
    "ok": ("{ok} sin problemas, {warn} con avisos, {bad} con errores.",
           "{ok} without problems, {warn} with warnings, {bad} with errors."),
    "written": ("Escrito: {path}", "Written: {path}"),
    "fixhint": ("{n} errores se pueden reparar con --fix.",
                "{n} errors can be repaired with --fix."),
    "exported": ("{n} parcelas exportadas en {files} archivo(s); {left} excluidas (ver {excl}).",
                 "{n} plots exported in {files} file(s); {left} left out (see {excl})."),
    "error": ("Error", "Error"),
}  # fmt: skip

SEV = {
    "error": ("error", "error"),
    "warning": ("aviso", "warning"),
    "repaired": ("reparado", "repaired"),
}


def t(key: str, lang: str, **kw: object) -> str:
    es, en = T[key]
    return (es if lang == "es" else en).format(**kw)


def check_lang(lang: str) -> str:
    lang = lang.lower()
    if lang not in ("es", "en"):
        err.print("--lang: es | en")
        raise typer.Exit(2)
    return lang


def thresholds(path: Path | None) -> RuleThresholds:
    return RuleThresholds.from_yaml(path) if path is not None else RuleThresholds()


def run_validation(file: Path, fix: bool, country: str | None, crs: str | None, layer: str | None,
         rules: Path | None) -> ValidationReport:  # fmt: skip
    iso2 = None
    if country is not None:
        iso2 = normalise_country(country)
        if iso2 is None:
            raise ConfigError(f"--country {country}: no es un país ISO / not an ISO country")
    table = read_plots(file, layer=layer, crs=crs, default_country=iso2)
    return validate(table, fix=fix, thresholds=thresholds(rules))


def guard(lang: str, fn: Callable[[], None]) -> None:
    """Turn expected failures into a clear message and exit code 2, never a traceback."""
    try:
        fn()
    except PlotFileError as exc:
        err.print(f"[bold red]{t('error', lang)}:[/] {escape(exc.message(lang))}")
        raise typer.Exit(2) from None
    except ConfigError as exc:
        err.print(f"[bold red]{t('error', lang)}:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(f"[bold red]{t('error', lang)}:[/] {exc.filename or ''} {exc.strerror or exc}")
        raise typer.Exit(2) from None
