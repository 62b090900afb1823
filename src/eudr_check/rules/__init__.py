"""EUDR geolocation rules: findings for every plot and, on request, repaired geometries.

`validate` runs the stages in order: coordinates and swapped axes, geometry shape (vectorised
scans, then per-plot repair of the flagged few), areas, country, and plot-versus-plot rules.
Later stages always look at the repaired candidate, so a fixable problem is reported once and
does not cascade; `fix` only decides whether repairs are applied to the output and reported as
`repaired` instead of `error`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from eudr_check.findings import Code, Finding, Severity, finding_record
from eudr_check.gcpause import paused_gc
from eudr_check.i18n import Param
from eudr_check.intake import PlotTable
from eudr_check.intake.geometry import BuildIssue as Issue
from eudr_check.rules import country as ctry
from eudr_check.rules import rings
from eudr_check.rules.area import to_equal_area
from eudr_check.rules.neighbours import duplicate_geometries, duplicate_ids, overlaps
from eudr_check.rules.repair import repair_geometry, round6
from eudr_check.rules.thresholds import EU_POINT_MAX_HA, RuleThresholds

__all__ = ["RuleThresholds", "ValidationReport", "validate"]

WARNING_CODES = frozenset(
    {
        Code.LOW_PRECISION,
        Code.AREA_MISMATCH,
        Code.AREA_TOO_SMALL,
        Code.AREA_TOO_LARGE,
        Code.OVERLAP,
        Code.NEAR_BORDER,
        Code.MULTIPART,
        Code.PLOT_ID_MISSING,
        Code.AREA_INVALID,
    }
)

# Filled in whether or not --fix is given: the value is certain, and nothing was changed that
# the user gave.
ALWAYS_APPLIED = frozenset({Code.COUNTRY_INFERRED})

_POLYGONAL = (3, 6)  # shapely type ids: Polygon, MultiPolygon
_POINTS = (0, 4)  # Point, MultiPoint


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Plots (repaired when fixed) with `area_ha`, `status` and `original_wkt`, plus findings."""

    plots: gpd.GeoDataFrame
    findings: list[Finding]
    fixed: bool
    thresholds: RuleThresholds = field(default_factory=RuleThresholds)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def error_plot_ids(self) -> set[str]:
        return {f.plot_id for f in self.errors if f.plot_id is not None}

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((f.code.value, f.severity.value) for f in self.findings)


class _Collector:
    """Issues per plot row, turned into Findings at the end."""

    def __init__(self, plots: gpd.GeoDataFrame, fix: bool) -> None:
        self.ids = plots["plot_id"].tolist()
        self.files = plots["source_file"].tolist()
        self.rows = plots["source_index"].tolist()
        self.fix = fix
        self.findings: list[Finding] = []

    def add(self, i: int, issue: Issue, related: int | None = None) -> None:
        if issue.code in ALWAYS_APPLIED:
            severity = Severity.REPAIRED
        elif issue.fixable:
            severity = Severity.REPAIRED if self.fix else Severity.ERROR
        elif issue.code in WARNING_CODES:
            severity = Severity.WARNING
        else:
            severity = Severity.ERROR
        params: tuple[tuple[str, Param], ...] = tuple(sorted(issue.params.items()))
        self.findings.append(
            Finding(
                issue.code,
                severity,
                self.ids[i],
                self.files[i],
                self.rows[i],
                params,
                None if related is None else self.ids[related],
                issue.fixable,
            )
        )


def _intake_findings(findings: list[Finding], fix: bool) -> list[Finding]:
    if not fix:
        return list(findings)
    return [f.with_severity(Severity.REPAIRED) if f.fixable and f.severity is Severity.ERROR
            else f for f in findings]  # fmt: skip


def validate(
    table: PlotTable, *, fix: bool = False, thresholds: RuleThresholds | None = None
) -> ValidationReport:
    with paused_gc():
        return _validate(table, fix, thresholds or RuleThresholds())


