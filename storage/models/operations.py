"""Tables for running several processes on one database: the leader's lease, and the
webhook updates already taken (so a replayed update is processed once)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import utc_column

__all__ = ["LeaderLease", "ProcessedUpdate"]


class LeaderLease(SQLModel, table=True):
    """One row per lease name; whoever holds it unexpired leads (runs jobs and the relay)."""

    __tablename__ = "leader_lease"

    name: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    holder: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    acquired_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())


class ProcessedUpdate(SQLModel, table=True):
    """A Telegram update some process has taken; kept a bounded time, then pruned."""

    __tablename__ = "processed_update"

    update_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False)
    )
    taken_by: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    taken_at: datetime = Field(sa_column=utc_column(index=True))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
