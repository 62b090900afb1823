"""Throw-away PostgreSQL databases for the registry tests.

`scripts/start_postgres.sh` starts a private server and prints its URL; CI exports it as
EUDR_CHECK_TEST_PG_URL. Each test gets a database of its own, dropped afterwards: copied from
template0 (plain PostgreSQL) or template1 (where the script installed PostGIS).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

PG_URL_ENV = "EUDR_CHECK_TEST_PG_URL"
SKIP_REASON = (
    f"{PG_URL_ENV} is not set: run `export {PG_URL_ENV}=$(scripts/start_postgres.sh)` "
    "to test the registry on PostgreSQL too"
)


def pg_url() -> str:
    """The server's URL, or skip the calling test."""
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(SKIP_REASON)
    return url


@contextmanager
def fresh_database(base_url: str, *, postgis: bool) -> Iterator[str]:
    """A new, empty database on the server of `base_url`; yields its URL, drops it after."""
    name = f"eudr_test_{uuid.uuid4().hex[:16]}"
    template = "template1" if postgis else "template0"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE {template}')
        try:
            yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        finally:
            _drop(admin, name)
    finally:
        admin.dispose()


def _drop(admin: sa.Engine, name: str) -> None:
    """DROP ... WITH (FORCE), retried a few times: FORCE may not end a backend of another role
    (an autovacuum worker on the freshly written database), which is gone a moment later."""
    for attempt in range(20):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.ProgrammingError as exc:
            if "InsufficientPrivilege" not in type(exc.orig).__name__ or attempt == 19:
                raise
            time.sleep(0.5)
