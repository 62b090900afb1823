"""Command line: `eudr-check datasets download` and `eudr-check datasets list`.

Exit codes: 0 all done, 1 some tile failed (download) or a needed tile is missing (list),
2 the options, the catalog or the plot file could not be used.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from eudr_check.cli.common import CatalogFile, DataDir, LangOption, err, h, language, out
from eudr_check.cli.errors import fail, guard
from eudr_check.i18n import Lang, Text

if TYPE_CHECKING:  # the rest is imported where used: `--help` stays fast
    from eudr_check.datasets.catalog import Catalog, Dataset, VectorDataset
    from eudr_check.datasets.download import DownloadReport, ProgressFn, TileStatus
    from eudr_check.spatial import Bounds

datasets_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=h(
        "Teselas de datos forestales: descargar y listar.",
        "Forest dataset tiles: download and list.",
    ),
)
T = TypeVar("T")

Plots = Annotated[
    Path | None,
    typer.Option(
        "--plots",
        help=h(
            "Archivo de parcelas: descargar/listar las teselas que necesitan",
            "Plot file: fetch/list the tiles its plots need",
        ),
    ),
]

_T: dict[str, Text] = {
    "vector_done": Text("{dataset}: {n} polígonos en {pages} página(s) → {path} (SHA-256 {sha})",
                        "{dataset}: {n} polygons in {pages} page(s) → {path} (SHA-256 {sha})"),
    "unknown_dataset": Text("dataset desconocido {name!r}; conocidos: {known}",
                        "unknown dataset {name!r}; known: {known}"),
    "unknown_layer": Text("capa desconocida {name!r} de {dataset}; conocidas: {known}",
                      "unknown layer {name!r} of {dataset}; known: {known}"),
    "bad_tile": Text("{name!r} no es un nombre de tesela de {dataset} (ejemplo: {example})",
                 "{name!r} is not a tile name of {dataset} (example: {example})"),
    "no_tiles": Text("indique --tiles o --plots", "give --tiles or --plots"),
    "no_geometry": Text("{file}: ninguna parcela tiene geometría utilizable",
                    "{file}: no plot has a usable geometry"),
    "plan": Text("{dataset} ({version}): {n} archivo(s) en {dir}",
             "{dataset} ({version}): {n} file(s) into {dir}"),
    "summary": Text("Descargas de {dataset}", "Downloads of {dataset}"),
    "layer": Text("Capa", "Layer"),
    "tile": Text("Tesela", "Tile"),
    "status": Text("Estado", "Status"),
    "downloaded": Text("descargado", "downloaded"),
    "resumed": Text("reanudado", "resumed"),
    "skipped": Text("ya presente", "already present"),
    "failed": Text("ERROR", "FAILED"),
    "failures": Text("{n} archivo(s) fallaron:", "{n} file(s) failed:"),
    "all_ok": Text("Todo descargado y verificado (SHA256SUMS).",
               "All downloaded and verified (SHA256SUMS)."),
    "checksum": Text("Suma SHA-256", "SHA-256"),
    "ok": Text("ok", "ok"),
    "unknown": Text("desconocida", "unknown"),
    "mismatch": Text("NO COINCIDE", "MISMATCH"),
    "missing": Text("FALTA", "MISSING"),
    "needed": Text("Necesaria", "Needed"),
    "none": Text("(ninguna tesela)", "(no tiles)"),
    "remote": Text("{dataset}: ubicación remota ({where}); no hay archivos locales que listar.",
               "{dataset}: remote location ({where}); no local files to list."),
    "fetch": Text("Para descargar lo que falta de {dataset}:",
                  "To fetch what {dataset} is missing:"),
    "no_source": Text("{dataset}: el catálogo no indica fuente de descarga; obtenga las teselas "
                  "a mano.", "{dataset}: the catalog gives no download source; fetch the "
                  "tiles by hand."),
    "optional_note": Text("(opcional: su falta no impide un veredicto)",
                      "(optional: its absence does not block a verdict)"),
    "missing_total": Text("Faltan {n} tesela(s) necesarias.", "{n} needed tile(s) are missing."),
    "mb": Text("MB", "MB"),
    "versions": Text("{dataset}: versiones en la carpeta: {items} (el catálogo pide {version})",
                     "{dataset}: versions in the folder: {items} (the catalog names {version})"),
    "tiles_n": Text("{n} tesela(s)", "{n} tile(s)"),
}  # fmt: skip


def t(key: str, lang: Lang, **kw: object) -> str:
    return _T[key](lang, **kw)


def _fail(lang: Lang, key: str, **kw: object) -> NoReturn:
    """Unusable options: say why and exit 2."""
    raise fail(t(key, lang, **kw), lang)


def _guard(lang: Lang, fn: Callable[[], T]) -> T:
    """Expected failures (catalog, settings, plot file, disk) become exit 2, never a traceback."""
    with guard(lang):
        return fn()
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class _Setup:
    catalog: Catalog
    data_dir: Path
    catalog_file: Path | None  # as given, to repeat it in suggested commands


def _setup(data_dir: Path | None, catalog_file: Path | None) -> _Setup:
    from eudr_check.datasets.catalog import load_catalog
    from eudr_check.settings import Settings

    settings = Settings()
    catalog = load_catalog(catalog_file or settings.catalog)
    return _Setup(catalog, data_dir or settings.datasets, catalog_file)


def _dataset(catalog: Catalog, dataset_id: str, lang: Lang) -> Dataset:
    for d in catalog.datasets:
        if d.id == dataset_id:
            return d
    known = ", ".join([d.id for d in catalog.datasets] + [v.id for v in catalog.vector_layers])
    _fail(lang, "unknown_dataset", name=dataset_id, known=known)


def _plot_boxes(plots: Path, lang: Lang) -> list[Bounds]:
    from eudr_check.datasets.download import plot_bounds
    from eudr_check.intake import read_plots

    table = _guard(lang, lambda: read_plots(plots))
    frame = table.plots
    if "usable" in frame.columns:
        frame = frame[frame["usable"].astype(bool)]
    boxes = plot_bounds(frame.geometry)
    if not boxes:
        _fail(lang, "no_geometry", file=plots.name)
    return boxes


def _layers(dataset: Dataset, wanted: list[str] | None, lang: Lang) -> list[str]:
    if not wanted:
        return list(dataset.layers)
    for name in wanted:
        if name not in dataset.layers:
            _fail(lang, "unknown_layer", name=name, dataset=dataset.id,
                  known=", ".join(dataset.layers))  # fmt: skip
    return list(dict.fromkeys(wanted))


def _tiles(dataset: Dataset, names: list[str], boxes: list[Bounds], lang: Lang) -> list[str]:
    from eudr_check.datasets.download import needed_tiles, parse_tile
    from eudr_check.datasets.tiles import tile_name

    tiles: set[str] = set(needed_tiles(dataset, boxes))
    for name in names:
        tile = parse_tile(dataset.tiles, name)
        if tile is None:
            _fail(lang, "bad_tile", name=name, dataset=dataset.id,
                  example=tile_name(dataset.tiles, -10, -80))  # fmt: skip
        tiles.add(tile)
    if not tiles:
        _fail(lang, "no_tiles")
    return sorted(tiles)


@datasets_app.command(
    "download",
    help=h(
        "Descarga teselas de un conjunto de datos (reanudable), las verifica y anota su SHA-256. "
        "Las "
        "teselas son las de --tiles y las que necesitan las parcelas de --plots.",
        "Download tiles of a dataset (resumable), verify them and record their SHA-256. The tiles "
        "are those given with --tiles plus those the plots of --plots need.",
    ),
)
def download_cmd(
    dataset_id: Annotated[
        str,
        typer.Option(
            "--dataset",
            help=h(
                "Identificador del conjunto de datos, p. ej. hansen_gfc",
                "Dataset id, e.g. hansen_gfc",
            ),
        ),
    ],
    layer: Annotated[
        list[str] | None,
        typer.Option(
            "--layer",
            help=h("Capa (repetible; por defecto: todas)", "Layer (repeatable; default: all)"),
        ),
    ] = None,
    tiles: Annotated[
        list[str] | None,
        typer.Option(
            "--tiles",
            help=h(
                "Nombre de tesela, p. ej. 10S_080W (repetible)",
                "Tile name, e.g. 10S_080W (repeatable)",
            ),
        ),
    ] = None,
    plots: Plots = None,
    data_dir: DataDir = None,
    catalog_file: CatalogFile = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help=h("Descargar de nuevo aunque ya esté verificado", "Fetch again even if verified"),
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", help=h("Tiempo de espera de red, segundos", "Network timeout, seconds")
        ),
    ] = 60,
    lang_option: LangOption = None,
) -> None:
    """Download tiles of a dataset (resumable), verify them and record their SHA-256.

    The tiles are those given with --tiles plus those the plots of --plots need.
    """
    lang = language(lang_option)
    setup = _guard(lang, lambda: _setup(data_dir, catalog_file))
    vector = next((v for v in setup.catalog.vector_layers if v.id == dataset_id), None)
    if vector is not None:  # a vector layer: the whole layer, from its ArcGIS REST service
        _download_vector(vector, setup.data_dir, timeout, lang)
        return
    dataset = _dataset(setup.catalog, dataset_id, lang)
    layers = _layers(dataset, layer, lang)
    boxes = _plot_boxes(plots, lang) if plots is not None else []
    wanted = _tiles(dataset, tiles or [], boxes, lang)
    out.print(t("plan", lang, dataset=dataset.id, version=dataset.version,
                n=len(wanted) * len(layers), dir=setup.data_dir))  # fmt: skip
    report = _guard(
        lang, lambda: _download(dataset, layers, wanted, setup.data_dir, force, timeout)
    )
    _print_downloads(dataset, report, lang)
    raise typer.Exit(1 if report.failures else 0)


def _download_vector(vector: VectorDataset, data_dir: Path, timeout: float, lang: Lang) -> None:
    from eudr_check.datasets.arcgis import download_layer

    got = _guard(lang, lambda: download_layer(vector, data_dir, timeout=timeout))
    out.print(t("vector_done", lang, dataset=got.dataset_id, n=got.features, pages=got.pages,
                path=got.path, sha=got.sha256))  # fmt: skip


def _download(dataset: Dataset, layers: list[str], tiles: list[str], data_dir: Path,
              force: bool, timeout: float) -> DownloadReport:  # fmt: skip
    from eudr_check.datasets.download import download_many

    columns = (
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=err) as bar:

        def progress_for(layer: str, tile: str) -> ProgressFn:
            task: list[TaskID] = []  # created on first news, so skipped files show no bar

            def update(done: int, total: int | None) -> None:
                if not task:
                    task.append(bar.add_task(f"{layer} {tile}", total=total))
                bar.update(task[0], completed=done, total=total)

            return update

        return download_many(
            dataset, layers, tiles, data_dir, progress_for=progress_for, timeout=timeout,
            force=force,
        )  # fmt: skip


def _print_downloads(dataset: Dataset, report: DownloadReport, lang: Lang) -> None:
    table = Table(title=t("summary", lang, dataset=dataset.id))
    for key in ("layer", "tile", "status", "mb", "checksum"):
        table.add_column(t(key, lang), justify="right" if key == "mb" else "left")
    for r in report.results:
        status = "skipped" if r.skipped else "resumed" if r.resumed else "downloaded"
        table.add_row(r.layer, r.tile, f"[green]{t(status, lang)}[/]", f"{r.bytes / 1e6:.1f}",
                      r.sha256[:12] + "…")  # fmt: skip
    for f in report.failures:
        table.add_row(f.layer, f.tile, f"[bold red]{t('failed', lang)}[/]", "", "")
    out.print(table)
    if not report.failures:
        out.print(t("all_ok", lang))
        return
    err.print(f"[bold red]{t('failures', lang, n=len(report.failures))}[/]")
    for f in report.failures:
        err.print(
            f"  {escape(f.layer)} {escape(f.tile)}: {escape(f.message(lang))}", soft_wrap=True
        )


@datasets_app.command(
    "list",
    help=h(
        "Muestra las teselas de la carpeta de datos (tamaño, suma de control) y, con --plots, lo "
        "que falta.",
        "Show the tiles in the data folder (size, checksum) and, with --plots, what is missing.",
    ),
)
def list_cmd(
    plots: Plots = None,
    data_dir: DataDir = None,
    catalog_file: CatalogFile = None,
    lang_option: LangOption = None,
) -> None:
    """Show the tiles in the data folder (size, checksum) and, with --plots, what is missing."""
    lang = language(lang_option)
    setup = _guard(lang, lambda: _setup(data_dir, catalog_file))
    needed: dict[str, list[str]] | None = None
    if plots is not None:
        boxes = _plot_boxes(plots, lang)
        from eudr_check.datasets.download import needed_tiles

        needed = {d.id: needed_tiles(d, boxes) for d in setup.catalog.enabled}
    from eudr_check.datasets.download import inventory

    statuses = _guard(lang, lambda: inventory(setup.catalog, setup.data_dir, needed))
    for dataset in setup.catalog.enabled:
        _print_dataset(dataset, [s for s in statuses if s.dataset_id == dataset.id], setup,
                       needed is not None, lang)  # fmt: skip
    blocking = [s for s in statuses if s.missing and not s.optional]
    if blocking:
        err.print(f"[bold red]{t('missing_total', lang, n=len(blocking))}[/]")
    raise typer.Exit(1 if blocking else 0)


def _print_dataset(dataset: Dataset, statuses: list[TileStatus], setup: _Setup,
                   with_needed: bool, lang: Lang) -> None:  # fmt: skip
    from eudr_check.datasets.download import is_local

    if not is_local(dataset, setup.data_dir):
        out.print(t("remote", lang, dataset=dataset.id, where=escape(dataset.location)))
        return
    for layer in dataset.layers:
        rows = [s for s in statuses if s.layer == layer]
        note = f" {t('optional_note', lang)}" if dataset.optional else ""
        table = Table(title=f"{dataset.id} · {layer} ({escape(dataset.version)}){note}")
        for key in ("tile", "mb", "checksum", *(("needed",) if with_needed else ())):
            table.add_column(t(key, lang), justify="right" if key == "mb" else "left")
        for s in rows:
            table.add_row(*_row(s, with_needed, lang))
        if not rows:
            table.add_row(t("none", lang), "", "", *([""] if with_needed else []))
        out.print(table)
    _print_versions(dataset, setup, lang)
    missing = sorted({s.tile for s in statuses if s.missing})
    if missing:
        _print_fetch_command(dataset, missing, setup, lang)


def _print_versions(dataset: Dataset, setup: _Setup, lang: Lang) -> None:
    """Every version present by the product's names, newest first, when not just the catalog's."""
    from eudr_check.datasets.discovery import present_versions, version_key

    present = present_versions(dataset, setup.data_dir)
    if not present or set(present) == {dataset.version}:
        return
    items = ", ".join(f"{v} ({t('tiles_n', lang, n=len(present[v]))})"
                      for v in sorted(present, key=version_key, reverse=True))  # fmt: skip
    out.print(t("versions", lang, dataset=dataset.id, items=escape(items),
                version=escape(dataset.version)), soft_wrap=True)  # fmt: skip


def _row(s: TileStatus, with_needed: bool, lang: Lang) -> list[str]:
    from eudr_check.datasets.download import Checksum

    if not s.present:
        cells = [s.tile, "", f"[bold red]{t('missing', lang)}[/]"]
    else:
        style = {Checksum.OK: "green", Checksum.UNKNOWN: "yellow", Checksum.MISMATCH: "bold red"}
        state = s.checksum or Checksum.UNKNOWN
        cells = [
            s.tile,
            f"{(s.bytes or 0) / 1e6:.1f}",
            f"[{style[state]}]{t(state.value, lang)}[/]",
        ]
    if with_needed:
        cells.append("✓" if s.needed else "")
    return cells


def _print_fetch_command(dataset: Dataset, tiles: list[str], setup: _Setup, lang: Lang) -> None:
    if dataset.source is None:
        out.print(t("no_source", lang, dataset=dataset.id))
        return
    args = ["eudr-check", "datasets", "download", "--dataset", dataset.id]
    for tile in tiles:
        args += ["--tiles", tile]
    args += ["--datasets", str(setup.data_dir)]
    if setup.catalog_file is not None:
        args += ["--catalog", str(setup.catalog_file)]
    out.print(t("fetch", lang, dataset=dataset.id))
    # soft_wrap: the command must stay on one line to be copied and pasted.
    out.print("  " + shlex.join(args), soft_wrap=True, markup=False, highlight=False)
