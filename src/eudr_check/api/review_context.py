"""What the plot page shows of a plot's evidence and reviews, and what its forms offer (the
plot page renders it; the review forms come back to that page)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from eudr_check.api import deps, i18n
from eudr_check.api.auth import Caller
from eudr_check.api.routes import reviews
from eudr_check.evidence import KIND_TEXT, EvidenceKind
from eudr_check.reviews import REASON_TEXT, ReasonCode, ReviewState
from eudr_check.store.access import PlotRef


def review_context(request: Request, caller: Caller, ref: PlotRef) -> dict[str, Any]:
    """What the plot page shows of evidence and reviews, and what its forms offer."""
    settings = deps.settings(request)
    registry = deps.registry(request)
    lang = i18n.lang_of(request)
    state = reviews.plot_reviews(registry, caller, ref, settings.evidence_far_km)
    imagery = None
    if settings.imagery_url:
        imagery = {"url": settings.imagery_url, "attribution": settings.imagery_attribution,
                   "name": settings.imagery_name, "date": settings.imagery_date}  # fmt: skip
    return {
        "review": state,
        "can_decide": caller.role in reviews.DECIDERS,
        "reviewable": state.state not in (ReviewState.NOT_NEEDED.value,) and state.verdict,
        "reason_codes": [(r.value, REASON_TEXT[r](lang)) for r in ReasonCode],
        "evidence_kinds": [(k.value, KIND_TEXT[k](lang)) for k in EvidenceKind],
        "max_evidence_mb": f"{settings.max_evidence_mb:g}",
        "imagery": imagery,
    }
