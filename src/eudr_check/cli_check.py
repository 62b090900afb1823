"""`eudr-check check`: validate, repair, analyse against the forest datasets, write reports."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from eudr_check.cli_common import (
    CatalogFile,
    Country,
    Crs,
    DataDir,
    Lang,
    Layer,
    Rules,
    check_lang,
    guard,
    out,
    run_validation,
    t,
)
from eudr_check.datasets.catalog import load_catalog
from eudr_check.models import PlotResult
from eudr_check.pipeline import check_plots
from eudr_check.reasons import Verdict, verdict_name
from eudr_check.settings import get_settings

_TEXT = {
    "progress": ("Analizando parcelas", "Analysing plots"),
    "title": ("Veredictos de {file}: {n} parcelas", "Verdicts for {file}: {n} plots"),
    "verdict": ("Veredicto", "Verdict"),
    "plots": ("Parcelas", "Plots"),
    "datasets": ("Datos: {items}", "Data: {items}"),
}
_STYLE = {
    Verdict.DEFORESTATION_FREE: "green",
    Verdict.NEEDS_REVIEW: "yellow",
    Verdict.DEFORESTATION_DETECTED: "red",
    Verdict.UNDETERMINED: "bright_black",
}

Workers = Annotated[
    int, typer.Option("--workers", help="Dask worker processes (0: run in this process)")
]
DaskAddress = Annotated[
    str | None,
    typer.Option("--dask-address", help="An existing Dask scheduler (EUDR_CHECK_DASK_ADDRESS)"),
]
Versions = Annotated[
    list[str] | None,
    typer.Option("--dataset-version", help="Override a version, e.g. hansen_gfc=GFC-2025-v1.13"),
]


def _say(key: str, lang: str, **kw: object) -> str:
    es, en = _TEXT[key]
    return (es if lang == "es" else en).format(**kw)


def _versions(items: list[str] | None) -> dict[str, str]:
    from eudr_check.errors import ConfigError

    versions = {}
    for item in items or []:
        name, sep, version = item.partition("=")
        if not sep or not name or not version:
            raise ConfigError(f"--dataset-version {item!r}: expected ID=VERSION")
        versions[name.strip()] = version.strip()
    return versions


def check_cmd(
    file: Annotated[Path, typer.Argument(help="Plot file")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the reports")],
    datasets: DataDir = None,
    catalog_file: CatalogFile = None,
    dataset_version: Versions = None,
    lang: Lang = "es",
    country: Country = None,
    crs: Crs = None,
    layer: Layer = None,
    rules: Rules = None,
    workers: Workers = 0,
    dask_address: DaskAddress = None,
) -> None:
    """Check every plot for deforestation after 31 Dec 2020 and write the due-diligence reports."""
    lang = check_lang(lang)

    def work() -> None:
        from eudr_check.reports.check_reports import write_check_reports

        settings = get_settings()
        catalog = load_catalog(catalog_file or settings.catalog)
        catalog = catalog.with_versions(_versions(dataset_version))
        for wanted in _versions(dataset_version):
            catalog.get(wanted)  # unknown ids are an error, not silently ignored
        data_dir = datasets or settings.datasets
        report = run_validation(file, True, country, crs, layer, rules)
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=out, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task(_say("progress", lang), total=len(report.plots))
            address = dask_address or settings.dask_address
            if workers > 0 or address:
                from eudr_check.parallel import check_plots_parallel, cluster_client

                with cluster_client(address, n_workers=max(workers, 1)) as client:
                    run = check_plots_parallel(
                        report, catalog, data_dir, client=client, input_name=file.name,
                        input_sha256=digest, progress=lambda n: bar.advance(task, n),
                    )  # fmt: skip
            else:
                run = check_plots(
                    report, catalog, data_dir, input_name=file.name, input_sha256=digest,
                    progress=lambda n: bar.advance(task, n),
                )  # fmt: skip
        written = write_check_reports(run, out_dir, lang=lang)
        _print_verdicts(run.results, file, lang)
        used = ", ".join(f"{d.id} {d.version}" for d in catalog.enabled)
        out.print(_say("datasets", lang, items=escape(used)))
        for path in written:
            if path.suffix != ".png":
                out.print(t("written", lang, path=path))

    guard(lang, work)


def _print_verdicts(results: list[PlotResult], file: Path, lang: str) -> None:
    counts = Counter(r.verdict for r in results)
    table = Table(title=_say("title", lang, file=escape(file.name), n=len(results)))
    table.add_column(_say("verdict", lang))
    table.add_column(_say("plots", lang), justify="right")
    for verdict in Verdict:
        style = _STYLE[verdict]
        table.add_row(f"[{style}]{verdict_name(verdict, lang)}[/]", str(counts.get(verdict, 0)))
    out.print(table)
