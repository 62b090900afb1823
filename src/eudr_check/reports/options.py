"""Choices a user makes about the reports, as plain enums: the command line imports these
without loading the report writers (start-up time)."""

from __future__ import annotations

from enum import StrEnum


class MapMode(StrEnum):
    """Which plots get a map in the check reports (`--maps`)."""

    ALL = "all"  # every plot with a geometry
    FLAGGED = "flagged"  # plots not deforestation-free whose map shows loss or forest
    NONE = "none"


class CsvDialect(StrEnum):
    """`excel` (comma, decimal point: Peru's and the English-speaking world's defaults) or
    `excel-eu` (semicolon, decimal comma: what Excel in Germany, France, Spain expects)."""

    EXCEL = "excel"
    EXCEL_EU = "excel-eu"

    @property
    def separator(self) -> str:
        return ";" if self is CsvDialect.EXCEL_EU else ","
