"""What `dds build` writes: one request XML per statement, every plot's fate in a CSV, and a
readable summary. Written all or nothing: a failure part-way removes what was written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eudr_check.dds.model import DdsBuild
from eudr_check.dds.request_xml import statement_hash, submit_request, to_bytes
from eudr_check.fileio import write_bytes, write_text
from eudr_check.i18n import Lang, Text
from eudr_check.reasons import verdict_name
from eudr_check.reports.csv_out import csv_text


@dataclass(frozen=True, slots=True)
class BuildFiles:
    requests: list[Path]
    plots_csv: Path
    summary: Path
    hashes: list[str]


def write_build(build: DdsBuild, out_dir: Path, stem: str, lang: Lang = Lang.ES) -> BuildFiles:
    out_dir = Path(out_dir)
    # Build and validate every request first: nothing is written when one fails the XSDs.
    requests = [submit_request(st) for st in build.statements]
    names = [f"{stem}.dds_{st.part:03d}.xml" for st in build.statements]
    written: list[Path] = []
    try:
        for name, el in zip(names, requests, strict=True):
            path = out_dir / name
            write_bytes(path, to_bytes(el))
            written.append(path)
        csv_path = out_dir / f"{stem}.dds_plots.csv"
        write_text(csv_path, _plots_csv(build, names, lang), "utf-8-sig")
        written.append(csv_path)
        summary = out_dir / f"{stem}.dds_summary.txt"
        write_text(summary, summary_text(build, names, lang))
        written.append(summary)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return BuildFiles(written[: len(names)], csv_path, summary,
                      [statement_hash(el) for el in requests])  # fmt: skip


def _plots_csv(build: DdsBuild, names: list[str], lang: Lang) -> str:
    rows: list[tuple[object, ...]] = []
    overridden = {o.plot_id: o for o in build.overridden}
    for st, name in zip(build.statements, names, strict=True):
        for c in st.commodities:
            for p in c.producers:
                for pid in p.plot_ids:
                    o = overridden.get(pid)
                    verdict = "" if o is None or o.verdict is None else o.verdict.value
                    state = "override" if o else "included"
                    reason = o.reason if o else ""
                    rows.append(
                        (pid, state, name, c.hs_heading, p.name or "", p.country, verdict, reason)
                    )
    for r in build.refused:
        reason = Text(r.es, r.en)(lang)
        rows.append((r.plot_id, "refused", "", "", "", "", r.verdict.value if r.verdict else "",
                     f"{r.code}: {reason}"))  # fmt: skip
    header = ("plot_id", "status", "statement_file", "hs_heading", "producer", "country",
              "verdict", "reason")  # fmt: skip
    return csv_text(header, rows)


def summary_text(build: DdsBuild, names: list[str], lang: Lang) -> str:
    es = lang is Lang.ES
    lines = [
        "Declaración de diligencia debida (DDS) para el sistema de información de la UE"
        if es else "Due diligence statement (DDS) for the EU Information System",
        "",
        (f"Parcelas: {build.plots_in} · incluidas {build.included} · con excepción "
         f"{len(build.overridden)} · rechazadas {len(build.refused)}") if es else
        (f"Plots: {build.plots_in} · included {build.included} · overridden "
         f"{len(build.overridden)} · refused {len(build.refused)}"),
        "",
    ]  # fmt: skip
    for st, name in zip(build.statements, names, strict=True):
        kb = st.geo_bytes / 1000
        lines.append(f"{name}: " + (
            f"declaración {st.part} de {st.of}, {st.producer_count} productores, "
            f"{len(st.plot_ids)} parcelas, {kb:,.0f} kB de geolocalización"
            if es else
            f"statement {st.part} of {st.of}, {st.producer_count} producers, "
            f"{len(st.plot_ids)} plots, {kb:,.0f} kB of geolocation"
        ))  # fmt: skip
        for c in st.commodities:
            who = "productores" if es else "producers"
            lines.append(
                f"    SH/HS {c.hs_heading} · {c.description} · {c.net_mass_kg} kg · "
                f"{len(c.producers)} {who}"
            )
    for note_es, note_en in build.notes:
        lines += ["", note_es if es else note_en]
    if build.overridden:
        lines += [
            "",
            "Declaradas con excepción registrada:" if es else "Declared on a recorded override:",
        ]
        for o in build.overridden:
            v = (
                verdict_name(o.verdict, lang)
                if o.verdict
                else ("sin verificar" if es else "not checked")
            )
            lines.append(f"  {o.plot_id} ({v}): {o.reason}")
    if build.refused:
        lines += ["", "Rechazadas (no se declaran):" if es else "Refused (not declared):"]
        for r in build.refused[:200]:
            lines.append(f"  {r.plot_id}: {Text(r.es, r.en)(lang)}")
        if len(build.refused) > 200:
            more = len(build.refused) - 200
            lines.append(
                f"  … {more} más (véase dds_plots.csv)"
                if es
                else f"  … {more} more (see dds_plots.csv)"
            )
    return "\n".join(lines) + "\n"
