"""`eudr-check review list|decide|export`: risk mitigation on the registry, offline (a field
office without the web service): the doubtful plots and their review state, a decision with
its reasons and evidence files, and every review and evidence hash as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from eudr_check.cli.common import WRITTEN, LangOption, h, language, out
from eudr_check.cli.errors import EXIT_NOT_FIT, guard
from eudr_check.errors import ReviewError
from eudr_check.i18n import Lang, Text

if TYPE_CHECKING:
    from eudr_check.store import Registry

review_app = typer.Typer(
    no_args_is_help=True,
    help=h(
        "Revisiones de parcelas dudosas y la conclusión de los lotes (registro en "
        "EUDR_CHECK_REGISTRY_URL).",
        "Reviews of doubtful plots and lots' conclusions (registry at EUDR_CHECK_REGISTRY_URL).",
    ),
)

Org = Annotated[int, typer.Option("--org", help=h("Cooperativa (id)", "Cooperative (id)"))]
By = Annotated[
    int | None,
    typer.Option(
        "--as",
        help=h(
            "Organización que decide (id; por defecto la cooperativa)",
            "Deciding organisation (id; default: the cooperative)",
        ),
    ),
]
_T = {
    "unknown_plot": Text("la parcela {plot} no existe en la organización {org}",
                         "plot {plot} does not exist in organisation {org}"),
    "unknown_org": Text("la organización {org} no existe", "organisation {org} does not exist"),
    "recorded": Text("Revisión {id} registrada: {plot} {action} (estado: {state}).",
                     "Review {id} recorded: {plot} {action} (state: {state})."),
    "attached": Text("Evidencia adjunta: {name} {sha}", "Evidence attached: {name} {sha}"),
    "none": Text("Ninguna parcela coincide.", "No plots match."),
}  # fmt: skip


def _registry() -> Registry:
    from eudr_check.settings import get_settings
    from eudr_check.store import Registry

    return Registry.open(get_settings().registry_url)


def _plot(reg: Registry, org: int, plot_id: str) -> dict[str, Any]:
    """The plot's current version and newest result (latest_results' row)."""
    for row in reg.latest_results(org):
        if row["plot_id"] == plot_id:
            return row
    raise ReviewError(_T["unknown_plot"].format(plot=plot_id, org=org), "unknown_plot")


def _org(reg: Registry, org: int) -> None:
    if reg.organisation(org) is None:
        raise ReviewError(_T["unknown_org"].format(org=org), "unknown_org")


@review_app.command(
    "list",
    help=h(
        "Lista las parcelas dudosas con el estado de su revisión, o las de un lote con su "
        "conclusión.",
        "List doubtful plots with their review state, or a lot's plots with its conclusion.",
    ),
)
def list_cmd(
    org: Annotated[
        int | None, typer.Option("--org", help=h("Cooperativa (id)", "Cooperative (id)"))
    ] = None,
    by: By = None,
    lot: Annotated[int | None, typer.Option("--lot", help=h("Lote (id)", "Lot (id)"))] = None,
    state: Annotated[
        str,
        typer.Option("--state", help="open | outdated | accepted | excluded | all"),
    ] = "open,outdated",
    lang_option: LangOption = None,
) -> None:
    from eudr_check.reviews import STATE_TEXT, ReviewState

    lang = language(lang_option)
    with guard(lang), _registry() as reg:
        if lot is not None:
            _print_lot(reg, lot, lang)
            return
        if org is None:
            raise typer.BadParameter("--org or --lot")
        _org(reg, org)
        wanted = None if state == "all" else [ReviewState(s.strip()) for s in state.split(",")]
        items = reg.review_queue([org], [by or org], states=wanted, limit=100_000)
        if not items:
            out.print(_T["none"](lang))
            return
        table = Table("plot_id", "verdict", "state", "decision", "proposals", "evidence")
        for i in items:
            d = i.decision
            said = (
                "—" if d is None else f"{d.action.value} · {d.reviewer} · {d.created_at:%Y-%m-%d}"
            )
            table.add_row(escape(i.plot_id), i.verdict.value, STATE_TEXT[i.state](lang),
                          escape(said), str(i.proposals), str(i.evidence))  # fmt: skip
        out.print(table)


def _print_lot(reg: Registry, lot_id: int, lang: Lang) -> None:
    from eudr_check.errors import StoreError

    info = reg.lot(lot_id)
    if info is None:
        raise StoreError(f"unknown lot {lot_id}")
    c = reg.lot_conclusion(lot_id)
    out.print(escape(f"{info.reference}: {c.summary(lang)}"))
    for b in c.blocking:
        out.print(escape(f"  {b.plot_id}: {b.text(lang)}"))
    if not c.negligible:
        raise typer.Exit(EXIT_NOT_FIT)


@review_app.command(
    "decide",
    help=h(
        "Registra una decisión (o propuesta) sobre una parcela, con motivos, nota y archivos de "
        "evidencia.",
        "Record a decision (or proposal) on a plot, with reasons, a note and evidence files.",
    ),
)
def decide_cmd(
    plot_id: Annotated[str, typer.Argument(help=h("ID de la parcela", "Plot ID"))],
    org: Org,
    action: Annotated[str, typer.Option("--action", help="accepted | excluded | proposed")],
    reason: Annotated[
        list[str],
        typer.Option(
            "--reason", help=h("Código de motivo (repetible)", "Reason code (repeatable)")
        ),
    ],
    reviewer: Annotated[str, typer.Option("--reviewer", help=h("Quién decide", "Who decides"))],
    by: By = None,
    note: Annotated[str, typer.Option("--note", help=h("Nota", "Note"))] = "",
    evidence: Annotated[
        list[Path] | None,
        typer.Option(
            "--evidence",
            help=h("Foto o PDF a adjuntar (repetible)", "Photo or PDF to attach (repeatable)"),
        ),
    ] = None,
    role: Annotated[
        str, typer.Option("--role", help="reviewer | exporter | technician")
    ] = "reviewer",
    lang_option: LangOption = None,
) -> None:
    from eudr_check.evidence import EvidenceKind, sniff
    from eudr_check.reasons import Verdict
    from eudr_check.reviews import STATE_TEXT, Action, check_decision, parse_reasons
    from eudr_check.settings import get_settings

    lang = language(lang_option)
    with guard(lang), _registry() as reg:
        _org(reg, org)
        deciding = by or org
        _org(reg, deciding)
        row = _plot(reg, org, plot_id)
        key = int(row["plot_key"])
        reasons = parse_reasons(reason)
        if action not in {a.value for a in Action}:
            known = "accepted, excluded, proposed"
            raise ReviewError(Text(f"acción desconocida {action!r}: {known}",
                                   f"unknown action {action!r}: {known}"))  # fmt: skip
        chosen = Action(action)
        verdict = None if row["verdict"] is None else Verdict(row["verdict"])
        check_decision(chosen, verdict, reasons, note)  # before any file is stored
        limit = get_settings().max_evidence_mb
        files = [(p, p.read_bytes()) for p in evidence or []]
        sniffed = [(p, data, sniff(p.name, data, limit)) for p, data in files]  # all, then store
        for p, data, s in sniffed:
            kind = EvidenceKind.PHOTO if s.photo is not None else EvidenceKind.OTHER
            reg.add_evidence(key, deciding, p.name, kind, s, data, by=reviewer, role=role)
            out.print(escape(_T["attached"](lang, name=p.name, sha=s.sha256)))
        event = reg.record_review(
            key, chosen, reasons, reviewer=reviewer, role=role, organisation_id=deciding,
            note=note, evidence=[s.sha256 for _, _, s in sniffed],
        )  # fmt: skip
        state, _ = reg.review_state_of(key, {org, deciding})
        out.print(escape(_T["recorded"](lang, id=event.id, plot=plot_id, action=chosen.value,
                                        state=STATE_TEXT[state](lang))))  # fmt: skip


@review_app.command(
    "export",
    help=h(
        "Exporta las revisiones y los hashes de evidencia de una cooperativa o de un lote (JSON "
        "o CSV).",
        "Export a cooperative's or a lot's reviews and evidence hashes (JSON or CSV).",
    ),
)
def export_cmd(
    out_file: Annotated[Path, typer.Option("--out", help=h("Archivo de salida", "Output file"))],
    org: Annotated[
        int | None, typer.Option("--org", help=h("Cooperativa (id)", "Cooperative (id)"))
    ] = None,
    lot: Annotated[int | None, typer.Option("--lot", help=h("Lote (id)", "Lot (id)"))] = None,
    fmt: Annotated[str, typer.Option("--format", help="json | csv")] = "json",
    lang_option: LangOption = None,
) -> None:
    from eudr_check.errors import StoreError
    from eudr_check.fileio import write_text

    lang = language(lang_option)
    with guard(lang), _registry() as reg:
        if lot is not None:
            info = reg.lot(lot)
            if info is None:
                raise StoreError(f"unknown lot {lot}")
            from eudr_check.reports.bundle_review import manifest_sections, mitigation

            sections = manifest_sections(mitigation(reg, info), lang, False)
            doc: dict[str, Any] = {"lot": {"id": info.id, "reference": info.reference}, **sections}
        elif org is not None:
            _org(reg, org)
            keys = sorted({int(r["plot_key"]) for r in reg.latest_results(org)})
            doc = {"organisation_id": org,
                   "reviews": [e.to_dict(lang) for e in reg.review_events(keys)],
                   "evidence": [e.to_dict() for e in reg.evidence_list(keys)]}  # fmt: skip
        else:
            raise typer.BadParameter("--org or --lot")
        if fmt == "csv":
            text = _csv(doc["reviews"])
        else:
            text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        write_text(out_file, text)  # atomic: never a half-written export
    out.print(WRITTEN(lang, path=escape(str(out_file))))


def _csv(reviews: list[dict[str, Any]]) -> str:
    cols = ["id", "plot_id", "version_id", "verdict", "action", "reasons", "note", "reviewer",
            "role", "organisation_id", "created_at", "fingerprint", "evidence",
            "imagery"]  # fmt: skip
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(cols)
    for r in reviews:
        row = dict(r)
        row["reasons"] = " ".join(r["reasons"])
        row["evidence"] = " ".join(r["evidence"])
        row["imagery"] = (
            ""
            if not r["imagery"]
            else f"{r['imagery']['layer']} {r['imagery']['date'] or ''}".strip()
        )
        w.writerow([row[c] for c in cols])
    return "\ufeff" + buf.getvalue()
