"""`eudr-check dds`: build due diligence statements offline, then file and follow them in the
EU Information System (TRACES, DDS V3 API).

    dds build REPORT|--lot ID --out DIR   request XML per statement + what was refused (offline)
    dds submit DIR|FILE.xml               file them; prints each UUID
    dds status [UUID|DIR|FILE ...]        status, reference and verification numbers
    dds amend UUID FILE.xml               replace a statement's content (72 h window)
    dds withdraw UUID                     withdraw it (72 h window)
    dds verify REFERENCE VERIFICATION     check a pair received from a supplier

Every submission is recorded in the registry (EUDR_CHECK_REGISTRY_URL) with the exact bytes
exchanged. Exit codes: 0 done, 1 built but some plots were refused, 2 the input, an option or a
setting could not be used, 3 the EU system refused or could not be reached.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from eudr_check.cli.common import WRITTEN, CatalogFile, DataDir, LangOption, err, h, language, out
from eudr_check.cli.errors import guard
from eudr_check.errors import DdsError
from eudr_check.i18n import Lang, Text

if TYPE_CHECKING:
    from eudr_check.dds.client import TracesClient
    from eudr_check.store.dds import DdsRecord
    from eudr_check.store.registry import Registry

dds_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=h(
        "Declaraciones de diligencia debida en el sistema de información de la UE (TRACES).",
        "Due diligence statements in the EU Information System (TRACES).",
    ),
)
BUILD_MANIFEST = "dds_build.json"

_T = {
    "built": Text(
        "{n} declaración(es): {plots} parcelas incluidas, {over} con excepción, "
        "{refused} rechazadas.",
        "{n} statement(s): {plots} plots included, {over} overridden, {refused} refused.",
    ),
    "refused": Text("Parcelas rechazadas (véase {file}):", "Refused plots (see {file}):"),
    "submitted": Text("Presentada: {file} -> UUID {uuid}", "Submitted: {file} -> UUID {uuid}"),
    "none": Text("No hay declaraciones que mostrar.", "No statements to show."),
    "amended": Text("Modificada: {uuid} ({status})", "Amended: {uuid} ({status})"),
    "withdrawn": Text("Retirada: {uuid} ({status})", "Withdrawn: {uuid} ({status})"),
    "verify": Text("{ref} / {ver}: {result}{status}", "{ref} / {ver}: {result}{status}"),
    "env": Text("Sistema de la UE: {url}", "EU system: {url}"),
    "no_requests": Text(
        "{path}: no contiene solicitudes DDS (*.dds_NNN.xml)",
        "{path}: holds no DDS requests (*.dds_NNN.xml)",
    ),
    "unknown": Text(
        "{what}: no es una declaración registrada aquí", "{what}: not a statement recorded here"
    ),
}

Accept = Annotated[
    list[str] | None,
    typer.Option(
        "--accept",
        help=h(
            "PARCELA=MOTIVO: declarar esta parcela pese a su resultado, con este motivo (se "
            "registra); repetible",
            "PLOT=REASON: declare this plot despite its verdict, for this reason (recorded); "
            "repeatable",
        ),
    ),
]


@dds_app.command(
    "build",
    help=h(
        "Prepara las declaraciones (XML validado con los XSD de la UE) desde el informe "
        "*.due_diligence.geojson de `eudr-check check` o desde un lote del registro; sin red.",
        "Build the statements (XML validated against the EU's XSDs) from the "
        "*.due_diligence.geojson that `eudr-check check` wrote, or from a registry lot; "
        "no network.",
    ),
)
def build_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help=h("Carpeta de salida", "Output folder"))],
    report: Annotated[
        Path | None,
        typer.Argument(
            help=h("Informe *.due_diligence.geojson", "A *.due_diligence.geojson report")
        ),
    ] = None,
    lot: Annotated[
        int | None,
        typer.Option(
            "--lot",
            help=h("Lote del registro (en lugar de REPORT)", "Registry lot (instead of REPORT)"),
        ),
    ] = None,
    activity: Annotated[
        str, typer.Option("--activity", help="IMPORT | EXPORT | DOMESTIC")
    ] = "IMPORT",
    hs: Annotated[
        list[str] | None,
        typer.Option(
            "--hs",
            help=h(
                "Código SH (p. ej. 090111), o PRODUCTO=SH (coffee=090111); repetible",
                "HS code (e.g. 090111), or COMMODITY=HS (coffee=090111); repeatable",
            ),
        ),
    ] = None,
    description: Annotated[
        str | None,
        typer.Option(
            "--description",
            help=h(
                "Descripción comercial (hasta 150 caracteres)",
                "Commercial description (up to 150 characters)",
            ),
        ),
    ] = None,
    net_mass_kg: Annotated[
        float | None, typer.Option("--net-mass-kg", help=h("Masa neta en kg", "Net mass in kg"))
    ] = None,
    operator_name: Annotated[
        str | None,
        typer.Option(
            "--operator-name",
            help=h(
                "Operador representado (usted actúa como representante autorizado)",
                "Represented operator (you act as authorised representative)",
            ),
        ),
    ] = None,
    eori: Annotated[
        str | None,
        typer.Option(
            "--eori", help=h("EORI del operador representado", "The represented operator's EORI")
        ),
    ] = None,
    country_of_activity: Annotated[
        str | None,
        typer.Option(
            "--country-of-activity",
            help=h(
                "Estado miembro de la actividad, p. ej. DE", "Member state of the activity, e.g. DE"
            ),
        ),
    ] = None,
    border_cross_country: Annotated[
        str | None,
        typer.Option(
            "--border-cross-country",
            help=h("Estado miembro de entrada o salida", "Member state of entry or exit"),
        ),
    ] = None,
    comment: Annotated[
        str | None,
        typer.Option(
            "--comment",
            help=h(
                "Comentario para la autoridad competente", "Comment for the competent authority"
            ),
        ),
    ] = None,
    internal_ref: Annotated[
        str | None,
        typer.Option(
            "--internal-ref",
            help=h(
                "Su referencia interna (hasta 35 caracteres)",
                "Your internal reference (up to 35 characters)",
            ),
        ),
    ] = None,
    confidential: Annotated[
        bool,
        typer.Option(
            "--confidential/--no-confidential",
            help=h(
                "Geolocalización confidencial para la cadena de suministro",
                "Geolocation confidential down the supply chain",
            ),
        ),
    ] = False,
    accept: Accept = None,
    datasets: DataDir = None,
    catalog_file: CatalogFile = None,
    lang_option: LangOption = None,
) -> None:
    lang = language(lang_option)
    with guard(lang):
        from eudr_check.dds.builder import build_statements
        from eudr_check.dds.files import write_build
        from eudr_check.dds.model import Activity, StatementOptions
        from eudr_check.errors import OptionError

        if (report is None) == (lot is None):
            raise OptionError(
                "input",
                "Indique un informe REPORT o --lot, no ambos.",
                "Give a REPORT or --lot, not both.",
            )
        try:
            act = Activity(activity.upper())
        except ValueError:
            raise OptionError(
                "activity",
                "--activity debe ser IMPORT, EXPORT o DOMESTIC.",
                "--activity must be IMPORT, EXPORT or DOMESTIC.",
            ) from None
        given: dict[str, Any] = {
            "activity": act,
            "description": description,
            "operator_name": operator_name,
            "eori": eori,
            "country_of_activity": country_of_activity,
            "border_cross_country": border_cross_country,
            "comment": comment,
            "internal_ref": internal_ref,
            "confidential": confidential,
            "net_mass_kg": net_mass_kg,
            "hs_codes": _hs_codes(hs) if hs else None,
        }
        accepted = _accepted(accept or [])
        manifest: dict[str, Any]
        if lot is not None:
            build, stem, manifest = _build_lot(lot, given, accepted, datasets, catalog_file)
        else:
            assert report is not None
            from eudr_check.dds.inputs import plots_from_report

            plots, run = plots_from_report(report)
            if net_mass_kg is None:
                raise OptionError(
                    "net_mass_kg",
                    "Indique la masa neta (--net-mass-kg).",
                    "Give the net mass (--net-mass-kg).",
                )
            options = StatementOptions(**{k: v for k, v in given.items() if v is not None})
            build = build_statements(plots, options, accepted)
            stem = report.name.removesuffix(".due_diligence.geojson").removesuffix(".geojson")
            manifest = {"source": report.name, "run_id": run.get("run_id")}
        files = write_build(build, out_dir, stem, lang)
        manifest["statements"] = [
            {
                "file": p.name,
                "part": st.part,
                "of": st.of,
                "statement_hash": digest,
                "plots": len(st.plot_ids),
            }
            for p, st, digest in zip(files.requests, build.statements, files.hashes, strict=True)
        ]
        manifest["overrides"] = [
            {
                "plot_id": o.plot_id,
                "reason": o.reason,
                "verdict": None if o.verdict is None else o.verdict.value,
            }
            for o in build.overridden
        ]
        from eudr_check.fileio import write_text

        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        write_text(Path(out_dir) / BUILD_MANIFEST, text)
    for path in [*files.requests, files.plots_csv, files.summary]:
        out.print(WRITTEN(lang, path=escape(str(path))))
    out.print(
        escape(
            _T["built"](
                lang,
                n=len(build.statements),
                plots=build.included,
                over=len(build.overridden),
                refused=len(build.refused),
            )
        )
    )
    if build.refused:
        err.print(escape(_T["refused"](lang, file=files.plots_csv.name)))
        for r in build.refused[:20]:
            err.print(f"  {escape(r.plot_id)}: {escape(r.es if lang is Lang.ES else r.en)}")
        if len(build.refused) > 20:
            err.print(f"  … (+{len(build.refused) - 20})")
        raise typer.Exit(1)


def _build_lot(
    lot_id: int,
    given: dict[str, Any],
    accepted: dict[str | int, str],
    datasets: Path | None,
    catalog_file: Path | None,
) -> tuple[Any, str, dict[str, Any]]:
    from eudr_check.datasets.catalog import load_catalog
    from eudr_check.datasets.sources import DataSources
    from eudr_check.dds.lots import accept_in_lot, build_for_lot
    from eudr_check.reports.bundle import bundle_stem
    from eudr_check.settings import get_settings
    from eudr_check.store.registry import Registry

    settings = get_settings()
    sources = DataSources(
        load_catalog(catalog_file or settings.catalog), datasets or settings.datasets
    )
    with Registry.open(settings.registry_url) as registry:
        info = registry.lot(lot_id)
        if info is None:
            raise DdsError(Text(f"el lote {lot_id} no existe", f"lot {lot_id} does not exist"))
        for pid, reason in accepted.items():  # recorded as the exporter's accepting reviews
            accept_in_lot(registry, info, str(pid), reason, reviewer="cli", role="exporter")
        info, build = build_for_lot(registry, lot_id, sources, **given)
    manifest = {"lot_id": lot_id, "lot_reference": info.reference}
    return build, bundle_stem(info.id, info.reference), manifest


def _hs_codes(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        commodity, _, code = value.rpartition("=")
        out[commodity.strip().lower() or "*"] = code.strip()
    return out


def _accepted(values: list[str]) -> dict[str | int, str]:
    from eudr_check.errors import OptionError

    out: dict[str | int, str] = {}
    for value in values:
        pid, sep, reason = value.partition("=")
        if not sep or not pid.strip() or not reason.strip():
            raise OptionError(
                "accept",
                f"--accept {value!r}: use PARCELA=MOTIVO (el motivo se registra).",
                f"--accept {value!r}: use PLOT=REASON (the reason is recorded).",
            )
        out[pid.strip()] = reason.strip()
    return out


def _requests(paths: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Request files with what `dds build` noted about each (lot, part) when known."""
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in paths:
        files = sorted(path.glob("*.dds_[0-9][0-9][0-9].xml")) if path.is_dir() else [path]
        if not files:
            raise DdsError(
                Text(_T["no_requests"].es.format(path=path), _T["no_requests"].en.format(path=path))
            )
        for f in files:
            manifest = f.parent / BUILD_MANIFEST
            notes: dict[str, Any] = {}
            if manifest.is_file():
                doc = json.loads(manifest.read_text(encoding="utf-8"))
                entry = next((s for s in doc.get("statements", []) if s["file"] == f.name), None)
                if entry is not None:
                    notes = {
                        "lot_id": doc.get("lot_id"),
                        "part": entry["part"],
                        "parts": entry["of"],
                        "overrides": doc.get("overrides", []),
                    }
            found.append((f, notes))
    return found


