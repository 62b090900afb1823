"""The one CSV writer behind every CSV the project writes: results, findings, the EU export's
index and excluded lists (also in every bundle), the compact national CSV.

Text cells are quoted; a text a spreadsheet would run as a formula (first character `=`, `+`,
`-`, `@`, tab or carriage return: CSV injection, e.g. `=HYPERLINK(...)` in a producer's name)
gets a leading apostrophe, which Excel and LibreOffice show as text. Numbers stay bare, empty
for NaN; `excel-eu` separates with `;` and writes decimal commas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import IO

from eudr_check.reports.options import CsvDialect

Cell = str | int | float | bool | None

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(text: str) -> str:
    """The text as a spreadsheet shows it and never runs it."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value: object, dialect: CsvDialect = CsvDialect.EXCEL) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return '"true"' if value else '"false"'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return repr(value).replace(".", ",") if dialect is CsvDialect.EXCEL_EU else repr(value)
    if hasattr(value, "item"):  # a numpy number
        return cell(value.item(), dialect)
    return '"' + neutral(str(value)).replace('"', '""') + '"'


def line(cells: Iterable[object], dialect: CsvDialect = CsvDialect.EXCEL,
         end: str = "\r\n") -> str:  # fmt: skip
    return dialect.separator.join(cell(v, dialect) for v in cells) + end


def write_rows(out: IO[str], rows: Iterable[Iterable[object]],
               dialect: CsvDialect = CsvDialect.EXCEL) -> None:  # fmt: skip
    for row in rows:
        out.write(line(row, dialect))


def csv_text(header: Sequence[str], rows: Iterable[Iterable[object]],
             dialect: CsvDialect = CsvDialect.EXCEL) -> str:  # fmt: skip
    return line(header, dialect) + "".join(line(r, dialect) for r in rows)
