"""Due diligence statements sent to the EU Information System, every exchange with it byte for
byte, and the plots of a lot declared on a recorded reason despite their verdict.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from eudr_check.store.schema import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    op.create_table(
        "dds_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("internal_ref", sa.String(length=35), nullable=True),
        sa.Column("statement_hash", sa.String(length=64), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reference_number", sa.String(length=14), nullable=True),
        sa.Column("verification_number", sa.String(length=35), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("communication", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("plot_ids", json, nullable=False),
        sa.Column("overrides", json, nullable=False),
        sa.Column("request_xml", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=True),
        sa.Column("amended_at", UTCDateTime(), nullable=True),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_dds_submissions_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"],
                                name=op.f("fk_dds_submissions_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dds_submissions")),
    )  # fmt: skip
    for column in ("organisation_id", "lot_id", "statement_hash", "uuid", "status"):
        op.create_index(op.f(f"ix_dds_submissions_{column}"), "dds_submissions", [column])
    op.create_table(
        "dds_exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("request", sa.LargeBinary(), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["dds_submissions.id"],
                                name=op.f("fk_dds_exchanges_submission_id_dds_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dds_exchanges")),
    )  # fmt: skip
    op.create_index(op.f("ix_dds_exchanges_submission_id"), "dds_exchanges", ["submission_id"])
    op.create_table(
        "dds_overrides",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("plot_version_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"],
                                name=op.f("fk_dds_overrides_lot_id_lots")),
        sa.ForeignKeyConstraint(["plot_version_id"], ["plot_versions.id"],
                                name=op.f("fk_dds_overrides_plot_version_id_plot_versions")),
        sa.PrimaryKeyConstraint("lot_id", "plot_version_id", name=op.f("pk_dds_overrides")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("dds_overrides")
    op.drop_table("dds_exchanges")
    op.drop_table("dds_submissions")
