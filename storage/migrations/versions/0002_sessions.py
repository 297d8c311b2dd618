"""Study sessions: series slots, materials kind, minutes photos, check-in failures, ladder.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import keep_columns, keep_table, restore_columns, restore_table


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = (
    "'branch_general_meeting', 'branch_committee_meeting', 'party_group_meeting', "
    "'party_lesson', 'theme_party_day', 'special_study', 'report_hearing', 'other'"
)


def upgrade() -> None:
    op.create_table('session_escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('last_step_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"kind IN ({_KINDS})", name=op.f('ck_session_escalation_kind')),
    sa.CheckConstraint('level BETWEEN 1 AND 3', name=op.f('ck_session_escalation_level_range')),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_session_escalation_org_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_escalation')),
    sa.UniqueConstraint('org_id', 'kind', 'period_start', name=op.f('uq_session_escalation_org_id_kind_period_start'))
    )
    op.create_index(op.f('ix_session_escalation_org_id'), 'session_escalation', ['org_id'], unique=False)

    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_failures', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('session_series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_offsets', sa.JSON(), nullable=True))

    with op.batch_alter_table('study_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('materials_file_kind', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('minutes_photo_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('series_slot', sa.Date(), nullable=True))

    # What a downgrade to 0001 kept aside comes back (storage/migrations/kept.py).
    restore_table(revision, 'session_escalation')
    restore_columns(revision, 'attendance', _ATTENDANCE_KEPT)
    restore_columns(revision, 'session_series', _SERIES_KEPT)
    restore_columns(revision, 'study_session', _SESSION_KEPT)
    _slot_the_rest()

    with op.batch_alter_table('study_session', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'ck_study_session_materials_file_kind', "materials_file_kind IN ('photo', 'document')"
        )
        batch_op.create_index('ix_study_session_series_id_series_slot', ['series_id', 'series_slot'], unique=True)


_ATTENDANCE_KEPT = ('checkin_failures',)
_SERIES_KEPT = ('reminder_offsets',)
_SESSION_KEPT = ('materials_file_kind', 'minutes_photo_ids', 'series_slot')


def _slot_the_rest() -> None:
    """Occurrences of a series without a slot (made while at 0001) take their local day.

    Their slot is what stops the series job generating the day again; a day another
    occurrence of the series already holds is left empty rather than doubled.
    """
    bind = op.get_bind()
    tz = ZoneInfo(os.environ.get('PARTYBOT_TIMEZONE', 'Asia/Shanghai'))
    study = sa.table(
        'study_session',
        sa.column('id', sa.Integer),
        sa.column('series_id', sa.Integer),
        sa.column('starts_at', sa.DateTime(timezone=True)),
        sa.column('series_slot', sa.Date),
    )
    taken = {
        (row.series_id, row.series_slot)
        for row in bind.execute(
            sa.select(study.c.series_id, study.c.series_slot).where(
                study.c.series_slot.is_not(None)
            )
        )
    }
    missing = bind.execute(
        sa.select(study.c.id, study.c.series_id, study.c.starts_at)
        .where(study.c.series_id.is_not(None), study.c.series_slot.is_(None))
        .order_by(study.c.starts_at)
    ).all()
    for row in missing:
        starts_at = row.starts_at
        if isinstance(starts_at, str):  # SQLite without the model's type
            starts_at = datetime.fromisoformat(starts_at)
        if starts_at.tzinfo is None:
            starts_at = starts_at.replace(tzinfo=UTC)
        slot = starts_at.astimezone(tz).date()
        if (row.series_id, slot) in taken:
            continue
        taken.add((row.series_id, slot))
        bind.execute(study.update().where(study.c.id == row.id).values(series_slot=slot))


def downgrade() -> None:
    keep_columns(revision, 'study_session', _SESSION_KEPT)
    keep_columns(revision, 'session_series', _SERIES_KEPT)
    keep_columns(revision, 'attendance', _ATTENDANCE_KEPT)
    keep_table(revision, 'session_escalation')
    with op.batch_alter_table('study_session', schema=None) as batch_op:
        batch_op.drop_index('ix_study_session_series_id_series_slot')
        batch_op.drop_constraint('ck_study_session_materials_file_kind', type_='check')
        batch_op.drop_column('series_slot')
        batch_op.drop_column('minutes_photo_ids')
        batch_op.drop_column('materials_file_kind')

    with op.batch_alter_table('session_series', schema=None) as batch_op:
        batch_op.drop_column('reminder_offsets')

    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_column('checkin_failures')

    op.drop_index(op.f('ix_session_escalation_org_id'), table_name='session_escalation')
    op.drop_table('session_escalation')