def _open() -> tuple[Registry, TracesClient]:
    from eudr_check.dds.client import TracesClient
    from eudr_check.settings import get_settings
    from eudr_check.store.registry import Registry

    settings = get_settings()
    client = TracesClient.from_settings(settings)
    return Registry.open(settings.registry_url), client


@dds_app.command(
    "submit",
    help=h(
        "Presenta las declaraciones (carpeta de `dds build` o un archivo .xml); muestra cada UUID.",
        "File the statements (a `dds build` folder or one .xml file); prints each UUID.",
    ),
)
def submit_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help=h("Carpeta o archivo XML", "Folder or XML file"))
    ],
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help=h(
                "Presentar aunque ya se haya presentado el mismo contenido",
                "File even if the same content was filed before",
            ),
        ),
    ] = False,
    lang_option: LangOption = None,
) -> None:
    lang = language(lang_option)
    with guard(lang):
        from eudr_check.dds.lifecycle import request_plot_ids, submit
        from eudr_check.dds.lots import conclusion_error
        from eudr_check.dds.request_xml import read_request

        found = _requests(paths)
        requests = [
            (f, read_request(f), notes) for f, notes in found
        ]  # all valid before any is sent
        registry, client = _open()
        out.print(escape(_T["env"](lang, url=client.dds_url)))
        with registry:
            for lot_key in sorted({int(n["lot_id"]) for _, _, n in requests if n.get("lot_id")}):
                lot = registry.lot(lot_key)  # a registry lot is filed only at negligible risk
                if lot is not None and not (c := registry.lot_conclusion(lot_key)).negligible:
                    raise conclusion_error(lot, c)
            for f, el, notes in requests:
                lot_id = notes.get("lot_id")
                info = None if lot_id is None else registry.lot(int(lot_id))
                org = info.organisation_id if info else None
                ids = set(request_plot_ids(el))
                mine = [o for o in notes.get("overrides", []) if o["plot_id"] in ids]
                rec = submit(
                    registry,
                    client,
                    el,
                    organisation_id=org,
                    lot_id=lot_id,
                    part=notes.get("part", 1),
                    parts=notes.get("parts", 1),
                    overrides=mine,
                    again=again,
                )
                out.print(escape(_T["submitted"](lang, file=f.name, uuid=rec.uuid)))


