"""Verdicts and the reasons behind them: codes and texts side by side.

Reason codes are stable (reports and registries keep them for five years); their texts live
here, in Spanish and English, and are rendered by `reason_message`, never by the reason itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from eudr_check.i18n import Lang, Param, Text


class Verdict(StrEnum):
    """Outcome of the deforestation check for one plot (DOMAIN.md, verdict policy)."""

    DEFORESTATION_FREE = "deforestation_free"
    NEEDS_REVIEW = "needs_review"
    DEFORESTATION_DETECTED = "deforestation_detected"
    UNDETERMINED = "undetermined"


class Reason(StrEnum):
    """Stable reason codes behind a verdict. Never rename one."""

    GEOMETRY_ERROR = "geometry_error"
    MISSING_TILE = "missing_tile"
    DATASET_UNREADABLE = "dataset_unreadable"
    NO_DATA = "no_data"
    LOSS_AFTER_CUTOFF = "loss_after_cutoff"
    SMALL_LOSS_AFTER_CUTOFF = "small_loss_after_cutoff"
    ALERT_AFTER_CUTOFF = "alert_after_cutoff"
    FOREST_2020_NO_LOSS = "forest_2020_no_loss"
    FOREST_2020_EXPLAINED = "forest_2020_explained"
    NO_FOREST_NO_LOSS = "no_forest_no_loss"
    POINT_BUFFERED = "point_buffered"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class ReasonItem:
    code: Reason
    dataset_id: str | None = None
    params: tuple[tuple[str, Param], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The reason's data; `reason_record` adds its texts."""
        return {"code": self.code.value, "dataset_id": self.dataset_id, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReasonItem:
        return cls(
            Reason(d["code"]), d.get("dataset_id"), tuple(sorted(d.get("params", {}).items()))
        )


VERDICT_NAMES: dict[Verdict, Text] = {
    Verdict.DEFORESTATION_FREE: Text("Libre de deforestación", "Deforestation-free"),
    Verdict.NEEDS_REVIEW: Text("Requiere revisión", "Needs review"),
    Verdict.DEFORESTATION_DETECTED: Text("Deforestación detectada", "Deforestation detected"),
    Verdict.UNDETERMINED: Text("Indeterminado", "Undetermined"),
}

REASONS: dict[Reason, Text] = {
    Reason.TOO_LARGE: Text(
        "La parcela se extiende más de {deg}° (unos {km} km): demasiado para una parcela y para "
        "analizarla; revise la geometría.",
        "The plot spans more than {deg}° (about {km} km): too large for a plot and to analyse; "
        "check the geometry.",
    ),
    Reason.GEOMETRY_ERROR: Text(
        "La geometría tiene errores sin reparar ({codes}); no se puede analizar.",
        "The geometry has unrepaired errors ({codes}); it cannot be analysed.",
    ),
    Reason.MISSING_TILE: Text(
        "{dataset}: falta el mosaico {tiles}; no hay datos para esta parcela.",
        "{dataset}: tile {tiles} is missing; there is no data for this plot.",
    ),
    Reason.DATASET_UNREADABLE: Text(
        "{dataset}: no se pudo leer el mosaico ({error}).",
        "{dataset}: the tile could not be read ({error}).",
    ),
    Reason.NO_DATA: Text(
        "{dataset}: sin datos en el {percent} % de la parcela (más del {limit} %).",
        "{dataset}: no data over {percent} % of the plot (more than {limit} %).",
    ),
    Reason.LOSS_AFTER_CUTOFF: Text(
        "{dataset}: pérdida de bosque después del 31/12/2020 en {ha} ha ({percent} % de la "
        "parcela), años {years}.",
        "{dataset}: forest loss after 31 Dec 2020 on {ha} ha ({percent} % of the plot), years "
        "{years}.",
    ),
    Reason.SMALL_LOSS_AFTER_CUTOFF: Text(
        "{dataset}: pequeña pérdida de bosque después del 31/12/2020 ({ha} ha, {percent} %), "
        "por debajo del umbral; revisar en campo.",
        "{dataset}: small forest loss after 31 Dec 2020 ({ha} ha, {percent} %), below the "
        "threshold; check in the field.",
    ),
    Reason.ALERT_AFTER_CUTOFF: Text(
        "{dataset}: {count} alerta(s) de deforestación después del 31/12/2020 ({ha} ha), la "
        "última el {latest}.",
        "{dataset}: {count} deforestation alert(s) after 31 Dec 2020 ({ha} ha), the latest on "
        "{latest}.",
    ),
    Reason.FOREST_2020_NO_LOSS: Text(
        "{dataset}: bosque en 2020 en el {percent} % de la parcela, sin pérdida posterior. "
        "Probablemente café o cacao bajo sombra (no es bosque según el art. 2(6)): aportar "
        "evidencia de campo.",
        "{dataset}: forest in 2020 on {percent} % of the plot, with no loss since. Probably "
        "shade-grown coffee or cocoa (not forest under Art. 2(6)): provide field evidence.",
    ),
    Reason.FOREST_2020_EXPLAINED: Text(
        "{dataset}: bosque en 2020 en el {percent} % de la parcela, sin pérdida posterior; "
        "pero {map} muestra {why_es} en el {map_percent} %: cultivo o regeneración, no bosque "
        "según el EUDR.",
        "{dataset}: forest in 2020 on {percent} % of the plot, with no loss since; but {map} "
        "shows {why_en} on {map_percent} %: a crop or regrowth, not forest under the EUDR.",
    ),
    Reason.NO_FOREST_NO_LOSS: Text(
        "Ningún conjunto de datos muestra bosque en 2020 ni pérdida después del corte.",
        "No dataset shows forest in 2020 or loss after the cut-off.",
    ),
    Reason.POINT_BUFFERED: Text(
        "Parcela dada como punto: se analizó un círculo de {ha} ha alrededor.",
        "Plot given as a point: a circle of {ha} ha around it was analysed.",
    ),
}


def verdict_name(verdict: Verdict, lang: Lang | str) -> str:
    return VERDICT_NAMES[verdict](lang)


_WHY = {
    "commodity_2020": Text(
        "un cultivo o plantación ya en 2020", "a commodity or plantation in 2020"
    ),
    "disturbed_before": Text("pérdida antes de 2021", "loss before 2021"),
}


def reason_message(item: ReasonItem, lang: Lang | str) -> str:
    values = {"dataset": item.dataset_id or "", **dict(item.params)}
    why = _WHY.get(str(values.get("why")))
    if why is not None:
        values["why_es"], values["why_en"] = why.es, why.en
    return REASONS[item.code].lenient(lang, **values)


def reason_record(item: ReasonItem) -> dict[str, Any]:
    """The reason's data with its texts in both languages, as reports and the registry keep it."""
    return {
        **item.to_dict(),
        "message_es": reason_message(item, Lang.ES),
        "message_en": reason_message(item, Lang.EN),
    }
