"""Five-lead proposals (a secretary proposes, the township's verdict is the member's
five_lead assessment), each branch's class for guidance per year, and the poverty-stricken
village flag. A downgrade keeps the rows and flags aside; the upgrade after it puts them
back (storage/migrations/kept.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_columns, keep_table, restore_columns, restore_table

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "five_lead_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.BigInteger(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_five_lead_proposal_assessment_id_assessment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_five_lead_proposal_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_five_lead_proposal")),
        sa.UniqueConstraint("year", "member_id", name=op.f("uq_five_lead_proposal_year_member_id")),
    )
    op.create_index(
        op.f("ix_five_lead_proposal_assessment_id"),
        "five_lead_proposal",
        ["assessment_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_five_lead_proposal_member_id"), "five_lead_proposal", ["member_id"], unique=False
    )
    op.create_table(
        "branch_guidance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=32), nullable=False),
        sa.Column("set_by", sa.BigInteger(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "grade IN ('advanced', 'average', 'lagging')", name=op.f("ck_branch_guidance_grade")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org_unit.id"],
            name=op.f("fk_branch_guidance_org_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch_guidance")),
        sa.UniqueConstraint("year", "org_id", name=op.f("uq_branch_guidance_year_org_id")),
    )
    op.create_index(
        op.f("ix_branch_guidance_org_id"), "branch_guidance", ["org_id"], unique=False
    )
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("poverty_village", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    restore_columns(revision, "org_unit", ("poverty_village",))
    restore_table(revision, "five_lead_proposal")
    restore_table(revision, "branch_guidance")


def downgrade() -> None:
    keep_columns(revision, "org_unit", ("poverty_village",))
    keep_table(revision, "five_lead_proposal")
    keep_table(revision, "branch_guidance")
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.drop_column("poverty_village")
    op.drop_index(op.f("ix_branch_guidance_org_id"), table_name="branch_guidance")
    op.drop_table("branch_guidance")
    op.drop_index(op.f("ix_five_lead_proposal_member_id"), table_name="five_lead_proposal")
    op.drop_index(op.f("ix_five_lead_proposal_assessment_id"), table_name="five_lead_proposal")
    op.drop_table("five_lead_proposal")
