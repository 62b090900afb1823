"""Texts of the verdict reasons and of the verdicts themselves, in Spanish and English."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eudr_check.models import Reason, Verdict

if TYPE_CHECKING:
    from eudr_check.models import ReasonItem

VERDICT_TEXT: dict[Verdict, tuple[str, str]] = {
    Verdict.DEFORESTATION_FREE: ("Libre de deforestación", "Deforestation-free"),
    Verdict.NEEDS_REVIEW: ("Requiere revisión", "Needs review"),
    Verdict.DEFORESTATION_DETECTED: ("Deforestación detectada", "Deforestation detected"),
    Verdict.UNDETERMINED: ("Indeterminado", "Undetermined"),
}

REASONS: dict[Reason, tuple[str, str]] = {
    Reason.TOO_LARGE: (
        "La parcela se extiende más de {deg}° (unos {km} km): demasiado para una parcela y para "
        "analizarla; revise la geometría.",
        "The plot spans more than {deg}° (about {km} km): too large for a plot and to analyse; "
        "check the geometry.",
    ),
    Reason.GEOMETRY_ERROR: (
        "La geometría tiene errores sin reparar ({codes}); no se puede analizar.",
        "The geometry has unrepaired errors ({codes}); it cannot be analysed.",
    ),
    Reason.MISSING_TILE: (
        "{dataset}: falta el mosaico {tiles}; no hay datos para esta parcela.",
        "{dataset}: tile {tiles} is missing; there is no data for this plot.",
    ),
    Reason.DATASET_UNREADABLE: (
        "{dataset}: no se pudo leer el mosaico ({error}).",
        "{dataset}: the tile could not be read ({error}).",
    ),
    Reason.NO_DATA: (
        "{dataset}: sin datos en el {percent} % de la parcela (más del {limit} %).",
        "{dataset}: no data over {percent} % of the plot (more than {limit} %).",
    ),
    Reason.LOSS_AFTER_CUTOFF: (
        "{dataset}: pérdida de bosque después del 31/12/2020 en {ha} ha ({percent} % de la "
        "parcela), años {years}.",
        "{dataset}: forest loss after 31 Dec 2020 on {ha} ha ({percent} % of the plot), years "
        "{years}.",
    ),
    Reason.SMALL_LOSS_AFTER_CUTOFF: (
        "{dataset}: pequeña pérdida de bosque después del 31/12/2020 ({ha} ha, {percent} %), "
        "por debajo del umbral; revisar en campo.",
        "{dataset}: small forest loss after 31 Dec 2020 ({ha} ha, {percent} %), below the "
        "threshold; check in the field.",
    ),
    Reason.ALERT_AFTER_CUTOFF: (
        "{dataset}: {count} alerta(s) de deforestación después del 31/12/2020 ({ha} ha), la "
        "última el {latest}.",
        "{dataset}: {count} deforestation alert(s) after 31 Dec 2020 ({ha} ha), the latest on "
        "{latest}.",
    ),
    Reason.FOREST_2020_NO_LOSS: (
        "{dataset}: bosque en 2020 en el {percent} % de la parcela, sin pérdida posterior. "
        "Probablemente café o cacao bajo sombra (no es bosque según el art. 2(6)): aportar "
        "evidencia de campo.",
        "{dataset}: forest in 2020 on {percent} % of the plot, with no loss since. Probably "
        "shade-grown coffee or cocoa (not forest under Art. 2(6)): provide field evidence.",
    ),
    Reason.NO_FOREST_NO_LOSS: (
        "Ningún conjunto de datos muestra bosque en 2020 ni pérdida después del corte.",
        "No dataset shows forest in 2020 or loss after the cut-off.",
    ),
    Reason.POINT_BUFFERED: (
        "Parcela dada como punto: se analizó un círculo de {ha} ha alrededor.",
        "Plot given as a point: a circle of {ha} ha around it was analysed.",
    ),
}


def verdict_text(verdict: Verdict, lang: str) -> str:
    es, en = VERDICT_TEXT[verdict]
    return es if lang == "es" else en


def render_reason(item: ReasonItem, lang: str) -> str:
    es, en = REASONS[item.code]
    values = {"dataset": item.dataset_id or "", **dict(item.params)}
    try:
        return (es if lang == "es" else en).format(**values)
    except (KeyError, IndexError):
        return (es if lang == "es" else en).split("{")[0].strip()
