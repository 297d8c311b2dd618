"""Notices (通知) with their 已阅 acks, and the delivery outbox for every bulk send."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import created_at_column, enum_check, enum_column, fk, utc_column
from storage.types import utcnow

__all__ = ["AttachmentKind", "Delivery", "DeliveryKind", "DeliveryState", "Notice"]


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class DeliveryKind(StrEnum):
    NOTICE = "notice"
    SESSION_REMINDER = "session_reminder"
    SESSION_INVITATION = "session_invitation"
    TRAINING = "training"
    TRAINING_REMINDER = "training_reminder"
    WARNING = "warning"
    GREETING = "greeting"
    MAKEUP = "makeup"
    OTHER = "other"


class DeliveryState(StrEnum):
    """pending -> sending (claimed) -> sent | failed (retry later) | dead (give up).

    ``failed`` goes back to ``sending`` when ``next_attempt_at`` comes; a ``sending`` row
    whose claim is stale (worker crashed) is reclaimed.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


class Notice(SQLModel, table=True):
    """A broadcast to a chosen audience; each recipient gets one Delivery row."""

    __tablename__ = "notice"
    __table_args__ = (
        enum_check("attachment_kind", AttachmentKind),
        sa.CheckConstraint("ack_reminder_after_minutes >= 0", name="ack_reminder_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    sender_telegram_id: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    parse_mode: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    attachment_kind: AttachmentKind | None = Field(
        default=None, sa_column=enum_column(AttachmentKind, nullable=True)
    )
    attachment_file_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    audience: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    requires_ack: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False))
    ack_reminder_after_minutes: int = Field(
        default=1440, sa_column=sa.Column(sa.Integer, nullable=False, default=1440)
    )
    ack_reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    progress_chat_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    progress_message_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class Delivery(SQLModel, table=True):
    """One message to one chat, claimed and sent by the relay (the outbox).

    ``dedupe_key`` is unique, so replaying the same request (double tap, retry after a
    crash) cannot create a second message. ``payload`` holds what to send: text,
    parse_mode, reply_markup, attachment.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        enum_check("kind", DeliveryKind),
        enum_check("state", DeliveryState),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_delivery_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: DeliveryKind = Field(sa_column=enum_column(DeliveryKind))
    notice_id: int | None = Field(
        default=None, sa_column=fk("notice.id", nullable=True, ondelete="CASCADE")
    )
    session_id: int | None = Field(
        default=None, sa_column=fk("study_session.id", nullable=True, ondelete="CASCADE")
    )
    member_id: int | None = Field(
        default=None, sa_column=fk("member.id", nullable=True, ondelete="SET NULL")
    )
    chat_id: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    state: DeliveryState = Field(
        default=DeliveryState.PENDING,
        sa_column=enum_column(DeliveryState, default=DeliveryState.PENDING),
    )
    attempts: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0))
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    claimed_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    telegram_message_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    acknowledged_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    dedupe_key: str = Field(sa_column=sa.Column(sa.String(255), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
