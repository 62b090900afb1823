"""Per-plot geometry checks and repairs for the plots the vectorised scans flagged.

`repair_geometry` is idempotent: its output, fed back in, comes out unchanged and with no
fixable finding. The original geometry is kept by the caller for audit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from eudr_check.findings import Code
from eudr_check.i18n import Param
from eudr_check.intake.geometry import BuildIssue as Issue
from eudr_check.rules.thresholds import EU_DECIMALS, RuleThresholds

_GRID = 10.0**-EU_DECIMALS


@dataclass(slots=True)
class RepairOutcome:
    geometry: BaseGeometry | None  # None: no usable geometry could be made
    issues: list[Issue] = field(default_factory=list)


def round6(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.round(xy, EU_DECIMALS))


def _dedupe(xy: NDArray[np.float64]) -> tuple[NDArray[np.float64], int]:
    """Drop consecutive repeated positions of a closed ring (rounded), keeping it closed."""
    keep = np.r_[True, np.any(xy[1:] != xy[:-1], axis=1)]
    out = xy[keep]
    if len(out) > 1 and np.array_equal(out[0], out[-1]):
        out = out[:-1]
    return out, int((~keep).sum())


def _angles(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angle (degrees) at each vertex of an open vertex list treated as a ring."""
    p, q = np.roll(xy, 1, axis=0), np.roll(xy, -1, axis=0)
    coslat = np.cos(np.radians(xy[:, 1]))[:, None]
    a, b = (p - xy) * [1, 1], (q - xy) * [1, 1]
    a[:, :1] *= coslat
    b[:, :1] *= coslat
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    dot = (a * b).sum(axis=1)
    return np.asarray(np.degrees(np.arctan2(np.abs(cross), dot)), dtype=np.float64)


def _remove_spikes(xy: NDArray[np.float64], angle_deg: float) -> tuple[NDArray[np.float64], int]:
    """Remove needle vertices one by one (removing one can expose the next)."""
    removed = 0
    while len(xy) > 3:
        ang = _angles(xy)
        worst = int(np.argmin(ang))
        if ang[worst] >= angle_deg:
            break
        xy = np.delete(xy, worst, axis=0)
        xy, _ = _dedupe(np.vstack([xy, xy[:1]]))
        removed += 1
    return xy, removed


def _clean_ring(
    coords: NDArray[np.float64], angle_deg: float, counts: dict[str, int]
) -> NDArray[np.float64] | None:
    xy, dup = _dedupe(np.round(coords, EU_DECIMALS))
    counts["dup"] += dup
    if len(xy) < 3:
        return None
    xy, spikes = _remove_spikes(xy, angle_deg)
    counts["spike"] += spikes
    if len(xy) < 3:
        return None
    return np.vstack([xy, xy[:1]])


def _polygonal(geom: BaseGeometry) -> list[shapely.Polygon]:
    return [
        g
        for g in getattr(geom, "geoms", [geom])
        if isinstance(g, shapely.Polygon) and not g.is_empty
    ]


def _has_area(geom: BaseGeometry) -> bool:
    """Area of what the outline encloses; a bow-tie's signed halves would cancel in .area."""
    valid = geom if geom.is_valid else shapely.make_valid(geom, method="structure")
    return bool(valid.area > 0)


def split_holes(poly: shapely.Polygon) -> list[shapely.Polygon]:
    """Cut a polygon with holes into hole-free pieces, the EU's workaround for holes.

    Each hole is cut through by a north-south line across its middle, on the 6-decimal grid so
    both pieces share the same rounded vertices along the cut. A hole narrower than the grid
    (about 10 cm) cannot be cut on it and is meaningless on the ground: it is filled instead.
    """
    done: list[shapely.Polygon] = []
    todo = [poly]
    # Every cut opens at least one hole, so this ends; the cap only guards against the unforeseen.
    for _ in range(100_000):
        if not todo:
            break
        p = todo.pop()
        if not p.interiors:
            done.append(p)
            continue
        hminx, _, hmaxx, _ = p.interiors[0].bounds
        if hmaxx - hminx < 2 * _GRID:
            todo.append(shapely.Polygon(p.exterior, list(p.interiors)[1:]))
            continue
        cx = round((hminx + hmaxx) / 2, EU_DECIMALS)
        minx, miny, maxx, maxy = p.bounds
        for box in (
            shapely.box(minx - 1, miny - 1, cx, maxy + 1),
            shapely.box(cx, miny - 1, maxx + 1, maxy + 1),
        ):
            todo.extend(q for q in _polygonal(p.intersection(box)) if q.area > 0)
    return done + todo


def _as_polygon(lines: BaseGeometry) -> BaseGeometry | None:
    """A closed line (a GPS track that ends where it started) becomes a polygon."""
    polys = []
    for line in getattr(lines, "geoms", [lines]):
        xy = shapely.get_coordinates(line)
        if len(xy) < 4 or not np.array_equal(xy[0], xy[-1]):
            return None
        polys.append(shapely.Polygon(xy))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _max_gap_m(polys: list[shapely.Polygon]) -> float:
    """Largest distance from a part to its nearest other part, in metres (approximate)."""
    gaps = []
    for i, p in enumerate(polys):
        others = [q for j, q in enumerate(polys) if j != i]
        gaps.append(min(p.distance(q) for q in others))
    lat = polys[0].centroid.y
    return float(max(gaps) * 111_320 * max(math.cos(math.radians(lat)), 0.2))


