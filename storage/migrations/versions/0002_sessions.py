"""Study sessions: series slots, materials kind, minutes photos, check-in failures, ladder.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


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
        batch_op.create_check_constraint(
            'ck_study_session_materials_file_kind', "materials_file_kind IN ('photo', 'document')"
        )
        batch_op.create_index('ix_study_session_series_id_series_slot', ['series_id', 'series_slot'], unique=True)


def downgrade() -> None:
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
