"""The verdict policy of DOMAIN.md as a pure function of per-dataset statistics.

Positive evidence of deforestation wins over missing data elsewhere; otherwise any doubt about
the data makes the plot `undetermined`, never `deforestation_free`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eudr_check.datasets.catalog import IndicatorPolicy, VerdictPolicy
from eudr_check.i18n import Param
from eudr_check.indicators import indicators
from eudr_check.models import DatasetStats
from eudr_check.reasons import Reason, ReasonItem, Verdict

# A plot wider or taller than this (degrees, ~28 km) is not a farm plot but a wrong geometry
# (or a whole region); reading rasters for it could take gigabytes, so it is not analysed.
MAX_SPAN_DEG = 0.25
TOO_LARGE = "too_large"


def _pct(value: float) -> float:
    return round(100 * value, 1)


def _ha(value: float) -> float:
    return round(value, 2) if value >= 0.1 else round(value, 4)


def _item(code: Reason, dataset: str | None = None, **params: Param) -> ReasonItem:
    return ReasonItem(code, dataset, tuple(sorted(params.items())))


def decide(
    stats: Sequence[DatasetStats],
    policy: VerdictPolicy,
    *,
    optional: Iterable[str] = (),
    geometry_errors: Sequence[str] = (),
    point_buffer_ha: float | None = None,
    indicators: IndicatorPolicy | None = None,
) -> tuple[Verdict, tuple[ReasonItem, ...]]:
    notes = (
        [] if point_buffer_ha is None else [_item(Reason.POINT_BUFFERED, ha=_ha(point_buffer_ha))]
    )
    if TOO_LARGE in geometry_errors:
        km = round(MAX_SPAN_DEG * 111)
        return Verdict.UNDETERMINED, (_item(Reason.TOO_LARGE, deg=MAX_SPAN_DEG, km=km), *notes)
    if geometry_errors:
        codes = ", ".join(sorted(set(geometry_errors)))
        return Verdict.UNDETERMINED, (_item(Reason.GEOMETRY_ERROR, codes=codes), *notes)

    skip_gaps = set(optional)
    explained = _explanations(stats, indicators, point_buffer_ha is not None, skip_gaps)
    detected: list[ReasonItem] = []
    free: list[ReasonItem] = []
    review: list[ReasonItem] = []
    unknown: list[ReasonItem] = []
    for s in stats:
        may_gap = s.dataset_id in skip_gaps
        if s.error is not None:
            if not may_gap:
                unknown.append(_item(Reason.DATASET_UNREADABLE, s.dataset_id, error=s.error))
            continue
        if s.missing_tiles and not may_gap:
            tiles = ", ".join(s.missing_tiles)
            unknown.append(_item(Reason.MISSING_TILE, s.dataset_id, tiles=tiles))
        elif s.nodata_fraction > policy.undetermined_nodata_fraction and not may_gap:
            limit = _pct(policy.undetermined_nodata_fraction)
            pct = _pct(s.nodata_fraction)
            unknown.append(_item(Reason.NO_DATA, s.dataset_id, percent=pct, limit=limit))
        loss = s.loss_after_cutoff_ha or 0.0
        area = s.plot_area_ha
        if loss > 0 and area > 0:
            share = loss / area
            years = ", ".join(str(y) for y, ha in s.loss_by_year if ha > 0) or "?"
            params: dict[str, Param] = {"ha": _ha(loss), "percent": _pct(share), "years": years}
            big = loss >= policy.detected_loss_ha or share >= policy.detected_loss_fraction
            code = Reason.LOSS_AFTER_CUTOFF if big else Reason.SMALL_LOSS_AFTER_CUTOFF
            (detected if big else review).append(_item(code, s.dataset_id, **params))
        if s.alert_count:
            alert: dict[str, Param] = {
                "count": s.alert_count,
                "ha": _ha(s.alert_area_ha or 0.0),
                "latest": s.alert_latest or "?",
            }
            review.append(_item(Reason.ALERT_AFTER_CUTOFF, s.dataset_id, **alert))
        fraction = s.forest_2020_fraction
        if fraction is not None and fraction > policy.review_forest_fraction and loss == 0:
            if explained:  # regrowth or a crop on a map of 2020: not forest the EUDR counts
                free.append(_item(Reason.FOREST_2020_EXPLAINED, s.dataset_id,
                                  percent=_pct(fraction), **explained[0]))  # fmt: skip
            else:
                review.append(_item(Reason.FOREST_2020_NO_LOSS, s.dataset_id,
                                    percent=_pct(fraction)))  # fmt: skip

    if detected:
        return Verdict.DEFORESTATION_DETECTED, (*detected, *review, *unknown, *notes)
    if unknown:
        return Verdict.UNDETERMINED, (*unknown, *review, *notes)
    if review:
        return Verdict.NEEDS_REVIEW, (*review, *notes)
    if free:
        return Verdict.DEFORESTATION_FREE, (*free, *notes)
    return Verdict.DEFORESTATION_FREE, (_item(Reason.NO_FOREST_NO_LOSS), *notes)


def _explanations(
    stats: Sequence[DatasetStats], policy: IndicatorPolicy | None, point: bool,
    optional: set[str],
) -> list[dict[str, Param]]:  # fmt: skip
    """What explains forest on a 2020 map with no loss since: a commodity mapped in 2020, or a
    disturbance before 2021 (Whisp's indicators 2 and 3), with the map that shows it."""
    if policy is None or not policy.explain_forest:
        return []
    found = indicators(stats, policy, point, optional)
    out: list[dict[str, Param]] = []
    for ind, what in ((found.items[1], "commodity_2020"), (found.items[2], "disturbed_before")):
        for dataset in ind.by:
            s = next(x for x in stats if x.dataset_id == dataset)
            ha = (s.commodity_2020_ha if what == "commodity_2020" else s.loss_before_cutoff_ha) or 0
            share = ha / s.plot_area_ha if s.plot_area_ha > 0 else 0.0
            out.append({"map": dataset, "why": what, "map_percent": _pct(share)})
    return out
