"""Command line: `eudr-check bundle build` and `eudr-check bundle verify`.

Exit codes. build: 0 written, 1 the lot is not ready (plots unchecked, or checked on other data
or thresholds than today's: check them again), 2 the lot, the registry, the catalog or a setting
could not be used. verify: 0 verified, 1 problems found (each listed), 2 the file cannot be read
as a zip at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from eudr_check.cli_common import CatalogFile, DataDir, Lang, check_lang, err, out
from eudr_check.errors import EudrCheckError
from eudr_check.reports.bundle_verify import BundleCheck, verify_bundle

bundle_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="A lot's compliance bundle: build it from the registry, verify it later.",
)

_T = {
    "error": ("Error", "Error"),
    "written": ("Escrito: {path}", "Written: {path}"),
    "verified": ("Paquete verificado: {n} archivos coinciden con manifest.json{lot}.",
                 "Bundle verified: {n} files match manifest.json{lot}."),
    "lot": (" (lote {ref})", " (lot {ref})"),
    "problems": ("{n} problema(s) en {file}:", "{n} problem(s) in {file}:"),
    "settings": ("configuración inválida: {problem}", "invalid settings: {problem}"),
    "registry": ("no se pudo usar el registro: {problem}",
                 "the registry could not be used: {problem}"),
}  # fmt: skip


def t(key: str, lang: str, **kw: object) -> str:
    es, en = _T[key]
    return (es if lang == "es" else en).format(**kw)


def _fail(lang: str, message: str, code: int) -> NoReturn:
    err.print(f"[bold red]{t('error', lang)}:[/] {escape(message)}")
    raise typer.Exit(code)


@bundle_app.command("build")
def build_cmd(
    lot_id: Annotated[int, typer.Argument(help="Lot id in the registry")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the zip")],
    datasets: DataDir = None,
    catalog_file: CatalogFile = None,
    lang: Lang = "es",
) -> None:
    """Write a lot's compliance bundle from the registry at EUDR_CHECK_REGISTRY_URL."""
    lang = check_lang(lang)
    from eudr_check.datasets.catalog import load_catalog
    from eudr_check.errors import BundleError
    from eudr_check.reports.bundle import write_bundle
    from eudr_check.settings import Settings
    from eudr_check.store.registry import Registry

    try:
        settings = Settings()
        catalog = load_catalog(catalog_file or settings.catalog)
        with Registry.open(settings.registry_url) as registry:
            path = write_bundle(registry, lot_id, catalog, datasets or settings.datasets,
                                out_dir, lang=lang)  # fmt: skip
    except BundleError as exc:
        _fail(lang, exc.message(lang), 2 if exc.unknown_lot else 1)
    except ValidationError as exc:  # settings from the environment
        _fail(lang, t("settings", lang, problem=exc.errors()[0]["msg"]), 2)
    except SQLAlchemyError as exc:
        problem = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        _fail(lang, t("registry", lang, problem=problem), 2)
    except EudrCheckError as exc:  # ConfigError, StoreError
        _fail(lang, str(exc), 2)
    except OSError as exc:
        _fail(lang, f"{exc.filename or ''} {exc.strerror or exc}".strip(), 2)
    out.print(t("written", lang, path=escape(str(path))))
    # Read back what was written: the bundle an exporter files is one that verifies.
    _report(verify_bundle(path), lang)


@bundle_app.command("verify")
def verify_cmd(
    file: Annotated[Path, typer.Argument(help="Bundle zip")],
    lang: Lang = "es",
) -> None:
    """Check that every file of a bundle is the one its manifest lists, and nothing was added."""
    lang = check_lang(lang)
    from eudr_check.reports.bundle_verify import verify_bundle

    _report(verify_bundle(file), lang)


def _report(check: BundleCheck, lang: str) -> None:
    if check.ok:
        lot = "" if check.reference is None else t("lot", lang, ref=check.reference)
        out.print(escape(t("verified", lang, n=check.files_checked, lot=lot)))
        return
    n = len(check.problems)
    err.print(f"[bold red]{escape(t('problems', lang, n=n, file=check.path.name))}[/]")
    for problem in check.problems:
        err.print(f"  - {escape(problem.message(lang))}")
    raise typer.Exit(2 if check.unreadable else 1)
