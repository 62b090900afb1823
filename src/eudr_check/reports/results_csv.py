"""Results as a spreadsheet: one row per plot, made to open in Excel by double-click.

Dialect: UTF-8 with a BOM (Excel then reads ñ and accents), comma separator, '.' decimals,
CRLF line ends, every text cell quoted, numbers bare. That matches Windows' es-PE defaults; an
Excel set to ';' lists opens it through Data > From Text/CSV, which detects the dialect. No
"sep=," line: Excel then ignores the BOM and the accents break.

The loss-by-year columns run from the year after the cut-off to the last year of the loss
data (2024 for Hansen GFC-2024-v1.12, named by its version), always, so files of different runs
line up; a later year a plot shows (a catalog that names its data otherwise) adds columns. Rows
are kept as their values (one JSON line each, in the staging folder) until the run ends.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eudr_check.country_risk import country_risk
from eudr_check.datasets.catalog import Catalog, Dataset, Role
from eudr_check.i18n import Lang
from eudr_check.indicators import NAMES
from eudr_check.models import DatasetStats
from eudr_check.reasons import reason_message, verdict_name
from eudr_check.reports.csv_out import line as csv_line
from eudr_check.reports.csv_out import write_rows
from eudr_check.reports.options import CsvDialect
from eudr_check.reports.records import PlotRecord
from eudr_check.reports.staging import Staging

Cell = str | int | float | None


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else _round(100 * fraction, 2)


# Stands in a row's loss-by-year for "no data over the whole plot": the year cells stay empty.
_UNMEASURED = "unmeasured"


_LAND_COVER = ("nodata_pct", "tree_cover_pct", "cropland_pct", "main_class")
_CROPLAND = 40  # ESA WorldCover's cropland class


def _dataset_columns(ds: Dataset, years: list[int]) -> list[str]:
    if ds.gives_alerts:
        return [
            f"{ds.id}_{c}" for c in ("nodata_pct", "alert_count", "alert_area_ha", "alert_latest")
        ]
    if ds.role is Role.LAND_COVER:
        return [f"{ds.id}_{c}" for c in _LAND_COVER]
    cols = ["forest_2020_ha", "forest_2020_pct", "loss_after_cutoff_ha", "nodata_pct"]
    return [f"{ds.id}_{c}" for c in cols] + [f"{ds.id}_loss_{y}_ha" for y in years]


def _dataset_cells(ds: Dataset, s: DatasetStats | None) -> tuple[list[Cell], dict[str, float]]:
    """A dataset's cells of one row, and its loss by year (placed once the years are known);
    cells None when the plot has no statistics for the dataset."""
    if s is None:
        return [], {}
    nodata = _pct(s.nodata_fraction)
    if s.nodata_fraction >= 1.0 or s.error:  # nothing measured: empty cells, never 0
        first = ds.gives_alerts or ds.role is Role.LAND_COVER  # nodata is their first column
        empty: list[Cell] = [nodata, None, None, None] if first else [None, None, None, nodata]
        return empty, {_UNMEASURED: 1.0}
    if ds.gives_alerts:
        return [nodata, s.alert_count, _round(s.alert_area_ha, 4), s.alert_latest], {}
    if ds.role is Role.LAND_COVER:
        return _land_cover_cells(ds, s, nodata), {}
    cells: list[Cell] = [
        _round(s.forest_2020_ha, 4),
        _pct(s.forest_2020_fraction),
        _round(s.loss_after_cutoff_ha, 4),
        nodata,
    ]
    return cells, {str(y): ha for y, ha in s.loss_by_year}


def _land_cover_cells(ds: Dataset, s: DatasetStats, nodata: float | None) -> list[Cell]:
    classes = dict(s.land_cover)
    trees = sum(classes.get(int(c), 0.0) for c in ds.encoding.get("tree_classes", [10]))
    area = s.plot_area_ha
    main = max(classes, key=lambda c: classes[c]) if classes else None
    crop = classes.get(_CROPLAND, 0.0)
    if area <= 0:
        return [nodata, None, None, main]
    return [nodata, _round(100 * trees / area, 2), _round(100 * crop / area, 2), main]


class ResultsCsvWriter:
    """`<stem>.results.csv`."""

    def __init__(self, path: Path, catalog: Catalog, staging: Staging,
                 dialect: CsvDialect = CsvDialect.EXCEL) -> None:  # fmt: skip
        self.path = path
        self.dialect = CsvDialect(dialect)
        self._staging = staging
        self.datasets = catalog.enabled
        self.first_year = catalog.cutoff_date.year + 1
        self._latest = {ds.id: 0 for ds in self.datasets}  # the latest loss year seen
        self._part = staging.part("results.jsonl")

    def add(self, records: Sequence[PlotRecord]) -> None:
        for rec in records:
            r = rec.result
            head: list[Cell] = [
                rec.plot_id,
                rec.producer_name,
                rec.production_place,
                rec.producer_country,
                _risk(rec.producer_country),
                rec.commodity,
                r.verdict.value,
                verdict_name(r.verdict, Lang.ES),
                verdict_name(r.verdict, Lang.EN),
                _round(r.area_ha, 4),
            ]
            per_dataset = []
            for ds in self.datasets:
                cells, by_year = _dataset_cells(ds, r.stats_for(ds.id))
                if by_year:
                    years = [int(y) for y in by_year if y.isdigit()]
                    self._latest[ds.id] = max(self._latest[ds.id], 0, *years)
                per_dataset.append([cells, by_year])
            codes = dict.fromkeys(f.code.value for f in rec.findings)
            ind = rec.indicators.as_row() if rec.indicators is not None else {}
            tail: list[Cell] = [
                *(ind.get(n) for n in (*NAMES, "risk_pcrop")),
                " | ".join(reason_message(item, Lang.ES) for item in r.reasons),
                " | ".join(reason_message(item, Lang.EN) for item in r.reasons),
                " ".join(codes),
            ]
            row = {"head": head, "datasets": per_dataset, "tail": tail}
            self._part.write(json.dumps(row, ensure_ascii=False) + "\n")

    @staticmethod
    def _data_year(ds: Dataset) -> int:
        """The last year of loss a loss dataset can show: the year in its version
        (GFC-2024-v1.12: 2024); 0 for other datasets or a version naming no year."""
        if ds.role not in (Role.FOREST_LOSS, Role.LOSS_YEAR):
            return 0
        found = re.findall(r"(?<!\d)(20\d\d)(?!\d)", ds.version)  # 2001_2024: the last
        return int(found[-1]) if found else 0

    def _years(self, ds: Dataset) -> list[int]:
        """The year after the cut-off up to the data's last year, or a later year a plot shows."""
        if ds.gives_alerts or ds.role is Role.LAND_COVER:
            return []
        latest = max(self._latest[ds.id], self._data_year(ds))
        return list(range(self.first_year, latest + 1)) if latest >= self.first_year else []

    def finish(self) -> Path:
        self._part.close()
        years = {ds.id: self._years(ds) for ds in self.datasets}
        header = ["plot_id", "producer_name", "production_place", "producer_country",
                  "country_risk", "commodity", "verdict", "verdict_es", "verdict_en",
                  "area_ha"]  # fmt: skip
        for ds in self.datasets:
            header += _dataset_columns(ds, years[ds.id])
        header += [*NAMES, "risk_pcrop", "reasons_es", "reasons_en", "finding_codes"]
        with (
            self._staging.stage(self.path).open("w", encoding="utf-8-sig", newline="") as out,
            Path(self._part.name).open(encoding="utf-8") as rows,
        ):
            out.write(csv_line(header, self.dialect))
            write_rows(out, (self._cells(json.loads(r), years) for r in rows), self.dialect)
        return self.path

    def _cells(self, row: dict[str, Any], years: dict[str, list[int]]) -> list[Cell]:
        cells: list[Cell] = list(row["head"])
        for ds, (values, by_year) in zip(self.datasets, row["datasets"], strict=True):
            wanted = years[ds.id]
            if not values:
                cells += [None] * len(_dataset_columns(ds, wanted))
                continue
            cells += values
            if not ds.gives_alerts and ds.role is not Role.LAND_COVER:
                unmeasured = _UNMEASURED in by_year  # no data over the whole plot
                cells += [None if unmeasured else _round(by_year.get(str(y), 0.0), 4)
                          for y in wanted]  # fmt: skip
        return cells + list(row["tail"])

    def discard(self) -> None:
        self._part.close()


def _risk(country: str | None) -> str | None:
    """The EU benchmark of the producer country (Implementing Regulation (EU) 2025/1093)."""
    found = country_risk(country)
    return None if found is None else found.level.value
