"""RawLayers -> the normalised plot table (GeoDataFrame, EPSG:4326) plus intake findings."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from eudr_check.findings import Code, Finding, Severity
from eudr_check.i18n import Param
from eudr_check.intake.countries import normalise_country
from eudr_check.intake.crs import (
    METRES_BEYOND,
    is_wgs84,
    parse_crs,
    reproject,
    suggest_utm,
    utm_zone_name,
)
from eudr_check.intake.fields import canonical, match_fields
from eudr_check.intake.geometry import build_geometries
from eudr_check.intake.raw import COORD_ERROR, RawLayer
from eudr_check.models import PLOT_COLUMNS

# "usable" is False when no geometry could be placed on the globe: later rules skip such plots.
TABLE_COLUMNS = (*PLOT_COLUMNS[:-1], "usable", "geometry")

_COMMODITIES = {
    "cafe": "coffee", "coffee": "coffee", "cafe_pergamino": "coffee", "cafeto": "coffee",
    "cacao": "cocoa", "cocoa": "cocoa",
}  # fmt: skip


def parse_area(value: Any) -> tuple[float | None, bool]:
    """(hectares or None, was_text). Accepts decimal commas and thousands separators."""
    if value is None or isinstance(value, bool):
        return None, False
    if isinstance(value, int | float):
        v = float(value)
        return (v if math.isfinite(v) else None), False
    text = str(value).strip().lower().removesuffix("ha").strip()
    if not text:
        return None, True
    if "," in text and "." in text:
        # The separator that comes last is the decimal one: "1.234,5" or "1,234.5".
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "")
    text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", text):
        return None, True
    return float(text), True


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))  # spreadsheet IDs read as 101.0
    return text or None


def normalise(
    layers: Iterable[RawLayer], *, default_country: str | None = None
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    records: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for layer in layers:
        layer_records, layer_findings = _normalise_layer(layer, default_country)
        records.extend(layer_records)
        findings.extend(layer_findings)
    frame = gpd.GeoDataFrame(
        {c: [r[c] for r in records] for c in TABLE_COLUMNS if c != "geometry"},
        geometry=[r["geometry"] for r in records],
        crs="EPSG:4326",
    )
    frame["declared_area_ha"] = frame["declared_area_ha"].astype("float64")
    frame["source_index"] = frame["source_index"].astype("int64")
    frame["usable"] = frame["usable"].astype(bool)
    return frame, findings


def _normalise_layer(
    layer: RawLayer, default_country: str | None
) -> tuple[list[dict[str, Any]], list[Finding]]:
    source = layer.path.name
    names: dict[str, None] = {}
    for feat in layer.features:
        names.update(dict.fromkeys(feat.properties))
    mapping = match_fields(names)
    findings: list[Finding] = []
    records: list[dict[str, Any]] = []

    def add(rec: dict[str, Any], code: Code, severity: Severity, fixable: bool = False,
            **params: Param) -> None:  # fmt: skip
        findings.append(
            Finding(
                code,
                severity,
                rec["plot_id"],
                source,
                rec["source_index"],
                tuple(sorted(params.items())),
                None,
                fixable,
            )
        )

    built = build_geometries([feat.geometry for feat in layer.features])
    for feat, (geom, issues) in zip(layer.features, built, strict=True):
        props = feat.properties
        rec: dict[str, Any] = {
            "plot_id": _text(props.get(mapping["plot_id"])) if "plot_id" in mapping else None,
            "producer_name": _text(props.get(mapping.get("producer_name", ""))),
            "production_place": _text(props.get(mapping.get("production_place", ""))),
            "commodity": None,
            "source_file": source,
            "source_layer": layer.layer,
            "source_index": feat.index,
            "declared_area_ha": None,
        }
        if rec["plot_id"] is None and feat.feature_id is not None:
            rec["plot_id"] = str(feat.feature_id)
        if rec["plot_id"] is None:
            stem = layer.path.stem if layer.layer is None else f"{layer.path.stem}-{layer.layer}"
            generated = f"{stem}-{feat.index}"
            rec["plot_id"] = generated
            add(rec, Code.PLOT_ID_MISSING, Severity.WARNING, generated=generated)

        commodity = _text(props.get(mapping.get("commodity", "")))
        rec["commodity"] = _COMMODITIES.get(canonical(commodity), commodity) if commodity else None

        raw_area = props.get(mapping.get("declared_area_ha", ""))
        area, was_text = parse_area(raw_area)
        if raw_area is not None and str(raw_area).strip() != "" and area is None:
            add(rec, Code.AREA_INVALID, Severity.WARNING, value=str(raw_area))
        elif area is not None and area < 0:
            add(rec, Code.AREA_INVALID, Severity.WARNING, value=str(raw_area))
            area = None
        elif area is not None and was_text and layer.typed_properties:
            add(rec, Code.AREA_IS_STRING, Severity.ERROR, True, value=str(raw_area))
        rec["declared_area_ha"] = area

        raw_country = _text(props.get(mapping.get("producer_country", "")))
        if raw_country is None:
            # None when no default either: the rules infer it from the plot's location.
            country = default_country
        else:
            country = normalise_country(raw_country)
            if country is None:
                add(rec, Code.COUNTRY_INVALID, Severity.ERROR, value=raw_country)
                country = default_country
            elif country != raw_country:
                add(
                    rec, Code.COUNTRY_INVALID, Severity.ERROR, True, value=raw_country, iso2=country
                )
        rec["producer_country"] = country

        unreadable = props.get(COORD_ERROR)
        if geom is None and unreadable is not None:  # say which cell, not "no geometry"
            value, why = unreadable
            issues = [i for i in issues if i.code is not Code.GEOMETRY_MISSING]
            add(rec, Code.COORD_UNREADABLE, Severity.ERROR, value=value, reason=why)
        for issue in issues:
            add(rec, issue.code, Severity.ERROR, issue.fixable, **issue.params)
        rec["geometry"] = geom
        rec["usable"] = geom is not None
        records.append(rec)

    _place_on_globe(layer, records, findings)
    return records, findings


def _place_on_globe(
    layer: RawLayer, records: list[dict[str, Any]], findings: list[Finding]
) -> None:
    """Reproject to WGS84 when the file declares a CRS; flag bare metres with a UTM suggestion."""
    source = layer.path.name
    built = [r for r in records if r["geometry"] is not None]
    if not built:
        return
    crs = parse_crs(layer.crs) if layer.crs else None
    if layer.crs and crs is None:
        for r in built:
            findings.append(
                Finding(
                    Code.CRS_UNSUPPORTED,
                    Severity.ERROR,
                    r["plot_id"],
                    source,
                    r["source_index"],
                    (("crs", layer.crs),),
                )
            )
            r["usable"] = False
        return
    if crs is not None and not is_wgs84(crs):
        label = crs.to_string()
        for r, geom in zip(built, reproject([r["geometry"] for r in built], crs), strict=True):
            r["geometry"] = geom
            findings.append(
                Finding(
                    Code.CRS_REPROJECTED,
                    Severity.REPAIRED,
                    r["plot_id"],
                    source,
                    r["source_index"],
                    (("crs", label),),
                )
            )
        return
    # No CRS, or WGS84 by default (GeoJSON, KML): metres there are UTM mislabelled as degrees.
    xy, owner = shapely.get_coordinates([r["geometry"] for r in built], return_index=True)
    first = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    metres = (np.abs(xy[first]) > METRES_BEYOND).any(axis=1)
    for k in np.flatnonzero(metres).tolist():
        r = built[int(owner[first[k]])]
        x, y = float(xy[first[k], 0]), float(xy[first[k], 1])
        epsg = suggest_utm(x, y, r["producer_country"])
        params: tuple[tuple[str, Param], ...] = (("x", round(x, 1)), ("y", round(y, 1)))
        if epsg is not None:
            params += (("epsg", epsg), ("zone", utm_zone_name(epsg)))
        findings.append(
            Finding(
                Code.CRS_PROJECTED_UNKNOWN,
                Severity.ERROR,
                r["plot_id"],
                source,
                r["source_index"],
                params,
            )
        )
        r["usable"] = False
