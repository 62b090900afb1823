"""`eudr-check check`: validate, repair, analyse against the forest datasets, write reports."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
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
    h,
    language,
    out,
)
from eudr_check.cli.errors import guard
from eudr_check.errors import ConfigError
from eudr_check.i18n import Lang, Text
from eudr_check.reports.options import CsvDialect, MapMode

if TYPE_CHECKING:
    from eudr_check.datasets.catalog import Catalog
    from eudr_check.datasets.preflight import Preflight
    from eudr_check.datasets.sources import DataSources
    from eudr_check.engine import Executor, RunRecord
    from eudr_check.engine.sinks import Sink

_T = {
    "progress": Text("Analizando parcelas", "Analysing plots"),
    "writing": Text("Escribiendo informes y mapas", "Writing reports and maps"),
    "plain_progress": Text("{what}: {done} de {total} parcelas", "{what}: {done} of {total} plots"),
    "plain_so_far": Text(
        "{what}: {done} parcelas hasta ahora (el archivo se lee por partes)",
        "{what}: {done} plots so far (the file is read in slices)",
    ),
    "times": Text(
        "Tiempos: lectura y validación {read} s · análisis {analysis} s · mapas {maps} s ({n}) · "
        "informes {reports} s · total {total} s",
        "Times: reading and validation {read} s · analysis {analysis} s · maps {maps} s ({n}) · "
        "reports {reports} s · total {total} s",
    ),
    "title": Text("Veredictos de {file}: {n} parcelas", "Verdicts for {file}: {n} plots"),
    "verdict": Text("Veredicto", "Verdict"),
    "plots": Text("Parcelas", "Plots"),
    "datasets": Text("Datos: {items}", "Data: {items}"),
    "skipped": Text("No leídos (--datasets-only): {items}", "Not read (--datasets-only): {items}"),
    "version_used": Text(
        "{dataset}: el catálogo pide {catalog}, que no está en la carpeta de datos; se usa {used}, "
        "la más reciente presente (fije una con --dataset-version, o --strict-versions).",
        "{dataset}: the catalog names {catalog}, which is not in the data folder; using {used}, "
        "the newest present (pin one with --dataset-version, or --strict-versions).",
    ),
    "no_folder": Text(
        "La carpeta de datos {folder} no existe. Indíquela con --datasets DIR (o "
        "EUDR_CHECK_DATASETS); para llenarla: eudr-check datasets list --plots {file}",
        "The data folder {folder} does not exist. Give it with --datasets DIR (or "
        "EUDR_CHECK_DATASETS); to fill it: eudr-check datasets list --plots {file}",
    ),
    "empty_folder": Text(
        "La carpeta de datos {folder} no contiene ningún archivo de {datasets} con los nombres "
        "de los productos. Para ver qué descargar: eudr-check datasets list --plots {file} "
        "--datasets {folder}",
        "The data folder {folder} holds no file of {datasets} under the products' names. To "
        "see what to download: eudr-check datasets list --plots {file} --datasets {folder}",
    ),
    "unknown_only": Text(
        "--datasets-only {name}: no está en el catálogo ({known})",
        "--datasets-only {name}: not in the catalog ({known})",
    ),
    "pre_title": Text(
        "Faltan teselas: {n} de {plots} parcelas afectadas",
        "Missing tiles: {n} of {plots} plots affected",
    ),
    "pre_dataset": Text("Datos", "Dataset"),
    "pre_version": Text("Versión", "Version"),
    "pre_tile": Text("Tesela", "Tile"),
    "pre_layers": Text("Capas", "Layers"),
    "pre_plots": Text("Parcelas", "Plots"),
    "pre_effect": Text("Efecto", "Effect"),
    "pre_undetermined": Text("indeterminadas", "undetermined"),
    "pre_optional": Text("sin esa evidencia", "without that evidence"),
    "pre_fetch": Text("Para descargarlas:", "To fetch them:"),
    "why_title": Text("Por qué quedaron indeterminadas:", "Why plots are undetermined:"),
    "why_geometry_error": Text(
        "{n} con errores de geometría: vea y repare con eudr-check validate {file} --fix --out DIR",
        "{n} with geometry errors: see and repair with eudr-check validate {file} --fix --out DIR",
    ),
    "why_missing_tile": Text(
        "{n} sin teselas: descárguelas con los comandos de arriba",
        "{n} without tiles: fetch them with the commands above",
    ),
    "why_dataset_unreadable": Text(
        "{n} con un archivo de datos ilegible: vuelva a descargarlo (eudr-check datasets list)",
        "{n} with an unreadable data file: download it again (eudr-check datasets list)",
    ),
    "why_no_data": Text(
        "{n} donde los mapas no tienen datos (nubes, o fuera del recorte): otro conjunto de datos "
        "o una verificación en campo",
        "{n} where the maps have no data (clouds, or outside the clip): another dataset or a "
        "field check",
    ),
    "why_too_large": Text(
        "{n} demasiado grandes para una parcela: revise sus coordenadas",
        "{n} too large for a farm plot: check their coordinates",
    ),
    "pre_no_source": Text(
        "{dataset}: sin fuente de descarga en el catálogo; obténgalas a mano.",
        "{dataset}: no download source in the catalog; fetch them by hand.",
    ),
    "pre_outside": Text(
        "{dataset}: {n} de {plots} parcelas quedan fuera (en todo o en parte) de los archivos "
        "presentes, que son recortes: sin datos para ellas. {ids}",
        "{dataset}: {n} of {plots} plots lie (wholly or partly) outside the files present, "
        "which are clips: no data for them. {ids}",
    ),
    "pre_more": Text(
        "(y {n} más: vea su motivo en el CSV de resultados)",
        "(and {n} more: see their reason in the results CSV)",
    ),
}
SHOWN_IDS = 10  # plot ids named in a console line; the reports have them all
_STYLE = {
    "deforestation_free": "green",
    "needs_review": "yellow",
    "deforestation_detected": "red",
    "undetermined": "bright_black",
}

Workers = Annotated[
    int,
    typer.Option(
        "--workers",
        help=h(
            "Procesos de trabajo Dask (0: en este proceso)",
            "Dask worker processes (0: run in this process)",
        ),
    ),
]
DaskAddress = Annotated[
    str | None,
    typer.Option(
        "--dask-address",
        help=h(
            "Un planificador Dask existente (EUDR_CHECK_DASK_ADDRESS)",
            "An existing Dask scheduler (EUDR_CHECK_DASK_ADDRESS)",
        ),
    ),
]
Maps = Annotated[
    MapMode,
    typer.Option(
        "--maps",
        help=h(
            "Mapas: flagged (parcelas no libres cuyo mapa muestra algo), all, none",
            "Maps: flagged (plots not free whose map shows something), all, none",
        ),
    ),
]
StrictVersions = Annotated[
    bool,
    typer.Option(
        "--strict-versions",
        help=h(
            "Usar solo las versiones del catálogo (o fijadas), nunca otra encontrada",
            "Use only the catalog's (or pinned) versions, never another one found",
        ),
    ),
]
DatasetsOnly = Annotated[
    list[str] | None,
    typer.Option(
        "--datasets-only",
        help=h(
            "Leer solo estos conjuntos de datos (repetible), p. ej. hansen_gfc",
            "Read only these datasets (repeatable), e.g. hansen_gfc",
        ),
    ),
]
Dialect = Annotated[
    CsvDialect,
    typer.Option(
        "--csv-dialect",
        help=h(
            "results.csv: excel (',' y '.') o excel-eu (';' y coma decimal)",
            "results.csv: excel (',' and '.') or excel-eu (';' and decimal comma)",
        ),
    ),
]
Versions = Annotated[
    list[str] | None,
    typer.Option(
        "--dataset-version",
        help=h(
            "Fijar una versión, p. ej. hansen_gfc=GFC-2025-v1.13",
            "Override a version, e.g. hansen_gfc=GFC-2025-v1.13",
        ),
    ),
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
    file: Annotated[Path, typer.Argument(help=h("Archivo de parcelas", "Plot file"))],
    out_dir: Annotated[
        Path, typer.Option("--out", help=h("Carpeta para los informes", "Folder for the reports"))
    ],
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
    strict_versions: StrictVersions = False,
    datasets_only: DatasetsOnly = None,
    maps: Maps = MapMode.FLAGGED,
    csv_dialect: Dialect = CsvDialect.EXCEL,
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
        from eudr_check.datasets.discovery import resolve_versions
        from eudr_check.engine import DataSources, PlotFile, run_check
        from eudr_check.engine.preflight import PreflightWatch
        from eudr_check.intake import ReadOptions
        from eudr_check.reports.check_reports import ReportSink
        from eudr_check.rules import RuleThresholds, ValidationReport
        from eudr_check.settings import get_settings

        settings = get_settings()
        wanted = _versions(dataset_version)
        catalog = load_catalog(catalog_file or settings.catalog)
        for name in wanted:
            catalog.get(name)  # unknown ids are an error, not silently ignored
        catalog = catalog.with_versions(wanted)
        if datasets_only:
            catalog = _only(catalog, datasets_only, lang)
        data_dir = datasets or settings.datasets
        _check_folder(catalog, data_dir, file, lang)
        catalog, choices = resolve_versions(catalog, data_dir, pinned=frozenset(wanted),
                                            strict=strict_versions)  # fmt: skip
        for c in choices:
            if c.changed:
                note = _T["version_used"](lang, dataset=c.dataset_id, catalog=c.catalog_version,
                                          used=escape(c.used_version))  # fmt: skip
                out.print(note, soft_wrap=True)
        sources = DataSources(catalog, data_dir)
        thresholds = RuleThresholds.from_yaml(rules) if rules is not None else RuleThresholds()
        options = ReadOptions.of(layer=layer, crs=crs, country=country)
        plots = PlotFile(file, options=options, rules=thresholds, settings=settings)
        reports = ReportSink(out_dir, lang=lang, maps=maps, csv_dialect=csv_dialect)
        why = _undetermined()
        started = time.perf_counter()
        read_done: list[float] = []
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=out, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task(_T["progress"](lang), total=None)
            written = bar.add_task(_T["writing"](lang), total=None)
            plain = _PlainProgress(lang) if not out.is_terminal else None

            def wrote(n: int) -> None:
                bar.advance(written, n)
                if plain is not None:
                    plain.add("writing", n)

            reports.progress = wrote
            with _executor(workers, dask_address or settings.dask_address) as executor:
                shown: list[bool] = []

                def advance(n: int) -> None:
                    bar.advance(task, n)
                    if plain is not None:
                        plain.add("progress", n)

                def seen(found: Preflight, report: ValidationReport) -> None:
                    if plain is not None:
                        plain.total += len(report.plots)
                    bar.update(task, total=(bar.tasks[task].total or 0) + len(report.plots))
                    bar.update(written, total=bar.tasks[task].total)
                    if not shown:  # the first batch: the whole file unless streamed
                        read_done.append(time.perf_counter() - started)
                        shown.append(True)
                        _print_preflight(bar.console, found, sources, catalog_file, lang)

                watch = PreflightWatch(sources, seen)

                def expect(n: int) -> None:  # a file read in slices: its feature count
                    if plain is not None:
                        plain.total = n
                    bar.update(task, total=n)
                    bar.update(written, total=n)

                record = run_check(
                    plots, sources, executor=executor, sinks=[reports, why], rules=thresholds,
                    progress=advance, inspect=watch, expect=expect,
                )  # fmt: skip
        total = time.perf_counter() - started
        _print_verdicts(record, file, lang)
        reasons: Counter[str] = Counter(getattr(why, "reasons", {}))
        _print_undetermined(reasons, file, lang)
        if not shown:  # streamed: no batch was seen before its analysis, the results tell
            _print_missing_after(why, record.plots, sources, catalog_file, lang)
        used = ", ".join(f"{d.id} {d.version}" for d in catalog.enabled)
        out.print(_T["datasets"](lang, items=escape(used)))
        if datasets_only:
            skipped = [d.id for d in catalog.datasets if not d.enabled]
            out.print(_T["skipped"](lang, items=escape(", ".join(skipped) or "-")))
        for path in reports.written:
            if path.suffix != ".png":
                out.print(WRITTEN(lang, path=path))
        read = read_done[0] if read_done else 0.0
        spent = reports.seconds
        analysis = max(total - read - sum(spent.values()), 0.0)
        out.print(_T["times"](lang, read=f"{read:.1f}", analysis=f"{analysis:.1f}",
                              maps=f"{spent['maps']:.1f}", n=reports.map_count,
                              reports=f"{spent['reports'] + spent['assemble']:.1f}",
                              total=f"{total:.1f}"), soft_wrap=True)  # fmt: skip


class _PlainProgress:
    """Progress as plain lines (a log, a pipe, CI): one each tenth of the way, or, while the
    total is not known (a file read in slices where the work runs), one every `EVERY_S`."""

    EVERY_S = 10.0

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.total = 0
        self.done = {"progress": 0, "writing": 0}
        self.last = {"progress": time.monotonic(), "writing": time.monotonic()}

    def add(self, what: str, n: int) -> None:
        before = self.done[what]
        self.done[what] = after = before + n
        name = _T[what](self.lang)
        if self.total and (after * 10 // self.total > before * 10 // self.total):
            out.print(_T["plain_progress"](self.lang, what=name, done=after, total=self.total))
        elif not self.total and time.monotonic() - self.last[what] >= self.EVERY_S:
            self.last[what] = time.monotonic()
            out.print(_T["plain_so_far"](self.lang, what=name, done=after))


def _undetermined() -> Sink:
    """A sink counting the reasons of undetermined plots, for the closing summary."""
    from eudr_check.engine.sinks import Delivered, Sink

    class Undetermined(Sink):
        wants_reused = False

        def __init__(self) -> None:
            self.reasons: Counter[str] = Counter()
            self.tiles: Counter[tuple[str, str, str]] = Counter()  # (dataset, version, tile)
            self.plots: Counter[str] = Counter()  # per dataset, plots with a tile missing

        def write(self, batch: Delivered) -> None:
            for result in batch.results:
                if result.verdict.value == "undetermined":
                    self.reasons.update({r.code.value for r in result.reasons})
                for st in result.stats:  # what the analysis found missing, streamed or not
                    self.tiles.update((st.dataset_id, st.version, t) for t in st.missing_tiles)
                    self.plots.update([st.dataset_id] if st.missing_tiles else [])

    return Undetermined()


def _print_missing_after(why: Sink, plots: int, sources: DataSources, catalog_file: Path | None,
                         lang: Lang) -> None:  # fmt: skip
    """The download commands for the tiles the analysis found missing (a streamed file, read
    in slices inside the units, has no preflight before its analysis)."""
    from eudr_check.datasets.preflight import MissingTile, Preflight

    tiles: Counter[tuple[str, str, str]] = Counter(getattr(why, "tiles", {}))
    if not tiles:
        return
    optional = {d.id for d in sources.catalog.enabled if d.optional}
    missing = tuple(MissingTile(d, v, t, (), n, d in optional)
                    for (d, v, t), n in sorted(tiles.items()))  # fmt: skip
    affected = dict(getattr(why, "plots", {}))
    _print_preflight(out, Preflight(plots, missing, affected), sources, catalog_file, lang)


def _print_undetermined(counts: Counter[str], file: Path, lang: Lang) -> None:
    shown = [(code, n) for code, n in counts.most_common() if f"why_{code}" in _T]
    if not shown:
        return
    out.print(_T["why_title"](lang))
    for code, n in shown:
        out.print("  " + _T[f"why_{code}"](lang, n=n, file=escape(file.name)), soft_wrap=True)


def _only(catalog: Catalog, names: list[str], lang: Lang) -> Catalog:
    known = [d.id for d in catalog.datasets]
    for name in names:
        if name not in known:
            raise ConfigError(_T["unknown_only"].format(name=name, known=", ".join(known)))
    datasets = [d.model_copy(update={"enabled": d.id in names}) for d in catalog.datasets]
    return catalog.model_copy(update={"datasets": datasets})


def _check_folder(catalog: Catalog, data_dir: Path, file: Path, lang: Lang) -> None:
    """A data folder that is not there, or holds none of the enabled datasets' files, is a
    wrong set-up (exit 2), not a run where every plot is undetermined."""
    from eudr_check.datasets.discovery import present_versions
    from eudr_check.datasets.download import is_local

    local = [d for d in catalog.enabled if is_local(d, data_dir)]
    if not local:
        return
    if not data_dir.is_dir():
        raise ConfigError(_T["no_folder"].format(folder=str(data_dir), file=file.name))
    if not any(present_versions(d, data_dir) for d in local):
        raise ConfigError(
            _T["empty_folder"].format(
                folder=str(data_dir), file=file.name, datasets=", ".join(d.id for d in local)
            )
        )


def _print_preflight(console: Console, found: Preflight, sources: DataSources,
                     catalog_file: Path | None, lang: Lang) -> None:  # fmt: skip
    same: dict[tuple[str, ...], list[str]] = {}  # one line for datasets clipped alike
    for dataset_id, ids in found.outside.items():
        same.setdefault(ids, []).append(dataset_id)
    for ids, datasets in same.items():
        named = ", ".join(ids[:SHOWN_IDS])
        if len(ids) > SHOWN_IDS:
            named += " " + _T["pre_more"](lang, n=len(ids) - SHOWN_IDS)
        line = _T["pre_outside"](lang, dataset=", ".join(datasets), n=len(ids), plots=found.plots,
                                 ids=named)  # fmt: skip
        console.print(f"[yellow]{escape(line)}[/]", soft_wrap=True)
    if not found.missing:
        return
    worst = max(found.affected.values())
    table = Table(title=_T["pre_title"](lang, n=worst, plots=found.plots))
    for key in ("pre_dataset", "pre_version", "pre_tile", "pre_layers", "pre_plots", "pre_effect"):
        table.add_column(_T[key](lang), justify="right" if key == "pre_plots" else "left")
    for m in found.missing:
        effect = _T["pre_optional" if m.optional else "pre_undetermined"](lang)
        table.add_row(m.dataset_id, escape(m.version), m.tile, ", ".join(m.layers), str(m.plots),
                      f"[{'yellow' if m.optional else 'red'}]{effect}[/]")  # fmt: skip
    console.print(table)
    console.print(_T["pre_fetch"](lang))
    for d in sources.catalog.enabled:
        if d.id not in found.affected:
            continue
        command = found.command(d, sources.data_dir, catalog_file)
        if command is None:
            console.print(_T["pre_no_source"](lang, dataset=d.id))
        else:  # one line, to be copied and pasted
            console.print("  " + command, soft_wrap=True, markup=False, highlight=False)


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
