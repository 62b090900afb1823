"""Initial schema: organisations, shares, uploads, plots, plot versions, runs, results, lots.

On PostgreSQL with the postgis extension installed, plot_versions also gets a generated
`geom geometry(Geometry, 4326)` column (from the WKB) with a GiST index.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamp(name: str, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _has_postgis() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'"))
    return found.first() is not None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", _enum("org_kind", "cooperative", "exporter"), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_table(
        "shares",
        sa.Column("cooperative_id", sa.Integer(), nullable=False),
        sa.Column("exporter_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _fk("shares", "cooperative_id", "organisations"),
        _fk("shares", "exporter_id", "organisations"),
        sa.PrimaryKeyConstraint("cooperative_id", "exporter_id", name=op.f("pk_shares")),
    )
    op.create_index(op.f("ix_shares_exporter_id"), "shares", ["exporter_id"])
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("fixed", sa.Boolean(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("new_plots", sa.Integer(), nullable=False),
        sa.Column("new_versions", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("findings", JSON, nullable=False),
        _timestamp("created_at"),
        _fk("uploads", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index(op.f("ix_uploads_organisation_id"), "uploads", ["organisation_id"])
    op.create_table(
        "plots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("plot_id", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _fk("plots", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plots")),
        sa.UniqueConstraint(
            "organisation_id", "plot_id", name=op.f("uq_plots_organisation_id_plot_id")
        ),
    )
    op.create_table(
        "plot_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plot_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("geometry_wkb", sa.LargeBinary(), nullable=True),
        sa.Column("minx", sa.Double(), nullable=True),
        sa.Column("miny", sa.Double(), nullable=True),
        sa.Column("maxx", sa.Double(), nullable=True),
        sa.Column("maxy", sa.Double(), nullable=True),
        sa.Column("producer_name", sa.Text(), nullable=True),
        sa.Column("producer_country", sa.Text(), nullable=True),
        sa.Column("production_place", sa.Text(), nullable=True),
        sa.Column("declared_area_ha", sa.Double(), nullable=True),
        sa.Column("commodity", sa.Text(), nullable=True),
        sa.Column("area_ha", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("original_wkt", sa.Text(), nullable=True),
        sa.Column("source_layer", sa.Text(), nullable=True),
        sa.Column("source_index", sa.Integer(), nullable=False),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _fk("plot_versions", "plot_pk", "plots"),
        _fk("plot_versions", "upload_id", "uploads"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plot_versions")),
        sa.UniqueConstraint("plot_pk", "version", name=op.f("uq_plot_versions_plot_pk_version")),
    )
    op.create_index("ix_plot_versions_bbox", "plot_versions", ["minx", "miny", "maxx", "maxy"])
    op.create_index(op.f("ix_plot_versions_upload_id"), "plot_versions", ["upload_id"])
    if _has_postgis():
        # Not mapped by the ORM: PostGIS queries only (filled by the database from the WKB).
        op.execute(
            "ALTER TABLE plot_versions ADD COLUMN geom geometry(Geometry, 4326) "
            "GENERATED ALWAYS AS (ST_GeomFromWKB(geometry_wkb, 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_plot_versions_geom ON plot_versions USING gist (geom)")
    op.create_table(
        "check_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("run_kind", "check", "nightly"), nullable=False),
        sa.Column("status", _enum("run_status", "running", "done", "failed"), nullable=False),
        sa.Column("tool_version", sa.String(length=64), nullable=False),
        sa.Column("summary", JSON, nullable=False),
        _timestamp("started_at"),
        _timestamp("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_runs")),
    )
    verdicts = ("deforestation_free", "needs_review", "deforestation_detected", "undetermined")
    op.create_table(
        "plot_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("plot_version_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("verdict", _enum("verdict", *verdicts), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("stats", JSON, nullable=False),
        sa.Column("area_ha", sa.Double(), nullable=True),
        sa.Column("buffered_point", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _fk("plot_results", "run_id", "check_runs"),
        _fk("plot_results", "plot_version_id", "plot_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plot_results")),
        sa.UniqueConstraint(
            "plot_version_id",
            "fingerprint",
            name=op.f("uq_plot_results_plot_version_id_fingerprint"),
        ),
    )
    op.create_index(op.f("ix_plot_results_run_id"), "plot_results", ["run_id"])
    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("commodity", sa.Text(), nullable=False),
        sa.Column("hs_code", sa.String(length=16), nullable=True),
        sa.Column("net_mass_kg", sa.Double(), nullable=True),
        _timestamp("created_at"),
        _fk("lots", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint(
            "organisation_id", "reference", name=op.f("uq_lots_organisation_id_reference")
        ),
    )
    op.create_table(
        "lot_plots",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("plot_version_id", sa.Integer(), nullable=False),
        _fk("lot_plots", "lot_id", "lots"),
        _fk("lot_plots", "plot_version_id", "plot_versions"),
        sa.PrimaryKeyConstraint("lot_id", "plot_version_id", name=op.f("pk_lot_plots")),
    )
    op.create_index(op.f("ix_lot_plots_plot_version_id"), "lot_plots", ["plot_version_id"])


def downgrade() -> None:
    for table in (
        "lot_plots",
        "lots",
        "plot_results",
        "check_runs",
        "plot_versions",
        "plots",
        "uploads",
        "shares",
        "organisations",
    ):
        op.drop_table(table)  # their indexes go with them
