"""`eudr-check check`: validate, repair, analyse against the forest datasets, write reports."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from eudr_check.cli.common import (
    WRITTEN,
    CatalogFile,
    Country,
    Crs,
    DataDir,
    LangOption,
    Layer,
    Rules,
    language,
    out,
)
from eudr_check.cli.errors import guard
from eudr_check.errors import ConfigError
from eudr_check.i18n import Lang, Text

if TYPE_CHECKING:
    from eudr_check.engine import Executor, RunRecord

_T = {
    "progress": Text("Analizando parcelas", "Analysing plots"),
    "title": Text("Veredictos de {file}: {n} parcelas", "Verdicts for {file}: {n} plots"),
    "verdict": Text("Veredicto", "Verdict"),
    "plots": Text("Parcelas", "Plots"),
    "datasets": Text("Datos: {items}", "Data: {items}"),
}
_STYLE = {
    "deforestation_free": "green",
    "needs_review": "yellow",
    "deforestation_detected": "red",
    "undetermined": "bright_black",
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


def _versions(items: list[str] | None) -> dict[str, str]:
    versions = {}
    for item in items or []:
        name, sep, version = item.partition("=")
        if not sep or not name or not version:
            raise ConfigError(f"--dataset-version {item!r}: expected ID=VERSION")
        versions[name.strip()] = version.strip()
    return versions


@contextlib.contextmanager
def _executor(workers: int, address: str | None) -> Iterator[Executor]:
    from eudr_check.engine import SerialExecutor, dask_executor

    if workers > 0 or address:
        with dask_executor(address, n_workers=max(workers, 1)) as executor:
            yield executor
    else:
        yield SerialExecutor()


def check_cmd(
    file: Annotated[Path, typer.Argument(help="Plot file")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the reports")],
    datasets: DataDir = None,
    catalog_file: CatalogFile = None,
    dataset_version: Versions = None,
    lang_option: LangOption = None,
    country: Country = None,
    crs: Crs = None,
    layer: Layer = None,
    rules: Rules = None,
    workers: Workers = 0,
    dask_address: DaskAddress = None,
) -> None:
    """Check every plot for deforestation after 31 Dec 2020 and write the due-diligence reports."""
    lang = language(lang_option)
    with guard(lang):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from eudr_check.datasets.catalog import load_catalog
        from eudr_check.engine import DataSources, PlotFile, run_check
        from eudr_check.intake import ReadOptions
        from eudr_check.reports.check_reports import ReportSink
        from eudr_check.rules import RuleThresholds
        from eudr_check.settings import get_settings

        settings = get_settings()
        wanted = _versions(dataset_version)
        catalog = load_catalog(catalog_file or settings.catalog)
        for name in wanted:
            catalog.get(name)  # unknown ids are an error, not silently ignored
        catalog = catalog.with_versions(wanted)
        sources = DataSources(catalog, datasets or settings.datasets)
        thresholds = RuleThresholds.from_yaml(rules) if rules is not None else RuleThresholds()
        options = ReadOptions.of(layer=layer, crs=crs, country=country)
        plots = PlotFile(file, options=options, rules=thresholds, settings=settings)
        reports = ReportSink(out_dir, lang=lang)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=out, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task(_T["progress"](lang), total=None)
            with _executor(workers, dask_address or settings.dask_address) as executor:
                record = run_check(
                    plots, sources, executor=executor, sinks=[reports], rules=thresholds,
                    progress=lambda n: bar.advance(task, n),
                )  # fmt: skip
        _print_verdicts(record, file, lang)
        used = ", ".join(f"{d.id} {d.version}" for d in catalog.enabled)
        out.print(_T["datasets"](lang, items=escape(used)))
        for path in reports.written:
            if path.suffix != ".png":
                out.print(WRITTEN(lang, path=path))


def _print_verdicts(record: RunRecord, file: Path, lang: Lang) -> None:
    from eudr_check.reasons import Verdict, verdict_name

    table = Table(title=_T["title"](lang, file=escape(file.name), n=record.plots))
    table.add_column(_T["verdict"](lang))
    table.add_column(_T["plots"](lang), justify="right")
    for verdict in Verdict:
        style = _STYLE[verdict.value]
        count = record.verdicts.get(verdict.value, 0)
        table.add_row(f"[{style}]{verdict_name(verdict, lang)}[/]", str(count))
    out.print(table)