def _validate(table: PlotTable, fix: bool, th: RuleThresholds) -> ValidationReport:
    plots = table.plots.reset_index(drop=True)
    original = np.asarray(plots.geometry.values, dtype=object)
    geoms = original.copy()
    usable = plots["usable"].to_numpy(bool).copy()
    # Missing countries may come as None or NaN, depending on how the table was built.
    iso = np.array([c if isinstance(c, str) else None for c in plots["producer_country"]],
                   dtype=object)  # fmt: skip
    # Rows whose declared country is unreadable keep that error: nothing is inferred for them.
    invalid = {(f.source_file, f.source_index) for f in table.findings
               if f.code is Code.COUNTRY_INVALID}  # fmt: skip
    declared = np.array([iso[i] is not None or (src, int(idx)) in invalid for i, (src, idx)
                         in enumerate(zip(plots["source_file"], plots["source_index"],
                                          strict=True))], dtype=bool)  # fmt: skip
    out = _Collector(plots, fix)

    _coordinates(geoms, usable, iso, declared, out)
    _shape(geoms, usable, th, out)
    # Areas and overlaps are measured in an equal-area projection, computed once.
    projected = np.full(len(geoms), None, dtype=object)
    projected[usable] = to_equal_area(geoms[usable])
    area = _areas(geoms, projected, usable, plots["declared_area_ha"].to_numpy(float), th, out)
    _country(geoms, usable, iso, declared, th, out)
    _neighbours(geoms, projected, usable, th, out)

    findings = _intake_findings(table.findings, fix) + out.findings
    findings.sort(key=lambda f: (f.source_file, f.source_index or 0))
    result = plots.drop(columns=["usable"]).copy()
    result["area_ha"] = area
    result["producer_country"] = iso
    if fix:
        changed = _changed(original, geoms)
        result["original_wkt"] = [
            shapely.to_wkt(g, rounding_precision=-1) if c and g is not None else None
            for g, c in zip(original, changed, strict=True)
        ]
        result = result.set_geometry(gpd.GeoSeries(geoms, crs="EPSG:4326"))
    result["status"] = _status(result["plot_id"].tolist(), findings)
    return ValidationReport(result, findings, fix, th)


def _changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    same_object = np.fromiter((a is b for a, b in zip(before, after, strict=True)), bool)
    equal = shapely.equals_exact(before, after, tolerance=0.0)
    changed: np.ndarray = ~(same_object | (equal & ~shapely.is_missing(after)))
    return changed


def _status(ids: list[str], findings: list[Finding]) -> list[str]:
    worst: dict[str, str] = {}
    for f in findings:
        if f.plot_id is None:
            continue
        if f.severity is Severity.ERROR:
            worst[f.plot_id] = "error"
        elif f.severity is Severity.WARNING and worst.get(f.plot_id) != "error":
            worst[f.plot_id] = "warning"
    return [worst.get(i, "ok") for i in ids]


def _coordinates(
    geoms: np.ndarray, usable: np.ndarray, iso: np.ndarray, declared: np.ndarray,
    out: _Collector,
) -> None:  # fmt: skip
    """Out-of-range coordinates, and latitude/longitude swapped: judged by the declared country,
    or, when none is declared, by the swapped position falling in a country and the given one
    in none."""
    idx = np.flatnonzero(usable)
    if not len(idx):
        return
    b = shapely.bounds(geoms[idx])
    out_range = (np.abs(b[:, [0, 2]]) > 180).any(axis=1) | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
    cent = ctry.centroids(geoms[idx])
    inside = ctry.inside_declared(cent, iso[idx])
    known = ctry.has_boundaries(iso[idx])
    undeclared = ~declared[idx]
    nowhere = np.zeros(len(idx), bool)
    if undeclared.any():
        nowhere[undeclared] = ctry.locate(cent[undeclared]) == None  # noqa: E711
    for k in np.flatnonzero(out_range | (known & ~inside) | (undeclared & nowhere)).tolist():
        i = int(idx[k])
        swapped = ctry.swap_xy(geoms[i])
        sb = shapely.bounds(swapped)
        swapped_ok = (
            abs(sb[0]) <= 180 and abs(sb[2]) <= 180 and abs(sb[1]) <= 90 and abs(sb[3]) <= 90
        )
        if swapped_ok and (known[k] or undeclared[k]):
            c = ctry.centroids(np.array([swapped], dtype=object))
            country = iso[i] if known[k] else ctry.locate(c)[0]
            if country is not None and ctry.inside_declared(c, np.array([country], object))[0]:
                out.add(i, Issue(Code.LATLON_SWAPPED, {"country": country}, True))
                geoms[i] = swapped
                continue
        if out_range[k]:
            x, y = _worst_xy(geoms[i])
            out.add(i, Issue(Code.COORD_OUT_OF_RANGE, {"x": x, "y": y}))
            usable[i] = False


