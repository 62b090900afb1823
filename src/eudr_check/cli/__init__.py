"""Command line: `eudr-check validate`, `export-traces`, `check`, `datasets`, `bundle`, `dds`,
`review`, `serve`, `admin`.

A thin shell over the library: parse options, call, print. Exit codes (one mapping for every
command, `cli.errors`): 0 success (for validate: no errors remain), 1 errors remain in the
plots or the lot is not ready, 2 the input (or an option, a setting) could not be used, 3 the
EU Information System refused or could not be reached.
Heavy libraries are imported inside the commands, so `--help` and `version` start at once.
"""

from __future__ import annotations

import sys

import typer

from eudr_check import __version__
from eudr_check.cli.admin import admin_app
from eudr_check.cli.bundle import bundle_app
from eudr_check.cli.check import check_cmd
from eudr_check.cli.common import h, out
from eudr_check.cli.datasets import datasets_app
from eudr_check.cli.dds import dds_app
from eudr_check.cli.review import review_app
from eudr_check.cli.serve import serve_cmd
from eudr_check.cli.validate import export_traces_cmd, validate_cmd

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=h("Verificación de parcelas para el EUDR.", "EUDR plot checks."),
)
app.command(
    "validate",
    help=h(
        "Comprueba un archivo de parcelas con las reglas de geolocalización de la UE; escribe los "
        "hallazgos (y un archivo reparado).",
        "Check a plot file against the EU geolocation rules; write findings (and a repaired file).",
    ),
)(validate_cmd)
app.command(
    "export-traces",
    help=h(
        "Escribe GeoJSON para el Sistema de Información de la UE (reparado, dividido bajo el "
        "límite de tamaño).",
        "Write GeoJSON for the EU Information System (repaired, split under the size limit).",
    ),
)(export_traces_cmd)
app.command(
    "check",
    help=h(
        "Verifica cada parcela frente a la deforestación posterior al 31/12/2020 y escribe los "
        "informes de debida diligencia.",
        "Check every plot for deforestation after 31 Dec 2020 and write the due-diligence reports.",
    ),
)(check_cmd)
app.add_typer(datasets_app, name="datasets")
app.add_typer(bundle_app, name="bundle")
app.add_typer(dds_app, name="dds")
app.add_typer(review_app, name="review")
app.command(
    "serve",
    help=h(
        "Ejecuta el servicio web (API y páginas) con uvicorn.",
        "Run the web service (API + pages) with uvicorn.",
    ),
)(serve_cmd)
app.add_typer(admin_app, name="admin")


@app.command("version", help=h("Muestra la versión.", "Print the version."))
def version_cmd() -> None:
    """Print the version."""
    out.print(__version__)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
