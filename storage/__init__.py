"""partybot's data: SQLModel tables, engine and session scope, migrations, aggregates.

storage/ imports nothing else of partybot. Aggregate modules (``storage.orgs``,
``storage.accounts``, ``storage.roles``, ``storage.audit``, ...) are keyword-only
functions that take the caller's ``AsyncSession``.
"""

from __future__ import annotations

from storage.db import (
    Database,
    create_engine_for,
    current_revision,
    head_revision,
    sync_url,
    upgrade_to_head,
)
from storage.types import UTCDateTime, utcnow

__all__ = [
    "Database",
    "UTCDateTime",
    "create_engine_for",
    "current_revision",
    "head_revision",
    "sync_url",
    "upgrade_to_head",
    "utcnow",
]
