"""Value types shared by every stage: severities, finding codes and findings.

The plot table itself is a GeoDataFrame with the columns in PLOT_COLUMNS (see intake/), because
rules run vectorised over whole columns; single findings are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Columns of the normalised plot table, in order. Geometry is EPSG:4326, [lon, lat].
PLOT_COLUMNS: tuple[str, ...] = (
    "plot_id",
    "producer_name",
    "producer_country",
    "production_place",
    "declared_area_ha",
    "commodity",
    "source_file",
    "source_layer",
    "source_index",
    "geometry",
)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    REPAIRED = "repaired"


class Code(StrEnum):
    """Stable finding codes. Never rename one: reports and registries keep them for 5 years."""

    # coordinate reference system and coordinates
    CRS_REPROJECTED = "crs_reprojected"
    CRS_PROJECTED_UNKNOWN = "crs_projected_unknown"
    CRS_UNSUPPORTED = "crs_unsupported"
    COORD_OUT_OF_RANGE = "coord_out_of_range"
    LATLON_SWAPPED = "latlon_swapped"
    LOW_PRECISION = "low_precision"
    ROUNDING_DUPLICATES = "rounding_duplicates"
    Z_OR_M_VALUES = "z_or_m_values"
    # geometry shape
    GEOMETRY_MISSING = "geometry_missing"
    GEOMETRY_UNSUPPORTED = "geometry_unsupported"
    POINT_NESTED_COORDINATES = "point_nested_coordinates"
    RING_NOT_CLOSED = "ring_not_closed"
    TOO_FEW_POSITIONS = "too_few_positions"
    SELF_INTERSECTION = "self_intersection"
    SPIKE = "spike"
    DEGENERATE_POLYGON = "degenerate_polygon"
    HOLE = "hole"
    LINESTRING = "linestring"
    MULTIPART = "multipart"
    # area
    POINT_OVER_4HA = "point_over_4ha"
    AREA_MISMATCH = "area_mismatch"
    AREA_TOO_SMALL = "area_too_small"
    AREA_TOO_LARGE = "area_too_large"
    AREA_IS_STRING = "area_is_string"
    AREA_INVALID = "area_invalid"
    # identity and neighbours
    PLOT_ID_MISSING = "plot_id_missing"
    DUPLICATE_PLOT_ID = "duplicate_plot_id"
    DUPLICATE_GEOMETRY = "duplicate_geometry"
    OVERLAP = "overlap"
    # country
    COUNTRY_MISSING = "country_missing"
    COUNTRY_INVALID = "country_invalid"
    OUTSIDE_COUNTRY = "outside_country"
    NEAR_BORDER = "near_border"


Param = str | int | float


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one plot (plot_id None: the whole file)."""

    code: Code
    severity: Severity
    plot_id: str | None
    source_file: str
    source_index: int | None = None
    params: tuple[tuple[str, Param], ...] = ()
    related_plot_id: str | None = None
    fixable: bool = False

    def param(self, name: str) -> Param | None:
        return dict(self.params).get(name)

    def message(self, lang: str = "es") -> str:
        from eudr_check.rules.messages import render

        return render(self.code, lang, dict(self.params), self.related_plot_id)

    def with_severity(self, severity: Severity) -> Finding:
        return Finding(
            self.code,
            severity,
            self.plot_id,
            self.source_file,
            self.source_index,
            self.params,
            self.related_plot_id,
            self.fixable,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "plot_id": self.plot_id,
            "source_file": self.source_file,
            "source_index": self.source_index,
            "related_plot_id": self.related_plot_id,
            "fixable": self.fixable,
            "params": dict(self.params),
            "message_es": self.message("es"),
            "message_en": self.message("en"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            code=Code(data["code"]),
            severity=Severity(data["severity"]),
            plot_id=data.get("plot_id"),
            source_file=data["source_file"],
            source_index=data.get("source_index"),
            params=tuple(sorted(data.get("params", {}).items())),
            related_plot_id=data.get("related_plot_id"),
            fixable=bool(data.get("fixable", False)),
        )
