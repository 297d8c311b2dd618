"""/commend [year]: the commendation list (表彰名单) of township and county staff's scope.

The five-good units of the year, best first by their attendance in that year (as /summary
counts it), then the members the township confirmed five-lead, by branch. Read-only.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update

from bot.access import Action, Principal, load_principal, scope_roots
from bot.assessments import NO_ASSESS
from bot.context import BotContext
from bot.dates import local_date
from bot.funds import check_year
from bot.htmltext import Markup, html_lines
from bot.periods import Period, PeriodKind
from bot.refusals import Refused
from bot.shares import percent
from bot.summary_text import split_message
from handlers.guard import refuse
from storage import five_lead, reports
from storage.reports import Commended

MEMBERS_SHOWN: Final = 300  # confirmed members listed; the rest are counted


def _best_first(unit: Commended) -> tuple[Fraction, str]:
    share = Fraction(unit.present, unit.invited) if unit.invited else Fraction(-1)
    return (-share, unit.name)


async def _commendation(
    db: AsyncSession, principal: Principal, year: int, context: BotContext
) -> Markup | None:
    roots = scope_roots(principal, Action.ASSESS)
    if not roots:
        return None
    start, end = Period(PeriodKind.YEAR, year).bounds(context.services.settings.tz)
    units: list[Commended] = []
    people: list[tuple[str, str]] = []
    for root in roots:
        units += await reports.commended_units(
            db=db, year=year, under_path=root.org_path, start=start, end=end
        )
        people += await five_lead.confirmed_members(
            db=db, year=year, under_path=root.org_path, limit=MEMBERS_SHOWN + 1
        )
    _ = context._
    lines = [_("🎖 Commendation list {year}").format(year=year), ""]
    lines.append(_("Five-good units, best attendance first:"))
    if not units:
        lines.append(_("none yet"))
    for number, unit in enumerate(sorted(units, key=_best_first), start=1):
        attendance = percent(Fraction(unit.present, unit.invited)) if unit.invited else "-"
        lines.append(
            _("{number}. {name} · attendance {attendance}").format(
                number=number, name=unit.name, attendance=attendance
            )
        )
    lines += ["", _("Five-lead members:")]
    if not people:
        lines.append(_("none yet"))
    for member, branch in people[:MEMBERS_SHOWN]:
        lines.append(f"• {member} · {branch}")
    if len(people) > MEMBERS_SHOWN:
        lines.append(_("… and more"))
    return html_lines(lines)


async def cmd_commend(update: Update, context: BotContext) -> None:
    """The year's commendation list (default: this year)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    today = local_date(context.services.clock.now(), context.services.settings.tz)
    words = (message.text or "").split()[1:]
    try:
        year = check_year(words[0], today=today) if words else today.year
    except Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        text = await _commendation(db, principal, year, context)
    if text is None:
        await refuse(update, context, context._(NO_ASSESS))
        return
    for part in split_message(text):
        await message.reply_text(part)
