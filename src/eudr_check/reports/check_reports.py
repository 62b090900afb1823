"""All reports of a check run in one folder, with a manifest of their checksums.

Maps come first (the slow part, reported through `progress`), the manifest last: a folder with
a manifest is complete, and its checksums tie every file to the run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from eudr_check.analysis import point_circles
from eudr_check.datasets.catalog import Dataset, Role
from eudr_check.datasets.reader import RasterWindow, read_window
from eudr_check.fileio import sha256_file, write_text
from eudr_check.reasons import Verdict, verdict_name
from eudr_check.reports.due_diligence import PlotRecord, plot_records, write_due_diligence_geojson
from eudr_check.reports.html import write_html_summary
from eudr_check.reports.maps import map_file_name, render_plot_map
from eudr_check.reports.results_csv import write_results_csv
from eudr_check.run import CheckRun

log = logging.getLogger(__name__)

MAPS_DIR = "maps"
MARGIN_PIXELS = 3
MAX_WINDOW_PIXELS = 4_000_000  # a plot needing more is not a farm plot (e.g. metres as degrees)

_NOTES = {
    "missing": ("Falta el mosaico {tiles}.", "Tile {tiles} is missing."),
    "unreadable": ("No se pudo leer: {error}", "Could not be read: {error}"),
    "too_large": (
        "La parcela está fuera del mapa o es demasiado grande.",
        "The plot is outside the map or too large.",
    ),
    "no_dataset": (
        "No hay un conjunto de datos de pérdida de bosque en el catálogo.",
        "There is no forest loss dataset in the catalog.",
    ),
}


def _note(key: str, lang: str, **kw: object) -> str:
    es, en = _NOTES[key]
    return (es if lang == "es" else en).format(**kw)


def _on_earth(geom: BaseGeometry) -> bool:
    minx, miny, maxx, maxy = geom.bounds
    return bool(-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90)


def analysed_shape(rec: PlotRecord, default_point_ha: float) -> BaseGeometry | None:
    """The shape the check looked at: a point becomes its circle, as in pipeline.plan."""
    geom = rec.geometry
    if geom is None or geom.geom_type not in ("Point", "MultiPoint") or not _on_earth(geom):
        return geom
    declared = rec.declared_area_ha
    area = declared if declared is not None and declared > 0 else default_point_ha
    circle: BaseGeometry = point_circles([geom], np.array([area]))[0]
    return circle


def _windows(
    ds: Dataset, shape: BaseGeometry, run: CheckRun, lang: str
) -> tuple[RasterWindow | None, RasterWindow | None, str | None]:
    """Loss and tree-cover windows around the shape, or None and why not."""
    pad = MARGIN_PIXELS * ds.pixel_deg
    minx, miny, maxx, maxy = shape.bounds
    bounds = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    cells = (bounds[2] - bounds[0]) * (bounds[3] - bounds[1]) / ds.pixel_deg**2
    if not _on_earth(shape) or cells > MAX_WINDOW_PIXELS:
        return None, None, _note("too_large", lang)
    loss = read_window(ds, "lossyear", bounds, run.data_dir)
    if loss.errors:
        return None, None, _note("unreadable", lang, error="; ".join(loss.errors.values()))
    if loss.nodata.all():
        tiles = ", ".join(loss.missing_tiles)
        return None, None, _note("missing", lang, tiles=tiles) if tiles else None
    treecover = None
    if "treecover2000" in ds.layers:
        treecover = read_window(ds, "treecover2000", bounds, run.data_dir)
    return loss, treecover, None


def _write_maps(
    run: CheckRun, out_dir: Path, lang: str, progress: Callable[[int], None] | None
) -> tuple[dict[str, Path], list[Path]]:
    """A map per flagged plot: by plot id for the HTML, and every file written."""
    loss_ds = next((d for d in run.catalog.enabled if d.role is Role.FOREST_LOSS), None)
    maps: dict[str, Path] = {}
    files: list[Path] = []
    used: set[str] = set()
    for rec in plot_records(run):
        shape = analysed_shape(rec, run.catalog.verdict.point_area_ha)
        if rec.result.verdict is not Verdict.DEFORESTATION_FREE and shape is not None:
            if shape is not rec.geometry:  # a point: draw the circle and where the point is
                shape = shapely.GeometryCollection([shape, rec.geometry])
            name = map_file_name(rec.plot_id)
            # Duplicated ids, or ids differing only in case (one file on Windows and macOS).
            if name.lower() in used:
                name = f"{name[:-4]}-{rec.index}.png"
            used.add(name.lower())
            folder = out_dir / MAPS_DIR / Path(run.input_name).stem  # one folder per input
            path = _one_map(run, loss_ds, rec, shape, folder / name, lang)
            maps.setdefault(rec.plot_id, path)
            files.append(path)
        if progress is not None:
            progress(1)
    return maps, files


def _one_map(
    run: CheckRun, ds: Dataset | None, rec: PlotRecord, shape: BaseGeometry, path: Path, lang: str
) -> Path:
    loss = treecover = None
    note: str | None = _note("no_dataset", lang)
    credit = None
    threshold, base = 10, 2000
    if ds is not None:
        loss, treecover, note = _windows(ds, shape, run, lang)
        credit = f"{ds.title}, {ds.version} ({ds.licence})"
        threshold = int(ds.encoding.get("treecover_threshold", threshold))
        base = int(ds.encoding.get("loss_year_base", base))
    return render_plot_map(
        shape,
        loss,
        title=f"{rec.plot_id} · {verdict_name(rec.result.verdict, lang)}",
        lang=lang,
        path=path,
        treecover_window=treecover,
        treecover_threshold=threshold,
        cutoff_year=run.catalog.cutoff_date.year,
        loss_year_base=base,
        note=note,
        credit=credit,
    )


def _previous_maps(manifest: Path, out_dir: Path, stem: str) -> set[Path]:
    """Maps the last run of this input wrote (from its manifest), to remove stale ones."""
    try:
        outputs = json.loads(manifest.read_text(encoding="utf-8")).get("outputs", {})
    except (OSError, ValueError, AttributeError):
        return set()
    maps_dir = (out_dir / MAPS_DIR / stem).resolve()
    found = set()
    for rel in outputs if isinstance(outputs, dict) else ():
        path = (out_dir / str(rel)).resolve()
        # Only our own PNGs directly in maps/<stem>/: a tampered manifest must not delete more.
        if path.parent == maps_dir and path.suffix == ".png":
            found.add(path)
    return found


def write_check_reports(
    run: CheckRun,
    out_dir: Path,
    *,
    lang: str = "es",
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write every report of the run into out_dir; returns the paths, the manifest last.

    `progress` is called with 1 after each plot's map step (len(run.results) calls in all).
    """
    lang = "es" if lang == "es" else "en"
    stem = Path(run.input_name).stem or "plots"
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / f"{stem}.manifest.json"
    stale = _previous_maps(manifest_path, out_dir, Path(run.input_name).stem)

    maps, map_files = _write_maps(run, out_dir, lang, progress)
    written = [
        write_due_diligence_geojson(run, out_dir / f"{stem}.due_diligence.geojson"),
        write_results_csv(run, out_dir / f"{stem}.results.csv"),
        write_html_summary(run, out_dir / f"{stem}.summary.html", lang=lang, maps=maps),
        *map_files,
    ]
    for old in stale - {p.resolve() for p in map_files}:
        old.unlink(missing_ok=True)

    manifest = run.manifest()
    manifest["report_lang"] = lang
    manifest["outputs"] = {p.relative_to(out_dir).as_posix(): sha256_file(p) for p in written}
    write_text(
        manifest_path, json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    )
    log.info("reports for %s written to %s", run.input_name, out_dir)
    return [*written, manifest_path]
