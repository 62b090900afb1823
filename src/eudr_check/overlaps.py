"""Plots against vector layers: every polygon under each plot, intersected exactly, the
overlap's area measured on the WGS84 ellipsoid (rules.area's equal-area projection, vectorised
over every plot-polygon pair) like every other area of the check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from eudr_check.datasets.catalog import VectorDataset
from eudr_check.datasets.vector import indexed
from eudr_check.errors import ConfigError
from eudr_check.models import DatasetStats, Overlap
from eudr_check.rules.area import geodesic_area_ha


def overlap_stats(
    vd: VectorDataset, data_dir: Path, shapes: list[BaseGeometry], plot_areas_ha: list[float]
) -> list[DatasetStats]:
    """Per plot: every polygon of the layer it overlaps, with the overlap's area and share.
    A layer that cannot be read gives each plot the error (the report says it was not checked)."""
    try:
        layer = indexed(vd, data_dir)
    except ConfigError as exc:
        return [DatasetStats(vd.id, vd.version, a, 1.0, error=exc.message("en"), vector=True)
                for a in plot_areas_ha]  # fmt: skip
    found: list[list[Overlap]] = [[] for _ in shapes]
    if len(layer.areas) and shapes:
        plots_arr = np.array(shapes, dtype=object)
        plots, polys = layer.tree.query(plots_arr, predicate="intersects")
        inter = shapely.intersection(plots_arr[plots], layer.geoms[polys])
        areas_ha = np.nan_to_num(geodesic_area_ha(inter))
        for i, j, ha in zip(plots.tolist(), polys.tolist(), areas_ha.tolist(), strict=True):
            if ha <= 0:
                continue  # touching at an edge is not being inside
            a = layer.areas[j]
            share = min(1.0, ha / plot_areas_ha[i]) if plot_areas_ha[i] > 0 else 0.0
            found[i].append(Overlap(a.name, vd.kind.value, a.category, a.zoning, a.strict,
                                    round(ha, 4), round(share, 4)))  # fmt: skip
    return [
        DatasetStats(vd.id, vd.version, area, 0.0, vector=True,
                     overlaps=tuple(sorted(o, key=lambda x: (-x.area_ha, x.name))))
        for o, area in zip(found, plot_areas_ha, strict=True)
    ]  # fmt: skip
