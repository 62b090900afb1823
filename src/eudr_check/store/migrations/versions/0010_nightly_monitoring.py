"""Nightly monitoring: the nights' runs and their steps, the tiles fetched, each
organisation's digest (with its e-mail), the lots' conclusions as last seen, the bundles
built; e-mail and language of a token's person; each result's key (what it says about the plot).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from eudr_check.store.schema import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{key}"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    with op.batch_alter_table("plot_results") as batch:
        batch.add_column(sa.Column("result_key", sa.String(64), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("email", sa.Text(), nullable=True))
        batch.add_column(sa.Column("lang", sa.String(2), nullable=False, server_default="es"))
        batch.add_column(sa.Column("news_seen_at", UTCDateTime(), nullable=True))
    op.create_table(
        "bundles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("conclusion", sa.String(32), nullable=False),
        sa.Column("fingerprints", json, nullable=False),
        sa.Column("built_at", UTCDateTime(), nullable=False),
        _fk("bundles", "lot_id", "lots"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundles")),
    )
    op.create_index(op.f("ix_bundles_lot_id"), "bundles", ["lot_id"])
    op.create_table(
        "nightly_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("night", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("steps", json, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("admins_told_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nightly_runs")),
    )
    op.create_index(op.f("ix_nightly_runs_night"), "nightly_runs", ["night"])
    op.create_table(
        "tile_fetches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nightly_id", sa.Integer(), nullable=True),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("tile", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("tile_fetches", "nightly_id", "nightly_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tile_fetches")),
    )
    op.create_index(op.f("ix_tile_fetches_nightly_id"), "tile_fetches", ["nightly_id"])
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("night", sa.String(10), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("items", json, nullable=False),
        sa.Column("counts", json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("mail_status", sa.String(16), nullable=True),
        sa.Column("mail_to", json, nullable=False),
        sa.Column("mail_id", sa.Text(), nullable=True),
        sa.Column("mail_error", sa.Text(), nullable=True),
        sa.Column("mailed_at", UTCDateTime(), nullable=True),
        _fk("digests", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint(
            "organisation_id", "night", name=op.f("uq_digests_organisation_id_night")
        ),
    )
    op.create_table(
        "lot_watch",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("conclusion", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("lot_watch", "lot_id", "lots"),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_lot_watch")),
    )


def downgrade() -> None:
    op.drop_table("lot_watch")
    op.drop_table("digests")
    op.drop_index(op.f("ix_tile_fetches_nightly_id"), table_name="tile_fetches")
    op.drop_table("tile_fetches")
    op.drop_index(op.f("ix_nightly_runs_night"), table_name="nightly_runs")
    op.drop_table("nightly_runs")
    op.drop_index(op.f("ix_bundles_lot_id"), table_name="bundles")
    op.drop_table("bundles")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("news_seen_at")
        batch.drop_column("lang")
        batch.drop_column("email")
    with op.batch_alter_table("plot_results") as batch:
        batch.drop_column("result_key")
