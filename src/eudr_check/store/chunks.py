"""Ids in slices for `IN (...)` queries: SQLite and PostgreSQL both take a thousand at a time
well, and no backend's parameter limit is reached."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

CHUNK = 1000
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
