"""Command line: `eudr-check validate`, `check`, `export-traces` and `datasets`.

Thin shell over the library: parse options, call, print. Exit codes: 0 success (for validate:
no errors remain), 1 errors remain in the plots, 2 the input (or a setting) could not be used.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from eudr_check import __version__
from eudr_check.cli_bundle import bundle_app
from eudr_check.cli_check import check_cmd
from eudr_check.cli_common import (
    SEV,
    Country,
    Crs,
    Lang,
    Layer,
    Rules,
    check_lang,
    guard,
    out,
    run_validation,
    t,
)
from eudr_check.cli_datasets import datasets_app
from eudr_check.cli_serve import admin_app, serve_cmd
from eudr_check.findings import Severity, finding_message
from eudr_check.rules import ValidationReport
from eudr_check.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="EUDR plot checks.")
app.command("check")(check_cmd)
app.add_typer(datasets_app, name="datasets")
app.add_typer(bundle_app, name="bundle")
app.command("serve")(serve_cmd)
app.add_typer(admin_app, name="admin")


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
        table.add_row(code, f"[{style}]{SEV[sev][li]}[/]", str(n))
    out.print(table)
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    if errors:
        detail = Table(show_header=True)
        detail.add_column(t("plot", lang))
        detail.add_column("#", justify="right")
        detail.add_column(t("problem", lang))
        for f in errors[:40]:
            detail.add_row(
                escape(f.plot_id or ""), str(f.source_index or ""), escape(finding_message(f, lang))
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
    lang = check_lang(lang)
    result: list[ValidationReport] = []

    def work() -> None:
        from eudr_check.reports.findings import write_findings, write_fixed

        report = run_validation(file, fix, country, crs, layer, rules)
        _print_summary(report, file, lang)
        target = out_dir or Path.cwd()
        written = write_findings(report, file, target)
        if fix:
            written.append(write_fixed(report, file, target))
        for p in written:
            out.print(t("written", lang, path=p))
        result.append(report)

    guard(lang, work)
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
    lang = check_lang(lang)

    def work() -> None:
        from eudr_check.reports.traces import export_traces

        report = run_validation(file, True, country, crs, layer, rules)
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

    guard(lang, work)


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
