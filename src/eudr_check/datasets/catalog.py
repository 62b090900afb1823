"""The dataset catalog (config/datasets.yaml), loaded and validated."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from eudr_check.errors import ConfigError
from eudr_check.settings import Settings, get_settings


class Role(StrEnum):
    FOREST_LOSS = "forest_loss"  # tree cover 2000 + loss year (Hansen GFC)
    FOREST_2020 = "forest_2020"  # a forest map of 2020 (JRC GFC2020)
    ALERTS = "alerts"  # near-real-time alerts (GFW integrated)
    TMF = "tmf"  # JRC Tropical Moist Forest: deforestation and degradation years, transitions
    LAND_COVER = "land_cover"  # a land-cover map of classes (ESA WorldCover)
    LOSS_YEAR = "loss_year"  # forest loss as the year it happened (MINAM GeoBosques)


class TileScheme(StrEnum):
    HANSEN = "hansen"  # 10S_080W
    JRC = "jrc"  # S10_W80
    WORLDCOVER = "worldcover"  # 3° tiles by their south-west corner: S06W078
    SINGLE = "single"  # one file for the whole product (a national map)


class Layer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    file: str
    nodata: int | None = None
    # The values' type when read (default: uint8; alerts uint16). TMF's years need int16.
    dtype: Literal["uint8", "uint16", "int16"] | None = None
    # A layer that stands for one year (GeoBosques' yearly alert archives): any value but 0 and
    # nodata is an event in that year.
    year: int | None = None


class VerdictPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    undetermined_nodata_fraction: float = Field(0.05, ge=0, le=1)
    detected_loss_ha: float = Field(0.5, ge=0)
    detected_loss_fraction: float = Field(0.10, ge=0, le=1)
    review_forest_fraction: float = Field(0.10, ge=0, le=1)
    point_area_ha: float = Field(4.0, gt=0)


class IndicatorPolicy(BaseModel):
    """Whisp's four indicators: present when a dataset shows it on more than this share of the
    plot (any amount for a plot given as a point). Recorded in every manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    treecover_pct: float = Field(10.0, ge=0, le=100)
    commodities_pct: float = Field(10.0, ge=0, le=100)
    disturbance_before_pct: float = Field(10.0, ge=0, le=100)
    disturbance_after_pct: float = Field(10.0, ge=0, le=100)
    points_any: bool = True
    # A dataset with no data over more of the plot has not looked: its indicators are unknown.
    max_nodata_fraction: float = Field(0.05, ge=0, le=1)
    # A commodity mapped in 2020 or a disturbance before 2021 explains "forest in 2020, no
    # loss since" (regrowth, a plantation): the plot is free, with that reason and map named.
    explain_forest: bool = True


class Dataset(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    version: str
    role: Role
    tiles: TileScheme
    pixel_deg: float = Field(gt=0)
    layers: dict[str, Layer]
    encoding: dict[str, Any] = Field(default_factory=dict)
    location: str
    source: str | None = None
    licence: str
    attribution: str
    enabled: bool = True
    optional: bool = False
    # How often the nightly refresh asks the source for a newer file (a conditional GET):
    # alert layers change daily; "never" leaves the files as downloaded.
    refresh: Literal["daily", "weekly", "never"] = "never"
    # Set when the run uses another version than the catalog's (found in the data folder).
    catalog_version: str | None = None

    @model_validator(mode="after")
    def _layers_name_tiles(self) -> Dataset:
        if self.tiles is TileScheme.SINGLE:  # one file: nothing to name
            return self
        for name, layer in self.layers.items():
            if "{tile}" not in layer.file:
                raise ValueError(f"layer {name}: file name must contain {{tile}}")
        return self

    def file_name(self, layer: str, tile: str) -> str:
        return self.layers[layer].file.format(version=self.version, tile=tile)

    @property
    def gives_alerts(self) -> bool:
        """Reported as alerts: alert layers, and GeoBosques' yearly early-warning archives."""
        return self.role is Role.ALERTS or (
            self.role is Role.LOSS_YEAR and bool(self.encoding.get("as_alerts"))
        )


class AreaKind(StrEnum):
    """What a vector layer's polygons are, for the legality findings."""

    PROTECTED_AREA = "protected_area"
    BUFFER_ZONE = "buffer_zone"
    INDIGENOUS_LAND = "indigenous_land"
    PRODUCTION_FOREST = "production_forest"


class VectorFields(BaseModel):
    """Which attribute of the layer holds what (names as the producer writes them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    category: str | None = None
    zoning: str | None = None
    id: str | None = None


class VectorDataset(BaseModel):
    """A layer of polygons (protected areas, territories) read whole with pyogrio, indexed once
    and intersected exactly with each plot on the ellipsoid."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    version: str
    kind: AreaKind
    file: str  # {data_dir}/... ; GeoPackage, Shapefile (or a zip of one), GeoJSON
    layer: str | None = None  # in a multi-layer file (GeoPackage, WDPA's gdb)
    fields: VectorFields
    # Category values (as in `fields.category`, compared without case or accents) that make an
    # overlap an error rather than a warning: strict protection, where no crop may be.
    strict_categories: tuple[str, ...] = ()
    # Category values to leave out (WDPA: proposed areas, marine-only ones, ...).
    skip_categories: tuple[str, ...] = ()
    source: str | None = None  # an ArcGIS REST layer URL (…/MapServer/0) or a file URL
    licence: str
    attribution: str
    enabled: bool = True

    def path(self, data_dir: Path) -> Path:
        return Path(self.file.format(data_dir=data_dir, version=self.version))


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    cutoff_date: dt.date
    datasets: list[Dataset]
    verdict: VerdictPolicy = VerdictPolicy()
    indicators: IndicatorPolicy = IndicatorPolicy()
    vector_layers: list[VectorDataset] = Field(default_factory=list)

    @property
    def enabled_vectors(self) -> list[VectorDataset]:
        return [v for v in self.vector_layers if v.enabled]

    @field_validator("datasets")
    @classmethod
    def _unique_ids(cls, datasets: list[Dataset]) -> list[Dataset]:
        ids = [d.id for d in datasets]
        if len(ids) != len(set(ids)):
            raise ValueError("dataset ids must be unique")
        return datasets

    def get(self, dataset_id: str) -> Dataset:
        for d in self.datasets:
            if d.id == dataset_id:
                return d
        known = ", ".join(d.id for d in self.datasets)
        raise ConfigError(f"unknown dataset {dataset_id!r} (known: {known})")

    @property
    def enabled(self) -> list[Dataset]:
        return [d for d in self.datasets if d.enabled]

    def with_versions(self, versions: dict[str, str]) -> Catalog:
        """The same catalog with some dataset versions replaced (e.g. GFC-2025-v1.13)."""
        datasets = [
            d.model_copy(update={"version": versions[d.id]}) if d.id in versions else d
            for d in self.datasets
        ]
        return self.model_copy(update={"datasets": datasets})


def default_catalog_path(settings: Settings | None = None) -> Path:
    """The settings' catalog (EUDR_CHECK_CATALOG), else config/datasets.yaml here, else the one
    beside the source tree."""
    chosen = (settings or get_settings()).catalog
    if chosen is not None:
        return chosen
    here = Path.cwd() / "config" / "datasets.yaml"
    if here.is_file():
        return here
    return Path(__file__).resolve().parents[3] / "config" / "datasets.yaml"


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or default_catalog_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the dataset catalog ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: invalid dataset catalog: {problems}") from None
