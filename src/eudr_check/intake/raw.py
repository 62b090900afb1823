"""What every reader yields: features as found in the file, before any normalisation.

Readers keep geometries as GeoJSON-like mappings with the file's own coordinates, so problems
that shapely would silently fix (open rings, a Point with nested arrays) can still be reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WGS84 = "EPSG:4326"
# A property a reader sets when a typed coordinate could not be read: (the text, why).
COORD_ERROR = "_coordinate_error"


@dataclass(frozen=True, slots=True)
class RawFeature:
    properties: dict[str, Any]
    # {"type": ..., "coordinates": ...} or {"type": "GeometryCollection", "geometries": [...]}
    geometry: dict[str, Any] | None
    # 1-based position as the user counts it: feature number, or spreadsheet row number.
    index: int
    feature_id: str | None = None


@dataclass(frozen=True, slots=True)
class RawLayer:
    path: Path
    layer: str | None
    # CRS declared by the file (anything pyproj.CRS accepts); None when the file declares none
    # and the format does not fix one (CSV/XLSX without a CRS option, shapefile without .prj).
    crs: str | None
    features: list[RawFeature] = field(default_factory=list)
    # True when property values carry types (JSON, GeoPackage): then an Area given as a string is
    # a finding; in CSV/KML every value is text and that is normal.
    typed_properties: bool = False
