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
    NO_FOREST_NO_LOSS = "no_forest_no_loss"
    POINT_BUFFERED = "point_buffered"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class DatasetStats:
    """What one dataset says about one plot. Areas in hectares on the WGS84 ellipsoid."""

    dataset_id: str
    version: str
    plot_area_ha: float  # area of the analysed shape as the raster grid sees it
    nodata_fraction: float  # share of the plot without data (nodata values or missing tiles)
    missing_tiles: tuple[str, ...] = ()
    error: str | None = None  # a tile that could not be read: the reason, for the report
    forest_2020_ha: float | None = None
    loss_after_cutoff_ha: float | None = None  # inside 2020 forest
    loss_by_year: tuple[tuple[int, float], ...] = ()  # (year, ha) from the year after the cut-off
    alert_count: int | None = None
    alert_area_ha: float | None = None
    alert_latest: str | None = None  # ISO date of the newest alert after the cut-off

    @property
    def forest_2020_fraction(self) -> float | None:
        if self.forest_2020_ha is None or self.plot_area_ha <= 0:
            return None
        return self.forest_2020_ha / self.plot_area_ha

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id,
            "version": self.version,
            "plot_area_ha": self.plot_area_ha,
            "nodata_fraction": self.nodata_fraction,
            "missing_tiles": list(self.missing_tiles),
            "error": self.error,
            "forest_2020_ha": self.forest_2020_ha,
            "forest_2020_fraction": self.forest_2020_fraction,
            "loss_after_cutoff_ha": self.loss_after_cutoff_ha,
            "loss_by_year": {str(y): ha for y, ha in self.loss_by_year},
            "alert_count": self.alert_count,
            "alert_area_ha": self.alert_area_ha,
            "alert_latest": self.alert_latest,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetStats:
        return cls(
            dataset_id=d["dataset_id"],
            version=d["version"],
            plot_area_ha=d["plot_area_ha"],
            nodata_fraction=d["nodata_fraction"],
            missing_tiles=tuple(d.get("missing_tiles", ())),
            error=d.get("error"),
            forest_2020_ha=d.get("forest_2020_ha"),
            loss_after_cutoff_ha=d.get("loss_after_cutoff_ha"),
            loss_by_year=tuple((int(y), float(ha)) for y, ha in d.get("loss_by_year", {}).items()),
            alert_count=d.get("alert_count"),
            alert_area_ha=d.get("alert_area_ha"),
            alert_latest=d.get("alert_latest"),
        )


@dataclass(frozen=True, slots=True)
class ReasonItem:
    code: Reason
    dataset_id: str | None = None
    params: tuple[tuple[str, Param], ...] = ()

    def message(self, lang: str = "es") -> str:
        from eudr_check.verdict_messages import render_reason

        return render_reason(self, lang)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "dataset_id": self.dataset_id,
            "params": dict(self.params),
            "message_es": self.message("es"),
            "message_en": self.message("en"),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReasonItem:
        return cls(
            Reason(d["code"]), d.get("dataset_id"), tuple(sorted(d.get("params", {}).items()))
        )


@dataclass(frozen=True, slots=True)
class PlotResult:
    """The verdict for one plot with everything that led to it."""

    plot_id: str
    verdict: Verdict
    reasons: tuple[ReasonItem, ...]
    stats: tuple[DatasetStats, ...]
    area_ha: float | None  # geodesic area of the analysed shape (a point's buffer circle)
    buffered_point: bool = False

    def stats_for(self, dataset_id: str) -> DatasetStats | None:
        return next((s for s in self.stats if s.dataset_id == dataset_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plot_id": self.plot_id,
            "verdict": self.verdict.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "stats": [s.to_dict() for s in self.stats],
            "area_ha": self.area_ha,
            "buffered_point": self.buffered_point,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlotResult:
        return cls(
            plot_id=d["plot_id"],
            verdict=Verdict(d["verdict"]),
            reasons=tuple(ReasonItem.from_dict(r) for r in d.get("reasons", [])),
            stats=tuple(DatasetStats.from_dict(s) for s in d.get("stats", [])),
            area_ha=d.get("area_ha"),
            buffered_point=bool(d.get("buffered_point", False)),
        )
