"""Initial schema: every table of storage.models.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 12:43:16.086186
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.kept import drop_kept


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_telegram_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_kind', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.BigInteger(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_index(op.f('ix_audit_log_org_id'), 'audit_log', ['org_id'], unique=False)

    op.create_table('code_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_attempt'))
    )
    op.create_index('ix_code_attempt_telegram_user_id_at', 'code_attempt', ['telegram_user_id', 'at'], unique=False)

    op.create_table('org_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'county' AND parent_id IS NULL) OR (kind <> 'county' AND parent_id IS NOT NULL)", name=op.f('ck_org_unit_county_is_root')),
    sa.CheckConstraint("kind IN ('county', 'township', 'village_branch', 'county_department', 'grassroots_station', 'party_group')", name=op.f('ck_org_unit_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['org_unit.id'], name=op.f('fk_org_unit_parent_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_org_unit_code')),
    sa.UniqueConstraint('parent_id', 'name', name=op.f('uq_org_unit_parent_id_name'))
    )
    op.create_index(op.f('ix_org_unit_parent_id'), 'org_unit', ['parent_id'], unique=False)
    op.create_index('ix_org_unit_path', 'org_unit', ['path'], unique=False, postgresql_ops={'path': 'text_pattern_ops'})

    op.create_table('telegram_account',
    sa.Column('telegram_user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('first_name', sa.String(length=255), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=32), nullable=False),
    sa.Column('language_chosen', sa.Boolean(), nullable=False),
    sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("language IN ('zh', 'en')", name=op.f('ck_telegram_account_language')),
    sa.PrimaryKeyConstraint('telegram_user_id', name=op.f('pk_telegram_account'))
    )
    op.create_table('fund_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('amount_yuan', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.BigInteger(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("purpose IN ('training', 'office', 'infrastructure', 'other')", name=op.f('ck_fund_allocation_purpose')),
    sa.CheckConstraint("source IN ('municipal', 'county', 'township', 'other')", name=op.f('ck_fund_allocation_source')),
    sa.CheckConstraint('amount_yuan >= 0', name=op.f('ck_fund_allocation_amount_not_negative')),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_fund_allocation_org_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_allocation'))
    )
    op.create_index('ix_fund_allocation_org_id_year', 'fund_allocation', ['org_id', 'year'], unique=False)

    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('max_uses', sa.Integer(), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('member', 'deputy_secretary', 'secretary', 'township_organiser', 'county_staff', 'inspector', 'admin')", name=op.f('ck_invitation_role')),
    sa.CheckConstraint('max_uses >= 1', name=op.f('ck_invitation_max_uses_positive')),
    sa.CheckConstraint('uses >= 0 AND uses <= max_uses', name=op.f('ck_invitation_uses_in_range')),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_invitation_org_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invitation_code_hash'))
    )
    op.create_index(op.f('ix_invitation_org_id'), 'invitation', ['org_id'], unique=False)

    op.create_table('member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('gender', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('party_group_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('inactive_reason', sa.String(length=32), nullable=True),
    sa.Column('inactive_note', sa.Text(), nullable=True),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("gender IN ('male', 'female', 'unknown')", name=op.f('ck_member_gender')),
    sa.CheckConstraint("inactive_reason IN ('left', 'deceased', 'transferred_out', 'other')", name=op.f('ck_member_inactive_reason')),
    sa.CheckConstraint("status IN ('full', 'probationary', 'development_target', 'activist')", name=op.f('ck_member_status')),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_member_org_id_org_unit')),
    sa.ForeignKeyConstraint(['party_group_id'], ['org_unit.id'], name=op.f('fk_member_party_group_id_org_unit'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['telegram_user_id'], ['telegram_account.telegram_user_id'], name=op.f('fk_member_telegram_user_id_telegram_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member')),
    sa.UniqueConstraint('telegram_user_id', name=op.f('uq_member_telegram_user_id'))
    )
    op.create_index(op.f('ix_member_org_id'), 'member', ['org_id'], unique=False)
    op.create_index(op.f('ix_member_party_group_id'), 'member', ['party_group_id'], unique=False)
    op.create_index(op.f('ix_member_phone'), 'member', ['phone'], unique=False)

    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('sender_telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('parse_mode', sa.String(length=16), nullable=True),
    sa.Column('attachment_kind', sa.String(length=32), nullable=True),
    sa.Column('attachment_file_id', sa.String(length=255), nullable=True),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('requires_ack', sa.Boolean(), nullable=False),
    sa.Column('ack_reminder_after_minutes', sa.Integer(), nullable=False),
    sa.Column('ack_reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('progress_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('progress_message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("attachment_kind IN ('photo', 'document')", name=op.f('ck_notice_attachment_kind')),
    sa.CheckConstraint('ack_reminder_after_minutes >= 0', name=op.f('ck_notice_ack_reminder_not_negative')),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_notice_org_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice'))
    )
    op.create_index(op.f('ix_notice_org_id'), 'notice', ['org_id'], unique=False)

    op.create_table('role_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('granted_by', sa.BigInteger(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('member', 'deputy_secretary', 'secretary', 'township_organiser', 'county_staff', 'inspector', 'admin')", name=op.f('ck_role_grant_role')),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_role_grant_org_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['telegram_user_id'], ['telegram_account.telegram_user_id'], name=op.f('fk_role_grant_telegram_user_id_telegram_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant')),
    sa.UniqueConstraint('telegram_user_id', 'role', 'org_id', name=op.f('uq_role_grant_telegram_user_id_role_org_id'))
    )
    op.create_index(op.f('ix_role_grant_org_id'), 'role_grant', ['org_id'], unique=False)

    op.create_table('session_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('rule', sa.Text(), nullable=False),
    sa.Column('local_time', sa.Time(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=False),
    sa.Column('audience_kind', sa.String(length=32), nullable=False),
    sa.Column('audience_org_id', sa.Integer(), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("audience_kind IN ('branch', 'party_group', 'subtree')", name=op.f('ck_session_series_audience_kind')),
    sa.CheckConstraint("kind IN ('branch_general_meeting', 'branch_committee_meeting', 'party_group_meeting', 'party_lesson', 'theme_party_day', 'special_study', 'report_hearing', 'other')", name=op.f('ck_session_series_kind')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_session_series_duration_positive')),
    sa.ForeignKeyConstraint(['audience_org_id'], ['org_unit.id'], name=op.f('fk_session_series_audience_org_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_session_series_org_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_series'))
    )
    op.create_index(op.f('ix_session_series_audience_org_id'), 'session_series', ['audience_org_id'], unique=False)
    op.create_index(op.f('ix_session_series_org_id'), 'session_series', ['org_id'], unique=False)

    op.create_table('training',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=5, scale=1), nullable=False),
    sa.Column('cost_yuan', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cost_yuan >= 0', name=op.f('ck_training_cost_not_negative')),
    sa.CheckConstraint('hours >= 0', name=op.f('ck_training_hours_not_negative')),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_training_org_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training'))
    )
    op.create_index('ix_training_org_id_held_on', 'training', ['org_id', 'held_on'], unique=False)

    op.create_table('assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sa.String(length=32), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('rating', sa.String(length=32), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('assessed_by', sa.BigInteger(), nullable=False),
    sa.Column('assessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(subject_kind = 'org' AND org_id IS NOT NULL AND member_id IS NULL) OR (subject_kind = 'member' AND member_id IS NOT NULL AND org_id IS NULL)", name=op.f('ck_assessment_one_subject')),
    sa.CheckConstraint("rating IN ('excellent', 'good', 'fair', 'poor')", name=op.f('ck_assessment_rating')),
    sa.CheckConstraint("scheme IN ('five_good', 'five_lead', 'satisfaction')", name=op.f('ck_assessment_scheme')),
    sa.CheckConstraint("subject_kind IN ('org', 'member')", name=op.f('ck_assessment_subject_kind')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_assessment_member_id_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_assessment_org_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment')),
    sa.UniqueConstraint('year', 'scheme', 'member_id', name=op.f('uq_assessment_year_scheme_member_id')),
    sa.UniqueConstraint('year', 'scheme', 'org_id', name=op.f('uq_assessment_year_scheme_org_id'))
    )
    op.create_index(op.f('ix_assessment_member_id'), 'assessment', ['member_id'], unique=False)
    op.create_index(op.f('ix_assessment_org_id'), 'assessment', ['org_id'], unique=False)

    op.create_table('contact_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('leader_member_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('is_demonstration', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['leader_member_id'], ['member.id'], name=op.f('fk_contact_point_leader_member_id_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_contact_point_org_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_point')),
    sa.UniqueConstraint('leader_member_id', 'org_id', 'year', name=op.f('uq_contact_point_leader_member_id_org_id_year'))
    )
    op.create_index('ix_contact_point_org_id_year', 'contact_point', ['org_id', 'year'], unique=False)

    op.create_table('member_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=32), nullable=True),
    sa.Column('to_status', sa.String(length=32), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("from_status IN ('full', 'probationary', 'development_target', 'activist')", name=op.f('ck_member_status_change_from_status')),
    sa.CheckConstraint("to_status IN ('full', 'probationary', 'development_target', 'activist')", name=op.f('ck_member_status_change_to_status')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_member_status_change_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_status_change'))
    )
    op.create_index(op.f('ix_member_status_change_member_id'), 'member_status_change', ['member_id'], unique=False)

    op.create_table('registration_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('claimed_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'approved', 'rejected')", name=op.f('ck_registration_request_state')),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_registration_request_invitation_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_registration_request_member_id_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_registration_request_org_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['telegram_user_id'], ['telegram_account.telegram_user_id'], name=op.f('fk_registration_request_telegram_user_id_telegram_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_request'))
    )
    op.create_index(op.f('ix_registration_request_invitation_id'), 'registration_request', ['invitation_id'], unique=False)
    op.create_index(op.f('ix_registration_request_member_id'), 'registration_request', ['member_id'], unique=False)
    op.create_index(op.f('ix_registration_request_org_id'), 'registration_request', ['org_id'], unique=False)
    op.create_index(op.f('ix_registration_request_state'), 'registration_request', ['state'], unique=False)
    op.create_index(op.f('ix_registration_request_telegram_user_id'), 'registration_request', ['telegram_user_id'], unique=False)

    op.create_table('study_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=False),
    sa.Column('audience_kind', sa.String(length=32), nullable=False),
    sa.Column('audience_org_id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('materials_text', sa.Text(), nullable=True),
    sa.Column('materials_file_id', sa.String(length=255), nullable=True),
    sa.Column('minutes_text', sa.Text(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checkin_opens_minutes_before', sa.Integer(), nullable=False),
    sa.Column('checkin_closes_minutes_after', sa.Integer(), nullable=False),
    sa.CheckConstraint("audience_kind IN ('branch', 'party_group', 'subtree')", name=op.f('ck_study_session_audience_kind')),
    sa.CheckConstraint("kind IN ('branch_general_meeting', 'branch_committee_meeting', 'party_group_meeting', 'party_lesson', 'theme_party_day', 'special_study', 'report_hearing', 'other')", name=op.f('ck_study_session_kind')),
    sa.CheckConstraint("state IN ('scheduled', 'cancelled', 'closed')", name=op.f('ck_study_session_state')),
    sa.CheckConstraint('checkin_opens_minutes_before >= 0 AND checkin_closes_minutes_after >= 0', name=op.f('ck_study_session_checkin_window')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_study_session_duration_positive')),
    sa.ForeignKeyConstraint(['audience_org_id'], ['org_unit.id'], name=op.f('fk_study_session_audience_org_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_study_session_org_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['session_series.id'], name=op.f('fk_study_session_series_id_session_series'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_session'))
    )
    op.create_index(op.f('ix_study_session_audience_org_id'), 'study_session', ['audience_org_id'], unique=False)
    op.create_index('ix_study_session_org_id_starts_at', 'study_session', ['org_id', 'starts_at'], unique=False)
    op.create_index(op.f('ix_study_session_series_id'), 'study_session', ['series_id'], unique=False)
    op.create_index(op.f('ix_study_session_starts_at'), 'study_session', ['starts_at'], unique=False)
    op.create_index(op.f('ix_study_session_state'), 'study_session', ['state'], unique=False)

    op.create_table('training_confirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('training_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('marked_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_training_confirmation_member_id_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['training_id'], ['training.id'], name=op.f('fk_training_confirmation_training_id_training'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_confirmation')),
    sa.UniqueConstraint('training_id', 'member_id', name=op.f('uq_training_confirmation_training_id_member_id'))
    )
    op.create_index(op.f('ix_training_confirmation_member_id'), 'training_confirmation', ['member_id'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('rsvp', sa.String(length=32), nullable=False),
    sa.Column('leave_reason', sa.String(length=32), nullable=True),
    sa.Column('leave_note', sa.Text(), nullable=True),
    sa.Column('leave_state', sa.String(length=32), nullable=True),
    sa.Column('leave_decided_by', sa.BigInteger(), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checkin_method', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('marked_by', sa.BigInteger(), nullable=True),
    sa.Column('makeup_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('makeup_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("checkin_method IN ('qr', 'code', 'proxy')", name=op.f('ck_attendance_checkin_method')),
    sa.CheckConstraint("leave_reason IN ('sick', 'migrant_work', 'farming', 'other')", name=op.f('ck_attendance_leave_reason')),
    sa.CheckConstraint("leave_state IN ('pending', 'approved', 'rejected')", name=op.f('ck_attendance_leave_state')),
    sa.CheckConstraint("outcome IN ('pending', 'present', 'excused', 'absent')", name=op.f('ck_attendance_outcome')),
    sa.CheckConstraint("rsvp IN ('none', 'attend', 'leave')", name=op.f('ck_attendance_rsvp')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_attendance_member_id_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['study_session.id'], name=op.f('fk_attendance_session_id_study_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('session_id', 'member_id', name=op.f('uq_attendance_session_id_member_id'))
    )
    op.create_index('ix_attendance_member_id_outcome', 'attendance', ['member_id', 'outcome'], unique=False)

    op.create_table('contact_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_point_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_point_id'], ['contact_point.id'], name=op.f('fk_contact_visit_contact_point_id_contact_point'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_visit'))
    )
    op.create_index(op.f('ix_contact_visit_contact_point_id'), 'contact_visit', ['contact_point_id'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('telegram_message_id', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('notice', 'session_reminder', 'session_invitation', 'training_reminder', 'warning', 'greeting', 'makeup', 'other')", name=op.f('ck_delivery_kind')),
    sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed', 'dead')", name=op.f('ck_delivery_state')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_delivery_attempts_not_negative')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_delivery_member_id_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_delivery_notice_id_notice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['study_session.id'], name=op.f('fk_delivery_session_id_study_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_delivery_dedupe_key'))
    )
    op.create_index(op.f('ix_delivery_member_id'), 'delivery', ['member_id'], unique=False)
    op.create_index(op.f('ix_delivery_notice_id'), 'delivery', ['notice_id'], unique=False)
    op.create_index(op.f('ix_delivery_session_id'), 'delivery', ['session_id'], unique=False)
    op.create_index('ix_delivery_state_next_attempt_at', 'delivery', ['state', 'next_attempt_at'], unique=False)

    op.create_table('rectification_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('criticised', sa.Boolean(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_note', sa.Text(), nullable=True),
    sa.Column('issued_by', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'done', 'overdue')", name=op.f('ck_rectification_order_state')),
    sa.CheckConstraint('deadline >= issued_on', name=op.f('ck_rectification_order_deadline_after_issue')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_rectification_order_assessment_id_assessment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['org_unit.id'], name=op.f('fk_rectification_order_org_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_order'))
    )
    op.create_index(op.f('ix_rectification_order_assessment_id'), 'rectification_order', ['assessment_id'], unique=False)
    op.create_index(op.f('ix_rectification_order_org_id'), 'rectification_order', ['org_id'], unique=False)
    op.create_index('ix_rectification_order_state_deadline', 'rectification_order', ['state', 'deadline'], unique=False)

    op.create_table('session_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('offset_minutes', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'sent', 'skipped', 'cancelled')", name=op.f('ck_session_reminder_state')),
    sa.CheckConstraint('offset_minutes >= 0', name=op.f('ck_session_reminder_offset_not_negative')),
    sa.ForeignKeyConstraint(['session_id'], ['study_session.id'], name=op.f('fk_session_reminder_session_id_study_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_reminder')),
    sa.UniqueConstraint('session_id', 'offset_minutes', name=op.f('uq_session_reminder_session_id_offset_minutes'))
    )
    op.create_index(op.f('ix_session_reminder_due_at'), 'session_reminder', ['due_at'], unique=False)


def downgrade() -> None:
    drop_kept()  # nothing is left for a later upgrade to restore into
    # Children before parents; dropping a table drops its indexes.
    op.drop_table('session_reminder')
    op.drop_table('rectification_order')
    op.drop_table('delivery')
    op.drop_table('contact_visit')
    op.drop_table('attendance')
    op.drop_table('training_confirmation')
    op.drop_table('study_session')
    op.drop_table('registration_request')
    op.drop_table('member_status_change')
    op.drop_table('contact_point')
    op.drop_table('assessment')
    op.drop_table('training')
    op.drop_table('session_series')
    op.drop_table('role_grant')
    op.drop_table('notice')
    op.drop_table('member')
    op.drop_table('invitation')
    op.drop_table('fund_allocation')
    op.drop_table('telegram_account')
    op.drop_table('org_unit')
    op.drop_table('code_attempt')
    op.drop_table('audit_log')
