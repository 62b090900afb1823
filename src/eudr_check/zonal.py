"""Exact coverage of grid cells by polygons, and true cell areas on the WGS84 ellipsoid.

Pure maths over shapely geometries and an affine grid; no I/O.

Coverage is exact, not sampled: by Green's theorem, the area of a polygon below a horizontal
line y = c inside a column strip is the sum, over the polygon's edges in that strip, of
dx · E(c), where E(c) is the mean of max(c - y, 0) along the edge. Cell (i, j) then covers
A_j(i + 1) - A_j(i). Edges are split at column boundaries; everything is vectorised over all
the edges of all the polygons of a chunk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely
from affine import Affine
from numpy.typing import NDArray

# WGS84
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_E = math.sqrt(_E2)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Cells of a grid window touched by one polygon, with the share of each cell covered."""

    rows: NDArray[np.intp]  # from the top of the window, as rasters count them
    cols: NDArray[np.intp]
    fraction: NDArray[np.float64]  # in (0, 1]


def _q(lat_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Snyder's q(φ): the ellipsoid's area between the equator and φ is a²(1-e²)/2 · q per rad."""
    s = np.sin(np.radians(lat_deg))
    return np.asarray(
        s / (1 - _E2 * s * s) + np.log((1 + _E * s) / (1 - _E * s)) / (2 * _E), dtype=np.float64
    )


def cell_areas_m2(transform: Affine, height: int) -> NDArray[np.float64]:
    """True area (m²) of the cells of each row of a north-up lon/lat grid window."""
    top = transform.f + transform.e * np.arange(height, dtype=np.float64)
    bottom = top + transform.e
    width_rad = math.radians(abs(transform.a))
    return np.abs(_q(top) - _q(bottom)) * width_rad * _A * _A * (1 - _E2) / 2


@cache
def _empty() -> Coverage:
    return Coverage(np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0, np.float64))


def coverage(
    polygons: list[shapely.Geometry], transform: Affine, shape: tuple[int, int]
) -> list[Coverage]:
    """Exact coverage fractions of each (multi)polygon over a north-up grid window.

    Polygons may extend beyond the window: cells outside are dropped (callers size the window).
    """
    height, width = shape
    px, py = transform.a, -transform.e
    if px <= 0 or py <= 0 or transform.b or transform.d:
        raise ValueError("coverage needs a north-up grid with positive pixel sizes")
    geoms = shapely.orient_polygons(np.asarray(polygons, dtype=object), exterior_cw=False)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    parts, part_of = parts[keep], part_of[keep]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    owner = part_of[ring_part[ring_of]]
    # Grid units: X columns from the window's left, Y rows from the window's bottom (y up).
    x = (xy[:, 0] - transform.c) / px
    y = (xy[:, 1] - (transform.f - height * py)) / py
    same = ring_of[1:] == ring_of[:-1]
    x0, x1, y0, y1 = x[:-1][same], x[1:][same], y[:-1][same], y[1:][same]
    poly = owner[:-1][same]
    steep = x0 != x1  # vertical edges add nothing (dx = 0)
    x0, x1, y0, y1, poly = x0[steep], x1[steep], y0[steep], y1[steep], poly[steep]

    xs, xe, ys, ye, poly = _split_at_columns(x0, x1, y0, y1, poly)
    dx = xe - xs
    col = np.floor((xs + xe) / 2).astype(np.intp)
    lo, hi = np.minimum(ys, ye), np.maximum(ys, ye)

    # Each polygon gets its own small window (its bounding box in cells), column-major.
    n = len(polygons)
    c0 = np.full(n, np.iinfo(np.intp).max, np.intp)
    c1 = np.full(n, -1, np.intp)
    r0 = np.full(n, np.iinfo(np.intp).max, np.intp)
    r1 = np.full(n, -1, np.intp)
    np.minimum.at(c0, poly, col)
    np.maximum.at(c1, poly, col)
    np.minimum.at(r0, poly, np.floor(lo).astype(np.intp))
    np.maximum.at(r1, poly, np.ceil(hi).astype(np.intp))
    present = c1 >= 0
    c0[~present], c1[~present], r0[~present], r1[~present] = 0, -1, 0, 0
    w = c1 - c0 + 1
    h = np.maximum(r1 - r0, 1)
    size = np.where(present, w * h, 0)
    offset = np.r_[0, np.cumsum(size)[:-1]]
    total = int(size.sum())

    cells = np.zeros(total + 1, np.float64)
    # Partial cells: rows that an edge piece spans vertically.
    first = np.floor(lo).astype(np.intp)
    count = np.maximum(np.ceil(hi).astype(np.intp) - first, 0)
    rep = np.repeat(np.arange(len(dx)), count)
    row = first[rep] + (np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count))
    d = _mean_excess(row + 1.0, lo[rep], hi[rep]) - _mean_excess(row * 1.0, lo[rep], hi[rep])
    p = poly[rep]
    idx = offset[p] + (col[rep] - c0[p]) * h[p] + (row - r0[p])
    cells += np.bincount(idx, weights=dx[rep] * d, minlength=total + 1)
    # Full cells: every row from the top of an edge piece upwards gets dx; added as a step at
    # that row, then summed up each column (a cumulative sum restarted per column).
    start = np.ceil(hi).astype(np.intp)
    inside = start - r0[poly] < h[poly]
    steps = np.zeros(total + 1, np.float64)
    sidx = offset[poly] + (col - c0[poly]) * h[poly] + (start - r0[poly])
    steps += np.bincount(sidx[inside], weights=dx[inside], minlength=total + 1)
    cells[:-1] += _column_cumsum(steps[:-1], w, h, present)

    # All windows' covered cells at once; each polygon's cells are then one contiguous slice.
    idx = np.flatnonzero(cells[:-1] > 1e-12)
    owner = np.searchsorted(offset, idx, side="right") - 1
    cc, rr = np.divmod(idx - offset[owner], h[owner])
    frac = np.minimum(cells[idx], 1.0)
    gcol = cc + c0[owner]
    grow = height - 1 - (rr + r0[owner])  # rows from the top
    ok = (gcol >= 0) & (gcol < width) & (grow >= 0) & (grow < height)
    owner, gcol, grow, frac = owner[ok], gcol[ok], grow[ok], frac[ok]
    bounds = np.r_[0, np.cumsum(np.bincount(owner, minlength=n))]
    out: list[Coverage] = []
    for i in range(n):
        a, b = bounds[i], bounds[i + 1]
        out.append(Coverage(grow[a:b], gcol[a:b], frac[a:b]) if b > a else _empty())
    return out


def _mean_excess(
    c: NDArray[np.float64], lo: NDArray[np.float64], hi: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Mean of max(c - y, 0) along a straight piece whose y runs from lo to hi."""
    q = np.clip(c, lo, hi)
    span = hi - lo
    ramp = np.divide((q - lo) ** 2, 2 * span, out=np.zeros_like(q), where=span > 0)
    return np.asarray(ramp + np.maximum(c - hi, 0.0), dtype=np.float64)


Floats = NDArray[np.float64]


def _split_at_columns(
    x0: Floats, x1: Floats, y0: Floats, y1: Floats, poly: NDArray[np.intp]
) -> tuple[Floats, Floats, Floats, Floats, NDArray[np.intp]]:
    """Cut every edge where it crosses a column boundary (integer x), keeping its direction."""
    left, right = np.minimum(x0, x1), np.maximum(x0, x1)
    crossings = np.maximum(np.ceil(right).astype(np.intp) - np.floor(left).astype(np.intp) - 1, 0)
    pieces = crossings + 1
    e = np.repeat(np.arange(len(x0)), pieces)
    k = np.arange(len(e)) - np.repeat(np.cumsum(pieces) - pieces, pieces)  # piece number
    forward = x1[e] > x0[e]
    # Boundaries crossed, in travel order: the k-th one after the start.
    b_before = np.where(forward, np.floor(x0[e]) + k, np.ceil(x0[e]) - k)
    b_after = np.where(forward, np.floor(x0[e]) + k + 1, np.ceil(x0[e]) - k - 1)
    last = k == pieces[e] - 1
    xs = np.where(k == 0, x0[e], b_before)
    xe = np.where(last, x1[e], b_after)
    slope = (y1[e] - y0[e]) / (x1[e] - x0[e])
    ys = y0[e] + (xs - x0[e]) * slope
    ye = y0[e] + (xe - x0[e]) * slope
    # Exact endpoints where the piece ends at a vertex (no interpolation error there).
    ys = np.where(k == 0, y0[e], ys)
    ye = np.where(last, y1[e], ye)
    return xs, xe, ys, ye, poly[e]


def _column_cumsum(
    steps: NDArray[np.float64], w: NDArray[np.intp], h: NDArray[np.intp], present: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Cumulative sum of `steps` restarted at the start of every column of every window."""
    csum = np.cumsum(steps)
    col_len = np.repeat(h[present], w[present])
    starts = np.r_[0, np.cumsum(col_len)[:-1]]
    before = np.r_[0.0, csum][starts]
    return np.asarray(csum - np.repeat(before, col_len), dtype=np.float64)