def _worst_xy(geom: shapely.Geometry) -> tuple[float, float]:
    xy = shapely.get_coordinates(geom)
    bad = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    x, y = xy[int(np.argmax(bad))]
    return float(x), float(y)


def _shape(geoms: np.ndarray, usable: np.ndarray, th: RuleThresholds, out: _Collector) -> None:
    """Vectorised scans flag the plots that need the per-plot repair; the rest are rounded."""
    idx = np.flatnonzero(usable)
    if not len(idx):
        return
    g = geoms[idx]
    m = len(g)
    low, decimals = rings.low_precision(g, m)
    for k in np.flatnonzero(low).tolist():
        d = int(decimals[k])
        out.add(int(idx[k]), Issue(Code.LOW_PRECISION, {"decimals": d, "metres": _metres(d)}))

    types = shapely.get_type_id(g)
    polygonal = np.isin(types, _POLYGONAL)
    rc = rings.ring_coords(g)
    flagged = ~(polygonal | np.isin(types, _POINTS))
    flagged |= rings.rounding_duplicates(rc, m) > 0
    flagged |= rings.spikes(rc, m, th.spike_angle_deg) > 0
    flagged |= rings.per_plot_any(rc.ring_hole, rc.ring_plot, m)
    flagged |= polygonal & ~shapely.is_valid(g)
    flagged |= (types == 6) & (shapely.get_num_geometries(g) > 1)
    flagged |= polygonal & (shapely.area(g) <= 0)
    # Plots already on the 6-decimal grid stay as they are; the others are rounded, which moves
    # vertices by up to 5 cm and, rarely, makes a thin plot invalid: those go to repair.
    xy, owner = shapely.get_coordinates(g, return_index=True)
    off_grid = rings.per_plot_any(np.any(np.round(xy, 6) != xy, axis=1), owner, m) & ~flagged
    off = np.flatnonzero(off_grid)
    rounded = round6(g[off])
    broken = ~shapely.is_valid(rounded)
    flagged[off[broken]] = True
    geoms[idx[off[~broken]]] = rounded[~broken]

    for k in np.flatnonzero(flagged).tolist():
        i = int(idx[k])
        outcome = repair_geometry(geoms[i], th)
        for issue in outcome.issues:
            out.add(i, issue)
        geoms[i] = outcome.geometry
        usable[i] = outcome.geometry is not None


def _metres(decimals: int) -> int:
    return max(1, round(111_320 * 10.0**-decimals))


def _areas(
    geoms: np.ndarray,
    projected: np.ndarray,
    usable: np.ndarray,
    declared: np.ndarray,
    th: RuleThresholds,
    out: _Collector,
) -> np.ndarray:  # fmt: skip
    area = np.full(len(geoms), np.nan)
    idx = np.flatnonzero(usable)
    if not len(idx):
        return area
    g = geoms[idx]
    area[idx] = shapely.area(projected[idx]) / 10_000.0
    points = np.isin(shapely.get_type_id(g), _POINTS)
    for k, i in enumerate(idx.tolist()):
        dec = declared[i]
        if points[k]:
            area[i] = np.nan
            if dec > EU_POINT_MAX_HA:
                out.add(i, Issue(Code.POINT_OVER_4HA, {"area": _ha(dec)}))
            size = dec
        else:
            size = area[i]
            if dec > 0 and abs(dec - size) > th.area_mismatch_fraction * size:
                pct = round(100 * (dec - size) / size)
                params: dict[str, Param] = {
                    "declared": _ha(dec),
                    "measured": _ha(size),
                    "percent": f"{pct:+d}",
                }
                out.add(i, Issue(Code.AREA_MISMATCH, params))
        if size < th.min_area_ha:
            out.add(i, Issue(Code.AREA_TOO_SMALL, {"area": _ha(size), "limit": th.min_area_ha}))
        elif size > th.max_area_ha:
            out.add(i, Issue(Code.AREA_TOO_LARGE, {"area": _ha(size), "limit": th.max_area_ha}))
    return area