@dds_app.command(
    "status",
    help=h(
        "Consulta el estado y los números de referencia y verificación (sin argumentos: todas las "
        "pendientes).",
        "Ask for the status and the reference and verification numbers (no arguments: all "
        "pending).",
    ),
)
def status_cmd(
    which: Annotated[
        list[str] | None,
        typer.Argument(
            help=h("UUID, carpeta o archivo XML presentados", "UUIDs, folders or XML files filed")
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help=h(
                "Mostrar lo registrado sin consultar a la UE",
                "Show what is recorded, without asking the EU",
            ),
        ),
    ] = False,
    lang_option: LangOption = None,
) -> None:
    lang = language(lang_option)
    with guard(lang):
        from eudr_check.dds.lifecycle import refresh

        registry, client = _registry_only() if offline else _open()
        with registry:
            records = _find(registry, which or [])
            if not offline and records:
                records = refresh(registry, client, records)
    _table(records, lang)


def _registry_only() -> tuple[Registry, Any]:
    from eudr_check.settings import get_settings
    from eudr_check.store.registry import Registry

    return Registry.open(get_settings().registry_url), None


def _find(registry: Registry, which: list[str]) -> list[DdsRecord]:
    from eudr_check.dds.request_xml import read_request, statement_hash

    if not which:
        return registry.dds_find(pending=True)
    out: list[DdsRecord] = []
    for item in which:
        path = Path(item)
        if path.exists():
            hashes = [statement_hash(read_request(f)) for f, _ in _requests([path])]
            found = registry.dds_find(hashes=hashes)
        else:
            found = registry.dds_find(uuids=[item])
        if not found:
            raise DdsError(
                Text(_T["unknown"].es.format(what=item), _T["unknown"].en.format(what=item))
            )
        out.extend(r for r in found if r not in out)
    return out


