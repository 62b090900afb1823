"""Risk mitigation: evidence files (content-addressed), review events, plots taken out of lots,
and the reviewer role.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from eudr_check.store.schema import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_ROLES = ("technician", "exporter", "admin")
_NEW_ROLES = (*_OLD_ROLES, "reviewer")


def _roles(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="role", native_enum=False, create_constraint=True, length=32)


def _fk(table: str, column: str, target: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{key}"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    # The role's CHECK constraint gains "reviewer" (SQLite: the table is rebuilt in a batch).
    with op.batch_alter_table("api_tokens", recreate="always") as batch:
        batch.alter_column("role", type_=_roles(_NEW_ROLES), existing_type=_roles(_OLD_ROLES),
                           existing_nullable=False)  # fmt: skip
    op.create_table(
        "evidence_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_evidence_blobs")),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plot_pk", sa.Integer(), nullable=False),
        sa.Column("plot_version_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("taken_at", sa.String(length=32), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("distance_m", sa.Double(), nullable=True),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_role", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("evidence", "plot_pk", "plots"),
        _fk("evidence", "plot_version_id", "plot_versions"),
        _fk("evidence", "organisation_id", "organisations"),
        _fk("evidence", "sha256", "evidence_blobs", "sha256"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index(op.f("ix_evidence_plot_pk"), "evidence", ["plot_pk"])
    op.create_table(
        "review_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plot_pk", sa.Integer(), nullable=False),
        sa.Column("plot_version_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reasons", json, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("evidence", json, nullable=False),
        sa.Column("imagery", json, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("review_events", "plot_pk", "plots"),
        _fk("review_events", "plot_version_id", "plot_versions"),
        _fk("review_events", "result_id", "plot_results"),
        _fk("review_events", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_events")),
    )
    for column in ("plot_pk", "plot_version_id", "organisation_id"):
        op.create_index(op.f(f"ix_review_events_{column}"), "review_events", [column])
    op.create_table(
        "lot_exclusions",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("plot_version_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excluded_by", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("lot_exclusions", "lot_id", "lots"),
        _fk("lot_exclusions", "plot_version_id", "plot_versions"),
        sa.PrimaryKeyConstraint("lot_id", "plot_version_id", name=op.f("pk_lot_exclusions")),
    )


def downgrade() -> None:
    op.drop_table("lot_exclusions")
    op.drop_table("review_events")
    op.drop_table("evidence")
    op.drop_table("evidence_blobs")
    op.execute("DELETE FROM api_tokens WHERE role = 'reviewer'")
    with op.batch_alter_table("api_tokens", recreate="always") as batch:
        batch.alter_column("role", type_=_roles(_OLD_ROLES), existing_type=_roles(_NEW_ROLES),
                           existing_nullable=False)  # fmt: skip
