"""Technicians upload plot files: validated and registered at once, checked in the background."""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Depends, File, Form, UploadFile

from eudr_check.api import deps, schemas, views
from eudr_check.api.auth import Caller, technician
from eudr_check.api.checks import CheckQueue
from eudr_check.api.scope import upload_for
from eudr_check.errors import ApiError
from eudr_check.intake import PlotTable, read_plots
from eudr_check.intake.countries import normalise_country
from eudr_check.rules import ValidationReport, validate
from eudr_check.settings import Settings
from eudr_check.store import Registry

router = APIRouter(prefix="/api/uploads", tags=["uploads"], responses=schemas.ERROR_RESPONSES)
Reg = Annotated[Registry, Depends(deps.registry)]
Queue = Annotated[CheckQueue, Depends(deps.queue)]
Tech = Annotated[Caller, Depends(technician)]
_UNSAFE = re.compile(r"[^\w.\- ]+")
# What the registry cannot store in text (PostgreSQL refuses NUL; lone surrogates are not
# Unicode that can be encoded).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
MAX_PLOT_ID = 500  # characters: at most 2000 bytes of UTF-8


def safe_name(name: str | None) -> str:
    """The client's file name, reduced to its last part in safe characters (the extension
    matters: it is the first hint of the format)."""
    base = Path((name or "").replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip(" .")[:120]
    return base or "upload"


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unstorable(v) for v in value)
    return False


def refuse_unstorable_text(name: str, report: ValidationReport) -> None:
    """A file the registry cannot store (NUL or broken Unicode in its text, a plot ID too long
    to index) is refused, naming the row, rather than failing in the database."""
    plots = report.plots.drop(columns="geometry")
    rows = [int(r["source_index"]) for r in plots.to_dict("records") if _unstorable(r)]
    rows += [f.source_index or 0 for f in report.findings if _unstorable(f.to_dict())]
    if rows:
        row = min(rows)
        raise ApiError(422, "bad_text",
                       f"{name}: la fila {row} tiene caracteres no válidos (NUL o Unicode "
                       "dañado); corrija el archivo y vuelva a subirlo.",
                       f"{name}: row {row} holds invalid characters (NUL or broken Unicode); "
                       "fix the file and upload it again.")  # fmt: skip
    # Plot IDs are indexed: PostgreSQL's index entries hold at most 2704 bytes (and an ID is a
    # short code; a longer one is some other column taken for the ID).
    ids = zip(report.plots["source_index"], report.plots["plot_id"].astype(str), strict=True)
    long_ids = [(int(row), len(pid)) for row, pid in ids if len(pid) > MAX_PLOT_ID]
    if long_ids:
        row, size = long_ids[0]
        raise ApiError(422, "plot_id_too_long",
                       f"{name}: el ID de parcela de la fila {row} es demasiado largo ({size} "
                       f"caracteres; máximo {MAX_PLOT_ID}).",
                       f"{name}: the plot ID in row {row} is too long ({size} characters; at "
                       f"most {MAX_PLOT_ID}).")  # fmt: skip


_PARSING = threading.Lock()


def refuse_oversized(name: str, table: PlotTable, settings: Settings) -> None:
    """More plots or vertices than one upload may hold: 413, with the limit and its setting."""
    plots = len(table.plots)
    if plots > settings.max_upload_plots:
        raise ApiError(413, "too_many_plots",
                       f"{name}: {plots} parcelas; una subida admite hasta "
                       f"{settings.max_upload_plots} (EUDR_CHECK_MAX_UPLOAD_PLOTS). Divida el "
                       "archivo.",
                       f"{name}: {plots} plots; one upload holds at most "
                       f"{settings.max_upload_plots} (EUDR_CHECK_MAX_UPLOAD_PLOTS). Split the "
                       "file.")  # fmt: skip
    geoms = [g for g in table.plots.geometry.values if g is not None]
    vertices = int(shapely.get_num_coordinates(geoms).sum()) if geoms else 0
    if vertices > settings.max_upload_vertices:
        raise ApiError(413, "too_many_vertices",
                       f"{name}: {vertices} vértices; una subida admite hasta "
                       f"{settings.max_upload_vertices} (EUDR_CHECK_MAX_UPLOAD_VERTICES). "
                       "Simplifique o divida el archivo.",
                       f"{name}: {vertices} vertices; one upload holds at most "
                       f"{settings.max_upload_vertices} (EUDR_CHECK_MAX_UPLOAD_VERTICES). "
                       "Simplify or split the file.")  # fmt: skip


