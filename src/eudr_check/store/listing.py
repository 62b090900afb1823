"""Plot listings in the database: filters, counts by verdict, order and pages in SQL.

Every plot points at its current version and every version at its newest result, and each
plot keeps copies of its current status, producer and verdict (all kept as versions and
results are written). Counts, filters and the page's keys come from the plots table and its
indexes; only the page's rows are joined to their versions and results. Pages go by keyset
(`after`: the last plot key seen), which stays stable while plots are added; `offset` is kept
for page numbers.
A mixin of `Registry`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eudr_check.store.schema import CheckRun, Plot, PlotResultRow, PlotVersion

UNCHECKED = "unchecked"
_KEYS = ("plot_key", "organisation_id", "plot_id", "version_id", "version", "status",
         "producer_name", "run_id", "fingerprint", "verdict", "reasons", "stats", "area_ha",
         "buffered_point", "checked_at")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Listing:
    items: list[dict[str, Any]]  # the page, in plot key order
    total: int  # plots matching every filter
    counts: dict[str, int] = field(default_factory=dict)  # by verdict, before the verdict filter


def _columns() -> list[Any]:
    r = PlotResultRow
    return [Plot.id, Plot.organisation_id, Plot.plot_id, PlotVersion.id, PlotVersion.version,
            PlotVersion.status, PlotVersion.producer_name, CheckRun.uid, r.fingerprint,
            r.verdict, r.reasons, r.stats, r.area_ha, r.buffered_point, r.created_at]  # fmt: skip


def _joined(query: Any) -> Any:
    current = PlotVersion.id == Plot.current_version_id
    newest = PlotResultRow.id == PlotVersion.latest_result_id
    return query.select_from(Plot).join(PlotVersion, current).outerjoin(PlotResultRow, newest)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _row(row: Sequence[Any]) -> dict[str, Any]:
    item = dict(zip(_KEYS, row, strict=True))
    item["verdict"] = None if item["verdict"] is None else str(item["verdict"].value)
    return item


class PlotListing:
    def _read(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def plot_listing(
        self, organisation_ids: Sequence[int], *, status: str | None = None,
        verdict: str | None = None, q: str | None = None, after: int | None = None,
        offset: int = 0, limit: int = 100,
    ) -> Listing:  # fmt: skip
        """The organisations' current plots with their newest result, filtered and paged."""
        if not organisation_ids:
            return Listing([], 0, {})
        where: list[Any] = [Plot.organisation_id.in_(sorted(set(organisation_ids)))]
        if status:
            where.append(Plot.current_status == status)
        if q:  # a scan of the plots table alone (its copy of the producer's name)
            pattern = _like(q)
            where.append(sa.or_(Plot.plot_id.ilike(pattern, escape="\\"),
                                Plot.current_producer.ilike(pattern, escape="\\")))  # fmt: skip
        by_verdict = select(Plot.current_verdict, func.count()).where(*where)
        with self._read() as s:
            counts: dict[str, int] = {}
            for v, n in s.execute(by_verdict.group_by(Plot.current_verdict)).all():
                counts[UNCHECKED if v is None else str(v)] = int(n)
            if verdict == UNCHECKED:
                where.append(Plot.current_verdict.is_(None))
            elif verdict:
                where.append(Plot.current_verdict == verdict)
            if after is not None:
                where.append(Plot.id > after)
            keys = select(Plot.id).where(*where).order_by(Plot.id).offset(offset).limit(limit)
            ids = list(s.execute(keys).scalars())
            items = []
            if ids:  # the page's columns, for its keys only
                page = (_joined(select(*_columns()))
                        .outerjoin(CheckRun, CheckRun.id == PlotResultRow.run_id)
                        .where(Plot.id.in_(ids)).order_by(Plot.id))  # fmt: skip
                items = [_row(row) for row in s.execute(page).all()]
        total = counts.get(verdict, 0) if verdict else sum(counts.values())
        return Listing(items, total, dict(sorted(counts.items())))

    def plot_row(self, plot_key: int) -> dict[str, Any] | None:
        """One plot's current version and newest result, as in a listing."""
        with self._read() as s:
            row = s.execute(_joined(select(*_columns()))
                            .outerjoin(CheckRun, CheckRun.id == PlotResultRow.run_id)
                            .where(Plot.id == plot_key)).first()  # fmt: skip
        return None if row is None else _row(row)
