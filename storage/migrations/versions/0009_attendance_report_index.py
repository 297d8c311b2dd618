"""A covering index for the reports' attendance figures: a session's invitees with their
outcome and make-up, read from the index alone (the county /summary went 0.94 -> 0.69 s
over 1.5 M rows on SQLite; bench/county_summary.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_attendance_session_outcome",
        "attendance",
        ["session_id", "member_id", "outcome", "makeup_done_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_attendance_session_outcome", table_name="attendance")
