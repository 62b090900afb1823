"""The plot registry: organisations, uploaded plots and their versions, runs, results and lots.

One `Registry` per process; every public method is one transaction. SQLite (a file) by default,
PostgreSQL by changing the URL (`postgresql+psycopg://user:password@host/db`). Opening runs the
migrations, so a new database just works.

Plots are keyed by (organisation, plot_id). Registering an upload adds a version only for plots
whose content (geometry and attributes) changed; old versions are never deleted. Results are
keyed by (plot version, fingerprint), inserted with ON CONFLICT DO NOTHING: a killed and re-run
job neither duplicates nor loses results.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import Engine, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from eudr_check.errors import StoreError
from eudr_check.fileio import strict_json
from eudr_check.findings import Finding, finding_record
from eudr_check.models import DatasetStats, PlotResult
from eudr_check.reasons import Reason, ReasonItem, reason_record
from eudr_check.rules import ValidationReport
from eudr_check.settings import get_settings
from eudr_check.store.access import AccessQueries
from eudr_check.store.chunks import chunks
from eudr_check.store.counters import RequestCounters
from eudr_check.store.dds import DdsRecords
from eudr_check.store.jobs import JobQueue
from eudr_check.store.listing import PlotListing
from eudr_check.store.migrate import has_geometry_column, upgrade
from eudr_check.store.nightly import NightlyRecords
from eudr_check.store.reviews import ReviewRecords
from eudr_check.store.schema import (
    CheckRun,
    Lot,
    LotPlot,
    Organisation,
    OrgKind,
    Plot,
    PlotResultRow,
    PlotVersion,
    RunKind,
    RunStatus,
    Share,
    Upload,
    utcnow,
)

__all__ = [
    "Registry",
    "StoreError",
    "StoredResult",
    "UploadSummary",
    "create_engine",
    "default_url",
]

DEFAULT_URL = "sqlite:///eudr_check.db"
# Stored (and hashed) geometries are rounded to 1e-9 degrees (0.1 mm): lossless for anything
# on the EU 6-decimal grid, and free of floating-point noise.
WKB_DECIMALS = 9
_ATTRIBUTES = ("producer_name", "producer_country", "production_place", "commodity")
_SUPPORTED = ("sqlite", "postgresql")

E = TypeVar("E", OrgKind, RunKind, RunStatus)


def default_url() -> str:
    """The settings' registry (EUDR_CHECK_REGISTRY_URL), else a SQLite file in the working
    directory."""
    return get_settings().registry_url or DEFAULT_URL


@dataclass(frozen=True, slots=True)
class UploadSummary:
    upload_id: int
    new_plots: int  # plots seen for the first time
    new_versions: int  # versions written, including the first version of each new plot
    unchanged: int  # rows identical to their plot's latest version
    duplicates: int = 0  # later rows repeating a plot_id of the same upload: skipped

    @property
    def changed(self) -> int:
        """Known plots that got a new version."""
        return self.new_versions - self.new_plots


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A stored result with what produced it: the run, the tool, the fingerprint, the time."""

    version_id: int
    organisation_id: int  # the cooperative owning the plot
    run_id: str  # the run id its reports carry (the registry's run uid)
    tool_version: str
    fingerprint: str
    checked_at: dt.datetime
    result: PlotResult
    result_key: str | None = None  # what the result says about the plot (PlotResultRow)