def _table(records: list[DdsRecord], lang: Lang) -> None:
    """One line per statement, never wrapped: the numbers are copied from here into customs
    and sales documents."""
    if not records:
        out.print(escape(_T["none"](lang)))
        return
    es = lang is Lang.ES
    for r in records:
        parts = [
            r.uuid or "-",
            r.status,
            f"{'referencia' if es else 'reference'} {r.reference_number or '-'}",
            f"{'verificación' if es else 'verification'} {r.verification_number or '-'}",
        ]
        if r.lot_id is not None:
            parts.append(f"{'lote' if es else 'lot'} {r.lot_id} {r.part}/{r.parts}")
        note = r.rejection_reason or r.communication or r.error
        if note:
            parts.append(note)
        out.print(escape("  ".join(parts)), soft_wrap=True)


def _one(registry: Registry, uuid: str) -> DdsRecord:
    found = registry.dds_find(uuids=[uuid])
    if not found:
        raise DdsError(Text(_T["unknown"].es.format(what=uuid), _T["unknown"].en.format(what=uuid)))
    return found[-1]


@dds_app.command(
    "amend",
    help=h(
        "Sustituye el contenido de una declaración presentada (en las 72 h, mientras esté "
        "AVAILABLE).",
        "Replace a filed statement's content (within 72 h, while AVAILABLE).",
    ),
)
def amend_cmd(
    uuid: Annotated[str, typer.Argument(help="UUID")],
    file: Annotated[
        Path,
        typer.Argument(
            help=h("Nueva solicitud XML (de `dds build`)", "New request XML (from `dds build`)")
        ),
    ],
    lang_option: LangOption = None,
) -> None:
    lang = language(lang_option)
    with guard(lang):
        from eudr_check.dds.lifecycle import amend
        from eudr_check.dds.request_xml import read_request

        el = read_request(file)
        registry, client = _open()
        with registry:
            rec = amend(registry, client, _one(registry, uuid), el)
    out.print(escape(_T["amended"](lang, uuid=rec.uuid, status=rec.status)))


