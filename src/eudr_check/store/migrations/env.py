"""Alembic environment: a connection handed over by eudr_check.store.migrate, or a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from eudr_check.store.migrate import include_object
from eudr_check.store.schema import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from eudr_check.store.registry import default_url

    url = config.get_main_option("sqlalchemy.url") or default_url()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: connect to a database")
run()
