"""Shared helpers: tiny plot files written in the test, validated through the public API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.testing.utilities import prefect_test_harness

from eudr_check.intake import read_plots
from eudr_check.rules import ValidationReport, validate

FIXTURES = Path(__file__).parent / "fixtures"

# A ~100 m square near Jaén, Cajamarca (inside Peru), written with 6 decimals.
X0, Y0 = -78.812345, -5.712345
D = 0.000912


def square(x: float = X0, y: float = Y0, d: float = D) -> list[list[list[float]]]:
    return [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]


def feature(geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    base = {"plot_id": "P1", "ProducerName": "Ana Peña", "ProducerCountry": "PE"}
    base.update(props)
    base = {k: v for k, v in base.items() if v is not None}
    return {"type": "Feature", "properties": base, "geometry": geometry}


def poly(rings: list[list[list[float]]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": rings}


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A temporary Prefect server, once per test session (the flows and engine tests)."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def write_geojson(tmp_path: Path) -> Callable[..., Path]:
    def write(*features: dict[str, Any], name: str = "plots.geojson", **extra: Any) -> Path:
        doc = {"type": "FeatureCollection", **extra, "features": list(features)}
        path = tmp_path / name
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    return write


@pytest.fixture
def check(write_geojson: Callable[..., Path]) -> Callable[..., ValidationReport]:
    def run(*features: dict[str, Any], fix: bool = False, **extra: Any) -> ValidationReport:
        return validate(read_plots(write_geojson(*features, **extra)), fix=fix)

    return run


def codes(report: ValidationReport, plot_id: str | None = None) -> set[str]:
    return {f.code.value for f in report.findings if plot_id is None or f.plot_id == plot_id}


def codes_by_severity(report: ValidationReport, severity: str) -> set[str]:
    return {f.code.value for f in report.findings if f.severity.value == severity}
