"""The registry's record of nightly monitoring: nights and their steps, tiles fetched, results
that changed in a window, digests and their e-mails (claimed once, so never sent twice),
the lots' conclusions as last seen, and the bundles built.

A mixin of `Registry`, like the others in this package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from eudr_check.errors import StoreError
from eudr_check.store.chunks import chunks
from eudr_check.store.schema import (
    ApiToken,
    Bundle,
    Digest,
    LotPlot,
    LotWatch,
    NightlyRun,
    Plot,
    PlotResultRow,
    PlotVersion,
    Role,
    TileFetch,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class NightInfo:
    id: int
    night: str
    status: str
    steps: dict[str, Any]
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ResultChange:
    """A plot whose newest result was recorded in a window, with the result before it."""

    plot_key: int
    plot_id: str
    organisation_id: int
    version_id: int
    new: dict[str, Any]  # verdict, reasons, stats, fingerprint, created_at
    old: dict[str, Any] | None  # the plot's result before the window (None: first check)


@dataclass(frozen=True, slots=True)
class DigestInfo:
    id: int
    organisation_id: int
    night: str
    since: dt.datetime
    until: dt.datetime
    items: list[dict[str, Any]]
    counts: dict[str, Any]
    created_at: dt.datetime
    mail_status: str | None
    mail_to: list[str] = field(default_factory=list)
    mail_id: str | None = None
    mail_error: str | None = None


@dataclass(frozen=True, slots=True)
class BundleInfo:
    id: int
    lot_id: int
    file_name: str
    sha256: str
    conclusion: str
    fingerprints: dict[str, str]
    built_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Recipient:
    token_id: int
    name: str
    email: str
    lang: str
    role: str


class NightlyRecords:
    def _write(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    # nights ----------------------------------------------------------------------------------

    def start_night(self, night: str) -> int:
        with self._write() as s:
            row = NightlyRun(night=night, status="running", steps={})
            s.add(row)
            s.flush()
            return row.id

    def night_step(self, night_id: int, step: str, outcome: dict[str, Any]) -> None:
        """Record one step's outcome (status, figures) on the night's run."""
        with self._write() as s:
            row = s.get(NightlyRun, night_id)
            if row is None:
                raise StoreError(f"unknown nightly run {night_id}")
            row.steps = {**row.steps, step: outcome}

    def finish_night(self, night_id: int, status: str, error: str | None = None) -> None:
        with self._write() as s:
            row = s.get(NightlyRun, night_id)
            if row is None:
                raise StoreError(f"unknown nightly run {night_id}")
            row.status, row.error, row.finished_at = status, error, utcnow()

    def nights(self, limit: int = 30) -> list[NightInfo]:
        with self._read() as s:
            rows = s.scalars(select(NightlyRun).order_by(NightlyRun.id.desc()).limit(limit))
            return [NightInfo(r.id, r.night, r.status, dict(r.steps), r.error, r.started_at,
                              r.finished_at) for r in rows]  # fmt: skip

    def claim_admin_alert(self, night_id: int) -> bool:
        """True once per failed night run: the caller tells the admins."""
        with self._write() as s:
            done = s.execute(
                update(NightlyRun)
                .where(NightlyRun.id == night_id, NightlyRun.admins_told_at.is_(None))
                .values(admins_told_at=utcnow())
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def record_fetches(self, night_id: int | None, outcomes: Iterable[dict[str, Any]]) -> int:
        rows = [
            {"nightly_id": night_id, "dataset_id": o["dataset_id"], "layer": o["layer"],
             "tile": o["tile"], "status": str(o["status"]), "sha256": o.get("sha256"),
             "bytes": o.get("bytes"), "etag": o.get("etag"), "error": o.get("error"),
             "created_at": utcnow()}
            for o in outcomes
        ]  # fmt: skip
        if rows:
            with self._write() as s:
                s.execute(sa.insert(TileFetch), rows)
        return len(rows)

    def fetches(self, night_id: int) -> list[dict[str, Any]]:
        with self._read() as s:
            q = select(TileFetch).where(TileFetch.nightly_id == night_id).order_by(TileFetch.id)
            return [{"dataset_id": f.dataset_id, "layer": f.layer, "tile": f.tile,
                     "status": f.status, "sha256": f.sha256, "bytes": f.bytes,
                     "error": f.error} for f in s.scalars(q)]  # fmt: skip

    def current_bounds(self) -> list[tuple[float, float, float, float]]:
        """The bounding box of every plot's current version (the tiles a refresh needs)."""
        v, p = PlotVersion, Plot
        with self._read() as s:
            q = (select(v.minx, v.miny, v.maxx, v.maxy).join(p, p.current_version_id == v.id)
                 .where(v.minx.is_not(None)))  # fmt: skip
            return [(float(a or 0), float(b or 0), float(c or 0), float(d or 0))
                    for a, b, c, d in s.execute(q)]  # fmt: skip

    # what changed ----------------------------------------------------------------------------

    def result_changes(self, since: dt.datetime, until: dt.datetime) -> list[ResultChange]:
        """Every plot whose newest result was recorded in (since, until], with the result the
        plot had before (of any of its versions)."""
        r, v, p = PlotResultRow, PlotVersion, Plot
        with self._read() as s:
            q = (
                select(r, p.id, p.plot_id, p.organisation_id)
                .join(v, v.id == r.plot_version_id)
                .join(p, p.id == v.plot_pk)
                .where(r.created_at > since, r.created_at <= until)
                .order_by(r.id)
            )
            newest: dict[int, tuple[PlotResultRow, str, int]] = {}
            first_id: dict[int, int] = {}
            for res, key, pid, org in s.execute(q):
                newest[key] = (res, pid, org)
                first_id.setdefault(key, res.id)
            before: dict[int, PlotResultRow] = {}
            keys = sorted(newest)
            for chunk in chunks(keys, 500):
                last = (
                    select(v.plot_pk, func.max(r.id).label("rid"))
                    .join(v, v.id == r.plot_version_id)
                    .where(v.plot_pk.in_(chunk), r.created_at <= since)
                    .group_by(v.plot_pk)
                    .subquery()
                )
                for key, res in s.execute(select(last.c.plot_pk, r).join(r, r.id == last.c.rid)):
                    before[key] = res
            return [
                ResultChange(key, pid, org, res.plot_version_id, _result(res),
                             _result(before[key]) if key in before else None)
                for key, (res, pid, org) in newest.items()
            ]  # fmt: skip

    def lots_of_versions(self, version_ids: Sequence[int]) -> dict[int, list[int]]:
        """lot id -> the given plot versions it holds."""
        out: dict[int, list[int]] = {}
        with self._read() as s:
            ids = sorted(set(version_ids))
            for chunk in chunks(ids):
                q = select(LotPlot.lot_id, LotPlot.plot_version_id).where(
                    LotPlot.plot_version_id.in_(chunk)
                )
                for lot, vid in s.execute(q):
                    out.setdefault(lot, []).append(vid)
        return out

    def watched_conclusion(self, lot_id: int) -> str | None:
        with self._read() as s:
            row = s.get(LotWatch, lot_id)
            return None if row is None else row.conclusion

    def watch_conclusion(self, lot_id: int, conclusion: str) -> None:
        with self._write() as s:
            row = s.get(LotWatch, lot_id)
            if row is None:
                s.add(LotWatch(lot_id=lot_id, conclusion=conclusion))
            else:
                row.conclusion, row.updated_at = conclusion, utcnow()

    # bundles ---------------------------------------------------------------------------------

    def record_bundle(self, lot_id: int, file_name: str, sha256: str, conclusion: str,
                      fingerprints: dict[int, str]) -> int:  # fmt: skip
        with self._write() as s:
            row = Bundle(lot_id=lot_id, file_name=file_name, sha256=sha256,
                         conclusion=conclusion,
                         fingerprints={str(k): f for k, f in fingerprints.items()})  # fmt: skip
            s.add(row)
            s.flush()
            return row.id

    def bundles(self, lot_id: int) -> list[BundleInfo]:
        """The lot's bundles, newest first."""
        with self._read() as s:
            q = select(Bundle).where(Bundle.lot_id == lot_id).order_by(Bundle.id.desc())
            return [BundleInfo(b.id, b.lot_id, b.file_name, b.sha256, b.conclusion,
                               dict(b.fingerprints), b.built_at) for b in s.scalars(q)]  # fmt: skip

    # digests ---------------------------------------------------------------------------------

    def last_digest_until(self) -> dt.datetime | None:
        with self._read() as s:
            found: dt.datetime | None = s.scalar(select(func.max(Digest.until)))
            return found

    def save_digest(self, organisation_id: int, night: str, since: dt.datetime,
                    until: dt.datetime, items: list[dict[str, Any]],
                    counts: dict[str, Any]) -> DigestInfo:  # fmt: skip
        """The night's digest of the organisation: stored once; a second call for the same
        night returns the first one unchanged."""
        existing = self.digest(organisation_id, night)
        if existing is not None:
            return existing
        try:
            with self._write() as s:
                s.add(Digest(organisation_id=organisation_id, night=night, since=since,
                             until=until, items=items, counts=counts, mail_to=[]))  # fmt: skip
        except sa.exc.IntegrityError:
            pass  # another run of the same night stored it first: theirs stands
        found = self.digest(organisation_id, night)
        assert found is not None
        return found

    def digest(self, organisation_id: int, night: str) -> DigestInfo | None:
        with self._read() as s:
            q = select(Digest).where(Digest.organisation_id == organisation_id,
                                     Digest.night == night)  # fmt: skip
            row = s.scalar(q)
            return None if row is None else _digest(row)

    def digests(self, organisation_id: int, limit: int = 30) -> list[DigestInfo]:
        with self._read() as s:
            q = (select(Digest).where(Digest.organisation_id == organisation_id)
                 .order_by(Digest.night.desc()).limit(limit))  # fmt: skip
            return [_digest(d) for d in s.scalars(q)]

    def night_digests(self, night: str) -> list[DigestInfo]:
        with self._read() as s:
            q = select(Digest).where(Digest.night == night).order_by(Digest.organisation_id)
            return [_digest(d) for d in s.scalars(q)]

    def claim_mail(self, digest_id: int) -> bool:
        """True for exactly one caller per digest: it sends the e-mail. A digest whose
        sending failed may be claimed again (a retry); one sent, never."""
        with self._write() as s:
            done = s.execute(
                update(Digest)
                .where(Digest.id == digest_id,
                       sa.or_(Digest.mail_status.is_(None), Digest.mail_status == "failed"))
                .values(mail_status="sending")
            )  # fmt: skip
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def finish_mail(self, digest_id: int, status: str, to: Sequence[str] = (),
                    message_id: str | None = None, error: str | None = None) -> None:  # fmt: skip
        with self._write() as s:
            row = s.get(Digest, digest_id)
            if row is None:
                raise StoreError(f"unknown digest {digest_id}")
            row.mail_status, row.mail_to, row.mail_id, row.mail_error = (
                status, list(to), message_id, error)  # fmt: skip
            row.mailed_at = utcnow() if status == "sent" else None

    def news_count(self, organisation_id: int, token_id: int) -> int:
        """Items of the organisation's digests the token's person has not seen yet."""
        with self._read() as s:
            seen = s.scalar(select(ApiToken.news_seen_at).where(ApiToken.id == token_id))
            q = select(Digest.counts).where(Digest.organisation_id == organisation_id)
            if seen is not None:
                q = q.where(Digest.created_at > seen)
            return sum(int(c.get("items", 0)) for c in s.scalars(q))

    def news_seen_at(self, token_id: int) -> dt.datetime | None:
        with self._read() as s:
            seen: dt.datetime | None = s.scalar(
                select(ApiToken.news_seen_at).where(ApiToken.id == token_id)
            )
            return seen

    def mark_news_seen(self, token_id: int) -> None:
        with self._write() as s:
            s.execute(update(ApiToken).where(ApiToken.id == token_id)
                      .values(news_seen_at=utcnow()))  # fmt: skip

    # people ----------------------------------------------------------------------------------

    def set_contact(self, token_id: int, email: str | None, lang: str = "es") -> None:
        with self._write() as s:
            row = s.get(ApiToken, token_id)
            if row is None:
                raise StoreError(f"unknown token {token_id}")
            row.email, row.lang = email, lang

    def recipients(self, organisation_id: int | None) -> list[Recipient]:
        """People with an e-mail behind live tokens: of an organisation, or (None) the admins."""
        t = ApiToken
        with self._read() as s:
            q = select(t).where(t.revoked_at.is_(None), t.email.is_not(None))
            q = q.where(t.role == Role.ADMIN if organisation_id is None
                        else t.organisation_id == organisation_id)  # fmt: skip
            return [Recipient(r.id, r.name, str(r.email), r.lang or "es", r.role.value)
                    for r in s.scalars(q.order_by(t.id))]  # fmt: skip


def _result(r: PlotResultRow) -> dict[str, Any]:
    return {"verdict": r.verdict.value, "reasons": list(r.reasons), "stats": list(r.stats),
            "fingerprint": r.fingerprint, "result_key": r.result_key,
            "created_at": r.created_at.isoformat()}  # fmt: skip


def _digest(d: Digest) -> DigestInfo:
    return DigestInfo(d.id, d.organisation_id, d.night, d.since, d.until, list(d.items),
                      dict(d.counts), d.created_at, d.mail_status, list(d.mail_to or []),
                      d.mail_id, d.mail_error)  # fmt: skip
