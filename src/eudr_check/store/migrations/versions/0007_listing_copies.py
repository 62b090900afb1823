"""Plots carry their current status, producer and verdict, with indexes for listings: a page, counts
by verdict and filters of a 100,000-plot cooperative come from one table's indexes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plots") as batch:
        batch.add_column(sa.Column("current_status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("current_verdict", sa.String(32), nullable=True))
        batch.add_column(sa.Column("current_producer", sa.Text(), nullable=True))
    op.execute(
        "UPDATE plots SET current_status = (SELECT pv.status FROM plot_versions pv "
        "WHERE pv.id = plots.current_version_id), current_producer = (SELECT pv.producer_name "
        "FROM plot_versions pv WHERE pv.id = plots.current_version_id), current_verdict = (SELECT "
        "CAST(r.verdict AS VARCHAR(32)) FROM plot_versions pv JOIN plot_results r "
        "ON r.id = pv.latest_result_id WHERE pv.id = plots.current_version_id)"
    )
    op.create_index("ix_plots_org_key", "plots", ["organisation_id", "id"])
    op.create_index("ix_plots_org_verdict", "plots", ["organisation_id", "current_verdict", "id"])
    op.create_index(
        "ix_plots_org_status", "plots", ["organisation_id", "current_status", "current_verdict"]
    )


def downgrade() -> None:
    for name in ("ix_plots_org_status", "ix_plots_org_verdict", "ix_plots_org_key"):
        op.drop_index(name, table_name="plots")
    with op.batch_alter_table("plots") as batch:
        batch.drop_column("current_producer")
        batch.drop_column("current_verdict")
        batch.drop_column("current_status")
