"""Per-branch switch for political-birthday greetings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_columns, restore_columns

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("greetings_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    # A branch that switched its greetings off before a downgrade keeps them off.
    restore_columns(revision, "org_unit", ("greetings_enabled",))


def downgrade() -> None:
    keep_columns(revision, "org_unit", ("greetings_enabled",))
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.drop_column("greetings_enabled")
