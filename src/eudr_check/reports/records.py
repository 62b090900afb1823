"""Plot rows side by side with their results and their own findings, for the report writers."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry

from eudr_check.datasets.catalog import IndicatorPolicy
from eudr_check.findings import Finding
from eudr_check.indicators import Indicators, indicators
from eudr_check.legality import legality_findings
from eudr_check.models import PlotResult
from eudr_check.rules import ValidationReport


@dataclass(frozen=True, slots=True)
class PlotRecord:
    """One plot row of the run with its result and its own validation findings."""

    index: int  # row number in the whole run (input order, from 0)
    plot_id: str
    producer_name: str | None
    producer_country: str | None
    production_place: str | None
    declared_area_ha: float | None
    commodity: str | None
    geometry: BaseGeometry | None
    result: PlotResult
    findings: tuple[Finding, ...]
    indicators: Indicators | None = None  # Whisp's, when the run's policy is known


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _index(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def plot_records(
    report: ValidationReport, results: Sequence[PlotResult], first_row: int = 0,
    policy: IndicatorPolicy | None = None, optional: frozenset[str] = frozenset(),
) -> list[PlotRecord]:  # fmt: skip
    """Rows, results and findings side by side; results must follow the plot rows' order."""
    plots = report.plots
    if len(plots) != len(results):
        raise ValueError(f"{len(results)} results for {len(plots)} plots")
    # Findings are matched by source row, not plot id: duplicated ids must not share findings.
    by_row: dict[tuple[str, int | None], list[Finding]] = defaultdict(list)
    for f in report.findings:
        if f.plot_id is not None:
            by_row[(f.source_file, f.source_index)].append(f)
    records = []
    for i, (row, result) in enumerate(zip(plots.itertuples(index=False), results, strict=True)):
        if str(row.plot_id) != result.plot_id:
            raise ValueError(f"row {i}: result for {result.plot_id!r}, plot is {row.plot_id!r}")
        geom = row.geometry if isinstance(row.geometry, BaseGeometry) else None
        source = (str(row.source_file), _index(row.source_index))
        own = tuple(by_row.get(source, ()))
        legal = legality_findings(result.stats, result.plot_id, *source)
        records.append(
            PlotRecord(
                index=first_row + i,
                plot_id=result.plot_id,
                producer_name=_text(row.producer_name),
                producer_country=_text(row.producer_country),
                production_place=_text(row.production_place),
                declared_area_ha=_number(row.declared_area_ha),
                commodity=_text(row.commodity),
                geometry=None if geom is None or geom.is_empty else geom,
                result=result,
                findings=own + tuple(legal),
                indicators=None
                if policy is None or not result.stats
                else indicators(result.stats, policy, result.buffered_point, optional),
            )
        )
    return records
