"""What a compliance bundle says about risk mitigation: the lot's conclusion and the regime
it applied, every review that counts for the lot (decision, reasons, reviewer, time, the
evidence hashes it rests on), the evidence files with their hashes (and, when asked, the
files themselves), and an HTML page stating it all for a competent authority.

Everything comes from the registry and is sorted, so the same lot gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eudr_check.country_risk import REGIME_TEXT, benchmark, lot_regime
from eudr_check.evidence import EXTENSION, KIND_TEXT
from eudr_check.i18n import Lang, Text
from eudr_check.reports.html import escape
from eudr_check.reviews import REASON_TEXT, LotConclusion, ReviewEvent
from eudr_check.store.access import LotInfo
from eudr_check.store.registry import Registry
from eudr_check.store.reviews import EvidenceInfo, LotExclusionInfo

EVIDENCE_DIR = "evidence"


@dataclass(frozen=True, slots=True)
class MitigationRecord:
    conclusion: LotConclusion
    reviews: tuple[ReviewEvent, ...]
    evidence: tuple[EvidenceInfo, ...]
    taken_out: tuple[LotExclusionInfo, ...]
    states: dict[int, str]  # version id -> review state, for the lot's plots

    def evidence_member(self, e: EvidenceInfo) -> str:
        return f"{EVIDENCE_DIR}/{e.sha256}.{EXTENSION[e.media_type]}"


def mitigation(registry: Registry, info: LotInfo) -> MitigationRecord:
    """The lot's reviews and evidence as its conclusion counts them: those of the lot's
    exporter and of each plot's cooperative."""
    statuses = registry.lot_statuses(info.id)
    keys = sorted({s.plot_key for s in statuses})
    owner = {s.plot_key: s.cooperative_id for s in statuses}

    def counted(org: int, key: int) -> bool:
        return org in (info.organisation_id, owner[key])

    events = tuple(
        e for e in registry.review_events(keys) if counted(e.organisation_id, e.plot_key)
    )
    files = tuple(e for e in registry.evidence_list(keys) if counted(e.organisation_id, e.plot_key))
    return MitigationRecord(
        registry.lot_conclusion(info.id, statuses),
        events,
        files,
        tuple(registry.lot_exclusions(info.id)),
        {s.version_id: s.state.value for s in statuses if not s.taken_out},
    )


def manifest_sections(m: MitigationRecord, lang: Lang, with_files: bool) -> dict[str, Any]:
    c = m.conclusion
    bench = benchmark()
    regime = lot_regime(c.regimes)
    conclusion = c.to_dict(lang)
    conclusion["regime"] = {"level": regime.value, "text": REGIME_TEXT[regime](lang)}
    conclusion["taken_out_of_lot"] = [
        {"version_id": x.version_id, "plot_id": x.plot_id, "reason": x.reason,
         "by": x.excluded_by, "at": x.created_at.isoformat()}
        for x in m.taken_out
    ]  # fmt: skip
    conclusion["review_states"] = {str(v): s for v, s in sorted(m.states.items())}
    evidence = []
    for e in m.evidence:
        row = {k: v for k, v in e.to_dict().items() if k not in ("id", "plot_key", "note")}
        row["note"] = e.note
        row["member"] = m.evidence_member(e) if with_files else None
        evidence.append(row)
    return {
        "conclusion": conclusion,
        "country_risk": {
            **bench.source_dict(),
            "countries": dict(sorted(c.regimes.items())),
        },
        "reviews": [e.to_dict(lang) for e in m.reviews],
        "evidence": evidence,
        "evidence_files_included": with_files,
    }


def evidence_members(m: MitigationRecord, registry: Registry) -> dict[str, bytes]:
    """`evidence/<sha256>.<ext>` -> the file's bytes, each file once."""
    out: dict[str, bytes] = {}
    for e in m.evidence:
        name = m.evidence_member(e)
        if name not in out:
            data = registry.evidence_bytes(e.sha256)
            assert data is not None  # blobs are never deleted
            out[name] = data
    return out


