"""Which of the five "five good" criteria an org met (a bit each), so /assess can show a
saved rating again and the commendation list can say why; ``passed`` stays the verdict.
A downgrade keeps the criteria aside for the upgrade after it (storage/migrations/kept.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_columns, restore_columns

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(sa.Column("criteria", sa.SmallInteger(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_assessment_criteria_bits"), "criteria IS NULL OR (criteria >= 0 AND criteria <= 31)"
        )
    restore_columns(revision, "assessment", ("criteria",))


def downgrade() -> None:
    keep_columns(revision, "assessment", ("criteria",))
    with op.batch_alter_table("assessment") as batch:
        batch.drop_constraint(op.f("ck_assessment_criteria_bits"), type_="check")
        batch.drop_column("criteria")
