"""Risk mitigation in the registry: evidence files, review events, plots taken out of lots, and
the lot's conclusion computed from them (eudr_check.reviews holds the rules).

A mixin of `Registry`. Append-only: nothing here is updated or deleted.

Whose decisions count: on a plot, those of the cooperative that owns it (its reviewer) and of
the organisation looking (an exporter, its reviewer); another exporter's decisions are theirs
alone, neither shown nor counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from eudr_check.country_risk import benchmark
from eudr_check.errors import ReviewError, StoreError
from eudr_check.evidence import EvidenceKind, SniffedFile, distance_m
from eudr_check.i18n import Text
from eudr_check.reasons import Verdict
from eudr_check.reviews import (
    Action,
    Imagery,
    LotConclusion,
    LotPlotStatus,
    ReasonCode,
    ReviewEvent,
    ReviewState,
    check_decision,
    conclude,
    latest_decision,
    review_state,
)
from eudr_check.store.chunks import chunks
from eudr_check.store.schema import (
    Evidence,
    EvidenceBlob,
    Lot,
    LotExclusion,
    LotPlot,
    Plot,
    PlotResultRow,
    PlotVersion,
    ReviewEventRow,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class EvidenceInfo:
    id: int
    plot_key: int
    plot_id: str
    version_id: int
    organisation_id: int
    sha256: str
    file_name: str
    kind: EvidenceKind
    media_type: str
    size: int
    note: str
    taken_at: str | None
    lat: float | None
    lon: float | None
    distance_m: float | None
    uploaded_by: str
    uploaded_role: str
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "plot_key": self.plot_key,
            "plot_id": self.plot_id,
            "version_id": self.version_id,
            "sha256": self.sha256,
            "file_name": self.file_name,
            "kind": self.kind.value,
            "media_type": self.media_type,
            "size": self.size,
            "note": self.note,
            "taken_at": self.taken_at,
            "lat": self.lat,
            "lon": self.lon,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "uploaded_by": self.uploaded_by,
            "uploaded_role": self.uploaded_role,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class QueueItem:
    plot_key: int
    plot_id: str
    organisation_id: int
    producer: str | None
    version_id: int
    verdict: Verdict
    state: ReviewState
    decision: ReviewEvent | None
    proposals: int  # proposals newer than the decision (or all, without one)
    evidence: int


@dataclass(frozen=True, slots=True)
class LotExclusionInfo:
    version_id: int
    plot_id: str
    reason: str
    excluded_by: str
    created_at: dt.datetime


class ReviewRecords:
    def _write(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    # evidence -------------------------------------------------------------------------------

    def add_evidence(
        self,
        plot_key: int,
        organisation_id: int,
        file_name: str,
        kind: EvidenceKind | str,
        sniffed: SniffedFile,
        data: bytes,
        *,
        by: str,
        role: str,
        note: str = "",
    ) -> EvidenceInfo:
        """Attach a sniffed file to a plot (its current version); the bytes are stored once."""
        kind = EvidenceKind(kind)
        with self._write() as s:
            plot = s.get(Plot, plot_key)
            if plot is None or plot.current_version_id is None:
                raise StoreError(f"unknown plot {plot_key}")
            version = s.get(PlotVersion, plot.current_version_id)
            assert version is not None
            if s.get(EvidenceBlob, sniffed.sha256) is None:
                s.add(
                    EvidenceBlob(
                        sha256=sniffed.sha256,
                        media_type=sniffed.media_type,
                        size=sniffed.size,
                        data=data,
                    )
                )
                s.flush()
            photo = sniffed.photo
            far = None
            if photo is not None and photo.lat is not None and photo.lon is not None:
                geom = (
                    None if version.geometry_wkb is None else shapely.from_wkb(version.geometry_wkb)
                )
                far = distance_m(geom, photo.lat, photo.lon)
            row = Evidence(
                plot_pk=plot.id,
                plot_version_id=version.id,
                organisation_id=organisation_id,
                sha256=sniffed.sha256,
                file_name=file_name,
                kind=kind.value,
                media_type=sniffed.media_type,
                size=sniffed.size,
                note=note,
                taken_at=None if photo is None else photo.taken_at,
                lat=None if photo is None else photo.lat,
                lon=None if photo is None else photo.lon,
                distance_m=far,
                uploaded_by=by,
                uploaded_role=role,
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return _evidence_info(row, plot.plot_id)

    def evidence_list(self, plot_keys: Sequence[int]) -> list[EvidenceInfo]:
        """Every file attached to these plots, oldest first."""
        out: list[EvidenceInfo] = []
        with self._read() as s:
            for chunk in chunks(sorted({int(k) for k in plot_keys})):
                q = (
                    select(Evidence, Plot.plot_id)
                    .join(Plot, Plot.id == Evidence.plot_pk)
                    .where(Evidence.plot_pk.in_(chunk))
                )
                out.extend(_evidence_info(e, pid) for e, pid in s.execute(q))
        return sorted(out, key=lambda e: e.id)

    def evidence_item(self, evidence_id: int) -> EvidenceInfo | None:
        with self._read() as s:
            row = s.execute(
                select(Evidence, Plot.plot_id)
                .join(Plot, Plot.id == Evidence.plot_pk)
                .where(Evidence.id == evidence_id)
            ).first()
            return None if row is None else _evidence_info(row[0], row[1])

    def evidence_bytes(self, sha256: str) -> bytes | None:
        with self._read() as s:
            blob = s.get(EvidenceBlob, sha256)
            return None if blob is None else bytes(blob.data)

    # reviews --------------------------------------------------------------------------------

    def record_review(
        self,
        plot_key: int,
        action: Action | str,
        reasons: Sequence[ReasonCode],
        *,
        reviewer: str,
        role: str,
        organisation_id: int,
        note: str = "",
        evidence: Sequence[str] = (),
        imagery: Imagery | None = None,
    ) -> ReviewEvent:
        """A proposal or decision on the plot's current version and its newest result.

        Raises ReviewError for what cannot be decided (no result, nothing doubtful, no
        reason, evidence not attached to this plot)."""
        action = Action(action)
        with self._write() as s:
            plot, version, result = _current(s, plot_key)
            check_decision(action, None if result is None else result.verdict, reasons, note)
            assert result is not None
            shas = list(dict.fromkeys(evidence))
            if shas:
                attached = set(
                    s.scalars(
                        select(Evidence.sha256).where(
                            Evidence.plot_pk == plot.id, Evidence.sha256.in_(shas)
                        )
                    )
                )
                missing = [h for h in shas if h not in attached]
                if missing:
                    raise ReviewError(
                        Text(
                            f"evidencia no adjunta a esta parcela: {', '.join(missing)}",
                            f"evidence not attached to this plot: {', '.join(missing)}",
                        )
                    )
            row = ReviewEventRow(
                plot_pk=plot.id,
                plot_version_id=version.id,
                result_id=result.id,
                fingerprint=result.fingerprint,
                verdict=result.verdict.value,
                action=action.value,
                reasons=[r.value for r in reasons],
                note=note.strip(),
                reviewer=reviewer,
                role=role,
                organisation_id=organisation_id,
                evidence=shas,
                imagery=None if imagery is None else imagery.to_dict(),
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return _event(row, plot.plot_id, result.result_key)

    def review_events(
        self, plot_keys: Sequence[int], organisations: Iterable[int] | None = None
    ) -> list[ReviewEvent]:
        """Events on these plots (by the given organisations only, when given), oldest first."""
        with self._read() as s:
            return _events(s, plot_keys, None if organisations is None else set(organisations))

    def review_state_of(
        self, plot_key: int, organisations: Iterable[int]
    ) -> tuple[ReviewState, ReviewEvent | None]:
        """The plot's current version's state for the organisations whose decisions count."""
        with self._read() as s:
            _, version, res = _current(s, plot_key)
            decision = latest_decision(_events(s, [plot_key], set(organisations)))
            state = review_state(
                None if res is None else res.verdict,
                version.id,
                None if res is None else res.fingerprint,
                decision,
                version.id,
                None if res is None else res.result_key,
            )
            return state, decision

    def review_queue(
        self,
        owners: Sequence[int],
        deciders: Iterable[int] | None = None,
        *,
        states: Iterable[ReviewState] | None = None,
        verdict: Verdict | None = None,
        search: str | None = None,
        limit: int = 500,
    ) -> list[QueueItem]:
        """Doubtful plots of these cooperatives with their review state, plot id order.

        `deciders`: the organisations whose decisions count besides each plot's owner."""
        wanted = None if states is None else set(states)
        doubtful = [
            v.value
            for v in (Verdict.NEEDS_REVIEW, Verdict.UNDETERMINED, Verdict.DEFORESTATION_DETECTED)
        ]
        extra = set(deciders or ())
        out: list[QueueItem] = []
        with self._read() as s:
            q = select(Plot).where(
                Plot.organisation_id.in_(list(owners)),
                Plot.current_verdict.in_([verdict.value] if verdict else doubtful),
                Plot.current_version_id.is_not(None),
            )
            if search:
                like = f"%{search.strip()}%"
                q = q.where(Plot.plot_id.ilike(like) | Plot.current_producer.ilike(like))
            plots = list(s.scalars(q.order_by(Plot.plot_id)))
            for chunk in chunks(plots):
                keys = [p.id for p in chunk]
                events = _events(s, keys, None)
                evidence: dict[int, int] = dict.fromkeys(keys, 0)
                for (pk,) in s.execute(select(Evidence.plot_pk).where(Evidence.plot_pk.in_(keys))):
                    evidence[pk] += 1
                # version id -> its newest result id (columns, not whole rows)
                q_latest = select(PlotVersion.id, PlotVersion.latest_result_id).where(
                    PlotVersion.id.in_([p.current_version_id for p in chunk])
                )
                latest: dict[int, int | None] = {i: r for i, r in s.execute(q_latest)}  # noqa: C416
                results = _verdicts(s, latest.values())
                by_plot: dict[int, list[ReviewEvent]] = {k: [] for k in keys}
                for e in events:
                    by_plot[e.plot_key].append(e)
                for p in chunk:
                    counted = [
                        e for e in by_plot[p.id] if e.organisation_id in extra | {p.organisation_id}
                    ]
                    decision = latest_decision(counted)
                    vid = p.current_version_id
                    assert vid is not None
                    found = results.get(latest.get(vid) or -1)
                    if found is None:
                        continue
                    verdict, fingerprint, key = found
                    state = review_state(verdict, vid, fingerprint, decision, vid, key)
                    if wanted is not None and state not in wanted:
                        continue
                    after = -1 if decision is None else decision.id
                    proposals = sum(
                        1 for e in counted if e.action is Action.PROPOSED and e.id > after
                    )
                    out.append(
                        QueueItem(
                            p.id,
                            p.plot_id,
                            p.organisation_id,
                            p.current_producer,
                            vid,
                            verdict,
                            state,
                            decision,
                            proposals,
                            evidence[p.id],
                        )
                    )
                    if len(out) >= limit:
                        return out
        return out

    # lots -----------------------------------------------------------------------------------

    def take_out_of_lot(self, lot_id: int, version_ids: Sequence[int], reason: str, by: str) -> int:
        """Take plot versions out of a lot, recorded with the reason; returns how many were
        newly taken out (already out: nothing happens)."""
        if not reason.strip():
            raise ReviewError(Text("indique el motivo", "give the reason"))
        ids = sorted({int(v) for v in version_ids})
        with self._write() as s:
            if s.get(Lot, lot_id) is None:
                raise StoreError(f"unknown lot {lot_id}")
            members = set(
                s.scalars(select(LotPlot.plot_version_id).where(LotPlot.lot_id == lot_id))
            )
            strangers = [v for v in ids if v not in members]
            if strangers:
                raise StoreError(f"plot versions not in lot {lot_id}: {strangers[:10]}")
            out = set(
                s.scalars(select(LotExclusion.plot_version_id).where(LotExclusion.lot_id == lot_id))
            )
            new = [v for v in ids if v not in out]
            if len(members - out - set(new)) == 0:
                raise ReviewError(
                    Text(
                        "no se pueden sacar todas las parcelas del lote",
                        "a lot cannot lose all its plots",
                    )
                )
            for v in new:
                s.add(
                    LotExclusion(
                        lot_id=lot_id,
                        plot_version_id=v,
                        reason=reason.strip(),
                        excluded_by=by,
                        created_at=utcnow(),
                    )
                )
            return len(new)

    def lot_exclusions(self, lot_id: int) -> list[LotExclusionInfo]:
        with self._read() as s:
            q = (
                select(LotExclusion, Plot.plot_id)
                .join(PlotVersion, PlotVersion.id == LotExclusion.plot_version_id)
                .join(Plot, Plot.id == PlotVersion.plot_pk)
                .where(LotExclusion.lot_id == lot_id)
                .order_by(Plot.plot_id, LotExclusion.plot_version_id)
            )
            return [
                LotExclusionInfo(x.plot_version_id, pid, x.reason, x.excluded_by, x.created_at)
                for x, pid in s.execute(q)
            ]

    def lot_statuses(self, lot_id: int) -> list[LotPlotStatus]:
        """Each plot version of the lot with its newest result and the decision that counts
        (the lot's exporter's or the owning cooperative's). Columns only, never whole rows:
        a lot of 20,000 plots would otherwise load every geometry and every result's stats."""
        with self._read() as s:
            lot = s.get(Lot, lot_id)
            if lot is None:
                raise StoreError(f"unknown lot {lot_id}")
            ids = list(s.scalars(select(LotPlot.plot_version_id).where(LotPlot.lot_id == lot_id)))
            out_ids = set(
                s.scalars(select(LotExclusion.plot_version_id).where(LotExclusion.lot_id == lot_id))
            )
            v, p = PlotVersion, Plot
            rows: list[Any] = []
            for chunk in chunks(sorted(ids)):
                q = (
                    select(
                        v.id,
                        v.latest_result_id,
                        v.producer_country,
                        p.id,
                        p.plot_id,
                        p.organisation_id,
                        p.current_version_id,
                    )
                    .join(p, p.id == v.plot_pk)
                    .where(v.id.in_(chunk))
                )
                rows.extend(s.execute(q))
            results = _verdicts(s, [r[1] for r in rows])
            by_plot: dict[int, list[ReviewEvent]] = {}
            for e in _events(s, [r[3] for r in rows], None):
                by_plot.setdefault(e.plot_key, []).append(e)
            statuses = []
            for vid, rid, country, pk, pid, owner, current in rows:
                verdict, fingerprint, key = results.get(rid or -1, (None, None, None))
                counted = [e for e in by_plot.get(pk, []) if e.organisation_id in
                           (lot.organisation_id, owner)]  # fmt: skip
                # A decision on another version of the plot does not judge this one.
                decision = latest_decision(e for e in counted if e.version_id == vid)
                if decision is None:
                    decision = latest_decision(counted)
                statuses.append(LotPlotStatus(
                    vid, pk, pid, owner, country, verdict, fingerprint, current or vid,
                    decision, vid in out_ids, key,
                ))  # fmt: skip
            return statuses

    def lot_conclusion(
        self, lot_id: int, statuses: Sequence[LotPlotStatus] | None = None
    ) -> LotConclusion:
        """The lot's conclusion (from `statuses` when the caller has them already)."""
        statuses = self.lot_statuses(lot_id) if statuses is None else statuses
        bench = benchmark()
        risk = {c: bench.of(c).level.value for c in {x.country for x in statuses if x.country}}  # type: ignore[union-attr]
        return conclude(statuses, risk)


