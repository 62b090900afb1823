"""Alembic, driven from Python: `upgrade` brings any database to the newest schema.

The migration scripts live in `migrations/`; `alembic.ini` next to this file serves the alembic
command line (`alembic -c src/eudr_check/store/alembic.ini revision --autogenerate -m ...`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, exc, text
from sqlalchemy.schema import SchemaItem

from eudr_check.store.schema import POSTGIS_EXTRAS, POSTGIS_TABLES, Base

MIGRATIONS = Path(__file__).parent / "migrations"
# Serialises concurrent first opens of one PostgreSQL database (any constant will do).
_PG_LOCK_KEY = 0x45554452  # "EUDR"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to `revision` in one transaction."""
    with engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        command.upgrade(alembic_config(conn), revision)


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def has_geometry_column(conn: Connection) -> bool:
    """Whether plot_versions has the PostGIS `geom` column (added by the migration when the
    postgis extension was installed at the time)."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'plot_versions' AND column_name = 'geom'"
        )
    )
    return found.first() is not None


def include_object(
    obj: SchemaItem,
    name: str | None,
    type_: Literal[
        "schema",
        "table",
        "column",
        "index",
        "unique_constraint",
        "foreign_key_constraint",
        "check_constraint",
    ],
    reflected: bool,
    compare_to: SchemaItem | None,
) -> bool:
    """Leave the PostGIS extras (not mapped by the ORM) out of comparisons and autogenerate."""
    if reflected and type_ == "table" and name in POSTGIS_TABLES:
        return False
    return not (reflected and name in POSTGIS_EXTRAS and type_ in ("column", "index"))


def schema_diff(conn: Connection) -> list[Any]:
    """Differences between the ORM metadata and the database (empty: they agree)."""
    ctx = MigrationContext.configure(
        conn, opts={"include_object": include_object, "compare_type": True}
    )
    with warnings.catch_warnings():
        # Reflection does not know PostGIS's geometry type (the unmapped, excluded geom column).
        warnings.filterwarnings(
            "ignore", message="Did not recognize type 'geometry'", category=exc.SAWarning
        )
        diff: list[Any] = compare_metadata(ctx, Base.metadata)
    return diff
