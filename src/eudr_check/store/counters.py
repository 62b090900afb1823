"""Counting requests per key and minute in the registry, so that every process of the web
service sees the same counts (a limit kept in one process's memory is doubled by a second).

One statement per count (an upsert returning the new count), atomic on SQLite and PostgreSQL
alike. A mixin of `Registry`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eudr_check.store.schema import RequestCount

KEEP_MINUTES = 2  # counts older than this are of no use to any limit


class RequestCounters:
    def _write(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def count_request(self, key: str, minute: int) -> int:
        """Add one to `key`'s count for `minute`; the count after it."""
        with self._write() as s:
            pg = s.get_bind().dialect.name == "postgresql"
            insert = (postgresql.insert if pg else sqlite.insert)(RequestCount)
            upsert = insert.values(key=key, minute=minute, count=1).on_conflict_do_update(
                index_elements=[RequestCount.key, RequestCount.minute],
                set_={"count": RequestCount.count + 1},
            )
            count = int(s.execute(upsert.returning(RequestCount.count)).scalar_one())
            if count == 1:  # the key's first request of a minute: drop its old minutes
                old = RequestCount.minute < minute - KEEP_MINUTES
                s.execute(sa.delete(RequestCount).where(RequestCount.key == key, old))
            return count

    def request_count(self, key: str, minute: int) -> int:
        with self._read() as s:
            found = s.execute(select(RequestCount.count).where(
                RequestCount.key == key, RequestCount.minute == minute)).scalar()  # fmt: skip
            return int(found or 0)
