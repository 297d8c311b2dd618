"""The audit log: one row per privileged action (who, what, on which target, where)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import utc_column
from storage.types import utcnow

__all__ = ["AuditLog"]


class AuditLog(SQLModel, table=True):
    """Append-only. No foreign keys on purpose: history must outlive what it talks about."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True, default=utcnow))
    actor_telegram_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    action: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    target_kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    target_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    org_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, index=True))
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
