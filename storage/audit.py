"""Audit log aggregate: every privileged action writes one row; inspectors read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.audit import AuditLog
from storage.models.orgs import OrgUnit
from storage.types import utcnow

__all__ = ["list_entries", "record"]


async def record(
    *,
    db: AsyncSession,
    actor: int | None,
    action: str,
    target_kind: str,
    target_id: int | None = None,
    org_id: int | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditLog:
    """Append an entry in the caller's transaction (so it commits or rolls back with the act).

    ``actor`` is a Telegram user id, None for the system (CLI, scheduler). ``action`` is a
    dotted verb such as "role.grant"; ``detail`` must be JSON-serialisable.
    """
    entry = AuditLog(
        at=at or utcnow(),
        actor_telegram_id=actor,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        org_id=org_id,
        detail=dict(detail or {}),
    )
    db.add(entry)
    await db.flush()
    return entry


async def list_entries(
    *,
    db: AsyncSession,
    org_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: int | None = None,
    action: str | None = None,
    include_subtree: bool = True,
    limit: int = 100,
) -> list[AuditLog]:
    """Newest first. ``org_id`` covers its subtree unless ``include_subtree`` is False.

    ``since`` is inclusive and ``until`` exclusive, so consecutive windows never overlap.
    """
    stmt = select(AuditLog)
    if org_id is not None:
        if include_subtree:
            org = await db.get(OrgUnit, org_id)
            if org is None:
                return []
            subtree = select(OrgUnit.id).where(col(OrgUnit.path).startswith(org.path))
            stmt = stmt.where(col(AuditLog.org_id).in_(subtree))
        else:
            stmt = stmt.where(AuditLog.org_id == org_id)
    if since is not None:
        stmt = stmt.where(AuditLog.at >= since)
    if until is not None:
        stmt = stmt.where(AuditLog.at < until)
    if actor is not None:
        stmt = stmt.where(AuditLog.actor_telegram_id == actor)
    if action is not None:
        stmt = stmt.where(AuditLog.action == action)
    stmt = stmt.order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc()).limit(limit)
    result = await db.exec(stmt)
    return list(result.all())
