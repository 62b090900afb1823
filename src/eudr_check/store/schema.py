"""The registry's tables as typed SQLAlchemy ORM classes (the migrations create the same schema).

Nothing here is ever deleted: plots keep every version (EUDR: 5 years of records), and results
are keyed by (plot version, fingerprint) so a re-run adds nothing it already has.

Geometries are stored as 2D ISO WKB plus a bounding box (minx, miny, maxx, maxy, indexed) on
every backend. On PostgreSQL with the postgis extension installed, the migration also adds
`plot_versions.geom geometry(Geometry, 4326)`, generated from the WKB, with a GiST index; it is
not mapped here (no GeoAlchemy2 needed): see POSTGIS_EXTRAS.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eudr_check.reasons import Verdict

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# PostGIS-only schema objects the ORM does not map (column and index of plot_versions), and
# the table the postgis extension brings along.
POSTGIS_EXTRAS = frozenset({"geom", "ix_plot_versions_geom"})
POSTGIS_TABLES = frozenset({"spatial_ref_sys"})


class OrgKind(StrEnum):
    COOPERATIVE = "cooperative"
    EXPORTER = "exporter"


class Role(StrEnum):
    """What a token may do: technicians upload for their cooperative, exporters build lots from
    shared plots, reviewers decide on doubtful plots their organisation sees (a cooperative's or
    an exporter's), admins manage organisations and tokens (and see no plots)."""

    TECHNICIAN = "technician"
    EXPORTER = "exporter"
    ADMIN = "admin"
    REVIEWER = "reviewer"


class RunKind(StrEnum):
    CHECK = "check"
    NIGHTLY = "nightly"


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone: UTC is assumed)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the registry stores UTC timestamps only")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# JSON documents: JSONB on PostgreSQL, JSON text elsewhere.
Json = sa.JSON().with_variant(JSONB(), "postgresql")


