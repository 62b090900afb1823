"""`eudr-check validate` and `eudr-check export-traces`: the EU geolocation rules on a file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from eudr_check.cli.common import (
    WRITTEN,
    Country,
    Crs,
    LangOption,
    Layer,
    Rules,
    err,
    h,
    language,
    out,
)
from eudr_check.cli.errors import EXIT_NOT_FIT, EXIT_OK, guard
from eudr_check.i18n import Lang, Text

if TYPE_CHECKING:
    from eudr_check.rules import ValidationReport

_T = {
    "summary": Text("Resumen de {file}: {n} parcelas", "Summary of {file}: {n} plots"),
    "code": Text("Código", "Code"),
    "severity": Text("Gravedad", "Severity"),
    "count": Text("Parcelas", "Plots"),
    "plot": Text("Parcela", "Plot"),
    "problem": Text("Problema", "Problem"),
    "ok": Text("{ok} sin problemas, {warn} con avisos, {bad} con errores.",
               "{ok} without problems, {warn} with warnings, {bad} with errors."),
    "fixhint": Text(
        "--fix repararía {n} error(es); {clean} parcela(s) quedarían sin errores y {left} "
        "conservarían errores que --fix no puede reparar.",
        "--fix would repair {n} error(s); {clean} plot(s) would then be free of errors and "
        "{left} would keep errors --fix cannot repair.",
    ),
    "more": Text(
        "… y {n} errores más (se muestran los {shown} primeros): todos están en {file}.",
        "… and {n} more errors (the first {shown} are shown): all are in {file}.",
    ),
    "nothing_exported": Text(
        "Ninguna parcela se pudo exportar: corrija los errores listados en {excl} y repita.",
        "No plot could be exported: fix the errors listed in {excl} and run again.",
    ),
    "exported": Text(
        "{n} parcelas exportadas en {files} archivo(s); {left} excluidas (ver {excl}).",
        "{n} plots exported in {files} file(s); {left} left out (see {excl}).",
    ),
}  # fmt: skip

SEVERITY = {
    "error": Text("error", "error"),
    "warning": Text("aviso", "warning"),
    "repaired": Text("reparado", "repaired"),
}
_STYLE = {"error": "red", "warning": "yellow", "repaired": "green"}
_SHOWN_ERRORS = 40


def read_and_validate(
    file: Path, fix: bool, country: str | None, crs: str | None, layer: str | None,
    rules: Path | None,
) -> ValidationReport:  # fmt: skip
    from eudr_check.intake import read_plots
    from eudr_check.rules import RuleThresholds, validate

    table = read_plots(file, layer=layer, crs=crs, default_country=country)
    thresholds = RuleThresholds.from_yaml(rules) if rules is not None else RuleThresholds()
    return validate(table, fix=fix, thresholds=thresholds)


def _print_summary(report: ValidationReport, file: Path, lang: Lang) -> None:
    from eudr_check.findings import Severity, finding_message

    table = Table(title=_T["summary"](lang, file=file.name, n=len(report.plots)))
    table.add_column(_T["code"](lang))
    table.add_column(_T["severity"](lang))
    table.add_column(_T["count"](lang), justify="right")
    plots_per: Counter[tuple[str, str]] = Counter()
    # Counted by row (file and position), as the footer counts plots: duplicated ids count twice.
    seen: set[tuple[str, str, str, int | None]] = set()
    for f in report.findings:
        key = (f.code.value, f.severity.value, f.source_file, f.source_index)
        if key not in seen:
            seen.add(key)
            plots_per[(f.code.value, f.severity.value)] += 1
    order = {"error": 0, "warning": 1, "repaired": 2}
    for (code, sev), n in sorted(plots_per.items(), key=lambda kv: (order[kv[0][1]], kv[0][0])):
        table.add_row(code, f"[{_STYLE[sev]}]{SEVERITY[sev](lang)}[/]", str(n))
    out.print(table)
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    if errors:
        detail = Table(show_header=True)
        detail.add_column(_T["plot"](lang))
        detail.add_column("#", justify="right")
        detail.add_column(_T["problem"](lang))
        for f in errors[:_SHOWN_ERRORS]:
            detail.add_row(
                escape(f.plot_id or ""), str(f.source_index or ""),
                escape(finding_message(f, lang)),
            )  # fmt: skip
        out.print(detail)
        if len(errors) > _SHOWN_ERRORS:
            out.print(_T["more"](lang, n=len(errors) - _SHOWN_ERRORS, shown=_SHOWN_ERRORS,
                                 file=f"{file.stem}.findings.csv"))  # fmt: skip
    status = report.plots["status"].value_counts()
    out.print(_T["ok"](lang, ok=int(status.get("ok", 0)), warn=int(status.get("warning", 0)),
                       bad=int(status.get("error", 0))))  # fmt: skip
    fixable = sum(1 for f in errors if f.fixable)
    if fixable and not report.fixed:
        # Promise only what --fix does: plots with an unfixable error keep it.
        stuck = {f.plot_id for f in errors if not f.fixable}
        helped = {f.plot_id for f in errors if f.fixable}
        out.print(_T["fixhint"](lang, n=fixable, clean=len(helped - stuck),
                                left=len(helped & stuck)))  # fmt: skip


def validate_cmd(
    file: Annotated[Path, typer.Argument(help=h("Archivo de parcelas", "Plot file"))],
    fix: Annotated[
        bool,
        typer.Option(
            "--fix", help=h("Reparar lo que se puede reparar", "Repair what can be repaired")
        ),
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help=h("Carpeta para los informes", "Folder for the reports")),
    ] = None,
    lang_option: LangOption = None,
    country: Country = None,
    crs: Crs = None,
    layer: Layer = None,
    rules: Rules = None,
) -> None:
    """Check a plot file against the EU geolocation rules; write findings (and a repaired file)."""
    lang = language(lang_option)
    with guard(lang):
        from eudr_check.reports.findings import write_findings, write_fixed

        report = read_and_validate(file, fix, country, crs, layer, rules)
        _print_summary(report, file, lang)
        target = out_dir or Path.cwd()
        written = write_findings(report, file, target, lang)
        if fix:
            written.append(write_fixed(report, file, target))
        for p in written:
            out.print(WRITTEN(lang, path=p))
    raise typer.Exit(EXIT_NOT_FIT if report.has_errors else EXIT_OK)


def export_traces_cmd(
    file: Annotated[Path, typer.Argument(help=h("Archivo de parcelas", "Plot file"))],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help=h("Carpeta para los archivos de la UE", "Folder for the EU files")
        ),
    ],
    max_mb: Annotated[
        float | None,
        typer.Option(
            "--max-mb",
            help=h(
                "Tamaño máximo de archivo (MB); límite de la UE 25",
                "Largest file size (MB); EU limit 25",
            ),
        ),
    ] = None,
    lang_option: LangOption = None,
    country: Country = None,
    crs: Crs = None,
    layer: Layer = None,
    rules: Rules = None,
) -> None:
    """Write GeoJSON for the EU Information System (repaired, split under the size limit)."""
    lang = language(lang_option)
    with guard(lang):
        from eudr_check.reports.traces import export_traces
        from eudr_check.settings import get_settings

        report = read_and_validate(file, True, country, crs, layer, rules)
        limit = max_mb if max_mb is not None else get_settings().traces_max_mb
        result = export_traces(report, file, out_dir, limit)
        for p in [*result.files, result.index, result.excluded]:
            out.print(WRITTEN(lang, path=p))
        out.print(_T["exported"](lang, n=result.exported, files=len(result.files),
                                 left=result.left_out, excl=result.excluded.name))  # fmt: skip
    if result.exported == 0:  # nothing the EU system could take: not a success
        err.print(_T["nothing_exported"](lang, excl=result.excluded.name))
        raise typer.Exit(EXIT_NOT_FIT)
