"""Registry review records made into the review endpoints' response bodies (API and pages)."""

from __future__ import annotations

from eudr_check.api import schemas_reviews as rs
from eudr_check.api.schemas import Message
from eudr_check.country_risk import REGIME_TEXT, benchmark, lot_regime
from eudr_check.evidence import KIND_TEXT, far_flag
from eudr_check.i18n import Text
from eudr_check.reviews import REASON_TEXT, STATE_TEXT, LotConclusion, ReviewEvent, ReviewState
from eudr_check.store.reviews import EvidenceInfo, LotExclusionInfo, QueueItem


def message(text: Text, **values: object) -> Message:
    return Message(es=text("es", **values), en=text("en", **values))


def evidence_out(e: EvidenceInfo, far_km: float) -> rs.EvidenceOut:
    return rs.EvidenceOut(
        id=e.id, plot_id=e.plot_id, version_id=e.version_id, sha256=e.sha256,
        file_name=e.file_name, kind=e.kind.value, kind_text=message(KIND_TEXT[e.kind]),
        media_type=e.media_type, size=e.size, note=e.note, taken_at=e.taken_at, lat=e.lat,
        lon=e.lon, distance_m=None if e.distance_m is None else round(e.distance_m, 1),
        far=far_flag(e.distance_m, far_km), uploaded_by=e.uploaded_by,
        uploaded_role=e.uploaded_role, created_at=e.created_at,
        url=f"/api/plots/{e.plot_key}/evidence/{e.id}",
    )  # fmt: skip


def review_out(e: ReviewEvent) -> rs.ReviewOut:
    return rs.ReviewOut(
        id=e.id, plot_id=e.plot_id, version_id=e.version_id, fingerprint=e.fingerprint,
        verdict=e.verdict.value, action=e.action.value, reasons=[r.value for r in e.reasons],
        reason_texts=[message(REASON_TEXT[r]) for r in e.reasons], note=e.note,
        reviewer=e.reviewer, role=e.role, organisation_id=e.organisation_id,
        created_at=e.created_at, evidence=list(e.evidence),
        imagery=None if e.imagery is None else e.imagery.to_dict(),
    )  # fmt: skip


def state_message(state: ReviewState) -> Message:
    return message(STATE_TEXT[state])


def queue_out(q: QueueItem) -> rs.QueueItemOut:
    return rs.QueueItemOut(
        id=q.plot_key, plot_id=q.plot_id, organisation_id=q.organisation_id,
        producer_name=q.producer, version_id=q.version_id, verdict=q.verdict.value,
        state=q.state.value, decision=None if q.decision is None else review_out(q.decision),
        proposals=q.proposals, evidence=q.evidence,
    )  # fmt: skip


def conclusion_out(c: LotConclusion, taken_out: list[LotExclusionInfo]) -> rs.ConclusionOut:
    regime = lot_regime(c.regimes)
    return rs.ConclusionOut(
        conclusion=c.conclusion.value,
        summary=Message(es=c.summary("es"), en=c.summary("en")),
        plots=c.plots, deforestation_free=c.free, accepted_by_review=c.accepted,
        blocking=[rs.BlockingOut(version_id=b.version_id, plot_id=b.plot_id, why=b.blocker.value,
                                 verdict=b.verdict, message=Message(es=b.text("es"),
                                                                    en=b.text("en")))
                  for b in c.blocking],
        taken_out=[rs.TakenOutOut(version_id=x.version_id, plot_id=x.plot_id, reason=x.reason,
                                  by=x.excluded_by, at=x.created_at) for x in taken_out],
        country_risk=dict(sorted(c.regimes.items())),
        regime=message(REGIME_TEXT[regime]),
        benchmark_source=benchmark().source,
    )  # fmt: skip
