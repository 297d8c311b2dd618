"""Rectification orders (限期整改) carry their ladder: the required actions, the day the
secretary is reminded and when he was, how far the order has escalated (1 township, 2
county), who closed it and the photos given as evidence; and the branch's progress reports.

Orders written before keep their rows: no actions, no reminder, not escalated. A downgrade
keeps the ladder's columns and the reports aside for the upgrade after it
(storage/migrations/kept.py).

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-04 20:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_columns, keep_table, restore_columns, restore_table

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rectification_order") as batch:
        batch.add_column(sa.Column("actions", sa.Text(), nullable=False, server_default=sa.text("''")))
        batch.add_column(sa.Column("level", sa.SmallInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("remind_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("closed_photo_ids", sa.JSON(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_rectification_order_level_range"), "level >= 0 AND level <= 2"
        )
    restore_columns(revision, "rectification_order", _ORDER_KEPT)
    op.create_table(
        "rectification_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photo_ids", sa.JSON(), nullable=True),
        sa.Column("reported_by", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["rectification_order.id"],
            name=op.f("fk_rectification_report_order_id_rectification_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_report")),
    )
    op.create_index(
        op.f("ix_rectification_report_order_id"),
        "rectification_report",
        ["order_id"],
        unique=False,
    )
    restore_table(revision, "rectification_report")


_ORDER_KEPT = ("actions", "level", "remind_on", "reminded_at", "closed_by", "closed_photo_ids")


def downgrade() -> None:
    keep_table(revision, "rectification_report")
    keep_columns(revision, "rectification_order", _ORDER_KEPT)
    op.drop_index(op.f("ix_rectification_report_order_id"), table_name="rectification_report")
    op.drop_table("rectification_report")
    with op.batch_alter_table("rectification_order") as batch:
        batch.drop_constraint(op.f("ck_rectification_order_level_range"), type_="check")
        batch.drop_column("closed_photo_ids")
        batch.drop_column("closed_by")
        batch.drop_column("reminded_at")
        batch.drop_column("remind_on")
        batch.drop_column("level")
        batch.drop_column("actions")
