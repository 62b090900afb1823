"""Due diligence statements in the registry: each submission with its request, every exchange
with the EU system byte for byte, and the numbers it gave. (Per-plot overrides, issue 12, are
now accepting reviews: store/reviews.py; the dds_overrides table is no longer written.)
A mixin of `Registry`. Nothing is deleted: a withdrawn or rejected statement stays on record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from eudr_check.errors import StoreError
from eudr_check.store.schema import DdsExchange, DdsSubmission, Lot

SENDING = "SENDING"
FAILED = "FAILED"
# EU statuses after which nothing more will change on its own.
SETTLED = frozenset({"AVAILABLE", "REJECTED", "WITHDRAWN", "ARCHIVED", "OBSOLETE", FAILED})


@dataclass(frozen=True, slots=True)
class DdsRecord:
    id: int
    organisation_id: int | None
    lot_id: int | None
    part: int
    parts: int
    endpoint: str
    internal_ref: str | None
    statement_hash: str
    uuid: str | None
    status: str
    reference_number: str | None
    verification_number: str | None
    rejection_reason: str | None
    communication: str | None
    error: str | None
    plot_ids: tuple[str, ...]
    overrides: tuple[dict[str, Any], ...]
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    checked_at: dt.datetime | None
    amended_at: dt.datetime | None
    withdrawn_at: dt.datetime | None

    @property
    def pending(self) -> bool:
        """Filed and waiting for the EU system (numbers to come)."""
        return self.uuid is not None and self.status not in SETTLED

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        for k, v in out.items():
            if isinstance(v, dt.datetime):
                out[k] = v.isoformat(timespec="seconds")
            elif isinstance(v, tuple):
                out[k] = list(v)
        return out


@dataclass(frozen=True, slots=True)
class ExchangeRow:
    """What the client hands over for each HTTP exchange (see dds.client.Exchange)."""

    operation: str
    address: str
    sent_at: dt.datetime
    request: bytes
    status: int | None
    response: bytes | None
    error: str | None = None


class DdsRecords:
    def _write(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def dds_create(
        self, *, endpoint: str, statement_hash: str, request_xml: bytes,
        plot_ids: Sequence[str], organisation_id: int | None = None, lot_id: int | None = None,
        part: int = 1, parts: int = 1, internal_ref: str | None = None,
        overrides: Sequence[Mapping[str, Any]] = (),
    ) -> int:  # fmt: skip
        """A submission about to be sent (status SENDING); its id."""
        with self._write() as s:
            if lot_id is not None and s.get(Lot, lot_id) is None:
                raise StoreError(f"unknown lot {lot_id}")
            row = DdsSubmission(
                organisation_id=organisation_id, lot_id=lot_id, part=part, parts=parts,
                endpoint=endpoint, internal_ref=internal_ref, statement_hash=statement_hash,
                status=SENDING, plot_ids=list(plot_ids), overrides=[dict(o) for o in overrides],
                request_xml=request_xml,
            )  # fmt: skip
            s.add(row)
            s.flush()
            return row.id

    def dds_update(self, submission_id: int, exchanges: Iterable[Any] = (), **values: Any) -> None:
        """Set columns of a submission (status, uuid, numbers, times, error) and keep the
        exchanges that led there, in one transaction."""
        allowed = set(DdsSubmission.__table__.columns.keys()) - {"id"}
        unknown = set(values) - allowed
        if unknown:
            raise StoreError(f"not a submission column: {sorted(unknown)}")
        with self._write() as s:
            row = s.get(DdsSubmission, submission_id)
            if row is None:
                raise StoreError(f"unknown submission {submission_id}")
            for key, value in values.items():
                setattr(row, key, value)
            self._add_exchanges(s, submission_id, exchanges)

    def dds_exchanges_add(self, submission_id: int | None, exchanges: Iterable[Any]) -> None:
        with self._write() as s:
            self._add_exchanges(s, submission_id, exchanges)

    @staticmethod
    def _add_exchanges(s: Session, submission_id: int | None, exchanges: Iterable[Any]) -> None:
        rows = [
            {"submission_id": submission_id, "operation": e.operation, "address": e.address,
             "sent_at": e.sent_at, "http_status": e.status, "request": e.request,
             "response": e.response, "error": e.error}
            for e in exchanges
        ]  # fmt: skip
        if rows:
            s.execute(sa.insert(DdsExchange), rows)

    def dds_get(self, submission_id: int) -> DdsRecord | None:
        with self._read() as s:
            row = s.get(DdsSubmission, submission_id)
            return None if row is None else _record(row)

    def dds_request(self, submission_id: int) -> bytes:
        with self._read() as s:
            row = s.get(DdsSubmission, submission_id)
            if row is None:
                raise StoreError(f"unknown submission {submission_id}")
            return row.request_xml

    def dds_find(
        self, *, lot_id: int | None = None, organisation_id: int | None = None,
        uuids: Sequence[str] | None = None, hashes: Sequence[str] | None = None,
        pending: bool = False, endpoint: str | None = None,
    ) -> list[DdsRecord]:  # fmt: skip
        """Submissions matching every filter given, oldest first."""
        q = select(DdsSubmission).order_by(DdsSubmission.id)
        d = DdsSubmission
        if lot_id is not None:
            q = q.where(d.lot_id == lot_id)
        if organisation_id is not None:
            q = q.where(d.organisation_id == organisation_id)
        if uuids is not None:
            q = q.where(d.uuid.in_(list(uuids)))
        if hashes is not None:
            q = q.where(d.statement_hash.in_(list(hashes)))
        if endpoint is not None:
            q = q.where(d.endpoint == endpoint)
        if pending:
            q = q.where(d.uuid.is_not(None), d.status.not_in(sorted(SETTLED)))
        with self._read() as s:
            return [_record(r) for r in s.scalars(q)]

    def dds_exchanges(self, submission_id: int) -> list[ExchangeRow]:
        e = DdsExchange
        q = select(e).where(e.submission_id == submission_id).order_by(e.id)
        with self._read() as s:
            return [ExchangeRow(r.operation, r.address, r.sent_at, r.request, r.http_status,
                                r.response, r.error) for r in s.scalars(q)]  # fmt: skip


def _record(r: DdsSubmission) -> DdsRecord:
    return DdsRecord(
        r.id, r.organisation_id, r.lot_id, r.part, r.parts, r.endpoint, r.internal_ref,
        r.statement_hash, r.uuid, r.status, r.reference_number, r.verification_number,
        r.rejection_reason, r.communication, r.error, tuple(r.plot_ids or ()),
        tuple(r.overrides or ()), r.created_at, r.submitted_at, r.checked_at, r.amended_at,
        r.withdrawn_at,
    )  # fmt: skip
