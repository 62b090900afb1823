"""What the web service asks of the registry: organisations, tokens, shares, uploads, plots and
lots, each row carrying its owner so the service can scope every answer to the caller.

A mixin of `Registry` (one transaction per public method, like the rest of it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eudr_check.errors import AccessError
from eudr_check.store.chunks import chunks
from eudr_check.store.schema import (
    ApiToken,
    Lot,
    LotExclusion,
    LotPlot,
    Organisation,
    OrgKind,
    Plot,
    PlotResultRow,
    PlotVersion,
    Role,
    Share,
    Upload,
    utcnow,
)

# A token is 32 random bytes: a plain SHA-256 is a safe store for it (no dictionary to attack,
# unlike passwords), and it lets a request find its token with one indexed lookup.
TOKEN_PREFIX = "eudr_"
# Reviewers belong to either kind: a cooperative's quality officer or an exporter's.
_ROLE_KIND = {Role.TECHNICIAN: OrgKind.COOPERATIVE, Role.EXPORTER: OrgKind.EXPORTER}


@dataclass(frozen=True, slots=True)
class OrgInfo:
    id: int
    name: str
    kind: OrgKind
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    organisation_id: int | None
    organisation_name: str | None
    organisation_kind: OrgKind | None
    role: Role
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class UploadInfo:
    id: int
    organisation_id: int
    file_name: str
    sha256: str
    fixed: bool
    rows: int
    new_plots: int
    new_versions: int
    unchanged: int
    duplicates: int
    findings: list[dict[str, Any]]
    created_at: dt.datetime
    version_ids: tuple[int, ...]
    checked: int  # how many of version_ids have a result


@dataclass(frozen=True, slots=True)
class PlotRef:
    id: int  # the plot's key in the registry (what URLs use)
    organisation_id: int
    plot_id: str  # the cooperative's own identifier


@dataclass(frozen=True, slots=True)
class LotInfo:
    id: int
    organisation_id: int
    organisation_name: str
    reference: str
    commodity: str
    hs_code: str | None
    net_mass_kg: float | None
    created_at: dt.datetime
    version_ids: tuple[int, ...]  # the plot versions the lot declares
    # Plot versions explicitly taken out of the lot (risk mitigation), no longer in version_ids.
    taken_out: tuple[int, ...] = ()


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccessQueries:
    """Mixed into Registry, which provides the sessions."""

    def _read(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    # organisations ---------------------------------------------------------------------------

    def organisations(self, kind: OrgKind | None = None) -> list[OrgInfo]:
        q = select(Organisation).order_by(Organisation.id)
        if kind is not None:
            q = q.where(Organisation.kind == kind)
        with self._read() as s:
            return [_org_info(o) for o in s.scalars(q)]

    def organisation(self, organisation_id: int) -> OrgInfo | None:
        with self._read() as s:
            org = s.get(Organisation, organisation_id)
            return None if org is None else _org_info(org)

    # tokens ------------------------------------------------------------------------------------

    def create_token(
        self, role: Role | str, name: str, organisation_id: int | None = None
    ) -> tuple[TokenInfo, str]:
        """A new token; the secret is returned once and only its hash is kept."""
        try:
            role = Role(role)
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise AccessError(f"unknown role {role!r}: one of {known}") from None
        with self._write() as s:
            org = None
            if role is Role.ADMIN:
                if organisation_id is not None:
                    raise AccessError("admin tokens belong to no organisation")
            else:
                org = s.get(Organisation, organisation_id) if organisation_id else None
                if org is None:
                    raise AccessError(f"a {role.value} token needs an existing organisation")
                if role in _ROLE_KIND and org.kind is not _ROLE_KIND[role]:
                    raise AccessError(
                        f"a {role.value} token needs a {_ROLE_KIND[role].value}, "
                        f"and organisation {org.id} is a {org.kind.value}"
                    )
            secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
            row = ApiToken(
                organisation_id=organisation_id,
                role=role,
                name=name,
                token_hash=hash_token(secret),
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return _token_info(row, org), secret

    def token(self, secret: str) -> TokenInfo | None:
        """The live (not revoked) token with this secret, or None."""
        q = (
            select(ApiToken, Organisation)
            .outerjoin(Organisation, Organisation.id == ApiToken.organisation_id)
            .where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None))
        )
        with self._read() as s:
            row = s.execute(q).first()
            return None if row is None else _token_info(row[0], row[1])

    def tokens(self) -> list[TokenInfo]:
        q = (
            select(ApiToken, Organisation)
            .outerjoin(Organisation, Organisation.id == ApiToken.organisation_id)
            .order_by(ApiToken.id)
        )
        with self._read() as s:
            return [_token_info(t, o) for t, o in s.execute(q)]

    def revoke_token(self, token_id: int) -> bool:
        """Revoke (idempotent); False when there is no such token."""
        with self._write() as s:
            row = s.get(ApiToken, token_id)
            if row is None:
                return False
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            return True

    # shares ------------------------------------------------------------------------------------

    def partners(self, organisation_id: int) -> list[OrgInfo]:
        """Exporters a cooperative shares with, or cooperatives sharing with an exporter."""
        with self._read() as s:
            org = s.get(Organisation, organisation_id)
            if org is None:
                return []
            if org.kind is OrgKind.COOPERATIVE:
                join, where = Share.exporter_id, Share.cooperative_id
            else:
                join, where = Share.cooperative_id, Share.exporter_id
            q = (
                select(Organisation)
                .join(Share, join == Organisation.id)
                .where(where == organisation_id)
                .order_by(Organisation.id)
            )
            return [_org_info(o) for o in s.scalars(q)]

    def unshare(self, cooperative_id: int, exporter_id: int) -> bool:
        """Stop sharing (lots already made keep their plots: they are records)."""
        with self._write() as s:
            row = s.get(Share, (cooperative_id, exporter_id))
            if row is None:
                return False
            s.delete(row)
            return True

    # uploads -----------------------------------------------------------------------------------

    def uploads(self, organisation_id: int, limit: int = 100) -> list[UploadInfo]:
        q = (
            select(Upload)
            .where(Upload.organisation_id == organisation_id)
            .order_by(Upload.id.desc())
            .limit(limit)
        )
        with self._read() as s:
            return _upload_infos(s, list(s.scalars(q)))

    def upload(self, upload_id: int) -> UploadInfo | None:
        with self._read() as s:
            row = s.get(Upload, upload_id)
            return None if row is None else _upload_infos(s, [row])[0]

    # plots -------------------------------------------------------------------------------------

    def plot_ref(self, plot_key: int) -> PlotRef | None:
        with self._read() as s:
            row = s.get(Plot, plot_key)
            return None if row is None else PlotRef(row.id, row.organisation_id, row.plot_id)

    def plot_refs(self, plot_keys: Sequence[int]) -> dict[int, PlotRef]:
        out: dict[int, PlotRef] = {}
        keys = sorted({int(k) for k in plot_keys})
        with self._read() as s:
            for chunk in chunks(keys):
                for row in s.scalars(select(Plot).where(Plot.id.in_(chunk))):
                    out[row.id] = PlotRef(row.id, row.organisation_id, row.plot_id)
        return out

    def current_version_of(self, plot_keys: Sequence[int]) -> dict[int, int]:
        """plot key -> id of its latest version."""
        pv = PlotVersion
        out: dict[int, int] = {}
        keys = sorted({int(k) for k in plot_keys})
        with self._read() as s:
            for chunk in chunks(keys):
                top = (
                    select(pv.plot_pk, func.max(pv.version).label("version"))
                    .where(pv.plot_pk.in_(chunk))
                    .group_by(pv.plot_pk)
                    .subquery()
                )
                q = select(pv.plot_pk, pv.id).join(
                    top, (top.c.plot_pk == pv.plot_pk) & (top.c.version == pv.version)
                )
                out.update(dict(s.execute(q).all()))
        return out

    def version_owners(self, version_ids: Sequence[int]) -> dict[int, int]:
        """plot version id -> organisation owning the plot."""
        out: dict[int, int] = {}
        ids = sorted({int(v) for v in version_ids})
        with self._read() as s:
            for chunk in chunks(ids):
                q = (
                    select(PlotVersion.id, Plot.organisation_id)
                    .join(Plot, Plot.id == PlotVersion.plot_pk)
                    .where(PlotVersion.id.in_(chunk))
                )
                out.update({int(v): int(o) for v, o in s.execute(q)})
        return out

    # lots --------------------------------------------------------------------------------------

    def lot(self, lot_id: int) -> LotInfo | None:
        with self._read() as s:
            row = s.execute(
                select(Lot, Organisation.name)
                .join(Organisation, Organisation.id == Lot.organisation_id)
                .where(Lot.id == lot_id)
            ).first()
            return None if row is None else _lot_infos(s, [(row[0], row[1])])[0]

    def lots(self, organisation_id: int) -> list[LotInfo]:
        q = (
            select(Lot, Organisation.name)
            .join(Organisation, Organisation.id == Lot.organisation_id)
            .where(Lot.organisation_id == organisation_id)
            .order_by(Lot.id.desc())
        )
        with self._read() as s:
            return _lot_infos(s, [(lot, name) for lot, name in s.execute(q)])


def _org_info(o: Organisation) -> OrgInfo:
    return OrgInfo(o.id, o.name, o.kind, o.created_at)


def _token_info(t: ApiToken, org: Organisation | None) -> TokenInfo:
    return TokenInfo(
        t.id,
        t.organisation_id,
        None if org is None else org.name,
        None if org is None else org.kind,
        t.role,
        t.name,
        t.created_at,
        t.revoked_at,
    )


def _upload_infos(s: Session, uploads: list[Upload]) -> list[UploadInfo]:
    ids = [u.id for u in uploads]
    versions: dict[int, list[int]] = {i: [] for i in ids}
    checked: dict[int, int] = dict.fromkeys(ids, 0)
    pv = PlotVersion
    for chunk in chunks(ids):
        for uid, vid in s.execute(
            select(pv.upload_id, pv.id).where(pv.upload_id.in_(chunk)).order_by(pv.id)
        ):
            versions[uid].append(vid)
        done = (
            select(pv.upload_id, func.count(sa.distinct(pv.id)))
            .join(PlotResultRow, PlotResultRow.plot_version_id == pv.id)
            .where(pv.upload_id.in_(chunk))
            .group_by(pv.upload_id)
        )
        checked.update({int(u): int(n) for u, n in s.execute(done)})
    return [
        UploadInfo(
            u.id, u.organisation_id, u.file_name, u.sha256, u.fixed, u.rows, u.new_plots,
            u.new_versions, u.unchanged, u.duplicates, u.findings, u.created_at,
            tuple(versions[u.id]), checked[u.id],
        )
        for u in uploads
    ]  # fmt: skip


def _lot_infos(s: Session, lots: list[tuple[Lot, str]]) -> list[LotInfo]:
    ids = [lot.id for lot, _ in lots]
    versions: dict[int, list[int]] = {i: [] for i in ids}
    out: dict[int, set[int]] = {i: set() for i in ids}
    for chunk in chunks(ids):
        q = (
            select(LotPlot.lot_id, LotPlot.plot_version_id)
            .where(LotPlot.lot_id.in_(chunk))
            .order_by(LotPlot.plot_version_id)
        )
        for lid, vid in s.execute(q):
            versions[lid].append(vid)
        for lid, vid in s.execute(
            select(LotExclusion.lot_id, LotExclusion.plot_version_id).where(
                LotExclusion.lot_id.in_(chunk)
            )
        ):
            out[lid].add(vid)
    return [
        LotInfo(
            lot.id, lot.organisation_id, name, lot.reference, lot.commodity, lot.hs_code,
            lot.net_mass_kg, lot.created_at,
            tuple(v for v in versions[lot.id] if v not in out[lot.id]), tuple(sorted(out[lot.id])),
        )
        for lot, name in lots
    ]  # fmt: skip
