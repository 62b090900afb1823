"""The HTML summary of a check run: one self-contained page, Spanish or English.

No external resources (it must open offline and be archived as evidence): inline CSS, maps as
relative links. Every value from an uploaded file goes through `html.escape`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from html import escape as _escape
from pathlib import Path
from typing import IO
from urllib.parse import quote

from eudr_check.country_risk import country_risk
from eudr_check.datasets.catalog import Role
from eudr_check.engine.record import RunRecord, StatementRef
from eudr_check.findings import finding_message
from eudr_check.i18n import Lang, Text, visible
from eudr_check.models import DatasetStats
from eudr_check.reasons import Verdict, reason_message, verdict_name
from eudr_check.reports import map_png
from eudr_check.reports.records import PlotRecord
from eudr_check.reports.staging import Staging


def escape(text: str) -> str:
    """HTML-escaped, with bidirectional controls shown, never obeyed (`i18n.visible`)."""
    return _escape(visible(text))


SAMPLE_DATA_DIR = "sample_data"  # the bundled synthetic rasters

_T: dict[str, Text] = {
    "title": Text("Informe de debida diligencia EUDR", "EUDR due diligence report"),
    "run": Text("Ejecución", "Run"),
    "date": Text("Fecha", "Date"),
    "tool": Text("Versión de la herramienta", "Tool version"),
    "cutoff": Text("Fecha de corte", "Cut-off date"),
    "input": Text("Archivo de parcelas", "Plot file"),
    "datasets": Text("Conjuntos de datos", "Datasets"),
    "version": Text("Versión", "Version"),
    "found_version": Text(
        "la encontrada en la carpeta de datos (el catálogo pide {version})",
        "the one found in the data folder (the catalog names {version})",
    ),
    "licence": Text("Licencia", "Licence"),
    "attribution": Text("Atribución", "Attribution"),
    "results": Text("Resultados", "Results"),
    "plots": Text("Parcelas", "Plots"),
    "plot": Text("Parcela", "Plot"),
    "producer": Text("Productor", "Producer"),
    "place": Text("Lugar de producción", "Production place"),
    "country": Text("País", "Country"),
    "whisp": Text("Indicadores Whisp (FAO)", "Whisp indicators (FAO)"),
    "risk_low": Text("riesgo bajo (UE 2025/1093)", "low risk (EU 2025/1093)"),
    "risk_standard": Text("riesgo estándar (UE 2025/1093)", "standard risk (EU 2025/1093)"),
    "risk_high": Text("riesgo alto (UE 2025/1093)", "high risk (EU 2025/1093)"),
    "commodity": Text("Producto", "Commodity"),
    "area": Text("Área (ha)", "Area (ha)"),
    "declared": Text("Área declarada (ha)", "Declared area (ha)"),
    "analysed": Text("Área analizada (ha)", "Analysed area (ha)"),
    "verdict": Text("Veredicto", "Verdict"),
    "reasons": Text("Motivos", "Reasons"),
    "flagged": Text("Parcelas que requieren atención", "Plots that need attention"),
    "pages": Text("Páginas por veredicto", "Pages by verdict"),
    "table_pages": Text("Tabla", "Table"),
    "map_pages": Text("Detalle y mapas", "Details and maps"),
    "first_rows": Text(
        "Las {n} primeras parcelas, las más graves primero",
        "The first {n} plots, most severe first",
    ),
    "no_data_cell": Text("sin datos", "no data"),
    "use": Text("En esta ejecución", "In this run"),
    "read_files": Text("leído ({n} archivo(s))", "read ({n} file(s))"),
    "not_read": Text("no leído: ningún archivo encontrado", "not read: no file found"),
    "partly_read": Text(
        "leído en parte ({n} archivo(s)): sin datos para {k} de {m} parcelas (fuera de los "
        "archivos, mosaicos que faltan o nubes)",
        "partly read ({n} file(s)): no data for {k} of {m} plots (outside the files, missing "
        "tiles or clouds)",
    ),
    "not_in_run": Text(
        "En el catálogo pero no usados en esta ejecución: {ids}.",
        "In the catalog but not used in this run: {ids}.",
    ),
    "back": Text("← Volver al resumen", "← Back to the summary"),
    "none_flagged": Text("Ninguna parcela requiere atención.", "No plot needs attention."),
    "map": Text("Mapa de la parcela {id}", "Map of plot {id}"),
    "no_map": Text(
        "Sin mapa: la ventana no muestra pérdida ni bosque, o no hay datos de pérdida aquí "
        "(ver las estadísticas).",
        "No map: the window shows no loss and no forest, or there is no loss data here (see the "
        "statistics).",
    ),
    "legend": Text("Leyenda de los mapas", "Map legend"),
    "loss_year": Text("Pérdida {year}", "Loss {year}"),
    "loss_later": Text("Pérdida {year} y después", "Loss {year} and later"),
    "map_note": Text(
        "Cada mapa muestra la parcela (o el círculo de un punto) con un margen alrededor; un "
        "píxel de la imagen toma el valor de la celda del ráster bajo su centro.",
        "Each map shows the plot (or a point's circle) with a margin around it; an image pixel "
        "takes the value of the raster cell under its centre.",
    ),
    "stats": Text("Estadísticas por conjunto de datos", "Statistics per dataset"),
    "dataset": Text("Conjunto de datos", "Dataset"),
    "forest2020": Text("Bosque 2020 (ha, %)", "Forest 2020 (ha, %)"),
    "loss": Text("Pérdida tras el corte (ha)", "Loss after cut-off (ha)"),
    "by_year": Text("Pérdida por año (ha)", "Loss by year (ha)"),
    "nodata": Text("Sin datos (%)", "No data (%)"),
    "alerts": Text("Alertas", "Alerts"),
    "land_cover": Text(
        "Cobertura (clase: % de la parcela): {classes}",
        "Land cover (class: % of the plot): {classes}",
    ),
    "notes": Text("Notas", "Notes"),
    "missing": Text("falta el mosaico {tiles}", "missing tile {tiles}"),
    "findings": Text("Observaciones de la geometría", "Geometry findings"),
    "no_findings": Text("Sin observaciones.", "No findings."),
    "buffered": Text("Punto analizado como círculo", "Point analysed as a circle"),
    "yes": Text("sí", "yes"),
    "about": Text("Cómo leer los veredictos", "How to read the verdicts"),
    "lot": Text("Lote", "Lot"),
    "exporter": Text("Exportador", "Exporter"),
    "cooperatives": Text("Cooperativas", "Cooperatives"),
    "hs_code": Text("Código SA", "HS code"),
    "net_mass": Text("Masa neta (kg)", "Net mass (kg)"),
    "lot_date": Text("Fecha del lote", "Lot date"),
    "dds": Text("Declaración de diligencia debida", "Due diligence statement"),
    "dds_ref": Text("referencia", "reference"),
    "dds_ver": Text("verificación", "verification"),
    "checked": Text("Parcelas verificadas", "Plots checked"),
}

_SEVERITY = {
    "error": Text("error", "error"),
    "warning": Text("aviso", "warning"),
    "repaired": Text("reparado", "repaired"),
}

_EXPLAIN: dict[Verdict, Text] = {
    Verdict.DEFORESTATION_FREE: Text(
        "Ningún conjunto de datos muestra pérdida de bosque después del {cutoff} ni bosque en "
        "2020 en más del {forest} % de la parcela.",
        "No dataset shows forest loss after {cutoff} or forest in 2020 on more than {forest} % "
        "of the plot.",
    ),
    Verdict.NEEDS_REVIEW: Text(
        "Pérdida de bosque pequeña después del corte, una alerta de deforestación, o bosque en "
        "2020 en más del {forest} % de la parcela sin pérdida posterior.",
        "Small forest loss after the cut-off, a deforestation alert, or forest in 2020 on more "
        "than {forest} % of the plot with no loss since.",
    ),
    Verdict.DEFORESTATION_DETECTED: Text(
        "Pérdida de bosque después del {cutoff} dentro del bosque de 2020 de al menos {ha} ha o "
        "del {loss} % de la parcela, en algún conjunto de datos.",
        "Forest loss after {cutoff} inside 2020 forest of at least {ha} ha or {loss} % of the "
        "plot, in any dataset.",
    ),
    Verdict.UNDETERMINED: Text(
        "Un error de geometría sin reparar, un mosaico que falta o sin datos en más del "
        "{nodata} % de la parcela. Nunca se muestra como libre de deforestación.",
        "An unrepaired geometry error, a missing tile, or no data over more than {nodata} % of "
        "the plot. Never shown as deforestation-free.",
    ),
}

_NOTES: dict[str, Text] = {
    "agroforestry": Text(
        "Los sistemas agroforestales, como el café y el cacao bajo sombra, no son bosque según "
        "el art. 2(6) del Reglamento (UE) 2023/1115, pero los mapas de bosque no los distinguen "
        "del bosque. Muchas parcelas de café mostrarán «bosque en 2020» sin pérdida: eso pide "
        "revisión con evidencia de campo (fotos, edad del cultivo), no es una infracción.",
        "Agroforestry, such as shade-grown coffee and cocoa, is not forest under Art. 2(6) of "
        "Regulation (EU) 2023/1115, but forest maps cannot tell it from forest. Many coffee "
        "plots will show “forest in 2020” without loss: that calls for review with field "
        "evidence (photos, age of the crop), not a violation.",
    ),
    "points": Text(
        "Las parcelas dadas como punto se analizaron como un círculo de su área declarada "
        "({ha} ha si no la declaran).",
        "Plots given as a point were analysed as a circle of their declared area ({ha} ha if "
        "none is declared).",
    ),
    "licences": Text(
        "Los conjuntos de datos se usan según sus licencias, que exigen la atribución indicada "
        "arriba.",
        "The datasets are used under their licences, which require the attribution given above.",
    ),
    "sample": Text(
        "Los datos de bosque de esta ejecución son los datos de muestra incluidos "
        "(sample_data), que son sintéticos: estos veredictos no sirven como evidencia.",
        "The forest data of this run is the bundled sample data (sample_data), which is "
        "synthetic: these verdicts are not evidence.",
    ),
}

# Defence in depth: even text that slipped past escaping can never run as a script.
_CSP = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"

_CSS = """
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;font-size:.9rem}
.swatch{display:inline-block;width:1rem;height:1rem;margin-right:.35rem;vertical-align:-.15rem;
border:1px solid #9e9e9e}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;
max-width:70rem;padding:0 1rem;color:#212121;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{margin-top:2rem;border-bottom:2px solid #e0e0e0}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #e0e0e0;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.n{text-align:right;white-space:nowrap}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem;margin:.5rem 0}
dl.meta dt{font-weight:600}dl.meta dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:.15rem .55rem;border-radius:1rem;font-size:.85rem;
font-weight:600;white-space:nowrap}
.v-deforestation_free{background:#2e7d32;color:#fff}.v-needs_review{background:#f9a825;color:#000}
.v-deforestation_detected{background:#c62828;color:#fff}.v-undetermined{background:#616161;color:#fff}
.counts .badge{font-size:1rem;margin:0 .5rem .5rem 0}
section.plot{border:1px solid #e0e0e0;border-radius:.4rem;padding:0 1rem 1rem;margin:1.5rem 0;
break-inside:avoid}
section.plot img{max-width:100%;height:auto;border:1px solid #e0e0e0}
.warn{background:#fff3e0;border-left:4px solid #f9a825;padding:.5rem 1rem}
footer{margin-top:2.5rem;font-size:.9rem;color:#424242}
"""


def _t(key: str, lang: Lang, **kw: object) -> str:
    return _T[key](lang, **kw)


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if 0 < abs(value) < 0.1 and digits == 2:
        return f"{value:.2g}"  # 0.06, 0.0012: small areas keep two significant digits
    return f"{value:.{digits}f}"


def _badge(verdict: Verdict, lang: Lang, extra: str = "") -> str:
    return (
        f'<span class="badge v-{verdict.value}">{escape(verdict_name(verdict, lang))}{extra}</span>'
    )


def _cells(values: list[str], numeric: frozenset[int] = frozenset()) -> str:
    """A table row; values must already be escaped."""
    tds = "".join(
        f'<td class="n">{v}</td>' if i in numeric else f"<td>{v}</td>" for i, v in enumerate(values)
    )
    return f"<tr>{tds}</tr>"


def _head_row(labels: list[str]) -> str:
    return "<tr>" + "".join(f"<th>{escape(label)}</th>" for label in labels) + "</tr>"


def _date(when: dt.datetime) -> str:
    if when.tzinfo is not None:
        return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return when.strftime("%Y-%m-%d %H:%M")


def _kg(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}".rstrip("0").rstrip(".")


def _subject(run: RunRecord) -> str:
    return run.input_name if run.lot is None else run.lot.reference


def _header(run: RunRecord, lang: Lang) -> str:
    items = [
        ("input", run.input_name),
        ("date", _date(run.started)),
        ("tool", f"eudr-check {run.tool_version}"),
        ("cutoff", run.catalog.cutoff_date.isoformat()),
        ("run", run.run_id),
    ]
    lot = run.lot
    if lot is not None:  # a lot's plots come from the registry, checked at their own times
        span = _date(run.started)
        finished = run.finished or run.started
        if _date(finished) != span:
            span += f" – {_date(finished)}"
        items = [
            ("lot", lot.reference),
            ("exporter", lot.exporter),
            ("cooperatives", ", ".join(lot.cooperatives)),
            ("commodity", lot.commodity),
            ("hs_code", lot.hs_code or "–"),
            ("net_mass", _kg(lot.net_mass_kg)),
            ("lot_date", _date(lot.created_at)),
            *(("dds", _statement(s, lang)) for s in lot.statements),
            ("checked", span),
            *items[2:],
        ]
    rows = "".join(f"<dt>{escape(_t(k, lang))}</dt><dd>{escape(v)}</dd>" for k, v in items)
    title = escape(f"{_t('title', lang)}: {_subject(run)}")
    return f'<header><h1>{title}</h1><dl class="meta">{rows}</dl></header>'


def _statement(s: StatementRef, lang: Lang) -> str:
    part = f"{s.part}/{s.parts} · " if s.parts > 1 else ""
    numbers = (f"{_t('dds_ref', lang)} {s.reference_number} · {_t('dds_ver', lang)} "
               f"{s.verification_number}") if s.reference_number else f"UUID {s.uuid}"  # fmt: skip
    return f"{part}{numbers} ({s.status})"


def _version_note(catalog_version: str | None, lang: Lang) -> str:
    if not catalog_version:
        return ""
    return f"<br><small>{escape(_t('found_version', lang, version=catalog_version))}</small>"


def _use(run: RunRecord, dataset_id: str, lang: Lang, cover: Coverage) -> str:
    """Whether the run read the dataset: how many files, or none (then no plot has its data),
    and for how many of the plots it had no data at all."""
    n = sum(1 for f in run.files if f.dataset_id == dataset_id)
    if not n:
        return escape(_t("not_read", lang))
    empty, seen = cover.get(dataset_id, (0, 0))
    if empty:
        return escape(_t("partly_read", lang, n=n, k=empty, m=seen))
    return escape(_t("read_files", lang, n=n))


# Per dataset: (plots with no data at all from it, plots it was asked about).
Coverage = dict[str, tuple[int, int]]
NO_DATA_AT_ALL = 0.999999  # a nodata fraction this high: the dataset said nothing


def coverage(records: Sequence[PlotRecord], into: Coverage) -> None:
    for rec in records:
        for st in rec.result.stats:
            empty, seen = into.get(st.dataset_id, (0, 0))
            into[st.dataset_id] = (empty + (st.nodata_fraction >= NO_DATA_AT_ALL), seen + 1)


def _datasets(run: RunRecord, lang: Lang, cover: Coverage) -> str:
    keys = ("dataset", "version", "use", "licence", "attribution")
    head = _head_row([_t(k, lang) for k in keys])
    rows = [
        _cells(
            [
                f"<strong>{escape(d.id)}</strong><br>{escape(d.title)}",
                escape(d.version) + _version_note(d.catalog_version, lang),
                _use(run, d.id, lang, cover),
                escape(d.licence),
                escape(d.attribution),
            ]
        )
        for d in run.catalog.enabled
    ]
    skipped = [d.id for d in run.catalog.datasets if not d.enabled]
    note = (f"<p>{escape(_t('not_in_run', lang, ids=', '.join(skipped)))}</p>"
            if skipped else "")  # fmt: skip
    return f"<h2>{escape(_t('datasets', lang))}</h2><table>{head}{''.join(rows)}</table>{note}"


def _counts(counts: Counter[Verdict], lang: Lang) -> str:
    badges = "".join(_badge(v, lang, f": {counts.get(v, 0)}") for v in Verdict)
    total = escape(f"{_t('plots', lang)}: {sum(counts.values())}")
    return f'<h2>{escape(_t("results", lang))}</h2><p>{total}</p><p class="counts">{badges}</p>'


def _reasons(rec: PlotRecord, lang: Lang) -> str:
    items = "".join(f"<li>{escape(reason_message(item, lang))}</li>" for item in rec.result.reasons)
    return f"<ul>{items}</ul>" if items else ""


def _table_head(lang: Lang) -> str:
    return _head_row(
        [_t(k, lang) for k in ("plot", "producer", "place", "area", "verdict", "reasons")]
    )


def _table_rows(records: Sequence[PlotRecord], lang: Lang) -> list[str]:
    rows = []
    for rec in records:
        link = f'<a href="#plot-{rec.index}">{escape(rec.plot_id)}</a>'
        plot = link if rec.result.verdict is not Verdict.DEFORESTATION_FREE else escape(rec.plot_id)
        rows.append(
            _cells(
                [
                    plot,
                    escape(rec.producer_name or ""),
                    escape(rec.production_place or ""),
                    _num(rec.result.area_ha),
                    _badge(rec.result.verdict, lang),
                    _reasons(rec, lang),
                ],
                numeric=frozenset({3}),
            )
        )
    return rows


def _stats_row(s: DatasetStats, lang: Lang) -> str:
    if s.nodata_fraction >= 1.0 or s.error:  # nothing was measured: never show it as 0
        missing = escape(_t("no_data_cell", lang))
        notes = [*([_t("missing", lang, tiles=", ".join(s.missing_tiles))]
                   if s.missing_tiles else []), *([s.error] if s.error else [])]  # fmt: skip
        return _cells([f"{escape(s.dataset_id)} {escape(s.version)}", missing, missing, missing,
                       _num(100 * s.nodata_fraction, 1), missing, escape("; ".join(notes))],
                      numeric=frozenset({4}))  # fmt: skip
    forest = "–"
    if s.forest_2020_ha is not None:
        share = s.forest_2020_fraction
        forest = f"{_num(s.forest_2020_ha)} ({_num(None if share is None else 100 * share, 1)} %)"
    years = ", ".join(f"{y}: {_num(ha)}" for y, ha in s.loss_by_year if ha > 0) or "–"
    alerts = "–"
    if s.alert_count is not None:
        alerts = f"{s.alert_count} ({_num(s.alert_area_ha)} ha; {s.alert_latest or '–'})"
    notes = []
    if s.land_cover and s.plot_area_ha > 0:  # a land-cover map: its main classes
        top = sorted(s.land_cover, key=lambda c: -c[1])[:3]
        shares = ", ".join(f"{code}: {_num(100 * ha / s.plot_area_ha, 1)} %" for code, ha in top)
        notes.append(_t("land_cover", lang, classes=shares))
    if s.missing_tiles:
        notes.append(_t("missing", lang, tiles=", ".join(s.missing_tiles)))
    if s.error:
        notes.append(s.error)
    return _cells(
        [
            f"{escape(s.dataset_id)} {escape(s.version)}",
            escape(forest),
            _num(s.loss_after_cutoff_ha),
            escape(years),
            _num(100 * s.nodata_fraction, 1),
            escape(alerts),
            escape("; ".join(notes)),
        ],
        numeric=frozenset({2, 4}),
    )


def _map_link(plot_id: str, maps: dict[str, Path], base: Path, lang: Lang) -> str:
    target = maps.get(plot_id)
    if target is None:
        return f"<p>{escape(_t('no_map', lang))}</p>"
    rel = Path(os.path.relpath(target, base)).as_posix()
    alt = escape(_t("map", lang, id=plot_id))
    size = map_png.SIZE
    return f'<p><img src="{escape(quote(rel))}" alt="{alt}" width="{size}" height="{size}"></p>'


def _map_legend(run: RunRecord, lang: Lang) -> str:
    """The one legend of every map (the images carry none)."""
    loss = next((d for d in run.catalog.enabled if d.role is Role.FOREST_LOSS), None)
    threshold = int(loss.encoding.get("treecover_threshold", 10)) if loss else 10
    cutoff = run.catalog.cutoff_date.year
    # The area kinds only of the vector layers the run had (none: no area entries).
    kinds = {f"area_{v.kind.value}" for v in run.catalog.enabled_vectors}
    items = [(colour, text(lang, t=threshold, cutoff=cutoff))
             for key, (colour, text) in map_png.LEGEND.items()
             if not key.startswith("area_") or key in kinds]  # fmt: skip
    years = map_png.YEAR_COLOURS
    for n, colour in enumerate(years, start=1):
        key = "loss_later" if n == len(years) else "loss_year"
        items.append((colour, _t(key, lang, year=cutoff + n)))
    swatches = "".join(
        f'<li><span class="swatch" style="background:{c}"></span>{escape(label)}</li>'
        for c, label in items
    )
    return (f'<h3>{escape(_t("legend", lang))}</h3><ul class="legend">{swatches}</ul>'
            f"<p>{escape(_t('map_note', lang))}</p>")  # fmt: skip


def _country(code: str | None, lang: Lang) -> str | None:
    """The producer country with its EU benchmark: "PE · standard risk"."""
    found = country_risk(code)
    if found is None:
        return code
    return f"{found.country} · {_t('risk_' + found.level.value, lang)}"


def _plot_section(rec: PlotRecord, lang: Lang, maps: dict[str, Path], base: Path) -> str:
    r = rec.result
    meta = [
        ("producer", rec.producer_name),
        ("place", rec.production_place),
        ("country", _country(rec.producer_country, lang)),
        ("commodity", rec.commodity),
        ("declared", _num(rec.declared_area_ha)),
        ("analysed", _num(r.area_ha)),
    ]
    if r.buffered_point:
        meta.append(("buffered", _t("yes", lang)))
    if rec.indicators is not None:
        row = rec.indicators.as_row()
        meta.append(("whisp", " · ".join(f"{k}: {v}" for k, v in row.items())))
    dl = "".join(f"<dt>{escape(_t(k, lang))}</dt><dd>{escape(v or '–')}</dd>" for k, v in meta)
    head = _head_row(
        [
            _t(k, lang)
            for k in ("dataset", "forest2020", "loss", "by_year", "nodata", "alerts", "notes")
        ]
    )
    stats = "".join(_stats_row(s, lang) for s in r.stats)
    findings = (
        "".join(
            f"<li><strong>{escape(_SEVERITY[f.severity.value](lang))}</strong> "
            f"<code>{escape(f.code.value)}</code>: {escape(finding_message(f, lang))}</li>"
            for f in rec.findings
        )
        or f"<li>{escape(_t('no_findings', lang))}</li>"
    )
    return (
        f'<section class="plot" id="plot-{rec.index}">'
        f"<h3>{escape(_t('plot', lang))} {escape(rec.plot_id)} {_badge(r.verdict, lang)}</h3>"
        f'<dl class="meta">{dl}</dl>'
        f"<h4>{escape(_t('reasons', lang))}</h4>{_reasons(rec, lang)}"
        f"{_map_link(rec.plot_id, maps, base, lang)}"
        f"<h4>{escape(_t('stats', lang))}</h4><table>{head}{stats}</table>"
        f"<h4>{escape(_t('findings', lang))}</h4><ul>{findings}</ul></section>"
    )


def _sample_note(run: RunRecord, lang: Lang) -> str:
    """Results on the bundled synthetic rasters must never pass for evidence."""
    if run.data_dir.name != SAMPLE_DATA_DIR:
        return ""
    return f'<p class="warn">{escape(_NOTES["sample"](lang))}</p>'


def _footer(run: RunRecord, lang: Lang) -> str:
    p = run.catalog.verdict
    values = {
        "cutoff": run.catalog.cutoff_date.isoformat(),
        "forest": f"{100 * p.review_forest_fraction:g}",
        "ha": f"{p.detected_loss_ha:g}",
        "loss": f"{100 * p.detected_loss_fraction:g}",
        "nodata": f"{100 * p.undetermined_nodata_fraction:g}",
    }
    items = "".join(
        f"<dt>{_badge(v, lang)}</dt><dd>{escape(_EXPLAIN[v](lang, **values))}</dd>" for v in Verdict
    )
    notes = [
        _NOTES["agroforestry"](lang),
        _NOTES["points"](lang, ha=f"{p.point_area_ha:g}"),
        _NOTES["licences"](lang),
    ]
    paras = "".join(f"<p>{escape(n)}</p>" for n in notes)
    return (
        f"<footer><h2>{escape(_t('about', lang))}</h2>"
        f'<dl class="meta">{items}</dl>{paras}{_sample_note(run, lang)}</footer>'
    )


# The most severe first: what needs acting on is on the first page.
SEVERITY = (Verdict.DEFORESTATION_DETECTED, Verdict.UNDETERMINED, Verdict.NEEDS_REVIEW,
            Verdict.DEFORESTATION_FREE)  # fmt: skip
PAGE_ROWS = 500  # table rows per page
PAGE_SECTIONS = 100  # flagged plots (with their maps) per page


class HtmlSummaryWriter:
    """`<stem>.summary.html`: the counts, the plot table (most severe first) and a section per
    flagged plot, kept in the staging folder by verdict as batches come, put together when the
    run ends. Up to PAGE_ROWS plots it is one page; beyond, the summary is an index (counts, the
    first page of the table, links) and the rest is in pages beside it,
    `<stem>.summary.<verdict>-<n>.html` (table) and `<stem>.summary.<verdict>-maps-<n>.html`
    (sections), each a few hundred KB whatever the size of the run: a filter by verdict."""

    def __init__(self, path: Path, lang: Lang, staging: Staging) -> None:
        self.path = path
        self._staging = staging
        self.lang = lang
        self._rows = {v: staging.part(f"summary.rows.{v.value}") for v in SEVERITY}
        self._sections = {v: staging.part(f"summary.sections.{v.value}") for v in SEVERITY}
        self._counts: Counter[Verdict] = Counter()
        self._cover: Coverage = {}
        self._flagged = 0

    def add(self, records: Sequence[PlotRecord], maps: dict[str, Path]) -> None:
        """A batch of plots; `maps` holds the final path of each flagged plot's map so far."""
        base = self.path.parent
        self._counts.update(r.result.verdict for r in records)
        coverage(records, self._cover)
        for rec, row in zip(records, _table_rows(records, self.lang), strict=True):
            verdict = rec.result.verdict
            self._rows[verdict].write(json.dumps(row) + "\n")  # one line per row, any text
            if verdict is not Verdict.DEFORESTATION_FREE:
                self._sections[verdict].write(
                    json.dumps(_plot_section(rec, self.lang, maps, base)) + "\n"
                )
                self._flagged += 1

    def _close_parts(self) -> None:
        for part in (*self._rows.values(), *self._sections.values()):
            part.close()

    def _items(self, parts: dict[Verdict, IO[str]], verdict: Verdict) -> Iterator[str]:
        with Path(parts[verdict].name).open(encoding="utf-8") as src:
            for line in src:
                yield json.loads(line)

    def _page_name(self, verdict: Verdict, kind: str, n: int) -> str:
        stem = self.path.name.removesuffix(".html")
        return f"{stem}.{verdict.value}{kind}-{n:04d}.html"

    def finish(self, run: RunRecord) -> list[Path]:
        """The summary (first) and its pages."""
        self._close_parts()
        lang = self.lang
        total = sum(self._counts.values())
        if total <= PAGE_ROWS and self._flagged <= PAGE_SECTIONS:
            rows = [r for v in SEVERITY for r in self._items(self._rows, v)]
            sections = [x for v in SEVERITY for x in self._items(self._sections, v)]
            body = self._table(rows) + self._flagged_part(run, sections)
            self._write(self.path, run, _overview(run, self._counts, lang, self._cover) + body)
            return [self.path]
        written = [self.path]
        links: list[str] = []

        def flagged(items: list[str]) -> str:
            return self._flagged_part(run, items)

        for verdict in SEVERITY:
            pages = self._pages(run, verdict, self._rows, "", PAGE_ROWS, self._table)
            maps = self._pages(run, verdict, self._sections, "-maps", PAGE_SECTIONS, flagged)
            written += pages + maps
            links.append(_nav_row(verdict, self._counts.get(verdict, 0), pages, maps, lang))
        first = [
            r for v in SEVERITY for r in itertools.islice(self._items(self._rows, v), PAGE_ROWS)
        ][:PAGE_ROWS]
        heads = _head_row([_t(k, lang) for k in ("verdict", "plots", "table_pages", "map_pages")])
        nav = f"<h2>{escape(_t('pages', lang))}</h2><table>{heads}{''.join(links)}</table>"
        shown = escape(_t("first_rows", lang, n=len(first)))
        first_page = f"<h2>{shown}</h2>" + self._table(first)
        self._write(
            self.path, run, _overview(run, self._counts, lang, self._cover) + nav + first_page
        )
        return written

    def _pages(self, run: RunRecord, verdict: Verdict, parts: dict[Verdict, IO[str]], kind: str,
               size: int, render: Callable[[list[str]], str]) -> list[Path]:  # fmt: skip
        pages: list[Path] = []
        items = self._items(parts, verdict)
        while chunk := list(itertools.islice(items, size)):
            page = self.path.with_name(self._page_name(verdict, kind, len(pages) + 1))
            home = escape(quote(self.path.name))
            back = f'<p><a href="{home}">{escape(_t("back", self.lang))}</a></p>'
            title = f"<h2>{escape(verdict_name(verdict, self.lang))} · {len(pages) + 1}</h2>"
            self._write(page, run, back + title + render(chunk))
            pages.append(page)
        return pages

    def _table(self, rows: list[str]) -> str:
        return f"<table>{_table_head(self.lang)}{''.join(rows)}</table>"

    def _flagged_part(self, run: RunRecord, sections: list[str]) -> str:
        lang = self.lang
        none = "" if self._flagged else f"<p>{escape(_t('none_flagged', lang))}</p>"
        return (f"\n<h2>{escape(_t('flagged', lang))}</h2>\n{_map_legend(run, lang)}\n"
                + "".join(sections) + none)  # fmt: skip

    def _write(self, path: Path, run: RunRecord, body: str) -> None:
        lang = self.lang
        title = escape(f"{_t('title', lang)}: {_subject(run)}")
        head = (
            f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        )
        with self._staging.stage(path).open("w", encoding="utf-8", newline="") as out:
            out.write(head + body + f"\n{_footer(run, lang)}\n</body>\n</html>\n")

    def discard(self) -> None:
        self._close_parts()


def _overview(run: RunRecord, counts: Counter[Verdict], lang: Lang, cover: Coverage) -> str:
    return (f"{_header(run, lang)}\n{_sample_note(run, lang)}\n{_datasets(run, lang, cover)}\n"
            f"{_counts(counts, lang)}\n")  # fmt: skip


def _nav_row(verdict: Verdict, n: int, pages: list[Path], maps: list[Path], lang: Lang) -> str:
    def links(paths: list[Path]) -> str:
        return " ".join(f'<a href="{escape(quote(p.name))}">{i}</a>'
                        for i, p in enumerate(paths, start=1)) or "-"  # fmt: skip

    return _cells([_badge(verdict, lang, ""), str(n), links(pages), links(maps)])
