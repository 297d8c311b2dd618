"""Several processes on one database: the leader's lease and the webhook updates taken.

Both are runtime state (a lease lapses within minutes, an update taken is forgotten after
two days), but a downgrade keeps them aside all the same, so the rule holds without
exception: an update taken just before is still not processed twice after the upgrade.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_table, restore_table

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leader_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leader_lease")),
    )
    op.create_table(
        "processed_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("taken_by", sa.String(length=64), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_update")),
    )
    op.create_index(
        op.f("ix_processed_update_taken_at"), "processed_update", ["taken_at"], unique=False
    )
    restore_table(revision, "leader_lease")
    restore_table(revision, "processed_update")


def downgrade() -> None:
    keep_table(revision, "leader_lease")
    keep_table(revision, "processed_update")
    op.drop_index(op.f("ix_processed_update_taken_at"), table_name="processed_update")
    op.drop_table("processed_update")
    op.drop_table("leader_lease")
