"""Vectorised scans over every ring of many polygons at once (numpy over shapely coordinates).

Most plots are fine; these scans find, without a Python loop per plot, the few that need the
slower per-plot repair in rules/repair.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from eudr_check.rules.thresholds import EU_DECIMALS


@dataclass(frozen=True, slots=True)
class RingCoords:
    """All ring positions of a geometry array, flattened, with the plot each belongs to."""

    xy: NDArray[np.float64]  # (n, 2)
    ring: NDArray[np.intp]  # ring number of each position
    plot: NDArray[np.intp]  # plot (input array) index of each position
    ring_plot: NDArray[np.intp]  # plot index of each ring
    ring_hole: NDArray[np.bool_]  # True for interior rings


def ring_coords(geoms: NDArray[np.object_]) -> RingCoords:
    parts, part_plot = shapely.get_parts(geoms, return_index=True)
    polygonal = shapely.get_type_id(parts) == 3
    parts, part_plot = parts[polygonal], part_plot[polygonal]
    exteriors = shapely.get_exterior_ring(parts)
    n_int = shapely.get_num_interior_rings(parts)
    interiors, int_part = shapely.get_rings(parts, return_index=True)
    # get_rings yields the exterior first for each part; drop it, keep only holes.
    first_of_part = np.r_[0, np.cumsum(n_int + 1)[:-1]] if len(parts) else np.array([], int)
    is_ext = np.zeros(len(interiors), bool)
    is_ext[first_of_part] = True
    holes, hole_part = interiors[~is_ext], int_part[~is_ext]
    rings = np.concatenate([exteriors, holes])
    ring_plot = np.concatenate([part_plot, part_plot[hole_part]]).astype(np.intp)
    ring_hole = np.r_[np.zeros(len(exteriors), bool), np.ones(len(holes), bool)]
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    return RingCoords(xy, ring.astype(np.intp), ring_plot[ring], ring_plot, ring_hole)


def per_plot_any(flags: NDArray[np.bool_], plot: NDArray[np.intp], n: int) -> NDArray[np.bool_]:
    out = np.zeros(n, bool)
    out[plot[flags]] = True
    return out


def per_plot_count(flags: NDArray[np.bool_], plot: NDArray[np.intp], n: int) -> NDArray[np.intp]:
    return np.bincount(plot[flags], minlength=n).astype(np.intp)


def rounding_duplicates(rc: RingCoords, n: int) -> NDArray[np.intp]:
    """Per plot: consecutive positions of a ring that are equal once rounded to 6 decimals."""
    r = np.round(rc.xy, EU_DECIMALS)
    same_ring = rc.ring[1:] == rc.ring[:-1]
    equal = np.all(r[1:] == r[:-1], axis=1) & same_ring
    return per_plot_count(equal, rc.plot[1:], n)


def max_decimals(values: NDArray[np.float64], cap: int = 12) -> NDArray[np.intp]:
    """Number of decimals each value needs (up to cap), from its shortest float text."""
    out = np.full(values.shape, cap, dtype=np.intp)
    undecided = np.ones(values.shape, bool)
    for d in range(cap):
        scaled = values * 10.0**d
        exact = np.abs(scaled - np.round(scaled)) < 1e-7 * np.maximum(1.0, np.abs(scaled)) * 1e-2
        hit = exact & undecided
        out[hit] = d
        undecided &= ~exact
    return out


def low_precision(geoms: NDArray[np.object_], n: int) -> tuple[NDArray[np.bool_], NDArray[np.intp]]:
    """Plots whose every coordinate has fewer than 6 decimals, and their largest decimal count.

    A value written "-78.500000" parses to -78.5, so one coordinate alone proves nothing. For a
    polygon, all of its values ending in zero by chance is vanishingly rare; a point has only two
    values (1 in 100 would end in 0 by chance), so a point is flagged only at 4 decimals or fewer.
    """
    xy, plot = shapely.get_coordinates(geoms, return_index=True)
    flat = xy.ravel()
    owner = np.repeat(plot, 2)

    def all_short(decimals: int) -> NDArray[np.bool_]:
        scaled = flat * 10.0**decimals
        long_values = np.abs(scaled - np.round(scaled)) >= 1e-6
        short: NDArray[np.bool_] = np.bincount(owner[long_values], minlength=n) == 0
        return short

    values = np.bincount(owner, minlength=n)
    low = (values > 0) & all_short(EU_DECIMALS - 1) & ((values >= 6) | all_short(EU_DECIMALS - 2))
    decimals = np.zeros(n, np.intp)
    if low.any():
        sel = low[owner]
        np.maximum.at(decimals, owner[sel], max_decimals(flat[sel]))
    return low, decimals


def spikes(rc: RingCoords, n: int, angle_deg: float) -> NDArray[np.intp]:
    """Per plot: vertices where the outline turns back on itself (angle below angle_deg)."""
    if len(rc.xy) == 0:
        return np.zeros(n, np.intp)
    r = np.round(rc.xy, EU_DECIMALS)
    ring = rc.ring
    starts = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    lengths = np.diff(np.r_[starts, len(ring)])
    m = lengths - 1  # unique vertices of a closed ring
    # local vertex number within its ring; the closing position is skipped
    local = np.arange(len(ring)) - np.repeat(starts, lengths)
    mm = np.repeat(m, lengths)
    keep = (local < mm) & (mm >= 3)
    base = np.repeat(starts, lengths)
    prev_i = base + (local - 1) % np.maximum(mm, 1)
    next_i = base + (local + 1) % np.maximum(mm, 1)
    idx = np.flatnonzero(keep)
    v, p, q = r[idx], r[prev_i[idx]], r[next_i[idx]]
    coslat = np.cos(np.radians(v[:, 1]))
    a = (p - v) * np.c_[coslat, np.ones_like(coslat)]
    b = (q - v) * np.c_[coslat, np.ones_like(coslat)]
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    dot = np.einsum("ij,ij->i", a, b)
    nonzero = (np.abs(a).sum(1) > 0) & (np.abs(b).sum(1) > 0)
    angle = np.degrees(np.arctan2(np.abs(cross), dot))
    spike = nonzero & (angle < angle_deg)
    return per_plot_count(spike, rc.plot[idx], n)
