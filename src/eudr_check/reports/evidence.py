"""The evidence map of one registered plot version, on demand (the web pages' plot detail).

The same picture as the check reports draw for flagged plots: the analysed shape (a point as
its circle) over the forest-loss pixels by year, from the same windows, title and notes. The
plot is rebuilt as a one-plot CheckRun from the registry so the report code draws it unchanged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import shapely

from eudr_check.datasets.catalog import Catalog, Role
from eudr_check.errors import EvidenceUnavailable
from eudr_check.reports import check_reports
from eudr_check.reports.due_diligence import plot_records
from eudr_check.run import CheckRun
from eudr_check.store import Registry


def evidence_map(
    registry: Registry, version_id: int, catalog: Catalog, data_dir: Path, *, lang: str = "es"
) -> bytes:
    """The PNG of one plot version's evidence map, drawn for its newest result."""
    lang = "es" if lang == "es" else "en"
    result = registry.results_for([version_id]).get(version_id)
    if result is None:
        raise EvidenceUnavailable(
            "not_checked",
            "La parcela aún no se verificó: el mapa estará disponible al terminar.",
            "The plot has not been checked yet: the map is available once it is.",
        )
    report = registry.report_for([version_id])
    run = CheckRun(
        run_id=f"evidence-{version_id}",
        input_name=str(report.plots["source_file"].iloc[0]),
        input_sha256="",
        validation=report,
        results=[result],
        catalog=catalog,
        data_dir=data_dir,
    )
    rec = plot_records(run)[0]
    shape = check_reports.analysed_shape(rec, catalog.verdict.point_area_ha)
    # Coordinates off the globe (a latitude of -95, metres read as degrees) cannot be drawn.
    if shape is None or shape.is_empty or not check_reports._on_earth(shape):
        raise EvidenceUnavailable(
            "no_geometry",
            "La parcela no tiene geometría dibujable (falta o está fuera del globo): no hay mapa.",
            "The plot has no drawable geometry (missing or off the globe): there is no map.",
        )
    if shape is not rec.geometry:  # a point: draw its circle and the point, as the reports do
        shape = shapely.GeometryCollection([shape, rec.geometry])
    loss = next((d for d in catalog.enabled if d.role is Role.FOREST_LOSS), None)
    with tempfile.TemporaryDirectory(prefix="eudr-map-") as tmp:
        # check_reports draws a report's maps one by one with this; reused so both agree.
        path = check_reports._one_map(run, loss, rec, shape, Path(tmp) / "map.png", lang)
        return path.read_bytes()
