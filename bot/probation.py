"""The probation year: tell branch secretaries once when a probationary member's year is up.

Probation starts on the latest day the member became probationary (a MemberStatusChange),
or on the day they joined when no change was recorded. Being reminded is an audit row
("probation.reminded") written as the reminder is claimed, so a later run skips it; a new
status change (say, probation extended) makes the member due again a year later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.dates import format_calendar_day
from bot.direct_messages import Recipient
from bot.htmltext import html_lines, payload_html
from bot.i18n import gettext
from bot.roster import secretaries
from storage import audit, deliveries, member_admin, orgs
from storage.deliveries import Outgoing
from storage.models import DeliveryKind

PROBATION_REMINDED: Final = "probation.reminded"


def one_year_before(day: date) -> date:
    """The same calendar day a year earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return date(day.year - 1, 2, 28)


@dataclass(frozen=True, slots=True)
class ProbationReminder:
    """Probationary members of one branch whose year is up, and its secretaries to tell."""

    org_id: int
    branch: str
    due: list[member_admin.ProbationDue]
    told: list[Recipient]

    def text(self, language: str) -> str:
        """The reminder, in one language."""
        lines = [
            gettext(
                language,
                "Probation reminder ({branch}): the probation year of these members is up. "
                "Please discuss admitting them as full members:",
            ).format(branch=self.branch)
        ]
        for person in self.due:
            lines.append(
                gettext(language, "• {name} (probationary since {date})").format(
                    name=person.name, date=format_calendar_day(person.since, language=language)
                )
            )
        return html_lines(lines)


async def claim_probation_reminders(
    *, db: AsyncSession, today: date, now: datetime
) -> list[ProbationReminder]:
    """Reminders due today, each marked sent (an audit row per member) as it is claimed.

    A branch without a secretary is skipped, so its reminder waits for the day one is
    appointed. Claiming before sending means a crash loses a reminder rather than
    repeating it every day.
    """
    due = await member_admin.due_probationary(
        db=db,
        started_on_or_before=one_year_before(today),
        reminded_action=PROBATION_REMINDED,
    )
    by_branch: dict[int, list[member_admin.ProbationDue]] = {}
    for person in due:
        by_branch.setdefault(person.org_id, []).append(person)
    reminders = []
    for org_id, people in by_branch.items():
        told = await secretaries(db=db, org_id=org_id)
        branch = await orgs.get_org(db=db, org_id=org_id)
        if not told or branch is None:
            continue
        for person in people:
            await audit.record(
                db=db,
                actor=None,
                action=PROBATION_REMINDED,
                target_kind="member",
                target_id=person.member_id,
                org_id=org_id,
                detail={"name": person.name, "since": person.since.isoformat()},
                at=now,
            )
        reminders.append(ProbationReminder(org_id, branch.name, people, told))
    return reminders


async def queue_probation_reminders(*, db: AsyncSession, today: date, now: datetime) -> int:
    """Claim today's reminders and queue them in the outbox, in the caller's transaction.

    Each secretary gets the reminder in their language through the relay like every other
    message (paced, retried, blocked accounts noted). Returns how many members were
    reported.
    """
    reminders = await claim_probation_reminders(db=db, today=today, now=now)
    items = [
        Outgoing(
            told.telegram_user_id,
            {
                "text": payload_html(reminder.text(told.language)),
                "parse_mode": ParseMode.HTML.value,
            },
            f"probation:{reminder.org_id}:{today.isoformat()}:{told.telegram_user_id}",
        )
        for reminder in reminders
        for told in reminder.told
    ]
    await deliveries.enqueue_many(db=db, kind=DeliveryKind.OTHER, items=items, due_at=now)
    return sum(len(reminder.due) for reminder in reminders)