@dds_app.command(
    "withdraw",
    help=h(
        "Retira una declaración presentada (en las 72 h).",
        "Withdraw a filed statement (within 72 h).",
    ),
)
def withdraw_cmd(
    uuid: Annotated[str, typer.Argument(help="UUID")], lang_option: LangOption = None
) -> None:
    lang = language(lang_option)
    with guard(lang):
        from eudr_check.dds.lifecycle import withdraw

        registry, client = _open()
        with registry:
            rec = withdraw(registry, client, _one(registry, uuid))
    out.print(escape(_T["withdrawn"](lang, uuid=rec.uuid, status=rec.status)))


@dds_app.command(
    "verify",
    help=h(
        "Comprueba un par de números de referencia y verificación recibido de un proveedor.",
        "Check a reference and verification number pair received from a supplier.",
    ),
)
def verify_cmd(
    reference: Annotated[str, typer.Argument(help=h("Número de referencia", "Reference number"))],
    verification: Annotated[
        str, typer.Argument(help=h("Número de verificación", "Verification number"))
    ],
    lang_option: LangOption = None,
) -> None:
    lang = language(lang_option)
    with guard(lang):
        from eudr_check.dds.client import TracesClient
        from eudr_check.settings import get_settings

        result = TracesClient.from_settings(get_settings()).verify(reference, verification)
    status = f" ({result.status})" if result.status else ""
    out.print(
        escape(
            _T["verify"](lang, ref=reference, ver=verification, result=result.result, status=status)
        )
    )
    if result.result != "EXISTING_USABLE":
        raise typer.Exit(1)