def result_key(verdict: str, reasons: Any, stats: Any) -> str:
    """The hash of what a result says about its plot (see PlotResultRow.result_key)."""
    text = json.dumps([verdict, reasons, stats], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Registry(
    AccessQueries, RequestCounters, JobQueue, PlotListing, DdsRecords, ReviewRecords,
    NightlyRecords,
):  # fmt: skip
    """Typed access to the registry database; see the module docstring."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name not in _SUPPORTED:
            name = engine.dialect.name
            raise StoreError(f"unsupported database {name!r}: use SQLite or PostgreSQL")
        self.engine = engine
        # SQLite: writers take the write lock when they begin (BEGIN IMMEDIATE), so a
        # read-then-write transaction never fails half-way on a concurrent writer.
        self._writer = engine.execution_options(sqlite_immediate=True)
        # True when plot_versions has the PostGIS `geom` column (see store.schema).
        with engine.connect() as conn:
            self.has_postgis = has_geometry_column(conn)

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True, **engine_kw: Any) -> Registry:
        """Connect to `url` (default: `default_url()`) and bring the schema up to date."""
        engine = create_engine(url or default_url(), **engine_kw)
        try:
            if migrate:
                upgrade(engine)
            return cls(engine)
        except BaseException:
            engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            yield s

    # organisations --------------------------------------------------------------------------

    def create_organisation(self, name: str, kind: OrgKind | str) -> int:
        org = Organisation(name=name, kind=_enum(OrgKind, kind, "organisation kind"))
        with self._write() as s:
            s.add(org)
            s.flush()
            return org.id

    def share(self, cooperative_id: int, exporter_id: int) -> None:
        """Let an exporter use the cooperative's plots in lots (idempotent)."""
        with self._write() as s:
            _org(s, cooperative_id, OrgKind.COOPERATIVE)
            _org(s, exporter_id, OrgKind.EXPORTER)
            if s.get(Share, (cooperative_id, exporter_id)) is None:
                s.add(Share(cooperative_id=cooperative_id, exporter_id=exporter_id))

    # uploads and plot versions --------------------------------------------------------------

    def register_upload(
        self, organisation_id: int, report: ValidationReport, file_name: str, sha256: str
    ) -> UploadSummary:
        """Add the report's plots: new plots, new versions of changed ones, nothing else."""
        rows = _upload_rows(report)
        now = utcnow()
        with self._write() as s:
            # Lock the organisation: uploads of one organisation are registered one at a time.
            _org(s, organisation_id, lock=True)
            upload = Upload(
                organisation_id=organisation_id,
                file_name=file_name,
                sha256=sha256,
                fixed=report.fixed,
                rows=len(rows.items),
                new_plots=0,
                new_versions=0,
                unchanged=0,
                duplicates=0,
                findings=[],
                created_at=now,
            )
            s.add(upload)
            s.flush()
            ids = list(dict.fromkeys(item["plot_id"] for item in rows.items))
            known = _plots_by_id(s, organisation_id, ids)
            latest = _latest_by_plot(s, list(known.values()))
            seen: set[str] = set()
            new_ids: list[str] = []
            pending: list[dict[str, Any]] = []
            unchanged = duplicates = 0
            for item in rows.items:
                pid = item["plot_id"]
                if pid in seen:
                    duplicates += 1
                    rows.loose.extend(item["findings"])
                    continue
                seen.add(pid)
                pk = known.get(pid)
                last = latest.get(pk) if pk is not None else None
                if last is not None and last[1] == item["content_hash"]:
                    unchanged += 1
                    continue
                if pk is None:
                    new_ids.append(pid)
                pending.append({**item, "version": 1 if last is None else last[0] + 1})
            if new_ids:
                created = s.execute(
                    sa.insert(Plot).returning(Plot.plot_id, Plot.id, sort_by_parameter_order=True),
                    [{"organisation_id": organisation_id, "plot_id": p, "created_at": now}
                     for p in new_ids],
                )  # fmt: skip
                known.update(dict(created.all()))
            if pending:
                versions = []
                for item in pending:
                    row = {k: v for k, v in item.items() if k != "plot_id"}
                    row.update(plot_pk=known[item["plot_id"]], upload_id=upload.id, created_at=now)
                    versions.append(row)
                s.execute(sa.insert(PlotVersion), versions)
                _point_at_current(s, [known[item["plot_id"]] for item in pending])
            upload.new_plots = len(new_ids)
            upload.new_versions = len(pending)
            upload.unchanged = unchanged
            upload.duplicates = duplicates
            upload.findings = rows.loose
            return UploadSummary(upload.id, len(new_ids), len(pending), unchanged, duplicates)

    def current_versions(self, organisation_id: int | None = None) -> list[int]:
        """The latest version id of every plot (of one organisation), in registration order."""
        latest = _latest_versions(organisation_id)
        with self._read() as s:
            q = select(latest.c.version_id).order_by(latest.c.plot_pk)
            return list(s.scalars(q))

    def versions_in_bbox(
        self,
        minx: float,
        miny: float,
        maxx: float,
        maxy: float,
        organisation_id: int | None = None,
    ) -> list[int]:
        """Current versions whose bounding box meets the given one (indexed on every backend)."""
        latest = _latest_versions(organisation_id)
        pv = PlotVersion
        q = (
            select(pv.id)
            .join(latest, latest.c.version_id == pv.id)
            .where(pv.minx <= maxx, pv.maxx >= minx, pv.miny <= maxy, pv.maxy >= miny)
            .order_by(pv.plot_pk)
        )
        with self._read() as s:
            return list(s.scalars(q))

    def report_for(self, version_ids: Sequence[int]) -> ValidationReport:
        """The plot table of these versions, ready for `eudr_check.pipeline.check_plots`.

        Same columns as a validated report plus `version_id`; `source_file` is the upload's
        file name and `source_index` the row in that file. Findings come back with them,
        plus the whole-file findings of the uploads involved.
        """
        ids = list(dict.fromkeys(int(v) for v in version_ids))
        pv = PlotVersion
        cols = (pv, Plot.plot_id, Upload.file_name, Upload.fixed)
        found: dict[int, Any] = {}
        uploads: dict[int, list[dict[str, Any]]] = {}
        with self._read() as s:
            for chunk in chunks(ids):
                q = (
                    select(*cols)
                    .join(Plot, Plot.id == pv.plot_pk)
                    .join(Upload, Upload.id == pv.upload_id)
                    .where(pv.id.in_(chunk))
                )
                for row in s.execute(q):
                    found[row[0].id] = row
            missing = [v for v in ids if v not in found]
            if missing:
                raise StoreError(f"unknown plot versions: {_few(missing)}")
            upload_ids = sorted({found[v][0].upload_id for v in ids})
            for chunk in chunks(upload_ids):
                q2 = select(Upload.id, Upload.findings).where(Upload.id.in_(chunk))
                uploads.update(dict(s.execute(q2).all()))
        rows = [found[v] for v in ids]
        findings: list[Finding] = []
        for version, _, file_name, _ in rows:
            findings.extend(_findings(version.findings, file_name))
        names = {r[0].upload_id: r[2] for r in rows}
        for uid in upload_ids:
            loose = [f for f in uploads[uid] if f.get("plot_id") is None]
            findings.extend(_findings(loose, names[uid]))
        findings.sort(key=lambda f: (f.source_file, f.source_index or 0))
        plots = _plot_frame(rows)
        return ValidationReport(plots, findings, fixed=all(r[3] for r in rows))

    # runs and results -----------------------------------------------------------------------

    def start_run(
        self, kind: RunKind | str, tool_version: str, summary: dict[str, Any],
        uid: str | None = None,
    ) -> int:  # fmt: skip
        """Record a run as running; returns the registry's id of it. `uid` is the run id the
        run's reports carry (a new one when not given)."""
        run = CheckRun(
            uid=uid or uuid.uuid4().hex,
            kind=_enum(RunKind, kind, "run kind"),
            status=RunStatus.RUNNING,
            tool_version=tool_version,
            summary=strict_json(summary),
        )
        with self._write() as s:
            s.add(run)
            s.flush()
            return run.id

    def finish_run(self, run_id: int, status: RunStatus | str) -> None:
        final = _enum(RunStatus, status, "run status")
        if final is RunStatus.RUNNING:
            raise StoreError("a run finishes as 'done' or 'failed'")
        with self._write() as s:
            run = s.get(CheckRun, run_id)
            if run is None:
                raise StoreError(f"unknown run {run_id}")
            run.status = final
            run.finished_at = utcnow()

    def record_results(self, run_id: int, items: Sequence[tuple[int, str, PlotResult]]) -> int:
        """Store (plot_version_id, fingerprint, result) items; already known pairs are skipped.

        Returns how many results were new.
        """
        if not items:
            return 0
        now = utcnow()
        rows = []
        for vid, fingerprint, result in items:
            reasons = strict_json([reason_record(r) for r in result.reasons])
            stats = strict_json([st.to_dict() for st in result.stats])
            rows.append({
                "run_id": run_id,
                "plot_version_id": int(vid),
                "fingerprint": fingerprint,
                "verdict": result.verdict,
                "reasons": reasons,
                "stats": stats,
                "area_ha": _num(result.area_ha),
                "buffered_point": bool(result.buffered_point),
                "created_at": now,
                "result_key": result_key(result.verdict.value, reasons, stats),
            })  # fmt: skip
        with self._write() as s:
            if s.get(CheckRun, run_id) is None:
                raise StoreError(f"unknown run {run_id}")
            insert = _dialect_insert(s)(PlotResultRow)
            stmt = insert.on_conflict_do_nothing(
                index_elements=["plot_version_id", "fingerprint"]
            ).returning(PlotResultRow.id)
            try:
                added = len(s.execute(stmt, rows).all())
            except sa.exc.IntegrityError as exc:
                raise StoreError(f"results for unknown plot versions: {exc.orig}") from exc
            _point_at_newest(s, sorted({int(vid) for vid, _, _ in items}))
            return added

    def checked(self, version_fingerprints: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """The (plot_version_id, fingerprint) pairs that already have a result."""
        wanted = {(int(v), f) for v, f in version_fingerprints}
        fingerprints = {f for _, f in wanted}
        done: set[tuple[int, str]] = set()
        r = PlotResultRow
        with self._read() as s:
            for chunk in chunks(sorted({v for v, _ in wanted})):
                q = select(r.plot_version_id, r.fingerprint).where(r.plot_version_id.in_(chunk))
                if len(fingerprints) <= 100:
                    q = q.where(r.fingerprint.in_(sorted(fingerprints)))
                done.update((v, f) for v, f in s.execute(q) if (v, f) in wanted)
        return done

    def results_for(
        self, version_ids: Sequence[int], fingerprint: str | None = None
    ) -> dict[int, PlotResult]:
        """The newest result of each plot version (with that fingerprint, if given), rebuilt as
        PlotResult; versions without one are left out."""
        ids = sorted({int(v) for v in version_ids})
        r = PlotResultRow
        out: dict[int, PlotResult] = {}
        with self._read() as s:
            for chunk in chunks(ids):
                q = (
                    select(r, Plot.plot_id)
                    .join(PlotVersion, PlotVersion.id == r.plot_version_id)
                    .join(Plot, Plot.id == PlotVersion.plot_pk)
                    .where(r.plot_version_id.in_(chunk))
                    .order_by(r.id)
                )
                if fingerprint is not None:
                    q = q.where(r.fingerprint == fingerprint)
                for res, plot_id in s.execute(q):
                    out[res.plot_version_id] = _plot_result(res, plot_id)  # newest wins
        return out

    def stored_results(
        self, version_ids: Sequence[int], fingerprints: Mapping[int, str] | None = None
    ) -> dict[int, StoredResult]:
        """The newest result of each plot version with its run, fingerprint and time; versions
        without one are left out. With `fingerprints` (version id -> fingerprint) the newest
        result with that fingerprint wins when there is one: data that changed and changed back
        needs no new check (as in `checked`), and its old result is the right evidence."""
        ids = sorted({int(v) for v in version_ids})
        wanted = {int(v): f for v, f in (fingerprints or {}).items()}
        r = PlotResultRow
        newest: dict[int, StoredResult] = {}
        matching: dict[int, StoredResult] = {}
        with self._read() as s:
            for chunk in chunks(ids):
                q = (
                    select(
                        r, Plot.plot_id, Plot.organisation_id, CheckRun.tool_version, CheckRun.uid
                    )
                    .join(PlotVersion, PlotVersion.id == r.plot_version_id)
                    .join(Plot, Plot.id == PlotVersion.plot_pk)
                    .join(CheckRun, CheckRun.id == r.run_id)
                    .where(r.plot_version_id.in_(chunk))
                    .order_by(r.id)
                )
                for res, plot_id, org_id, tool, run_uid in s.execute(q):
                    vid = res.plot_version_id
                    item = StoredResult(vid, org_id, run_uid, tool, res.fingerprint,
                                        res.created_at, _plot_result(res, plot_id),
                                        res.result_key)  # fmt: skip
                    newest[vid] = item  # ordered by id: the newest wins
                    if wanted.get(vid) == res.fingerprint:
                        matching[vid] = item
        return {**newest, **matching}

    def latest_results(self, organisation_id: int) -> list[dict[str, Any]]:
        """Per current plot version of the organisation, its newest result (None: unchecked)."""
        latest = _latest_versions(organisation_id)
        r = PlotResultRow
        inner = aliased(PlotResultRow)
        newest = (
            select(func.max(inner.id))
            .where(inner.plot_version_id == latest.c.version_id)
            .scalar_subquery()
        )
        q = (
            select(
                latest.c.plot_pk,
                latest.c.plot_id,
                latest.c.version_id,
                latest.c.version,
                PlotVersion.status,
                PlotVersion.producer_name,
                CheckRun.uid,
                r.fingerprint,
                r.verdict,
                r.reasons,
                r.stats,
                r.area_ha,
                r.buffered_point,
                r.created_at,
            )
            .join(PlotVersion, PlotVersion.id == latest.c.version_id)
            .outerjoin(r, (r.plot_version_id == latest.c.version_id) & (r.id == newest))
            .outerjoin(CheckRun, CheckRun.id == r.run_id)
            .order_by(latest.c.plot_pk)
        )
        keys = ("plot_key", "plot_id", "version_id", "version", "status", "producer_name", "run_id",
                "fingerprint", "verdict", "reasons", "stats", "area_ha", "buffered_point",
                "checked_at")  # fmt: skip
        out = []
        with self._read() as s:
            for row in s.execute(q):
                item = dict(zip(keys, row, strict=True))
                item["verdict"] = None if item["verdict"] is None else str(item["verdict"].value)
                out.append(item)
        return out

    # lots ----------------------------------------------------------------------------------

    def create_lot(
        self,
        exporter_id: int,
        reference: str,
        commodity: str,
        hs_code: str | None,
        net_mass_kg: float | None,
        plot_version_ids: Sequence[int],
    ) -> int:
        """A lot of plot versions, all from cooperatives sharing their plots with the exporter."""
        ids = sorted({int(v) for v in plot_version_ids})
        if not ids:
            raise StoreError("a lot needs at least one plot version")
        with self._write() as s:
            _org(s, exporter_id, OrgKind.EXPORTER)
            owners: dict[int, int] = {}
            for chunk in chunks(ids):
                q = (
                    select(PlotVersion.id, Plot.organisation_id)
                    .join(Plot, Plot.id == PlotVersion.plot_pk)
                    .where(PlotVersion.id.in_(chunk))
                )
                owners.update(dict(s.execute(q).all()))
            missing = [v for v in ids if v not in owners]
            if missing:
                raise StoreError(f"unknown plot versions: {_few(missing)}")
            shared = set(
                s.scalars(select(Share.cooperative_id).where(Share.exporter_id == exporter_id))
            )
            refused = [v for v in ids if owners[v] not in shared]
            if refused:
                raise StoreError(
                    f"plot versions {_few(refused)} belong to organisations that have not "
                    f"shared their plots with exporter {exporter_id}"
                )
            taken = select(Lot.id).where(
                Lot.organisation_id == exporter_id, Lot.reference == reference
            )
            if s.scalar(taken) is not None:
                raise StoreError(f"exporter {exporter_id} already has a lot {reference!r}")
            lot = Lot(
                organisation_id=exporter_id,
                reference=reference,
                commodity=commodity,
                hs_code=hs_code,
                net_mass_kg=_num(net_mass_kg),
            )
            s.add(lot)
            s.flush()
            s.execute(sa.insert(LotPlot), [{"lot_id": lot.id, "plot_version_id": v} for v in ids])
            return lot.id

    def owners(self, version_ids: Sequence[int]) -> dict[int, int]:
        """The organisation owning each plot version (unknown versions are left out)."""
        out: dict[int, int] = {}
        with self._read() as s:
            for chunk in chunks(sorted({int(v) for v in version_ids})):
                q = (
                    select(PlotVersion.id, Plot.organisation_id)
                    .join(Plot, Plot.id == PlotVersion.plot_pk)
                    .where(PlotVersion.id.in_(chunk))
                )
                out.update(dict(s.execute(q).all()))
        return out

    def lot_versions(self, lot_id: int) -> list[int]:
        with self._read() as s:
            if s.get(Lot, lot_id) is None:
                raise StoreError(f"unknown lot {lot_id}")
            q = (
                select(LotPlot.plot_version_id)
                .where(LotPlot.lot_id == lot_id)
                .order_by(LotPlot.plot_version_id)
            )
            return list(s.scalars(q))

    # audit --------------------------------------------------------------------------------

    def history(self, organisation_id: int, plot_id: str) -> list[dict[str, Any]]:
        """Every version of one plot, oldest first, each with all its results (oldest first)."""
        pv = PlotVersion
        q = (
            select(pv, Upload.file_name)
            .join(Plot, Plot.id == pv.plot_pk)
            .join(Upload, Upload.id == pv.upload_id)
            .where(Plot.organisation_id == organisation_id, Plot.plot_id == plot_id)
            .order_by(pv.version)
        )
        out: list[dict[str, Any]] = []
        with self._read() as s:
            versions = list(s.execute(q))
            results: dict[int, list[dict[str, Any]]] = {v.id: [] for v, _ in versions}
            r = PlotResultRow
            for chunk in chunks(list(results)):
                rq = (
                    select(r, CheckRun.uid)
                    .join(CheckRun, CheckRun.id == r.run_id)
                    .where(r.plot_version_id.in_(chunk))
                    .order_by(r.id)
                )
                for res, run_uid in s.execute(rq):
                    results[res.plot_version_id].append(_result_dict(res, run_uid))
        for v, file_name in versions:
            geom = None if v.geometry_wkb is None else shapely.from_wkb(v.geometry_wkb)
            out.append(
                {
                    "plot_id": plot_id,
                    "version_id": v.id,
                    "version": v.version,
                    "created_at": v.created_at,
                    "upload_id": v.upload_id,
                    "file_name": file_name,
                    "source_index": v.source_index,
                    "content_hash": v.content_hash,
                    "geometry_wkt": None if geom is None else shapely.to_wkt(geom),
                    "original_wkt": v.original_wkt,
                    "bbox": None if v.minx is None else (v.minx, v.miny, v.maxx, v.maxy),
                    **{k: getattr(v, k) for k in _ATTRIBUTES},
                    "declared_area_ha": v.declared_area_ha,
                    "area_ha": v.area_ha,
                    "status": v.status,
                    "findings": v.findings,
                    "results": results[v.id],
                }
            )
        return out


# engine ---------------------------------------------------------------------------------------


def create_engine(url: str, **kw: Any) -> Engine:
    """An engine for the registry; SQLite gets foreign keys, WAL and real transactions."""
    engine = sa.create_engine(url, **kw)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is off: we emit BEGIN ourselves (below), as the
        # SQLAlchemy documentation recommends, so DDL and reads are transactional too.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        if not memory:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _dialect_insert(s: Session) -> Callable[..., Any]:
    name = s.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


# helpers ---------------------------------------------------------------------------------------


def _enum(cls: type[E], value: E | str, what: str) -> E:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise StoreError(f"invalid {what} {value!r} (one of: {allowed})") from None


def _org(s: Session, org_id: int, kind: OrgKind | None = None, lock: bool = False) -> Organisation:
    q = select(Organisation).where(Organisation.id == org_id)
    org = s.scalar(q.with_for_update() if lock else q)
    if org is None:
        raise StoreError(f"unknown organisation {org_id}")
    if kind is not None and org.kind is not kind:
        raise StoreError(f"organisation {org_id} is a {org.kind.value}, not a {kind.value}")
    return org


def _few(ids: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:10])
    return shown + (f" (and {len(ids) - 10} more)" if len(ids) > 10 else "")


def _plots_by_id(s: Session, organisation_id: int, plot_ids: list[str]) -> dict[str, int]:
    known: dict[str, int] = {}
    for chunk in chunks(plot_ids):
        q = select(Plot.plot_id, Plot.id).where(
            Plot.organisation_id == organisation_id, Plot.plot_id.in_(chunk)
        )
        known.update(dict(s.execute(q).all()))
    return known


def _latest_by_plot(s: Session, plot_pks: list[int]) -> dict[int, tuple[int, str]]:
    """(version, content_hash) of the latest version of each plot."""
    pv = PlotVersion
    out: dict[int, tuple[int, str]] = {}
    for chunk in chunks(sorted(plot_pks)):
        top = (
            select(pv.plot_pk, func.max(pv.version).label("version"))
            .where(pv.plot_pk.in_(chunk))
            .group_by(pv.plot_pk)
            .subquery()
        )
        q = select(pv.plot_pk, pv.version, pv.content_hash).join(
            top, (top.c.plot_pk == pv.plot_pk) & (top.c.version == pv.version)
        )
        out.update({pk: (v, h) for pk, v, h in s.execute(q)})
    return out


def _point_at_current(s: Session, plot_pks: Sequence[int]) -> None:
    """Plots point at their latest version (after versions were added)."""
    pv = PlotVersion
    newest = (select(pv.id).where(pv.plot_pk == Plot.id).order_by(pv.version.desc()).limit(1)
              .scalar_subquery())  # fmt: skip
    for chunk in chunks(sorted(set(plot_pks))):
        s.execute(sa.update(Plot).where(Plot.id.in_(chunk)).values(current_version_id=newest))
        _mirror_current(s, Plot.id.in_(chunk))


def _point_at_newest(s: Session, version_ids: Sequence[int]) -> None:
    """Versions point at their newest result (after results were recorded)."""
    r = PlotResultRow
    newest = select(func.max(r.id)).where(r.plot_version_id == PlotVersion.id).scalar_subquery()
    for chunk in chunks(list(version_ids)):
        s.execute(sa.update(PlotVersion).where(PlotVersion.id.in_(chunk))
                  .values(latest_result_id=newest))  # fmt: skip
        _mirror_current(s, Plot.current_version_id.in_(chunk))


def _mirror_current(s: Session, which: Any) -> None:
    """The plots' copies of their current version's status, producer and newest verdict."""
    pv, r = PlotVersion, PlotResultRow
    status = select(pv.status).where(pv.id == Plot.current_version_id).scalar_subquery()
    producer = select(pv.producer_name).where(pv.id == Plot.current_version_id).scalar_subquery()
    verdict = (select(sa.cast(r.verdict, sa.String(32))).join(pv, pv.latest_result_id == r.id)
               .where(pv.id == Plot.current_version_id).scalar_subquery())  # fmt: skip
    s.execute(
        sa.update(Plot)
        .where(which)
        .values(current_status=status, current_verdict=verdict, current_producer=producer)
    )


def _latest_versions(organisation_id: int | None) -> sa.Subquery:
    """plot_pk, plot_id, version, version_id of each plot's latest version."""
    pv = PlotVersion
    top = select(pv.plot_pk, func.max(pv.version).label("version")).group_by(pv.plot_pk)
    if organisation_id is not None:
        top = top.join(Plot, Plot.id == pv.plot_pk).where(Plot.organisation_id == organisation_id)
    t = top.subquery()
    return (
        select(pv.plot_pk, Plot.plot_id, pv.version, pv.id.label("version_id"))
        .join(t, (t.c.plot_pk == pv.plot_pk) & (t.c.version == pv.version))
        .join(Plot, Plot.id == pv.plot_pk)
        .subquery()
    )


@dataclass(slots=True)
class _Rows:
    items: list[dict[str, Any]]  # one per report row: the plot_versions columns, plus plot_id
    loose: list[dict[str, Any]]  # findings not attached to a row


def _upload_rows(report: ValidationReport) -> _Rows:
    plots = report.plots.reset_index(drop=True)
    n = len(plots)

    def column(name: str) -> list[Any]:
        return plots[name].tolist() if name in plots.columns else [None] * n

    ids = [_text(v) for v in column("plot_id")]
    if any(i is None for i in ids):
        raise StoreError("every plot needs a plot_id (intake generates one when missing)")
    files = [str(v) for v in column("source_file")]
    indexes = [int(v) for v in column("source_index")]
    by_row: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    keys: set[tuple[Any, ...]] = set(zip(files, indexes, ids, strict=True))
    loose: list[dict[str, Any]] = []
    for f in report.findings:
        key = (f.source_file, f.source_index, f.plot_id)
        if key in keys:
            by_row.setdefault(key, []).append(strict_json(finding_record(f)))
        else:
            loose.append(strict_json(finding_record(f)))
    wkb, bounds = _canonical_wkb(np.asarray(plots.geometry.values, dtype=object))
    attrs = {k: [_text(v) for v in column(k)] for k in _ATTRIBUTES}
    declared = [_num(v) for v in column("declared_area_ha")]
    area = [_num(v) for v in column("area_ha")]
    status = [_text(v) or "ok" for v in column("status")]
    original = [_text(v) for v in column("original_wkt")]
    layers = [_text(v) for v in column("source_layer")]
    items = []
    for i in range(n):
        a = {k: attrs[k][i] for k in _ATTRIBUTES}
        blob = wkb[i]
        content = [None if blob is None else blob.hex(), a, declared[i], original[i]]
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        items.append(
            {
                "plot_id": ids[i],
                "geometry_wkb": wkb[i],
                "minx": bounds[i][0],
                "miny": bounds[i][1],
                "maxx": bounds[i][2],
                "maxy": bounds[i][3],
                **a,
                "declared_area_ha": declared[i],
                "area_ha": area[i],
                "status": status[i],
                "original_wkt": original[i],
                "source_layer": layers[i],
                "source_index": indexes[i],
                "findings": by_row.get((files[i], indexes[i], ids[i]), []),
                "content_hash": digest,
            }
        )
    return _Rows(items, loose)


def _canonical_wkb(
    geoms: np.ndarray,
) -> tuple[list[bytes | None], list[tuple[float | None, ...]]]:
    """2D little-endian ISO WKB of the geometries rounded to WKB_DECIMALS, and their bounds."""
    present = ~shapely.is_missing(geoms)
    wkb: list[bytes | None] = [None] * len(geoms)
    bounds: list[tuple[float | None, ...]] = [(None,) * 4] * len(geoms)
    idx = np.flatnonzero(present)
    if len(idx):
        # "+ 0.0" turns -0.0 into 0.0, so equal shapes give equal bytes.
        rounded = shapely.transform(geoms[idx], lambda xy: np.round(xy, WKB_DECIMALS) + 0.0)
        blobs = shapely.to_wkb(rounded, output_dimension=2, byte_order=1, flavor="iso")
        boxes = shapely.bounds(rounded)
        for k, i in enumerate(idx.tolist()):
            wkb[i] = bytes(blobs[k])
            bounds[i] = tuple(_num(b) for b in boxes[k].tolist())
    return wkb, bounds


def _plot_frame(rows: Sequence[Any]) -> gpd.GeoDataFrame:
    versions = [r[0] for r in rows]
    wkb = np.array([v.geometry_wkb for v in versions], dtype=object)
    geoms = shapely.from_wkb(wkb) if len(wkb) else np.array([], dtype=object)

    def floats(name: str) -> np.ndarray:
        return np.array([_nan(getattr(v, name)) for v in versions], dtype=float)

    data: dict[str, Any] = {
        "plot_id": [r[1] for r in rows],
        "producer_name": [v.producer_name for v in versions],
        "producer_country": [v.producer_country for v in versions],
        "production_place": [v.production_place for v in versions],
        "declared_area_ha": floats("declared_area_ha"),
        "commodity": [v.commodity for v in versions],
        "source_file": [r[2] for r in rows],
        "source_layer": [v.source_layer for v in versions],
        "source_index": np.array([v.source_index for v in versions], dtype=np.int64),
    }
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))
    frame["area_ha"] = floats("area_ha")
    frame["original_wkt"] = [v.original_wkt for v in versions]
    frame["status"] = [v.status for v in versions]
    frame["version_id"] = np.array([v.id for v in versions], dtype=np.int64)
    return frame


def _findings(items: Iterable[dict[str, Any]], file_name: str) -> Iterator[Finding]:
    for item in items:
        f = Finding.from_dict(item)
        yield f if f.source_file == file_name else dataclasses.replace(f, source_file=file_name)


def _result_dict(res: PlotResultRow, run_uid: str) -> dict[str, Any]:
    return {
        "run_id": run_uid,
        "fingerprint": res.fingerprint,
        "verdict": res.verdict.value,
        "reasons": res.reasons,
        "stats": res.stats,
        "area_ha": res.area_ha,
        "buffered_point": res.buffered_point,
        "checked_at": res.created_at,
    }


def _plot_result(res: PlotResultRow, plot_id: str) -> PlotResult:
    reasons = tuple(
        ReasonItem(
            Reason(d["code"]), d.get("dataset_id"), tuple(sorted(d.get("params", {}).items()))
        )
        for d in res.reasons
    )
    stats = tuple(DatasetStats.from_dict(d) for d in res.stats)
    return PlotResult(plot_id, res.verdict, reasons, stats, res.area_ha, res.buffered_point)


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, str):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
