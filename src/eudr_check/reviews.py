"""Risk mitigation (EUDR Art. 11): reviews of doubtful plots and the lot's conclusion.

Pure: value types and decisions over them; the registry stores the events (store/reviews.py).

A review binds to the plot version and the result fingerprint it judged. It is *current* only
while that version is still the plot's newest and that result is still the version's newest;
a new version, new data or new thresholds make it *outdated* and the plot is open again.
Nothing is ever edited: every proposal and decision is a new event; the newest decision wins.

The lot's conclusion is computed, never typed: `negligible` only when every plot of the lot
(less those explicitly taken out of it) is `deforestation_free`, or accepted by a current
review; otherwise `not_negligible`, with each blocking plot and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from eudr_check.errors import ReviewError
from eudr_check.i18n import Lang, Text
from eudr_check.reasons import Verdict

# Verdicts a reviewer may decide on; deforestation_free needs no mitigation.
REVIEWABLE = frozenset({Verdict.NEEDS_REVIEW, Verdict.UNDETERMINED, Verdict.DEFORESTATION_DETECTED})


class Action(StrEnum):
    PROPOSED = "proposed"  # a technician's suggestion: changes nothing by itself
    ACCEPTED = "accepted"  # deforestation-free on the evidence
    EXCLUDED = "excluded"  # kept out of lots


DECISIONS = frozenset({Action.ACCEPTED, Action.EXCLUDED})


class ReasonCode(StrEnum):
    """Why a reviewer decided as they did. Stable codes: never rename one."""

    AGROFORESTRY_BEFORE_2021 = "agroforestry_before_2021"
    RENOVATION = "renovation_existing_plot"
    ALERT_FALSE_POSITIVE = "alert_false_positive"
    PLOT_RESURVEYED = "plot_resurveyed"
    FIELD_VISIT = "field_visit_confirms"
    IMAGERY_CONFIRMS = "imagery_confirms_no_clearing"
    DATA_GAP_COVERED = "data_gap_covered_by_evidence"
    CLEARED_AFTER_CUTOFF = "cleared_after_cutoff"
    NOT_PRODUCING = "not_producing"
    GEOLOCATION_UNRELIABLE = "geolocation_unreliable"
    OTHER = "other"


REASON_TEXT: dict[ReasonCode, Text] = {
    ReasonCode.AGROFORESTRY_BEFORE_2021: Text(
        "Sistema agroforestal (café o cacao bajo sombra) establecido antes de 2021",
        "Agroforestry (shade coffee or cocoa) established before 2021",
    ),
    ReasonCode.RENOVATION: Text(
        "La pérdida es renovación de un cafetal o cacaotal existente, no deforestación",
        "The loss is renovation of an existing coffee or cocoa plot, not deforestation",
    ),
    ReasonCode.ALERT_FALSE_POSITIVE: Text(
        "La alerta es un falso positivo (nubes, sombra, cosecha)",
        "The alert is a false positive (clouds, shadow, harvest)",
    ),
    ReasonCode.PLOT_RESURVEYED: Text(
        "Parcela levantada de nuevo en campo", "Plot re-surveyed in the field"
    ),
    ReasonCode.FIELD_VISIT: Text(
        "Una visita de campo confirma que no hubo deforestación",
        "A field visit confirms there was no deforestation",
    ),
    ReasonCode.IMAGERY_CONFIRMS: Text(
        "Las imágenes muestran el cultivo antes de 2021 y ningún desbroce después",
        "Imagery shows the crop before 2021 and no clearing since",
    ),
    ReasonCode.DATA_GAP_COVERED: Text(
        "Los datos faltantes se cubren con otra evidencia (imágenes, visita, documentos)",
        "Missing data are covered by other evidence (imagery, visit, documents)",
    ),
    ReasonCode.CLEARED_AFTER_CUTOFF: Text(
        "Hubo desbroce de bosque después del 31-12-2020", "Forest was cleared after 31-12-2020"
    ),
    ReasonCode.NOT_PRODUCING: Text(
        "La parcela no produce el producto de este lote",
        "The plot does not produce this lot's commodity",
    ),
    ReasonCode.GEOLOCATION_UNRELIABLE: Text(
        "La geolocalización no es fiable: hay que levantarla de nuevo",
        "The geolocation is unreliable: it must be surveyed again",
    ),
    ReasonCode.OTHER: Text("Otro motivo (ver nota)", "Other reason (see the note)"),
}


class ReviewState(StrEnum):
    """Where a plot version stands in review."""

    NOT_NEEDED = "not_needed"  # deforestation_free
    OPEN = "open"  # doubtful, no decision yet (maybe a proposal)
    ACCEPTED = "accepted"
    EXCLUDED = "excluded"
    OUTDATED = "outdated"  # decided, but on another version or result


STATE_TEXT: dict[ReviewState, Text] = {
    ReviewState.NOT_NEEDED: Text("no necesita revisión", "no review needed"),
    ReviewState.OPEN: Text("por revisar", "to review"),
    ReviewState.ACCEPTED: Text("aceptada", "accepted"),
    ReviewState.EXCLUDED: Text("excluida", "excluded"),
    ReviewState.OUTDATED: Text("revisión desactualizada", "review outdated"),
}


@dataclass(frozen=True, slots=True)
class Imagery:
    """What the reviewer looked at: a layer's name and the imagery's date, as they say."""

    layer: str
    date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "date": self.date}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Imagery | None:
        return None if not d else cls(str(d["layer"]), d.get("date"))


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """One proposal or decision on one plot version, as judged against one result."""

    id: int
    plot_key: int
    plot_id: str
    version_id: int
    fingerprint: str
    verdict: Verdict  # the verdict it judged
    action: Action
    reasons: tuple[ReasonCode, ...]
    note: str
    reviewer: str
    role: str
    organisation_id: int
    created_at: dt.datetime
    evidence: tuple[str, ...] = ()  # SHA-256 of the evidence files it rests on
    imagery: Imagery | None = None
    # The judged result's key (what it said about the plot): the decision holds while the
    # plot's newest result says the same, whatever else changed in the data.
    result_key: str | None = None

    def to_dict(self, lang: Lang | str = Lang.ES) -> dict[str, Any]:
        return {
            "id": self.id,
            "plot_key": self.plot_key,
            "plot_id": self.plot_id,
            "version_id": self.version_id,
            "fingerprint": self.fingerprint,
            "verdict": self.verdict.value,
            "action": self.action.value,
            "reasons": [r.value for r in self.reasons],
            "reason_texts": [REASON_TEXT[r](lang) for r in self.reasons],
            "note": self.note,
            "reviewer": self.reviewer,
            "role": self.role,
            "organisation_id": self.organisation_id,
            "created_at": self.created_at.isoformat(),
            "evidence": list(self.evidence),
            "imagery": None if self.imagery is None else self.imagery.to_dict(),
            "result_key": self.result_key,
        }


def parse_reasons(codes: Iterable[str]) -> tuple[ReasonCode, ...]:
    """Reason codes from user input, in order, without repeats; a clear error for an unknown one."""
    out: list[ReasonCode] = []
    for raw in codes:
        code = str(raw).strip()
        if not code:
            continue
        try:
            reason = ReasonCode(code)
        except ValueError:
            known = ", ".join(r.value for r in ReasonCode)
            raise ReviewError(
                Text(
                    f"motivo desconocido {code!r}; posibles: {known}",
                    f"unknown reason {code!r}; one of: {known}",
                )
            ) from None
        if reason not in out:
            out.append(reason)
    return tuple(out)


def check_decision(
    action: Action, verdict: Verdict | None, reasons: Sequence[ReasonCode], note: str
) -> None:
    """Refuse what no reviewer should be able to record."""
    if verdict is None:
        raise ReviewError(
            Text(
                "la parcela aún no tiene resultado: verifíquela antes de revisarla",
                "the plot has no result yet: check it before reviewing it",
            )
        )
    if verdict not in REVIEWABLE:
        raise ReviewError(
            Text(
                f"la parcela es {verdict.value}: no hay nada que revisar",
                f"the plot is {verdict.value}: there is nothing to review",
            )
        )
    if not reasons:
        raise ReviewError(Text("indique al menos un motivo", "give at least one reason"))
    if ReasonCode.OTHER in reasons and not note.strip():
        raise ReviewError(
            Text("el motivo «otro» necesita una nota", "the reason 'other' needs a note")
        )
    if action is Action.ACCEPTED and ReasonCode.CLEARED_AFTER_CUTOFF in reasons:
        raise ReviewError(
            Text(
                "no se puede aceptar una parcela con desbroce después del corte",
                "a plot cleared after the cut-off cannot be accepted",
            )
        )


def latest_decision(events: Iterable[ReviewEvent]) -> ReviewEvent | None:
    """The newest accept/exclude among events (ids grow with time)."""
    decided = [e for e in events if e.action in DECISIONS]
    return max(decided, key=lambda e: e.id) if decided else None


def review_state(
    verdict: Verdict | None,
    version_id: int,
    fingerprint: str | None,
    decision: ReviewEvent | None,
    newest_version_id: int | None = None,
    result_key: str | None = None,
) -> ReviewState:
    """A plot version's review state, given its newest result and its newest decision.

    `decision` may be on another version of the same plot (an older one): it then counts as
    outdated. `newest_version_id`: the plot's newest version; a decision on a version that has
    since been replaced is outdated too.
    """
    if verdict is Verdict.DEFORESTATION_FREE:
        return ReviewState.NOT_NEEDED
    if decision is None:
        return ReviewState.OPEN
    superseded = newest_version_id is not None and decision.version_id != newest_version_id
    # Judged on this very result, or on one that said the same (new data elsewhere in a tile).
    same = decision.fingerprint == fingerprint or (
        result_key is not None and decision.result_key == result_key
    )
    if decision.version_id != version_id or not same or superseded:
        return ReviewState.OUTDATED
    return ReviewState.ACCEPTED if decision.action is Action.ACCEPTED else ReviewState.EXCLUDED


# the lot's conclusion -------------------------------------------------------------------


class Conclusion(StrEnum):
    NEGLIGIBLE = "negligible"
    NOT_NEGLIGIBLE = "not_negligible"


class Blocker(StrEnum):
    """Why a plot keeps its lot from a negligible risk."""

    UNCHECKED = "unchecked"
    NEEDS_DECISION = "needs_decision"
    REVIEW_OUTDATED = "review_outdated"
    EXCLUDED_BY_REVIEW = "excluded_by_review"
    NEWER_VERSION = "newer_version"
    HIGH_RISK_COUNTRY = "high_risk_country"


BLOCKER_TEXT: dict[Blocker, Text] = {
    Blocker.UNCHECKED: Text("sin resultado: verifíquela", "no result: check it"),
    Blocker.NEEDS_DECISION: Text(
        "{verdict}: falta una revisión (aceptar con evidencia o excluir del lote)",
        "{verdict}: needs a review (accept on evidence, or exclude from the lot)",
    ),
    Blocker.REVIEW_OUTDATED: Text(
        "{verdict}: la revisión ya no vale (nueva versión, datos o umbrales): revísela de nuevo",
        "{verdict}: the review no longer holds (new version, data or thresholds): review again",
    ),
    Blocker.EXCLUDED_BY_REVIEW: Text(
        "excluida por revisión: sáquela del lote", "excluded by review: take it out of the lot"
    ),
    Blocker.NEWER_VERSION: Text(
        "la cooperativa registró una versión más nueva de esta parcela: sáquela del lote o "
        "rehaga el lote con la nueva",
        "the cooperative registered a newer version of this plot: take it out of the lot or "
        "rebuild the lot with the new one",
    ),
    Blocker.HIGH_RISK_COUNTRY: Text(
        "país de alto riesgo ({country}): la revisión automática no basta",
        "high-risk country ({country}): an automatic conclusion is not enough",
    ),
}

CONCLUSION_TEXT: dict[Conclusion, Text] = {
    Conclusion.NEGLIGIBLE: Text(
        "Riesgo insignificante: cada parcela está libre de deforestación o aceptada por una "
        "revisión vigente.",
        "Negligible risk: every plot is deforestation-free or accepted by a current review.",
    ),
    Conclusion.NOT_NEGLIGIBLE: Text(
        "Riesgo no insignificante: {n} parcela(s) lo impiden; el lote no puede declararse aún.",
        "Risk not negligible: {n} plot(s) stand in the way; the lot cannot be declared yet.",
    ),
}


@dataclass(frozen=True, slots=True)
class LotPlotStatus:
    """One plot version of a lot, as the conclusion sees it."""

    version_id: int
    plot_key: int
    plot_id: str
    cooperative_id: int
    country: str | None
    verdict: Verdict | None
    fingerprint: str | None
    newest_version_id: int
    decision: ReviewEvent | None
    taken_out: bool = False  # explicitly excluded from this lot
    result_key: str | None = None  # the newest result's key (PlotResultRow.result_key)

    @property
    def state(self) -> ReviewState:
        return review_state(self.verdict, self.version_id, self.fingerprint, self.decision,
                            result_key=self.result_key)  # fmt: skip


def result_keys(statuses: Iterable[LotPlotStatus]) -> dict[int, str]:
    """Version id -> what its newest result says (its key; its fingerprint for old results),
    for the plots still in the lot: what a bundle rests on."""
    return {s.version_id: s.result_key or s.fingerprint or "" for s in statuses if not s.taken_out}


@dataclass(frozen=True, slots=True)
class BlockingPlot:
    version_id: int
    plot_id: str
    cooperative_id: int
    blocker: Blocker
    verdict: str | None
    country: str | None = None

    def text(self, lang: Lang | str) -> str:
        return BLOCKER_TEXT[self.blocker](
            lang, verdict=self.verdict or "-", country=self.country or "-"
        )

    def to_dict(self, lang: Lang | str = Lang.ES) -> dict[str, Any]:
        return {
            "version_id": self.version_id,
            "plot_id": self.plot_id,
            "cooperative_id": self.cooperative_id,
            "why": self.blocker.value,
            "verdict": self.verdict,
            "message": self.text(lang),
        }


@dataclass(frozen=True, slots=True)
class LotConclusion:
    conclusion: Conclusion
    plots: int  # in the lot, less those taken out
    free: int
    accepted: int
    taken_out: tuple[int, ...]  # version ids explicitly excluded from the lot
    blocking: tuple[BlockingPlot, ...]
    regimes: dict[str, str] = field(default_factory=dict)  # country -> risk level

    @property
    def negligible(self) -> bool:
        return self.conclusion is Conclusion.NEGLIGIBLE

    def summary(self, lang: Lang | str) -> str:
        return CONCLUSION_TEXT[self.conclusion](lang, n=len(self.blocking))

    def to_dict(self, lang: Lang | str = Lang.ES) -> dict[str, Any]:
        return {
            "conclusion": self.conclusion.value,
            "summary": self.summary(lang),
            "plots": self.plots,
            "deforestation_free": self.free,
            "accepted_by_review": self.accepted,
            "taken_out_of_lot": list(self.taken_out),
            "blocking": [b.to_dict(lang) for b in self.blocking],
            "country_risk": dict(sorted(self.regimes.items())),
        }


def conclude(
    items: Sequence[LotPlotStatus], risk_of: dict[str, str] | None = None
) -> LotConclusion:
    """The lot's conclusion from each of its plot versions' verdict and review.

    `risk_of` maps producer countries to their EU benchmark level; a plot from a high-risk
    country blocks even when free (the benchmark asks for enhanced scrutiny a map cannot give).
    """
    risk_of = risk_of or {}
    free = accepted = 0
    blocking: list[BlockingPlot] = []
    taken_out: list[int] = []
    regimes: dict[str, str] = {}
    for p in sorted(items, key=lambda i: (i.plot_id, i.version_id)):
        if p.taken_out:
            taken_out.append(p.version_id)
            continue
        if p.country:
            regimes[p.country] = risk_of.get(p.country, "standard")
        verdict = None if p.verdict is None else p.verdict.value

        def block(why: Blocker, p: LotPlotStatus = p, verdict: str | None = verdict) -> None:
            blocking.append(
                BlockingPlot(p.version_id, p.plot_id, p.cooperative_id, why, verdict, p.country)
            )

        if p.verdict is None:
            block(Blocker.UNCHECKED)
            continue
        if p.newest_version_id != p.version_id:
            block(Blocker.NEWER_VERSION)
            continue
        if p.country and regimes[p.country] == "high":
            block(Blocker.HIGH_RISK_COUNTRY)
            continue
        state = p.state
        if state is ReviewState.NOT_NEEDED:
            free += 1
        elif state is ReviewState.ACCEPTED:
            accepted += 1
        elif state is ReviewState.EXCLUDED:
            block(Blocker.EXCLUDED_BY_REVIEW)
        elif state is ReviewState.OUTDATED:
            block(Blocker.REVIEW_OUTDATED)
        else:
            block(Blocker.NEEDS_DECISION)
    counted = len(items) - len(taken_out)
    ok = not blocking and counted > 0
    return LotConclusion(
        Conclusion.NEGLIGIBLE if ok else Conclusion.NOT_NEGLIGIBLE,
        counted,
        free,
        accepted,
        tuple(taken_out),
        tuple(blocking),
        regimes,
    )
