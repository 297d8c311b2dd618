"""Funds and leaders' duties: funds imported by the system have no recorder;
demonstration sites get their own table, visits keep photos, and the visit reminder ladder
remembers the rungs it has taken. A downgrade keeps the sites, rungs, photos and the
funds without a recorder aside; the upgrade after it puts them back
(storage/migrations/kept.py).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_columns, keep_table, restore_columns, restore_table

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STEPS = "'no_visit', 'no_visit_county', 'few_visits', 'few_visits_county'"


def upgrade() -> None:
    op.create_table(
        "demonstration_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org_unit.id"],
            name=op.f("fk_demonstration_site_org_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demonstration_site")),
        sa.UniqueConstraint("org_id", "year", name=op.f("uq_demonstration_site_org_id_year")),
    )
    op.create_index(
        op.f("ix_demonstration_site_year"), "demonstration_site", ["year"], unique=False
    )
    op.create_table(
        "duty_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_point_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"step IN ({_STEPS})", name=op.f("ck_duty_reminder_step")),
        sa.ForeignKeyConstraint(
            ["contact_point_id"],
            ["contact_point.id"],
            name=op.f("fk_duty_reminder_contact_point_id_contact_point"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_reminder")),
        sa.UniqueConstraint(
            "contact_point_id", "step", name=op.f("uq_duty_reminder_contact_point_id_step")
        ),
    )
    with op.batch_alter_table("contact_visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_ids", sa.JSON(), nullable=True))
    with op.batch_alter_table("fund_allocation", schema=None) as batch_op:
        batch_op.alter_column("recorded_by", existing_type=sa.BigInteger(), nullable=True)
    restore_table(revision, "demonstration_site")
    restore_table(revision, "duty_reminder")
    restore_columns(revision, "contact_visit", ("photo_ids",))
    restore_columns(revision, "fund_allocation", ("recorded_by",), where="recorded_by = 0")
    # A contact point marked as a demonstration made its org a site for that year (unless
    # a downgrade kept that site).
    op.execute(
        "INSERT INTO demonstration_site (org_id, year, created_at)"
        " SELECT org_id, year, MIN(created_at) FROM contact_point c"
        " WHERE is_demonstration AND NOT EXISTS (SELECT 1 FROM demonstration_site s"
        " WHERE s.org_id = c.org_id AND s.year = c.year) GROUP BY org_id, year"
    )
    with op.batch_alter_table("contact_point", schema=None) as batch_op:
        batch_op.drop_column("is_demonstration")


def downgrade() -> None:
    keep_table(revision, "demonstration_site")
    keep_table(revision, "duty_reminder")
    keep_columns(revision, "contact_visit", ("photo_ids",))
    # 0004 needs a recorder: funds without one get 0 there, and get none back here.
    keep_columns(revision, "fund_allocation", ("recorded_by",), where="recorded_by IS NULL")
    with op.batch_alter_table("contact_point", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_demonstration", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE contact_point SET is_demonstration = TRUE WHERE EXISTS (SELECT 1 FROM"
        " demonstration_site s WHERE s.org_id = contact_point.org_id"
        " AND s.year = contact_point.year)"
    )
    with op.batch_alter_table("contact_point", schema=None) as batch_op:
        batch_op.alter_column("is_demonstration", server_default=None)
    with op.batch_alter_table("contact_visit", schema=None) as batch_op:
        batch_op.drop_column("photo_ids")
    op.execute("UPDATE fund_allocation SET recorded_by = 0 WHERE recorded_by IS NULL")
    with op.batch_alter_table("fund_allocation", schema=None) as batch_op:
        batch_op.alter_column("recorded_by", existing_type=sa.BigInteger(), nullable=False)
    op.drop_table("duty_reminder")
    op.drop_index(op.f("ix_demonstration_site_year"), table_name="demonstration_site")
    op.drop_table("demonstration_site")