def _enum(cls: type[StrEnum], name: str) -> sa.Enum:
    """A VARCHAR with a CHECK constraint holding the enum's values (no native enum types)."""
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: Json,
    }


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind, "org_kind"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Share(Base):
    """A cooperative lets an exporter use its plots in lots."""

    __tablename__ = "shares"

    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), primary_key=True)
    exporter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Upload(Base):
    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    file_name: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    fixed: Mapped[bool]
    rows: Mapped[int]
    new_plots: Mapped[int]
    new_versions: Mapped[int]
    unchanged: Mapped[int]
    duplicates: Mapped[int]
    # Findings not attached to a stored version: whole-file ones, skipped duplicate rows.
    findings: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Plot(Base):
    __tablename__ = "plots"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "plot_id"),
        # Listings: a page in key order, counts by verdict, filters, all from an index.
        sa.Index("ix_plots_org_key", "organisation_id", "id"),
        sa.Index("ix_plots_org_verdict", "organisation_id", "current_verdict", "id"),
        sa.Index("ix_plots_org_status", "organisation_id", "current_status", "current_verdict"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    plot_id: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The plot's latest version, kept as versions are added: listings join on it instead of
    # finding each plot's newest version among all of them.
    current_version_id: Mapped[int | None] = mapped_column(index=True)
    # Copies of the current version's status and producer and of its newest result's verdict
    # (None: unchecked), kept with the pointers: a listing counts, filters and searches on
    # this one table.
    current_status: Mapped[str | None] = mapped_column(sa.String(16))
    current_verdict: Mapped[str | None] = mapped_column(sa.String(32))
    current_producer: Mapped[str | None] = mapped_column(sa.Text)


class PlotVersion(Base):
    __tablename__ = "plot_versions"
    __table_args__ = (
        sa.UniqueConstraint("plot_pk", "version"),
        sa.Index("ix_plot_versions_bbox", "minx", "miny", "maxx", "maxy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plot_pk: Mapped[int] = mapped_column(sa.ForeignKey("plots.id"))
    version: Mapped[int]
    geometry_wkb: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    minx: Mapped[float | None]
    miny: Mapped[float | None]
    maxx: Mapped[float | None]
    maxy: Mapped[float | None]
    producer_name: Mapped[str | None] = mapped_column(sa.Text)
    producer_country: Mapped[str | None] = mapped_column(sa.Text)
    production_place: Mapped[str | None] = mapped_column(sa.Text)
    declared_area_ha: Mapped[float | None]
    commodity: Mapped[str | None] = mapped_column(sa.Text)
    area_ha: Mapped[float | None]
    status: Mapped[str] = mapped_column(sa.String(16))
    original_wkt: Mapped[str | None] = mapped_column(sa.Text)
    source_layer: Mapped[str | None] = mapped_column(sa.Text)
    source_index: Mapped[int]
    findings: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    upload_id: Mapped[int] = mapped_column(sa.ForeignKey("uploads.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The version's newest result (any fingerprint), kept as results are recorded.
    latest_result_id: Mapped[int | None]


class CheckRun(Base):
    __tablename__ = "check_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The run id its reports carry (engine.record.new_run_id); `id` is the registry's own key.
    uid: Mapped[str] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[RunKind] = mapped_column(_enum(RunKind, "run_kind"))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"))
    tool_version: Mapped[str] = mapped_column(sa.String(64))
    summary: Mapped[dict[str, Any]]
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class PlotResultRow(Base):
    """The verdict for one plot version under one fingerprint (datasets, thresholds, code)."""

    __tablename__ = "plot_results"
    __table_args__ = (sa.UniqueConstraint("plot_version_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("check_runs.id"), index=True)
    plot_version_id: Mapped[int] = mapped_column(sa.ForeignKey("plot_versions.id"))
    fingerprint: Mapped[str] = mapped_column(sa.Text)
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict, "verdict"))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    stats: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    area_ha: Mapped[float | None]
    buffered_point: Mapped[bool]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # What the result says about the plot, hashed (verdict, reasons, each dataset's figures):
    # new data elsewhere in a tile changes the fingerprint but not this, so the reviews and
    # bundles that rest on the result still hold. None for results stored before 0010.
    result_key: Mapped[str | None] = mapped_column(sa.String(64))


class Lot(Base):
    """An exporter's shipment, made of plot versions from cooperatives that shared them."""

    __tablename__ = "lots"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    reference: Mapped[str] = mapped_column(sa.Text)
    commodity: Mapped[str] = mapped_column(sa.Text)
    hs_code: Mapped[str | None] = mapped_column(sa.String(16))
    net_mass_kg: Mapped[float | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LotPlot(Base):
    __tablename__ = "lot_plots"

    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lots.id"), primary_key=True)
    plot_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plot_versions.id"), primary_key=True, index=True
    )


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored. Revoked tokens stay, for the audit trail."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for admins: they run the instance, not an organisation.
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    name: Mapped[str] = mapped_column(sa.Text)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    # The person behind the token: where the nightly digest goes, in which language, and
    # when they last opened "What's new" (the count in the navigation is what came after).
    email: Mapped[str | None] = mapped_column(sa.Text)
    lang: Mapped[str] = mapped_column(sa.String(2), default="es", server_default="es")
    news_seen_at: Mapped[dt.datetime | None]


class RequestCount(Base):
    """Requests (or failed sign-ins) per key per minute: the rate limit every process of the
    service shares. Old minutes are deleted as new ones start."""

    __tablename__ = "request_counts"

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    minute: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer, default=0)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CheckJob(Base):
    """A background check of some plot versions, claimed by one worker at a time under a lease
    it renews while it works; a lease that runs out (the process died) puts the job back."""

    __tablename__ = "check_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), index=True)  # "upload-7": one upload's jobs
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    version_ids: Mapped[list[int]] = mapped_column(Json)
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), index=True)
    worker: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[dt.datetime | None]
    claimed_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    run_uid: Mapped[str | None] = mapped_column(sa.String(32))  # the check run working on it
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DdsSubmission(Base):
    """One due diligence statement sent to the EU Information System (or being sent), kept
    with its request for the five-year record; `status` is the EU's (SUBMITTED, AVAILABLE,
    REJECTED, WITHDRAWN, ...) once it answered, SENDING before, FAILED when it refused."""

    __tablename__ = "dds_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    lot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lots.id"), index=True)
    part: Mapped[int] = mapped_column(default=1)
    parts: Mapped[int] = mapped_column(default=1)
    endpoint: Mapped[str] = mapped_column(sa.Text)
    internal_ref: Mapped[str | None] = mapped_column(sa.String(35))
    statement_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    uuid: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    reference_number: Mapped[str | None] = mapped_column(sa.String(14))
    verification_number: Mapped[str | None] = mapped_column(sa.String(35))
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    communication: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    plot_ids: Mapped[list[str]] = mapped_column(Json)
    overrides: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    request_xml: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    checked_at: Mapped[dt.datetime | None]
    amended_at: Mapped[dt.datetime | None]
    withdrawn_at: Mapped[dt.datetime | None]


class DdsExchange(Base):
    """Every HTTP exchange with the EU system, byte for byte (no key: only its digest)."""

    __tablename__ = "dds_exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("dds_submissions.id"), index=True
    )
    operation: Mapped[str] = mapped_column(sa.String(40))
    address: Mapped[str] = mapped_column(sa.Text)
    sent_at: Mapped[dt.datetime]
    http_status: Mapped[int | None]
    request: Mapped[bytes] = mapped_column(sa.LargeBinary)
    response: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    error: Mapped[str | None] = mapped_column(sa.Text)


