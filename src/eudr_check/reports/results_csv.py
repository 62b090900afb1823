"""Results as a spreadsheet: one row per plot, made to open in Excel by double-click.

Dialect: UTF-8 with a BOM (Excel then reads ñ and accents), comma separator, '.' decimals,
CRLF line ends, every text cell quoted, numbers bare. That matches Windows' es-PE defaults; an
Excel set to ';' lists opens it through Data > From Text/CSV, which detects the dialect. No
"sep=," line: Excel then ignores the BOM and the accents break.
"""

from __future__ import annotations

import math
from pathlib import Path

from eudr_check.datasets.catalog import Dataset, Role
from eudr_check.fileio import write_text
from eudr_check.models import DatasetStats
from eudr_check.reasons import reason_message, verdict_name
from eudr_check.reports.due_diligence import PlotRecord, plot_records
from eudr_check.run import CheckRun

Cell = str | int | float | None

# Excel runs a cell starting with these as a formula, even when quoted (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return '"true"' if value else '"false"'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return '"' + value.replace('"', '""') + '"'


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else _round(100 * fraction, 2)


def _loss_years(ds: Dataset, records: list[PlotRecord], first: int) -> list[int]:
    """The year after the cut-off up to the latest year any plot shows (empty if none)."""
    seen = [
        y
        for rec in records
        if (s := rec.result.stats_for(ds.id)) is not None
        for y, _ in s.loss_by_year
    ]
    return list(range(first, max(seen) + 1)) if seen and max(seen) >= first else []


def _dataset_columns(ds: Dataset, years: list[int]) -> list[str]:
    if ds.role is Role.ALERTS:
        return [
            f"{ds.id}_{c}" for c in ("nodata_pct", "alert_count", "alert_area_ha", "alert_latest")
        ]
    cols = ["forest_2020_ha", "forest_2020_pct", "loss_after_cutoff_ha", "nodata_pct"]
    return [f"{ds.id}_{c}" for c in cols] + [f"{ds.id}_loss_{y}_ha" for y in years]


def _dataset_cells(ds: Dataset, s: DatasetStats | None, years: list[int]) -> list[Cell]:
    if s is None:
        return [None] * len(_dataset_columns(ds, years))
    nodata = _pct(s.nodata_fraction)
    if ds.role is Role.ALERTS:
        return [nodata, s.alert_count, _round(s.alert_area_ha, 4), s.alert_latest]
    by_year = dict(s.loss_by_year)
    return [
        _round(s.forest_2020_ha, 4),
        _pct(s.forest_2020_fraction),
        _round(s.loss_after_cutoff_ha, 4),
        nodata,
        *(_round(by_year.get(y, 0.0), 4) for y in years),
    ]


def write_results_csv(run: CheckRun, path: Path) -> Path:
    records = plot_records(run)
    first_year = run.catalog.cutoff_date.year + 1
    datasets = [(ds, _loss_years(ds, records, first_year)) for ds in run.catalog.enabled]
    header = [
        "plot_id",
        "producer_name",
        "production_place",
        "commodity",
        "verdict",
        "verdict_es",
        "area_ha",
    ]
    for ds, years in datasets:
        header += _dataset_columns(ds, years)
    header += ["reasons_es", "reasons_en", "finding_codes"]

    lines = [",".join(_cell(h) for h in header)]
    for rec in records:
        r = rec.result
        row: list[Cell] = [
            rec.plot_id,
            rec.producer_name,
            rec.production_place,
            rec.commodity,
            r.verdict.value,
            verdict_name(r.verdict, "es"),
            _round(r.area_ha, 4),
        ]
        for ds, years in datasets:
            row += _dataset_cells(ds, r.stats_for(ds.id), years)
        codes = dict.fromkeys(f.code.value for f in rec.findings)
        row += [
            " | ".join(reason_message(item, "es") for item in r.reasons),
            " | ".join(reason_message(item, "en") for item in r.reasons),
            " ".join(codes),
        ]
        lines.append(",".join(_cell(v) for v in row))
    write_text(path, "\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    return path
