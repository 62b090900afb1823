"""Every check run gets its run id: the same uuid the run's reports and manifests carry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("check_runs", sa.Column("uid", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    runs = sa.table("check_runs", sa.column("id", sa.Integer), sa.column("uid", sa.String))
    for (run_id,) in conn.execute(sa.select(runs.c.id)).all():
        conn.execute(runs.update().where(runs.c.id == run_id).values(uid=uuid.uuid4().hex))
    with op.batch_alter_table("check_runs") as batch:
        batch.alter_column("uid", existing_type=sa.String(length=32), nullable=False)
        batch.create_unique_constraint(op.f("uq_check_runs_uid"), ["uid"])


def downgrade() -> None:
    with op.batch_alter_table("check_runs") as batch:
        batch.drop_constraint(op.f("uq_check_runs_uid"), type_="unique")
        batch.drop_column("uid")
