"""Command line: `eudr-check validate`, `export-traces`, `check`, `datasets`, `bundle`, `serve`,
`admin`.

A thin shell over the library: parse options, call, print. Exit codes (one mapping for every
command, `cli.errors`): 0 success (for validate: no errors remain), 1 errors remain in the
plots or the lot is not ready, 2 the input (or an option, a setting) could not be used.
Heavy libraries are imported inside the commands, so `--help` and `version` start at once.
"""

from __future__ import annotations

import sys

import typer

from eudr_check import __version__
from eudr_check.cli.admin import admin_app
from eudr_check.cli.bundle import bundle_app
from eudr_check.cli.check import check_cmd
from eudr_check.cli.common import out
from eudr_check.cli.datasets import datasets_app
from eudr_check.cli.serve import serve_cmd
from eudr_check.cli.validate import export_traces_cmd, validate_cmd

app = typer.Typer(add_completion=False, no_args_is_help=True, help="EUDR plot checks.")
app.command("validate")(validate_cmd)
app.command("export-traces")(export_traces_cmd)
app.command("check")(check_cmd)
app.add_typer(datasets_app, name="datasets")
app.add_typer(bundle_app, name="bundle")
app.command("serve")(serve_cmd)
app.add_typer(admin_app, name="admin")


@app.command("version")
def version_cmd() -> None:
    """Print the version."""
    out.print(__version__)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
