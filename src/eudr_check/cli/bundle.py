"""`eudr-check bundle build` and `eudr-check bundle verify`.

Exit codes. build: 0 written, 1 the lot is not ready (plots unchecked, or checked on other data
or thresholds than today's: check them again), 2 the lot, the registry, the catalog or a setting
could not be used. verify: 0 verified, 1 problems found (each listed), 2 the file cannot be read
as a zip at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from eudr_check.cli.common import WRITTEN, CatalogFile, DataDir, LangOption, err, h, language, out
from eudr_check.cli.errors import guard
from eudr_check.i18n import Lang, Text

if TYPE_CHECKING:
    from eudr_check.reports.bundle_verify import BundleCheck

bundle_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=h(
        "El paquete de cumplimiento de un lote: créelo desde el registro y verifíquelo después.",
        "A lot's compliance bundle: build it from the registry, verify it later.",
    ),
)

_T = {
    "verified": Text("Paquete verificado: {n} archivos coinciden con manifest.json{lot}.",
                     "Bundle verified: {n} files match manifest.json{lot}."),
    "lot": Text(" (lote {ref})", " (lot {ref})"),
    "problems": Text("{n} problema(s) en {file}:", "{n} problem(s) in {file}:"),
}  # fmt: skip


@bundle_app.command(
    "build",
    help=h(
        "Escribe el paquete de cumplimiento de un lote desde el registro en "
        "EUDR_CHECK_REGISTRY_URL.",
        "Write a lot's compliance bundle from the registry at EUDR_CHECK_REGISTRY_URL.",
    ),
)
def build_cmd(
    lot_id: Annotated[
        int,
        typer.Argument(help=h("Identificador del lote en el registro", "Lot id in the registry")),
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help=h("Carpeta para el zip", "Folder for the zip"))
    ],
    datasets: DataDir = None,
    catalog_file: CatalogFile = None,
    with_evidence: Annotated[
        bool,
        typer.Option(
            "--with-evidence",
            help=h(
                "Incluir los archivos de evidencia (fotos, documentos), no solo sus hashes",
                "Include the evidence files (photos, documents), not only their hashes",
            ),
        ),
    ] = False,
    lang_option: LangOption = None,
) -> None:
    """Write a lot's compliance bundle from the registry at EUDR_CHECK_REGISTRY_URL."""
    lang = language(lang_option)
    with guard(lang):
        from eudr_check.datasets.catalog import load_catalog
        from eudr_check.datasets.sources import DataSources
        from eudr_check.reports.bundle import write_bundle
        from eudr_check.reports.bundle_verify import verify_bundle
        from eudr_check.settings import get_settings
        from eudr_check.store.registry import Registry

        settings = get_settings()
        sources = DataSources(
            load_catalog(catalog_file or settings.catalog), datasets or settings.datasets
        )
        with Registry.open(settings.registry_url) as registry:
            path = write_bundle(
                registry, lot_id, sources, out_dir, lang=lang, settings=settings,
                with_evidence=with_evidence,
            )  # fmt: skip
    out.print(WRITTEN(lang, path=escape(str(path))))
    # Read back what was written: the bundle an exporter files is one that verifies.
    _report(verify_bundle(path), lang)


@bundle_app.command(
    "verify",
    help=h(
        "Comprueba que cada archivo de un paquete es el que lista su manifiesto, y que no se "
        "añadió nada.",
        "Check that every file of a bundle is the one its manifest lists, and nothing was added.",
    ),
)
def verify_cmd(
    file: Annotated[Path, typer.Argument(help=h("Zip del paquete", "Bundle zip"))],
    lang_option: LangOption = None,
) -> None:
    """Check that every file of a bundle is the one its manifest lists, and nothing was added."""
    lang = language(lang_option)
    from eudr_check.reports.bundle_verify import verify_bundle

    _report(verify_bundle(file), lang)


def _report(check: BundleCheck, lang: Lang) -> None:
    if check.ok:
        lot = "" if check.reference is None else _T["lot"](lang, ref=check.reference)
        out.print(escape(_T["verified"](lang, n=check.files_checked, lot=lot)))
        return
    n = len(check.problems)
    err.print(f"[bold red]{escape(_T['problems'](lang, n=n, file=check.path.name))}[/]")
    for problem in check.problems:
        err.print(f"  - {escape(problem.message(lang))}")
    raise typer.Exit(2 if check.unreadable else 1)
