"""Invariants of repair and export, over random phone-GPS-like plots (Hypothesis)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eudr_check.findings import Severity
from eudr_check.intake import read_plots
from eudr_check.reports.findings import write_fixed
from eudr_check.reports.traces import export_traces
from eudr_check.rules import RuleThresholds, validate
from eudr_check.rules.repair import repair_geometry
from tests.conftest import X0, Y0

coord_offsets = st.floats(min_value=-0.002, max_value=0.002, allow_nan=False)
vertex = st.tuples(coord_offsets, coord_offsets)


@st.composite
def rings(draw: st.DrawFn) -> list[list[float]]:
    """A walk of 3-12 vertices, in any order (so often self-intersecting), 5-8 decimals."""
    pts = draw(st.lists(vertex, min_size=3, max_size=12))
    decimals = draw(st.integers(min_value=5, max_value=8))
    ring = [[round(X0 + dx, decimals), round(Y0 + dy, decimals)] for dx, dy in pts]
    if draw(st.booleans()):
        ring.append(list(ring[0]))
    return ring


@st.composite
def plot_geometries(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["polygon", "holed", "point", "multi"]))
    if kind == "point":
        dx, dy = draw(vertex)
        return {"type": "Point", "coordinates": [round(X0 + dx, 6), round(Y0 + dy, 6)]}
    shell = draw(rings())
    if kind == "holed":
        # A convex shell around a small inner ring: a real hole.
        r = draw(st.floats(min_value=0.0005, max_value=0.002))
        a = np.linspace(0, 2 * np.pi, 9)[:-1]
        shell = [[round(X0 + r * np.cos(t), 6), round(Y0 + r * np.sin(t), 6)] for t in a]
        hole = [[round(X0 + r / 3 * np.cos(t), 6), round(Y0 + r / 3 * np.sin(t), 6)] for t in a]
        return {"type": "Polygon", "coordinates": [[*shell, shell[0]], [*hole, hole[0]]]}
    if kind == "multi":
        other = [[x + 0.01, y] for x, y in draw(rings())]
        return {"type": "MultiPolygon", "coordinates": [[shell], [other]]}
    return {"type": "Polygon", "coordinates": [shell]}


def _write(path: Path, geoms: list[dict[str, Any]]) -> Path:
    feats = [
        {"type": "Feature", "properties": {"plot_id": f"P{i}", "ProducerCountry": "PE"},
         "geometry": g}
        for i, g in enumerate(geoms)
    ]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


@settings(max_examples=300, deadline=None)
@given(plot_geometries())
def test_repair_is_idempotent(raw: dict[str, Any]) -> None:
    th = RuleThresholds()
    geom = shapely.geometry.shape(raw)
    first = repair_geometry(geom, th)
    if first.geometry is None:
        return
    second = repair_geometry(first.geometry, th)
    assert second.geometry is not None
    assert shapely.equals_exact(second.geometry, first.geometry, tolerance=0.0)
    assert not [i for i in second.issues if i.fixable]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(plot_geometries(), min_size=1, max_size=6))
def test_repaired_plots_pass_the_rules(geoms: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report = validate(read_plots(_write(work / "in.geojson", geoms)), fix=True)
        fixed_path = write_fixed(report, work / "in.geojson", work)
        again = validate(read_plots(fixed_path), fix=False)
        # Whatever was repaired now passes: no fixable error is left on a second look.
        assert not [f for f in again.findings if f.fixable and f.severity is Severity.ERROR]
        # Plots that were clean after repair stay clean of errors in the re-read file.
        clean = set(report.plots["plot_id"]) - report.error_plot_ids()
        assert not clean & again.error_plot_ids()
        # Repair is idempotent through the file too.
        twice = validate(read_plots(fixed_path), fix=True)
        for a, b in zip(twice.plots.geometry, again.plots.geometry, strict=True):
            assert (a is None and b is None) or shapely.equals_exact(a, b, tolerance=0.0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(plot_geometries(), min_size=1, max_size=6))
def test_export_then_reread_keeps_plots(geoms: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report = validate(read_plots(_write(work / "in.geojson", geoms)), fix=True)
        result = export_traces(report, work / "in.geojson", work / "eu")
        kept = report.plots[~report.plots["plot_id"].isin(report.error_plot_ids())]
        back = [read_plots(f).plots for f in result.files]
        ids = [pid for frame in back for pid in frame["plot_id"]]
        assert ids == kept["plot_id"].tolist()
        assert result.exported == len(kept)
        for frame in back:
            checked = validate(read_plots_from(frame))
            assert not checked.has_errors
        measured = {p: a for frame in back for p, a in _areas(frame).items()}
        for pid, area in zip(kept["plot_id"], kept["area_ha"], strict=True):
            if np.isfinite(area):
                assert measured[pid] == pytest.approx(area, rel=1e-3)


def read_plots_from(frame: Any) -> Any:
    from eudr_check.intake import PlotTable

    return PlotTable(frame, [])


def _areas(frame: Any) -> dict[str, float]:
    from eudr_check.rules.area import geodesic_area_ha

    areas = geodesic_area_ha(np.asarray(frame.geometry.values, dtype=object))
    return dict(zip(frame["plot_id"], areas, strict=True))