def _ha(value: float) -> float:
    return float(f"{value:.4g}") if value < 1 else round(float(value), 2)


def _country(
    geoms: np.ndarray, usable: np.ndarray, iso: np.ndarray, declared: np.ndarray,
    th: RuleThresholds, out: _Collector,
) -> None:  # fmt: skip
    """A declared country must contain the plot; a missing one is inferred from the location
    unless the plot is in no country or in the border band of two."""
    missing = np.flatnonzero(~declared)
    located = np.flatnonzero(usable[missing])
    cent_missing = ctry.centroids(geoms[missing[located]])
    found = ctry.locate(cent_missing)
    ambiguous: set[int] = set()
    for k, i in enumerate(missing[located].tolist()):
        code = found[k]
        if code is None:
            continue
        x, y = cent_missing[k]
        other = ctry.neighbour_within(float(x), float(y), code, th.border_tolerance_km)
        if other is not None:
            params: dict[str, Param] = {"country": code, "other": other,
                                        "tolerance_km": th.border_tolerance_km}  # fmt: skip
            out.add(i, Issue(Code.COUNTRY_AMBIGUOUS, params))
            ambiguous.add(i)
            continue
        iso[i] = code
        out.add(i, Issue(Code.COUNTRY_INFERRED, {"country": code}, True))
    for i in missing.tolist():
        if iso[i] is None and i not in ambiguous:
            out.add(i, Issue(Code.COUNTRY_MISSING, {}))

    idx = np.flatnonzero(usable & declared)
    idx = idx[ctry.has_boundaries(iso[idx])]
    if not len(idx):
        return
    cent = ctry.centroids(geoms[idx])
    inside = ctry.inside_declared(cent, iso[idx])
    outside = np.flatnonzero(~inside)
    actual = ctry.locate(cent[outside])
    for k, where in zip(outside.tolist(), actual.tolist(), strict=True):
        i = int(idx[k])
        km = ctry.distance_outside_km(shapely.Point(cent[k]), iso[i])
        params = {"country": iso[i], "distance_km": round(km, 1)}
        if where is not None and where != iso[i]:
            params["actual"] = where
        code = Code.NEAR_BORDER if km <= th.border_tolerance_km else Code.OUTSIDE_COUNTRY
        out.add(i, Issue(code, params))


def _neighbours(
    geoms: np.ndarray,
    projected: np.ndarray,
    usable: np.ndarray,
    th: RuleThresholds,
    out: _Collector,
) -> None:
    for later, first in duplicate_ids(out.ids):
        where = f"{out.files[first]} #{out.rows[first]}"
        out.add(later, Issue(Code.DUPLICATE_PLOT_ID, {"first": where}), related=first)
    live = geoms.copy()
    live[~usable] = None
    twins: set[int] = set()
    for later, first in duplicate_geometries(live):
        out.add(later, Issue(Code.DUPLICATE_GEOMETRY), related=first)
        twins.add(later)
    polygons = projected.copy()
    polygons[~np.isin(shapely.get_type_id(live), _POLYGONAL)] = None
    for a, b, overlap_m2, share in overlaps(polygons, th.overlap_fraction, twins):
        params: dict[str, Param] = {"overlap_ha": _ha(overlap_m2 / 10_000),
                                    "percent": round(100 * share, 1)}  # fmt: skip
        out.add(a, Issue(Code.OVERLAP, params), related=b)
        out.add(b, Issue(Code.OVERLAP, params), related=a)


def as_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a table (one row each), the shape written to findings.csv."""
    cols = ["source_file", "source_index", "plot_id", "code", "severity", "fixable",
            "related_plot_id", "message_es", "message_en"]  # fmt: skip
    rows = [{k: v for k, v in finding_record(f).items() if k in cols} for f in findings]
    return pd.DataFrame(rows, columns=cols)
