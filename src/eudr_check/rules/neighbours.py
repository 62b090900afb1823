"""Rules that compare plots with each other: duplicate IDs, the same land twice, overlaps."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import shapely
from numpy.typing import NDArray


def duplicate_ids(ids: list[str]) -> Iterator[tuple[int, int]]:
    """(later, first) index pairs for every repeated plot ID."""
    first: dict[str, int] = {}
    for i, pid in enumerate(ids):
        if pid in first:
            yield i, first[pid]
        else:
            first[pid] = i


def duplicate_geometries(geoms: NDArray[np.object_]) -> Iterator[tuple[int, int]]:
    """(later, first) index pairs of identical geometries (same vertices, any start or order)."""
    present = np.flatnonzero(~shapely.is_missing(geoms))
    # Identical geometries have identical bounds: compare exactly only plots that share them.
    _, group, count = np.unique(
        shapely.bounds(geoms[present]), axis=0, return_inverse=True, return_counts=True
    )
    present = present[count[group.ravel()] > 1]
    keys = shapely.to_wkb(shapely.normalize(geoms[present]))
    first: dict[bytes, int] = {}
    for i, key in zip(present.tolist(), keys.tolist(), strict=True):
        if key in first:
            yield i, first[key]
        else:
            first[key] = i


def overlaps(
    projected: NDArray[np.object_], fraction: float, skip: set[int]
) -> Iterator[tuple[int, int, float, float]]:
    """(i, j, overlap m², share of the smaller plot) for polygon pairs over the fraction.

    `projected` holds equal-area geometries (None where not a polygon); pairs come from an
    STRtree, so the cost grows with the number of touching plots, not with n².
    """
    idx = np.flatnonzero(~shapely.is_missing(projected))
    idx = np.array([i for i in idx.tolist() if i not in skip], dtype=np.intp)
    if len(idx) < 2:
        return
    geoms = projected[idx]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return
    inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    areas = shapely.area(geoms)
    smaller = np.minimum(areas[left], areas[right])
    share = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    for a, b, ov, sh in zip(left, right, inter, share, strict=True):
        if sh > fraction:
            yield int(idx[a]), int(idx[b]), float(ov), float(sh)