class DdsOverride(Base):
    """A lot's plot declared although its verdict is not accepted, with the user's reason."""

    __tablename__ = "dds_overrides"

    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lots.id"), primary_key=True)
    plot_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plot_versions.id"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EvidenceBlob(Base):
    """An evidence file's bytes, stored once by content (SHA-256), in the registry itself so
    that its five-year record and its backups hold the files with the reviews that cite them."""

    __tablename__ = "evidence_blobs"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Evidence(Base):
    """A file attached to a plot (the version current then is kept), by whom and when."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    plot_pk: Mapped[int] = mapped_column(sa.ForeignKey("plots.id"), index=True)
    plot_version_id: Mapped[int] = mapped_column(sa.ForeignKey("plot_versions.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    sha256: Mapped[str] = mapped_column(sa.ForeignKey("evidence_blobs.sha256"))
    file_name: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(32))
    media_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    taken_at: Mapped[str | None] = mapped_column(sa.String(32))  # EXIF, camera local time
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    distance_m: Mapped[float | None]  # from the plot version current at upload
    uploaded_by: Mapped[str] = mapped_column(sa.Text)
    uploaded_role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReviewEventRow(Base):
    """One proposal or decision on a plot version, judged against one result (append-only)."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    plot_pk: Mapped[int] = mapped_column(sa.ForeignKey("plots.id"), index=True)
    plot_version_id: Mapped[int] = mapped_column(sa.ForeignKey("plot_versions.id"), index=True)
    result_id: Mapped[int] = mapped_column(sa.ForeignKey("plot_results.id"))
    fingerprint: Mapped[str] = mapped_column(sa.Text)
    verdict: Mapped[str] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(16))
    reasons: Mapped[list[str]] = mapped_column(Json)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    reviewer: Mapped[str] = mapped_column(sa.Text)
    role: Mapped[str] = mapped_column(sa.String(16))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    evidence: Mapped[list[str]] = mapped_column(Json)
    imagery: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LotExclusion(Base):
    """A plot version explicitly taken out of a lot, with the reason (append-only)."""

    __tablename__ = "lot_exclusions"

    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lots.id"), primary_key=True)
    plot_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plot_versions.id"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(sa.Text)
    excluded_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Bundle(Base):
    """A compliance bundle built for a lot: what it rested on (each plot version's result
    fingerprint and the lot's conclusion then), so a later change shows it stale."""

    __tablename__ = "bundles"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lots.id"), index=True)
    file_name: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    conclusion: Mapped[str] = mapped_column(sa.String(32))
    fingerprints: Mapped[dict[str, Any]] = mapped_column(Json)  # version id -> fingerprint
    built_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NightlyRun(Base):
    """One night's monitoring run (refresh -> re-check -> digest -> notify), with each step's
    outcome; a night run again after a crash is a new attempt of the same night."""

    __tablename__ = "nightly_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    night: Mapped[str] = mapped_column(sa.String(10), index=True)  # YYYY-MM-DD, Lima
    status: Mapped[str] = mapped_column(sa.String(16))  # running, done, failed
    steps: Mapped[dict[str, Any]] = mapped_column(Json)
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    admins_told_at: Mapped[dt.datetime | None]


class TileFetch(Base):
    """What a refresh asked a dataset's source for one tile, and what it got."""

    __tablename__ = "tile_fetches"

    id: Mapped[int] = mapped_column(primary_key=True)
    nightly_id: Mapped[int | None] = mapped_column(sa.ForeignKey("nightly_runs.id"), index=True)
    dataset_id: Mapped[str] = mapped_column(sa.String(64))
    layer: Mapped[str] = mapped_column(sa.String(64))
    tile: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16))
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    bytes: Mapped[int | None]
    etag: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Digest(Base):
    """What changed for one organisation in one night, once: a run of the same night again
    finds it here and adds nothing."""

    __tablename__ = "digests"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "night"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    night: Mapped[str] = mapped_column(sa.String(10))
    since: Mapped[dt.datetime]  # results newer than this (the previous digest's end) ...
    until: Mapped[dt.datetime]  # ... up to this
    items: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    counts: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The e-mail: claimed before sending (so two runs never both send), then sent or failed.
    mail_status: Mapped[str | None] = mapped_column(sa.String(16))
    mail_to: Mapped[list[str]] = mapped_column(Json, default=list)
    mail_id: Mapped[str | None] = mapped_column(sa.Text)
    mail_error: Mapped[str | None] = mapped_column(sa.Text)
    mailed_at: Mapped[dt.datetime | None]


class LotWatch(Base):
    """Each lot's conclusion as the last digest saw it (to say when it changed)."""

    __tablename__ = "lot_watch"

    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lots.id"), primary_key=True)
    conclusion: Mapped[str] = mapped_column(sa.String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