_T = {
    "title": Text("Conclusión del lote {ref}: mitigación del riesgo",
                  "Lot {ref}: conclusion and risk mitigation"),
    "regime": Text("Régimen de diligencia debida", "Due-diligence regime"),
    "bench": Text("Evaluación comparativa de países", "Country benchmarking"),
    "blocking": Text("Parcelas que impiden la conclusión", "Plots standing in the way"),
    "out": Text("Sacadas del lote", "Taken out of the lot"),
    "reviews": Text("Revisiones", "Reviews"),
    "evidence": Text("Evidencias", "Evidence"),
    "none": Text("Ninguna.", "None."),
    "cols_reviews": Text("Parcela|Versión|Veredicto juzgado|Acción|Motivos|Nota|Revisor|Fecha|"
                         "Evidencia (SHA-256)|Imágenes",
                         "Plot|Version|Verdict judged|Action|Reasons|Note|Reviewer|Date|"
                         "Evidence (SHA-256)|Imagery"),
    "cols_evidence": Text("Parcela|Archivo|Tipo|Tamaño|Tomada|Posición y distancia|Adjuntado|"
                          "SHA-256|En el paquete",
                          "Plot|File|Kind|Size|Taken|Position and distance|Attached|SHA-256|"
                          "In the bundle"),
    "cols_out": Text("Parcela|Motivo|Por|Fecha", "Plot|Reason|By|Date"),
    "cols_blocking": Text("Parcela|Por qué", "Plot|Why"),
    "yes": Text("sí", "yes"),
    "no": Text("no (solo el hash)", "no (hash only)"),
    "action.proposed": Text("propuesta", "proposed"),
    "action.accepted": Text("aceptada", "accepted"),
    "action.excluded": Text("excluida", "excluded"),
}  # fmt: skip


def _table(head: str, rows: Sequence[Sequence[str]], lang: Lang) -> str:
    if not rows:
        return f"<p>{escape(_T['none'](lang))}</p>"
    th = "".join(f"<th>{escape(h)}</th>" for h in head.split("|"))
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def conclusion_html(m: MitigationRecord, info: LotInfo, lang: Lang, with_files: bool) -> str:
    """A self-contained page (no script, no outside resource): the conclusion, the regime, the
    blocking plots, the reviews and the evidence with their hashes."""
    c = m.conclusion
    regime = lot_regime(c.regimes)
    bench = benchmark()
    title = _T["title"](lang, ref=info.reference)
    state = "negligible" if c.negligible else "not_negligible"
    parts = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="c c-{state}"><strong>{escape(c.summary(lang))}</strong></p>',
        f"<h2>{escape(_T['regime'](lang))}</h2><p>{escape(REGIME_TEXT[regime](lang))}.</p>",
        f"<p>{escape(_T['bench'](lang))}: "
        + escape(", ".join(f"{k} {v}" for k, v in sorted(c.regimes.items())) or "–")
        + f" ({escape(bench.source)})</p>",
        f"<h2>{escape(_T['blocking'](lang))}</h2>",
        _table(
            _T["cols_blocking"](lang),
            [[escape(b.plot_id), escape(b.text(lang))] for b in c.blocking],
            lang,
        ),
        f"<h2>{escape(_T['out'](lang))}</h2>",
        _table(
            _T["cols_out"](lang),
            [
                [
                    escape(x.plot_id),
                    escape(x.reason),
                    escape(x.excluded_by),
                    escape(x.created_at.isoformat()),
                ]
                for x in m.taken_out
            ],
            lang,
        ),
        f"<h2>{escape(_T['reviews'](lang))}</h2>",
        _table(
            _T["cols_reviews"](lang),
            [
                [
                    escape(e.plot_id),
                    str(e.version_id),
                    escape(e.verdict.value),
                    escape(_T[f"action.{e.action.value}"](lang)),
                    "<br>".join(escape(REASON_TEXT[r](lang)) for r in e.reasons),
                    escape(e.note),
                    escape(f"{e.reviewer} ({e.role})"),
                    escape(e.created_at.isoformat()),
                    "<br>".join(f"<code>{h}</code>" for h in e.evidence),
                    escape(
                        "" if e.imagery is None else f"{e.imagery.layer} {e.imagery.date or ''}"
                    ),
                ]
                for e in m.reviews
            ],
            lang,
        ),
        f"<h2>{escape(_T['evidence'](lang))}</h2>",
        _table(
            _T["cols_evidence"](lang),
            [
                [
                    escape(e.plot_id),
                    escape(e.file_name),
                    escape(KIND_TEXT[e.kind](lang)),
                    f"{e.size:,}",
                    escape(e.taken_at or "–"),
                    escape(
                        "–"
                        if e.lat is None
                        else f"{e.lat:.5f}, {e.lon:.5f} · {(e.distance_m or 0):,.0f} m"
                    ),
                    escape(f"{e.uploaded_by} ({e.uploaded_role}) {e.created_at.isoformat()}"),
                    f"<code>{e.sha256}</code>",
                    escape(_T["yes"](lang) if with_files else _T["no"](lang)),
                ]
                for e in m.evidence
            ],
            lang,
        ),
    ]
    css = ("body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
           "table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid "
           "#e0e0e0;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f5f5f5}"
           "code{font-size:.8rem;overflow-wrap:anywhere}.c{padding:.6rem 1rem;border-radius:.3rem}"
           ".c-negligible{background:#dafbe1}.c-not_negligible{background:#ffebe9}")  # fmt: skip
    csp = "default-src 'none'; style-src 'unsafe-inline'"
    return (
        f'<!doctype html>\n<html lang="{lang.value}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f"<title>{escape(title)}</title><style>{css}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
