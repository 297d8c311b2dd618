"""The audit log as the tests read it: one helper instead of one per feature."""

from __future__ import annotations

from sqlmodel import col, select

from storage import Database
from storage.models import AuditLog


async def audit_log(
    database: Database, action: str | None = None, *, prefix: str = ""
) -> list[AuditLog]:
    """Audit rows, oldest first: all of them, one action exactly, or actions under a prefix."""
    stmt = select(AuditLog).where(col(AuditLog.action).startswith(prefix))
    if action is not None:
        stmt = stmt.where(AuditLog.action == action)
    async with database.session_scope() as db:
        return list((await db.exec(stmt.order_by(col(AuditLog.id)))).all())


async def audit_actions(database: Database, *, prefix: str = "") -> list[str]:
    """The action of every audit row (or of those under a prefix), oldest first."""
    return [entry.action for entry in await audit_log(database, prefix=prefix)]
