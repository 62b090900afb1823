"""Check jobs in the registry: a queue that survives a crash and serves organisations in turn.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from eudr_check.store.schema import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ("queued", "running", "done", "failed")


def upgrade() -> None:
    op.create_table(
        "check_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("version_ids", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("state", sa.Enum(*STATES, name="job_state", native_enum=False,
                                   create_constraint=True, length=32), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_uid", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_check_jobs_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_jobs")),
    )  # fmt: skip
    op.create_index(op.f("ix_check_jobs_key"), "check_jobs", ["key"])
    op.create_index(op.f("ix_check_jobs_organisation_id"), "check_jobs", ["organisation_id"])
    op.create_index(op.f("ix_check_jobs_state"), "check_jobs", ["state"])


def downgrade() -> None:
    op.drop_table("check_jobs")
