"""Trainings published through the bot: kind, deadline, audience, materials, cost per
person and funding source; the audience written down per member (quiz progress, reminder
sent); quiz questions; how each completion was recorded.

Trainings recorded before keep their rows: kind ``course``, no deadline or audience; their
confirmations count as ``bulk`` when someone marked them for the member, else ``self``.
A downgrade keeps the trainings' columns, the questions, the audience, how each completion
was recorded and which messages were a training's aside; the upgrade after it puts them
back (storage/migrations/kept.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_columns, keep_table, restore_columns, restore_table

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = "'course', 'lecture', 'field_visit', 'online_study'"
_STATUSES = "'full', 'probationary', 'development_target', 'activist'"
_SOURCES = "'municipal', 'county', 'township', 'other'"
_FILES = "'photo', 'document'"
_METHODS = "'self', 'quiz', 'bulk'"
_TRAINING_KEPT = (
    "kind",
    "deadline",
    "cost_per_person_yuan",
    "funding_source",
    "audience_org_id",
    "audience_status",
    "materials_text",
    "materials_file_id",
    "materials_file_kind",
)
_DELIVERY_KINDS = (
    "'notice', 'session_reminder', 'session_invitation', {training}'training_reminder', "
    "'warning', 'greeting', 'makeup', 'other'"
)


def _delivery_kinds(*, with_training: bool) -> None:
    """Swap the CHECK on ``delivery.kind`` (a training's first message has its own kind)."""
    kinds = _DELIVERY_KINDS.format(training="'training', " if with_training else "")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_delivery_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({kinds})")


def upgrade() -> None:
    op.create_table(
        "training_assignee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quiz_next", sa.Integer(), nullable=False),
        sa.Column("quiz_failures", sa.Integer(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "quiz_failures >= 0", name=op.f("ck_training_assignee_quiz_failures_not_negative")
        ),
        sa.CheckConstraint(
            "quiz_next >= 0", name=op.f("ck_training_assignee_quiz_next_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_training_assignee_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["training.id"],
            name=op.f("fk_training_assignee_training_id_training"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_assignee")),
        sa.UniqueConstraint(
            "training_id", "member_id", name=op.f("uq_training_assignee_training_id_member_id")
        ),
    )
    op.create_index(
        op.f("ix_training_assignee_member_id"), "training_assignee", ["member_id"], unique=False
    )
    op.create_table(
        "training_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Integer(), nullable=False),
        sa.CheckConstraint("answer >= 0", name=op.f("ck_training_question_answer_not_negative")),
        sa.CheckConstraint(
            "position >= 0 AND position < 5",
            name=op.f("ck_training_question_position_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["training.id"],
            name=op.f("fk_training_question_training_id_training"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_question")),
        sa.UniqueConstraint(
            "training_id", "position", name=op.f("uq_training_question_training_id_position")
        ),
    )
    with op.batch_alter_table("training", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("cost_per_person_yuan", sa.Numeric(precision=12, scale=2), nullable=True)
        )
        batch_op.add_column(sa.Column("funding_source", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("audience_org_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("audience_status", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("materials_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("materials_file_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("materials_file_kind", sa.String(length=32), nullable=True))
    op.execute("UPDATE training SET kind = 'course'")
    with op.batch_alter_table("training", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_training_audience_org_id"), ["audience_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_training_deadline"), ["deadline"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_training_audience_org_id_org_unit"),
            "org_unit",
            ["audience_org_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint("kind", f"kind IN ({_KINDS})")
        batch_op.create_check_constraint(
            "audience_status", f"audience_status IN ({_STATUSES})"
        )
        batch_op.create_check_constraint("funding_source", f"funding_source IN ({_SOURCES})")
        batch_op.create_check_constraint(
            "materials_file_kind", f"materials_file_kind IN ({_FILES})"
        )
        batch_op.create_check_constraint(
            "cost_per_person_not_negative",
            "cost_per_person_yuan IS NULL OR cost_per_person_yuan >= 0",
        )
    restore_columns(revision, "training", _TRAINING_KEPT)
    restore_table(revision, "training_assignee")
    restore_table(revision, "training_question")
    with op.batch_alter_table("training_confirmation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE training_confirmation"
        " SET method = CASE WHEN marked_by IS NULL THEN 'self' ELSE 'bulk' END"
    )
    restore_columns(revision, "training_confirmation", ("method",))
    with op.batch_alter_table("training_confirmation", schema=None) as batch_op:
        batch_op.alter_column("method", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_check_constraint("method", f"method IN ({_METHODS})")
    _delivery_kinds(with_training=True)
    restore_columns(revision, "delivery", ("kind",), where="kind = 'other'")


def downgrade() -> None:
    keep_table(revision, "training_question")
    keep_table(revision, "training_assignee")
    keep_columns(revision, "training", _TRAINING_KEPT)
    keep_columns(revision, "training_confirmation", ("method",))
    # 0007 knows no ``training`` message: they become ``other`` there, and training again here.
    keep_columns(revision, "delivery", ("kind",), where="kind = 'training'")
    op.execute("UPDATE delivery SET kind = 'other' WHERE kind = 'training'")
    _delivery_kinds(with_training=False)
    with op.batch_alter_table("training_confirmation", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_training_confirmation_method"), type_="check")
        batch_op.drop_column("method")
    with op.batch_alter_table("training", schema=None) as batch_op:
        for name in (
            "ck_training_kind",
            "ck_training_audience_status",
            "ck_training_funding_source",
            "ck_training_materials_file_kind",
            "ck_training_cost_per_person_not_negative",
        ):
            batch_op.drop_constraint(op.f(name), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_training_audience_org_id_org_unit"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_training_deadline"))
        batch_op.drop_index(batch_op.f("ix_training_audience_org_id"))
        for column in reversed(_TRAINING_KEPT):
            batch_op.drop_column(column)
    op.drop_table("training_question")
    op.drop_index(op.f("ix_training_assignee_member_id"), table_name="training_assignee")
    op.drop_table("training_assignee")
