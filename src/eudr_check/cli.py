"""Command line: `eudr-check validate` and `eudr-check export-traces`.

Thin shell over the library: parse options, call, print. Exit codes: 0 no errors remain,
1 errors remain in the plots, 2 the input (or a setting) could not be used at all.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from eudr_check import __version__
from eudr_check.errors import ConfigError, PlotFileError
from eudr_check.intake import read_plots
from eudr_check.intake.countries import normalise_country
from eudr_check.models import Severity
from eudr_check.rules import RuleThresholds, ValidationReport, validate
from eudr_check.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="EUDR plot checks.")
err = Console(stderr=True)
out = Console()

Lang = Annotated[str, typer.Option("--lang", help="es | en", case_sensitive=False)]
Country = Annotated[
    str | None, typer.Option("--country", help="ISO-2 country for plots that name none, e.g. PE")
]
Crs = Annotated[str | None, typer.Option("--crs", help="CRS of the coordinates, e.g. EPSG:32717")]
Layer = Annotated[str | None, typer.Option("--layer", help="GeoPackage layer or XLSX sheet")]
Rules = Annotated[Path | None, typer.Option("--rules", help="YAML file of rule thresholds")]

_T = {
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

_SEV = {
    "error": ("error", "error"),
    "warning": ("aviso", "warning"),
    "repaired": ("reparado", "repaired"),
}


def t(key: str, lang: str, **kw: object) -> str:
    es, en = _T[key]
    return (es if lang == "es" else en).format(**kw)


def _lang(lang: str) -> str:
    lang = lang.lower()
    if lang not in ("es", "en"):
        err.print("--lang: es | en")
        raise typer.Exit(2)
    return lang


def _thresholds(path: Path | None) -> RuleThresholds:
    return RuleThresholds.from_yaml(path) if path is not None else RuleThresholds()


def _run(file: Path, fix: bool, country: str | None, crs: str | None, layer: str | None,
         rules: Path | None) -> ValidationReport:  # fmt: skip
    iso2 = None
    if country is not None:
        iso2 = normalise_country(country)
        if iso2 is None:
            raise ConfigError(f"--country {country}: no es un país ISO / not an ISO country")
    table = read_plots(file, layer=layer, crs=crs, default_country=iso2)
    return validate(table, fix=fix, thresholds=_thresholds(rules))


def _guard(lang: str, fn: Callable[[], None]) -> None:
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


def _print_summary(report: ValidationReport, file: Path, lang: str) -> None:
    li = 0 if lang == "es" else 1
    table = Table(title=t("summary", lang, file=file.name, n=len(report.plots)))
    table.add_column(t("code", lang))
    table.add_column(t("severity", lang))
    table.add_column(t("count", lang), justify="right")
    plots_per: Counter[tuple[str, str]] = Counter()
    seen: set[tuple[str, str, str | None]] = set()
    for f in report.findings:
        key = (f.code.value, f.severity.value, f.plot_id)
        if key not in seen:
            seen.add(key)
            plots_per[(f.code.value, f.severity.value)] += 1
    order = {"error": 0, "warning": 1, "repaired": 2}
    for (code, sev), n in sorted(plots_per.items(), key=lambda kv: (order[kv[0][1]], kv[0][0])):
        style = {"error": "red", "warning": "yellow", "repaired": "green"}[sev]
        table.add_row(code, f"[{style}]{_SEV[sev][li]}[/]", str(n))
    out.print(table)
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    if errors:
        detail = Table(show_header=True)
        detail.add_column(t("plot", lang))
        detail.add_column("#", justify="right")
        detail.add_column(t("problem", lang))
        for f in errors[:40]:
            detail.add_row(
                escape(f.plot_id or ""), str(f.source_index or ""), escape(f.message(lang))
            )
        out.print(detail)
        if len(errors) > 40:
            out.print(f"… +{len(errors) - 40}")
    status = report.plots["status"].value_counts()
    out.print(
        t(
            "ok",
            lang,
            ok=int(status.get("ok", 0)),
            warn=int(status.get("warning", 0)),
            bad=int(status.get("error", 0)),
        )
    )
    fixable = sum(1 for f in errors if f.fixable)
    if fixable and not report.fixed:
        out.print(t("fixhint", lang, n=fixable))


@app.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="Plot file")],
    fix: Annotated[bool, typer.Option("--fix", help="Repair what can be repaired")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the reports")] = None,
    lang: Lang = "es",
    country: Country = None,
    crs: Crs = None,
    layer: Layer = None,
    rules: Rules = None,
) -> None:
    """Check a plot file against the EU geolocation rules; write findings (and a repaired file)."""
    lang = _lang(lang)
    result: list[ValidationReport] = []

    def work() -> None:
        from eudr_check.reports.findings import write_findings, write_fixed

        report = _run(file, fix, country, crs, layer, rules)
        _print_summary(report, file, lang)
        target = out_dir or Path.cwd()
        written = write_findings(report, file, target)
        if fix:
            written.append(write_fixed(report, file, target))
        for p in written:
            out.print(t("written", lang, path=p))
        result.append(report)

    _guard(lang, work)
    raise typer.Exit(1 if result[0].has_errors else 0)


@app.command("export-traces")
def export_traces_cmd(
    file: Annotated[Path, typer.Argument(help="Plot file")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the EU files")],
    max_mb: Annotated[
        float | None, typer.Option("--max-mb", help="Largest file size (MB); EU limit 25")
    ] = None,
    lang: Lang = "es",
    country: Country = None,
    crs: Crs = None,
    layer: Layer = None,
    rules: Rules = None,
) -> None:
    """Write GeoJSON for the EU Information System (repaired, split under the size limit)."""
    lang = _lang(lang)

    def work() -> None:
        from eudr_check.reports.traces import export_traces

        report = _run(file, True, country, crs, layer, rules)
        limit = max_mb if max_mb is not None else get_settings().traces_max_mb
        result = export_traces(report, file, out_dir, limit)
        for p in [*result.files, result.index, result.excluded]:
            out.print(t("written", lang, path=p))
        out.print(
            t(
                "exported",
                lang,
                n=result.exported,
                files=len(result.files),
                left=result.left_out,
                excl=result.excluded.name,
            )
        )

    _guard(lang, work)


@app.command("version")
def version_cmd() -> None:
    """Print the version."""
    out.print(__version__)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
