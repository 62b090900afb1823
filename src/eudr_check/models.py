"""Value types of the check: per-dataset statistics and a plot's result.

The plot table itself is a GeoDataFrame with the columns in PLOT_COLUMNS (see intake/), because
rules run vectorised over whole columns. Findings are in `findings`, verdicts and their reasons
in `reasons`; no value type renders its own text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eudr_check.reasons import ReasonItem, Verdict

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


@dataclass(frozen=True, slots=True)
class Overlap:
    """A plot's overlap with one polygon of a vector layer (areas on the WGS84 ellipsoid)."""

    name: str
    kind: str  # AreaKind
    category: str | None
    zoning: str | None
    strict: bool  # a category where no crop may be
    area_ha: float
    share: float  # of the plot's area

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "category": self.category,
                "zoning": self.zoning, "strict": self.strict, "area_ha": self.area_ha,
                "share": self.share}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Overlap:
        return cls(str(d["name"]), str(d["kind"]), d.get("category"), d.get("zoning"),
                   bool(d.get("strict")), float(d["area_ha"]), float(d["share"]))  # fmt: skip


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
    loss_before_cutoff_ha: float | None = None  # any loss up to the cut-off year (disturbance)
    commodity_2020_ha: float | None = None  # a commodity or plantation mapped in 2020
    # A land-cover map (ESA WorldCover): hectares per class, and its tree cover when it is a
    # map of the cut-off year (evidence for Whisp's indicator 1; not a forest map the verdict uses).
    land_cover: tuple[tuple[int, float], ...] = ()
    tree_cover_2020_ha: float | None = None
    alert_count: int | None = None
    alert_area_ha: float | None = None
    alert_latest: str | None = None  # ISO date of the newest alert after the cut-off
    # The highest confidence among them, as the product codes it (GFW: 2 low, 3 high, 4 highest)
    alert_confidence: int | None = None
    overlaps: tuple[Overlap, ...] = ()  # a vector layer's polygons under the plot
    vector: bool = False  # from a vector layer (legality), not a raster (the verdict)

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
            "loss_before_cutoff_ha": self.loss_before_cutoff_ha,
            "commodity_2020_ha": self.commodity_2020_ha,
            # Only land-cover maps have these: other datasets' stored stats stay as they were.
            **(
                {
                    "land_cover": {str(c): ha for c, ha in self.land_cover},
                    "tree_cover_2020_ha": self.tree_cover_2020_ha,
                }
                if self.land_cover or self.tree_cover_2020_ha is not None
                else {}
            ),
            "alert_count": self.alert_count,
            "alert_area_ha": self.alert_area_ha,
            "alert_latest": self.alert_latest,
            **({"alert_confidence": self.alert_confidence} if self.alert_confidence else {}),
            # Only vector layers have overlaps: raster datasets' stored stats stay as they were.
            **(
                {"vector": True, "overlaps": [o.to_dict() for o in self.overlaps]}
                if self.vector
                else {}
            ),
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
            loss_before_cutoff_ha=d.get("loss_before_cutoff_ha"),
            commodity_2020_ha=d.get("commodity_2020_ha"),
            land_cover=tuple((int(c), float(ha)) for c, ha in d.get("land_cover", {}).items()),
            tree_cover_2020_ha=d.get("tree_cover_2020_ha"),
            alert_count=d.get("alert_count"),
            alert_area_ha=d.get("alert_area_ha"),
            alert_latest=d.get("alert_latest"),
            alert_confidence=d.get("alert_confidence"),
            overlaps=tuple(Overlap.from_dict(o) for o in d.get("overlaps", ())),
            vector=bool(d.get("vector", False)),
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
