"""Each plot points at its current version and each version at its newest result, so that
listings filter, count and page in the database.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plots") as batch:
        batch.add_column(sa.Column("current_version_id", sa.Integer(), nullable=True))
        batch.create_index(op.f("ix_plots_current_version_id"), ["current_version_id"])
    with op.batch_alter_table("plot_versions") as batch:
        batch.add_column(sa.Column("latest_result_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE plots SET current_version_id = (SELECT pv.id FROM plot_versions pv "
        "WHERE pv.plot_pk = plots.id ORDER BY pv.version DESC LIMIT 1)"
    )
    op.execute(
        "UPDATE plot_versions SET latest_result_id = (SELECT max(r.id) FROM plot_results r "
        "WHERE r.plot_version_id = plot_versions.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("plot_versions") as batch:
        batch.drop_column("latest_result_id")
    with op.batch_alter_table("plots") as batch:
        batch.drop_index(op.f("ix_plots_current_version_id"))
        batch.drop_column("current_version_id")
