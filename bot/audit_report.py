"""`partybot audit`: the audit log as a readable table, newest first.

Filters by org (its whole subtree) and by calendar days in the people's time zone; the
database keeps UTC. Columns are padded by display width, so Chinese names line up.
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.bootstrap import BootstrapError
from bot.settings import Settings
from storage import Database, audit, current_revision, orgs
from storage.models import AuditLog, TelegramAccount

HEADER = ("time", "actor", "action", "target", "org", "detail")


class AuditReportError(Exception):
    """A refused request (unknown org, empty window); one line for the operator."""


def day_argument(text: str) -> date:
    """argparse type for --since/--until: a calendar day written 2026-03-01."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-03-01, got {text!r}"
        ) from None


def positive_int(text: str) -> int:
    """argparse type for --limit."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return value


def window(
    since: date | None, until: date | None, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """UTC bounds for whole local days: from `since` 00:00 up to the end of `until`."""
    if since is not None and until is not None and since > until:
        raise AuditReportError(f"--since {since} is after --until {until}")
    start = datetime.combine(since, time(), tz) if since is not None else None
    end = datetime.combine(until + timedelta(days=1), time(), tz) if until is not None else None
    return start, end


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One entry, in words."""

    time: str
    actor: str
    action: str
    target: str
    org: str
    detail: str

    def cells(self) -> tuple[str, ...]:
        return (self.time, self.actor, self.action, self.target, self.org, self.detail)


async def audit_lines(
    *,
    db: AsyncSession,
    tz: ZoneInfo,
    org_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[AuditLine]:
    """The newest entries in the window, with actor and org names looked up once each."""
    entries = await audit.list_entries(db=db, org_id=org_id, since=since, until=until, limit=limit)
    actors: dict[int, str] = {}
    for actor_id in {e.actor_telegram_id for e in entries if e.actor_telegram_id is not None}:
        account = await db.get(TelegramAccount, actor_id)
        actors[actor_id] = f"{account.first_name} ({actor_id})" if account else str(actor_id)
    places: dict[int, str] = {}
    for place_id in {e.org_id for e in entries if e.org_id is not None}:
        org = await orgs.get_org(db=db, org_id=place_id)
        places[place_id] = org.name if org is not None else f"#{place_id}"
    return [_line(entry, tz, actors, places) for entry in entries]


def _line(
    entry: AuditLog, tz: ZoneInfo, actors: dict[int, str], places: dict[int, str]
) -> AuditLine:
    actor = "system" if entry.actor_telegram_id is None else actors[entry.actor_telegram_id]
    target = (
        entry.target_kind if entry.target_id is None else f"{entry.target_kind} {entry.target_id}"
    )
    return AuditLine(
        time=entry.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        actor=actor,
        action=entry.action,
        target=target,
        org="" if entry.org_id is None else places[entry.org_id],
        detail=json.dumps(entry.detail, ensure_ascii=False, sort_keys=True),
    )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render(lines: Sequence[AuditLine]) -> str:
    """A table with a header; the last column (detail) is not padded."""
    if not lines:
        return "no audit entries match"
    rows = [HEADER, *(line.cells() for line in lines)]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    out = []
    for row in rows:
        padded = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=False)]
        out.append("  ".join([*padded, row[-1]]).rstrip())
    return "\n".join(out)


async def audit_report(
    settings: Settings,
    *,
    org_code: str | None,
    since: date | None,
    until: date | None,
    limit: int,
) -> str:
    """The `partybot audit` output for these filters."""
    start, end = window(since, until, settings.tz)
    if current_revision(settings.database_url) is None:
        raise BootstrapError("the database is empty; run `partybot db upgrade` first")
    database = Database(settings.database_url)
    try:
        async with database.session_scope() as db:
            org_id = None
            if org_code is not None:
                org = await orgs.get_org_by_code(db=db, code=org_code)
                if org is None:
                    raise AuditReportError(f"no org with code {org_code!r}")
                org_id = org.id
            lines = await audit_lines(
                db=db, tz=settings.tz, org_id=org_id, since=start, until=end, limit=limit
            )
    finally:
        await database.dispose()
    return render(lines)
