"""Where a statement's plots come from: the due-diligence GeoJSON that `eudr-check check`
wrote (it carries each verdict), or a lot in the registry (its stored results, which must
still hold for today's data and thresholds, as for a bundle)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from shapely.geometry import shape

from eudr_check.datasets.sources import DataSources
from eudr_check.dds.model import DeclaredPlot, StatementOptions
from eudr_check.engine import CollectSink, RegisteredPlots, Reuse, run_check
from eudr_check.errors import DdsError, PlotFileError, StaleResultsError
from eudr_check.i18n import Text
from eudr_check.reasons import Verdict
from eudr_check.store.access import LotInfo
from eudr_check.store.registry import Registry

_NOT_REPORT_ES = ("no es un informe de diligencia debida de eudr-check (escriba uno con "
                  "`eudr-check check`: *.due_diligence.geojson)")  # fmt: skip
_NOT_REPORT_EN = ("is not an eudr-check due-diligence report (write one with `eudr-check check`: "
                  "*.due_diligence.geojson)")  # fmt: skip


def plots_from_report(path: Path) -> tuple[list[DeclaredPlot], dict[str, Any]]:
    """The plots of a `*.due_diligence.geojson` with their verdicts, and its run header."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlotFileError(path, f"no se puede leer ({exc})", f"cannot be read ({exc})") from None
    run = doc.get("run") if isinstance(doc, dict) else None
    if not isinstance(run, dict) or run.get("tool") != "eudr-check":
        raise PlotFileError(path, _NOT_REPORT_ES, _NOT_REPORT_EN)
    out: list[DeclaredPlot] = []
    for n, feature in enumerate(doc.get("features") or [], start=1):
        props = feature.get("properties") or {}
        pid = str(props.get("plot_id") or feature.get("id") or f"#{n}")
        try:
            geom = None if feature.get("geometry") is None else shape(feature["geometry"])
            verdict = Verdict(props["verdict"]) if props.get("verdict") else None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PlotFileError(path, f"parcela {pid}: {exc}", f"plot {pid}: {exc}") from None
        out.append(DeclaredPlot(
            plot_id=pid, geometry=geom, verdict=verdict,
            producer_name=_text(props.get("ProducerName")),
            producer_country=_text(props.get("ProducerCountry")),
            production_place=_text(props.get("ProductionPlace")),
            declared_area_ha=_num(props.get("Area")), area_ha=_num(props.get("area_ha")),
            commodity=_text(props.get("commodity")),
        ))  # fmt: skip
    return out, run


def plots_from_lot(
    registry: Registry, lot_id: int, sources: DataSources
) -> tuple[LotInfo, list[DeclaredPlot]]:
    """A lot's plots with the verdicts of their stored results; refuses a lot whose plots are
    unchecked or were checked on other data or thresholds than today's."""
    info = registry.lot(lot_id)
    if info is None:
        raise DdsError(Text(f"el lote {lot_id} no existe", f"lot {lot_id} does not exist"))
    plots = RegisteredPlots(registry, info.version_ids, reuse=Reuse.REQUIRED, name=f"lot-{lot_id}")
    sink = CollectSink()
    try:
        run_check(plots, sources, kind="dds", sinks=[sink])
    except StaleResultsError as exc:
        raise DdsError(Text(
            f"El lote {info.reference} no está listo para declarar: {exc.text.es}. Verifique "
            "sus parcelas de nuevo (eudr-check check o la página del lote).",
            f"Lot {info.reference} is not ready to declare: {exc.text.en}. Check its plots "
            "again (eudr-check check or the lot page).",
        )) from None  # fmt: skip
    assert sink.run is not None
    frame = sink.run.validation.plots
    out: list[DeclaredPlot] = []
    for row, result in zip(frame.itertuples(index=False), sink.run.results, strict=True):
        out.append(DeclaredPlot(
            plot_id=str(row.plot_id), geometry=row.geometry, verdict=result.verdict,
            producer_name=_text(row.producer_name), producer_country=_text(row.producer_country),
            production_place=_text(row.production_place),
            declared_area_ha=_num(row.declared_area_ha), area_ha=_num(row.area_ha),
            commodity=_text(row.commodity) or info.commodity,
            version_id=int(row.version_id),
        ))  # fmt: skip
    return info, out


def lot_options(info: LotInfo, **given: Any) -> StatementOptions:
    """Statement options from the lot (HS code, net mass, reference), with what the user gave
    winning where given."""
    values: dict[str, Any] = {
        # The EU takes a heading of 2-6 digits; a lot may carry a national 8-10 digit code.
        "hs_codes": {"*": info.hs_code[:6]} if info.hs_code else {},
        "net_mass_kg": info.net_mass_kg or 0.0,
        "internal_ref": info.reference[:35],
    }
    values.update({k: v for k, v in given.items() if v is not None})
    return StatementOptions(**values)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