def repair_geometry(geom: BaseGeometry, th: RuleThresholds) -> RepairOutcome:
    issues: list[Issue] = []
    kind = geom.geom_type
    if kind in ("LineString", "MultiLineString", "LinearRing"):
        poly = _as_polygon(geom)
        issues.append(Issue(Code.LINESTRING, {"closed": int(poly is not None)}, poly is not None))
        if poly is None:
            return RepairOutcome(None, issues)
        geom = poly
    if kind in ("Point", "MultiPoint"):
        return RepairOutcome(round6(geom), issues)

    polys = _polygonal(geom)
    if not polys or not _has_area(geom):
        issues.append(Issue(Code.DEGENERATE_POLYGON))
        return RepairOutcome(None, issues)
    if len(polys) > 1 and (gap := _max_gap_m(polys)) > th.multipart_gap_m:
        issues.append(Issue(Code.MULTIPART, {"count": len(polys), "distance_m": round(gap)}))

    current: BaseGeometry = _merge(polys)
    found: dict[Code, Issue] = {}
    # Repairs can expose new problems (make_valid may leave a needle), so passes repeat until
    # the geometry stops changing; four passes are plenty in practice.
    for _ in range(4):
        result = _repair_pass(current, th)
        for issue in result.issues:
            _merge_issue(found, issue)
        if result.geometry is None:
            if Code.DEGENERATE_POLYGON in found:
                # A line drawn as a polygon: its "spikes" are a symptom, the line is the problem.
                found.pop(Code.SPIKE, None)
            return RepairOutcome(None, issues + list(found.values()))
        if shapely.equals_exact(result.geometry, current, tolerance=0.0):
            break
        current = result.geometry
    return RepairOutcome(current, issues + list(found.values()))


def _merge_issue(found: dict[Code, Issue], issue: Issue) -> None:
    seen = found.get(issue.code)
    if seen is None:
        found[issue.code] = issue
    elif "count" in issue.params and "count" in seen.params:
        seen.params["count"] = int(seen.params["count"]) + int(issue.params["count"])


def _repair_pass(geom: BaseGeometry, th: RuleThresholds) -> RepairOutcome:
    """One round: rounding duplicates, spikes, self-intersections, holes, 6-decimal grid."""
    issues: list[Issue] = []
    counts = {"dup": 0, "spike": 0}
    cleaned: list[shapely.Polygon] = []
    for p in _polygonal(geom):
        shell = _clean_ring(np.asarray(p.exterior.coords)[:, :2], th.spike_angle_deg, counts)
        if shell is None:
            continue
        holes = [
            _clean_ring(np.asarray(r.coords)[:, :2], th.spike_angle_deg, counts)
            for r in p.interiors
        ]
        cleaned.append(shapely.Polygon(shell, [h for h in holes if h is not None]))
    if counts["dup"]:
        issues.append(Issue(Code.ROUNDING_DUPLICATES, {"count": counts["dup"]}, True))
    if counts["spike"]:
        spike = {"count": counts["spike"], "angle": th.spike_angle_deg}
        issues.append(Issue(Code.SPIKE, dict[str, Param](spike), True))
    if not cleaned or not any(_has_area(c) for c in cleaned):
        code = Code.TOO_FEW_POSITIONS if not cleaned else Code.DEGENERATE_POLYGON
        issues.append(Issue(code, {"positions": 3} if not cleaned else {}))
        return RepairOutcome(None, issues)

    out: BaseGeometry = _merge(cleaned)
    if not plot_valid(out):
        reason = shapely.is_valid_reason(out).split("[")[0].strip()
        issues.append(Issue(Code.SELF_INTERSECTION, {"detail": reason}, True))
        out = shapely.make_valid(out, method="structure", keep_collapsed=False)
    if any(p.interiors for p in _polygonal(out)):
        n_holes = sum(len(p.interiors) for p in _polygonal(out))
        issues.append(Issue(Code.HOLE, {"count": n_holes}, True))
        out = _merge([piece for p in _polygonal(out) for piece in split_holes(p)])
    final = _snap(out)
    if final is None:
        issues.append(Issue(Code.DEGENERATE_POLYGON))
    return RepairOutcome(final, issues)


def _merge(polys: list[shapely.Polygon]) -> BaseGeometry:
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def plot_valid(geom: BaseGeometry) -> bool:
    """Valid as the EU reads a plot: every part valid and no two parts overlapping.

    Stricter OGC validity also forbids parts that share an edge, but that is exactly the EU's own
    workaround for holes (two half-ring polygons), so shared edges are allowed here.
    """
    if geom.is_valid:
        return True
    if geom.geom_type != "MultiPolygon":
        return False
    parts = list(geom.geoms)
    if not all(p.is_valid for p in parts):
        return False
    total = sum(p.area for p in parts)
    return bool(abs(shapely.union_all(parts).area - total) <= 1e-9 * max(total, 1e-12))


def _snap(geom: BaseGeometry) -> BaseGeometry | None:
    """Put each part on the 6-decimal grid, keeping it valid there (GEOS precision model).

    Parts are snapped one by one: snapping them together would merge hole-split halves again.
    """
    polys = [
        q
        for p in _polygonal(geom)
        for q in _polygonal(round6(shapely.set_precision(p, _GRID)))
        if q.area > 0
    ]
    if not polys:
        return None
    # One canonical form (parts sorted, rings from their lowest vertex, exterior
    # counter-clockwise as RFC 7946 asks) so a repaired plot repairs to itself.
    out = shapely.orient_polygons(shapely.normalize(_merge(polys)))
    return out if plot_valid(out) else None
