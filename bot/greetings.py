"""Political birthdays (政治生日): a short greeting from the branch on the day a member joined.

Greetings go through the delivery relay like every bulk send. One per member and year
(the dedupe key), from the morning on, in branches that have not switched them off.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.access import Action, Principal, allows
from bot.htmltext import payload_html
from bot.i18n import gettext
from bot.orgs import BRANCH_KINDS
from bot.refusals import NOT_ALLOWED, Refused
from storage import audit, deliveries, notices, orgs
from storage.deliveries import Outgoing
from storage.models import DeliveryKind

__all__ = [
    "GREETING_TIME",
    "greeting_text",
    "queue_greetings",
    "set_branch_greetings",
    "switch_greetings",
]

#: Not before this local time: a greeting should not wake anyone.
GREETING_TIME: Final = time(9, 0)


def greeting_text(language: str, *, name: str, joined_year: int, branch: str) -> str:
    """The greeting itself, short and warm (plain text: escaped when queued)."""
    first = gettext(
        language,
        "Comrade {name}, today is your political birthday! On this day in {year} you "
        "joined the Communist Party of China.",
    ).format(name=name, year=joined_year)
    second = gettext(
        language, "{branch} wishes you a happy political birthday, good health and happiness!"
    ).format(branch=branch)
    return f"🎉 {first}\n{second}"


async def queue_greetings(*, db: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """Queue today's greetings (from GREETING_TIME on); returns how many were new."""
    local = now.astimezone(tz)
    if local.time() < GREETING_TIME:
        return 0
    today = local.date()
    found = await notices.birthday_members(db=db, on=today)
    items = [
        Outgoing(
            member.chat_id,
            {
                "text": payload_html(
                    greeting_text(
                        member.language,
                        name=member.name,
                        joined_year=member.joined_on.year,
                        branch=member.branch,
                    )
                ),
                "parse_mode": ParseMode.HTML.value,
            },
            f"greeting:{member.member_id}:{today.year}",
            member.member_id,
        )
        for member in found
    ]
    return await deliveries.enqueue_many(
        db=db, kind=DeliveryKind.GREETING, items=items, due_at=now
    )


async def switch_greetings(
    *, db: AsyncSession, org_id: int, enabled: bool, actor: int, now: datetime
) -> bool:
    """Turn a branch's greetings on or off (audited); True if that changed anything."""
    changed = await notices.set_greetings(db=db, org_id=org_id, enabled=enabled)
    if changed:
        await audit.record(
            db=db,
            actor=actor,
            action="greetings.switch",
            target_kind="org",
            target_id=org_id,
            org_id=org_id,
            detail={"enabled": enabled},
            at=now,
        )
    return changed


async def set_branch_greetings(
    *, db: AsyncSession, actor: Principal, org_id: int, enabled: bool, now: datetime
) -> bool:
    """/greetings: the actor turns a branch's greetings on or off, if it is theirs to say.

    The branch's officers who send notices decide (SEND_NOTICE on the branch); anyone else,
    or a unit that is not a branch, is refused and nothing changes.
    """
    org = await orgs.get_org(db=db, org_id=org_id)
    if (
        org is None
        or org.kind not in BRANCH_KINDS
        or not allows(actor, Action.SEND_NOTICE, org.path)
    ):
        raise Refused(NOT_ALLOWED)
    return await switch_greetings(
        db=db, org_id=org_id, enabled=enabled, actor=actor.telegram_user_id, now=now
    )