def accept_upload(
    registry: Registry, queue: CheckQueue, settings: Settings, caller: Caller,
    name: str, data: bytes, *, fix: bool = True, country: str | None = None,
) -> schemas.UploadDetail:  # fmt: skip
    """Read, validate, register and queue the check of one uploaded file (API and pages)."""
    if not data:
        raise ApiError(422, "empty_file", f"{name}: el archivo está vacío.",
                       f"{name}: the file is empty.")  # fmt: skip
    assert caller.organisation_id is not None
    iso2 = None
    if country:
        iso2 = normalise_country(country)
        if iso2 is None:
            raise ApiError(422, "bad_country",
                           f"País desconocido: {country!r}. Use un código ISO (PE, CO…) o el "
                           "nombre del país.",
                           f"Unknown country: {country!r}. Use an ISO code (PE, CO…) or the "
                           "country's name.")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="eudr-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        # One file parsed at a time: what parsing costs in memory (a KML expands several times
        # over its bytes) stays that of one upload, however many arrive at once.
        with _PARSING:
            table = read_plots(path, default_country=iso2, settings=settings)
            refuse_oversized(name, table, settings)
            report = validate(table, fix=fix)
    refuse_unstorable_text(name, report)
    summary = registry.register_upload(
        caller.organisation_id, report, name, hashlib.sha256(data).hexdigest()
    )
    info = registry.upload(summary.upload_id)
    assert info is not None
    # Every current plot of the cooperative, not only the new versions: plots unchanged in
    # this file but never checked (or checked on older data) get their verdict too.
    queue.submit(
        views.upload_key(info.id),
        registry.current_versions(caller.organisation_id),
        caller.organisation_id,
    )
    return views.upload_detail(registry, info, queue, report)


@router.post("", response_model=schemas.UploadDetail, status_code=201)
def upload(
    caller: Tech,
    registry: Reg,
    queue: Queue,
    settings: Annotated[Settings, Depends(deps.settings)],
    file: Annotated[
        UploadFile,
        File(description="GeoJSON, KML/KMZ, GPX, CSV/XLSX, zipped Shapefile or GeoPackage"),
    ],
    # Absent form booleans read as False (HTML checkbox rule), so the flag is the opt-out.
    no_repair: Annotated[bool, Form(description="Keep geometries as uploaded")] = False,
    country: Annotated[str | None, Form(max_length=60)] = None,
) -> schemas.UploadDetail:
    data = file.file.read()
    return accept_upload(
        registry, queue, settings, caller, safe_name(file.filename), data, fix=not no_repair,
        country=country or None,
    )  # fmt: skip


@router.get("", response_model=list[schemas.UploadOut])
def uploads(caller: Tech, registry: Reg, queue: Queue) -> list[schemas.UploadOut]:
    assert caller.organisation_id is not None
    return [views.upload_out(u, queue) for u in registry.uploads(caller.organisation_id)]


@router.get("/{upload_id}", response_model=schemas.UploadDetail)
def upload_detail(
    upload_id: deps.Id, caller: Tech, registry: Reg, queue: Queue
) -> schemas.UploadDetail:
    info = upload_for(registry, caller, upload_id)
    return views.upload_detail(registry, info, queue, None)
