"""Funds and leaders' duties: funds imported by the system have no recorder;
demonstration sites get their own table, visits keep photos, and the visit reminder ladder
remembers the rungs it has taken.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

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
    # A contact point marked as a demonstration made its org a site for that year.
    op.execute(
        "INSERT INTO demonstration_site (org_id, year, created_at)"
        " SELECT DISTINCT org_id, year, MIN(created_at) FROM contact_point"
        " WHERE is_demonstration GROUP BY org_id, year"
    )
    with op.batch_alter_table("contact_point", schema=None) as batch_op:
        batch_op.drop_column("is_demonstration")


def downgrade() -> None:
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
