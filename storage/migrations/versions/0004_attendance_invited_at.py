"""When each invitee's invitation was queued, so members who join later are invited too.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_columns, restore_columns

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True))
    # Rows invited before this column existed: the time their invitation was queued.
    attendance = sa.table(
        "attendance",
        sa.column("session_id", sa.Integer),
        sa.column("member_id", sa.Integer),
        sa.column("invited_at", sa.DateTime(timezone=True)),
    )
    delivery = sa.table(
        "delivery",
        sa.column("session_id", sa.Integer),
        sa.column("member_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    first_invitation = (
        sa.select(sa.func.min(delivery.c.created_at))
        .where(
            delivery.c.session_id == attendance.c.session_id,
            delivery.c.member_id == attendance.c.member_id,
            delivery.c.kind == "session_invitation",
        )
        .scalar_subquery()
    )
    op.execute(attendance.update().values(invited_at=first_invitation))
    # Rows a downgrade saw get back their own time (or none), not the derived one.
    restore_columns(revision, "attendance", ("invited_at",))


def downgrade() -> None:
    keep_columns(revision, "attendance", ("invited_at",))
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_column("invited_at")
