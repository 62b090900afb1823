"""Legality findings from the vector layers' overlaps: a plot inside a strictly protected area
is an error (no crop there can be declared), one in a sustainable-use area or a buffer zone,
on indigenous or community land, or in a permanent production forest is a warning that says
what record is needed. Pure: a plot's stored stats in, findings out."""

from __future__ import annotations

from collections.abc import Iterable

from eudr_check.datasets.catalog import AreaKind
from eudr_check.findings import Code, Finding, Severity
from eudr_check.i18n import Param
from eudr_check.models import DatasetStats

_CODES = {
    AreaKind.PROTECTED_AREA.value: Code.IN_PROTECTED_AREA,
    AreaKind.BUFFER_ZONE.value: Code.IN_PROTECTED_AREA,
    AreaKind.INDIGENOUS_LAND.value: Code.ON_INDIGENOUS_LAND,
    AreaKind.PRODUCTION_FOREST.value: Code.IN_PRODUCTION_FOREST,
}


def legality_findings(
    stats: Iterable[DatasetStats], plot_id: str, source_file: str, source_index: int | None
) -> list[Finding]:
    """One finding per overlap (and per layer that could not be read), largest first."""
    out: list[Finding] = []
    for s in stats:
        if not s.vector:
            continue
        if s.error is not None:
            about = (("error", s.error), ("layer", s.dataset_id))
            out.append(Finding(Code.LEGALITY_NOT_CHECKED, Severity.WARNING, plot_id, source_file,
                               source_index, about))  # fmt: skip
            continue
        for o in s.overlaps:
            zoning = o.zoning
            buffer = o.kind == AreaKind.BUFFER_ZONE.value
            params: dict[str, Param] = {
                "name": o.name, "category": o.category or "–", "ha": _ha(o.area_ha),
                "percent": round(100 * o.share, 1), "layer": s.dataset_id,
                "strict": o.strict, **({"zoning": zoning} if zoning else {}),
                **({"buffer_zone": 1} if buffer else {}),
            }  # fmt: skip
            severity = Severity.ERROR if o.strict else Severity.WARNING
            out.append(Finding(_CODES[o.kind], severity, plot_id, source_file, source_index,
                               tuple(sorted(params.items()))))  # fmt: skip
    return out


def _ha(value: float) -> float:
    return round(value, 2) if value >= 0.1 else round(value, 4)