def _current(s: Session, plot_key: int) -> tuple[Plot, PlotVersion, PlotResultRow | None]:
    """A plot, its current version and that version's newest result (None: unchecked)."""
    plot = s.get(Plot, plot_key)
    if plot is None or plot.current_version_id is None:
        raise StoreError(f"unknown plot {plot_key}")
    version = s.get(PlotVersion, plot.current_version_id)
    assert version is not None
    rid = version.latest_result_id
    return plot, version, None if rid is None else s.get(PlotResultRow, rid)


def _verdicts(s: Session, ids: Iterable[int | None]) -> dict[int, tuple[Verdict, str, str | None]]:
    """Result id -> (verdict, fingerprint, result key), for many results at once."""
    wanted = sorted({i for i in ids if i is not None})
    r = PlotResultRow
    out: dict[int, tuple[Verdict, str, str | None]] = {}
    for chunk in chunks(wanted):
        q = select(r.id, r.verdict, r.fingerprint, r.result_key).where(r.id.in_(chunk))
        out.update({i: (Verdict(v), f, k) for i, v, f, k in s.execute(q)})
    return out


def _events(s: Session, plot_keys: Iterable[int], orgs: set[int] | None) -> list[ReviewEvent]:
    out: list[ReviewEvent] = []
    for chunk in chunks(sorted({int(k) for k in plot_keys})):
        q = (
            select(ReviewEventRow, Plot.plot_id, PlotResultRow.result_key)
            .join(Plot, Plot.id == ReviewEventRow.plot_pk)
            .outerjoin(PlotResultRow, PlotResultRow.id == ReviewEventRow.result_id)
            .where(ReviewEventRow.plot_pk.in_(chunk))
        )
        if orgs is not None:
            q = q.where(ReviewEventRow.organisation_id.in_(sorted(orgs)))
        out.extend(_event(r, pid, key) for r, pid, key in s.execute(q))
    return sorted(out, key=lambda e: e.id)


def _event(r: ReviewEventRow, plot_id: str, result_key: str | None = None) -> ReviewEvent:
    return ReviewEvent(
        r.id,
        r.plot_pk,
        plot_id,
        r.plot_version_id,
        r.fingerprint,
        Verdict(r.verdict),
        Action(r.action),
        tuple(ReasonCode(c) for c in r.reasons),
        r.note,
        r.reviewer,
        r.role,
        r.organisation_id,
        r.created_at,
        tuple(r.evidence),
        Imagery.from_dict(r.imagery),
        result_key,
    )


def _evidence_info(e: Evidence, plot_id: str) -> EvidenceInfo:
    return EvidenceInfo(
        e.id,
        e.plot_pk,
        plot_id,
        e.plot_version_id,
        e.organisation_id,
        e.sha256,
        e.file_name,
        EvidenceKind(e.kind),
        e.media_type,
        e.size,
        e.note,
        e.taken_at,
        e.lat,
        e.lon,
        e.distance_m,
        e.uploaded_by,
        e.uploaded_role,
        e.created_at,
    )
