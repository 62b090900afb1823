"""Whisp-compatible indicators and risk (FAO's "What is in that plot?"), from the datasets the
catalog has, next to our own verdict.

    ind_01_treecover               tree cover in 2020 (JRC GFC2020; Hansen cover 2000 less loss;
                                   ESA WorldCover 2020's tree cover)
    ind_02_commodities             a commodity or plantation already there in 2020 (TMF)
    ind_03_disturbance_before_2020 loss or disturbance up to the cut-off (Hansen loss 2001-2020,
                                   TMF, GeoBosques)
    ind_04_disturbance_after_2020  loss or alerts after the cut-off

Each is "yes" when one dataset shows it on more than its share of the plot (Whisp's default,
10 %), or shows any of it for a plot given as a point. `risk_pcrop` follows Whisp's decision
tree for perennial crops: low when there was no tree cover, or a commodity or a disturbance
was already there; otherwise more_info_needed without a disturbance after 2020, high with one.
An indicator no dataset of the catalog can show is "no", and `sources` says which datasets
could (an empty list: none could), so "no" is never mistaken for a measurement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from eudr_check.datasets.catalog import IndicatorPolicy
from eudr_check.models import DatasetStats

NAMES = ("ind_01_treecover", "ind_02_commodities", "ind_03_disturbance_before_2020",
         "ind_04_disturbance_after_2020")  # fmt: skip


class Risk(StrEnum):
    LOW = "low"
    MORE_INFO_NEEDED = "more_info_needed"
    HIGH = "high"
    # Not Whisp's: a dataset the decision needs could not be read over the plot. Never "low"
    # on data that is not there.
    UNDETERMINED = "undetermined"


@dataclass(frozen=True, slots=True)
class Indicator:
    name: str
    present: bool
    by: tuple[str, ...]  # the datasets that show it above the threshold
    sources: tuple[str, ...]  # the datasets that could show it
    failed: tuple[str, ...] = ()  # datasets that should have, but were missing or unreadable

    @property
    def unknown(self) -> bool:
        """Nothing shows it, and a dataset that could was not there to look."""
        return not self.present and bool(self.failed)

    @property
    def value(self) -> str:
        return "yes" if self.present else "unknown" if self.unknown else "no"


@dataclass(frozen=True, slots=True)
class Indicators:
    items: tuple[Indicator, Indicator, Indicator, Indicator]
    risk_pcrop: Risk

    def as_row(self) -> dict[str, str]:
        return {**{i.name: i.value for i in self.items}, "risk_pcrop": self.risk_pcrop.value}


Measure = Callable[[DatasetStats], float | None]
_MEASURES: tuple[Measure, Measure, Measure, Measure] = (
    lambda s: s.forest_2020_ha if s.forest_2020_ha is not None else s.tree_cover_2020_ha,
    lambda s: s.commodity_2020_ha,
    lambda s: s.loss_before_cutoff_ha,
    lambda s: None if s.loss_after_cutoff_ha is None and s.alert_area_ha is None
    else max(s.loss_after_cutoff_ha or 0.0, s.alert_area_ha or 0.0),
)  # fmt: skip


def _indicator(name: str, measure: Measure, pct: float, stats: Sequence[DatasetStats],
               point: bool, max_nodata: float, optional: frozenset[str]) -> Indicator:  # fmt: skip
    by: list[str] = []
    sources: list[str] = []
    failed: list[str] = []
    for s in stats:
        if s.vector:
            continue
        ha = measure(s)
        if ha is None and s.error is None and not s.missing_tiles:
            continue  # this dataset does not say this
        if s.error is not None or s.missing_tiles or s.nodata_fraction > max_nodata:
            # An optional dataset (alerts, TMF) missing is no gap, as in the verdict policy.
            if s.dataset_id not in optional:
                failed.append(s.dataset_id)
            continue
        if ha is None:
            continue
        sources.append(s.dataset_id)
        share = 100 * ha / s.plot_area_ha if s.plot_area_ha > 0 else 0.0
        if (point and ha > 0) or (not point and share > pct):
            by.append(s.dataset_id)
    return Indicator(name, bool(by), tuple(by), tuple(sources), tuple(failed) if not by else ())


def indicators(
    stats: Sequence[DatasetStats], policy: IndicatorPolicy, buffered_point: bool = False,
    optional: Iterable[str] = (),
) -> Indicators:  # fmt: skip
    point = buffered_point and policy.points_any
    pcts = (policy.treecover_pct, policy.commodities_pct, policy.disturbance_before_pct,
            policy.disturbance_after_pct)  # fmt: skip
    ind = tuple(
        _indicator(n, m, p, stats, point, policy.max_nodata_fraction, frozenset(optional))
        for n, m, p in zip(NAMES, _MEASURES, pcts, strict=True)
    )
    i1, i2, i3, i4 = ind
    if i2.present or i3.present or (not i1.present and not i1.unknown):
        risk = Risk.LOW
    elif i1.unknown or i2.unknown or i3.unknown or i4.unknown:
        risk = Risk.UNDETERMINED
    elif not i4.present:
        risk = Risk.MORE_INFO_NEEDED
    else:
        risk = Risk.HIGH
    return Indicators((i1, i2, i3, i4), risk)
