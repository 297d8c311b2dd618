"""The yearly satisfaction survey of county departments and grassroots stations, and its
answers: one per rater and unit (the rater kept only for that key), no time kept. A
downgrade keeps both aside for the upgrade after it (storage/migrations/kept.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 20:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_table, restore_table

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "satisfaction_survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("raters", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("opened_by", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "raters IN ('secretaries', 'members')", name=op.f("ck_satisfaction_survey_raters")
        ),
        sa.CheckConstraint(
            "state IN ('open', 'closed')", name=op.f("ck_satisfaction_survey_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_survey")),
        sa.UniqueConstraint("year", name=op.f("uq_satisfaction_survey_year")),
    )
    op.create_table(
        "satisfaction_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.BigInteger(), nullable=False),
        sa.Column("choice", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "choice IN ('satisfied', 'basically', 'dissatisfied')",
            name=op.f("ck_satisfaction_answer_choice"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["satisfaction_survey.id"],
            name=op.f("fk_satisfaction_answer_survey_id_satisfaction_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
            name=op.f("fk_satisfaction_answer_unit_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_answer")),
        sa.UniqueConstraint(
            "survey_id",
            "unit_id",
            "rater_id",
            name=op.f("uq_satisfaction_answer_survey_id_unit_id_rater_id"),
        ),
    )
    op.create_index(
        op.f("ix_satisfaction_answer_unit_id"), "satisfaction_answer", ["unit_id"], unique=False
    )
    restore_table(revision, "satisfaction_survey")
    restore_table(revision, "satisfaction_answer")


def downgrade() -> None:
    keep_table(revision, "satisfaction_answer")
    keep_table(revision, "satisfaction_survey")
    op.drop_index(op.f("ix_satisfaction_answer_unit_id"), table_name="satisfaction_answer")
    op.drop_table("satisfaction_answer")
    op.drop_table("satisfaction_survey")
