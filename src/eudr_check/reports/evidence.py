"""The evidence map of one registered plot version, on demand (the web pages' plot detail).

The same picture as the check reports draw for flagged plots (`reports.plot_maps`): the
analysed shape (a point as its circle) over the forest-loss pixels by year, from the same
windows, title and notes, for the version's newest result.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from eudr_check.datasets.sources import DataSources
from eudr_check.errors import EvidenceUnavailable
from eudr_check.i18n import Lang
from eudr_check.reports.plot_maps import draw_plot_map, drawn_shape, on_earth
from eudr_check.reports.records import plot_records
from eudr_check.store import Registry


def evidence_map(
    registry: Registry, version_id: int, sources: DataSources, *, lang: Lang | str = Lang.ES
) -> bytes:
    """The PNG of one plot version's evidence map, drawn for its newest result."""
    lang = Lang.of(lang)
    result = registry.results_for([version_id]).get(version_id)
    if result is None:
        raise EvidenceUnavailable(
            "not_checked",
            "La parcela aún no se verificó: el mapa estará disponible al terminar.",
            "The plot has not been checked yet: the map is available once it is.",
        )
    rec = plot_records(registry.report_for([version_id]), [result])[0]
    shape = drawn_shape(rec, sources.catalog.verdict.point_area_ha)
    # Coordinates off the globe (a latitude of -95, metres read as degrees) cannot be drawn.
    if shape is None or not on_earth(shape):
        raise EvidenceUnavailable(
            "no_geometry",
            "La parcela no tiene geometría dibujable (falta o está fuera del globo): no hay mapa.",
            "The plot has no drawable geometry (missing or off the globe): there is no map.",
        )
    with tempfile.TemporaryDirectory(prefix="eudr-map-") as tmp:
        return draw_plot_map(sources, rec, shape, Path(tmp) / "map.png", lang).read_bytes()
