"""Where a report starts and what a report button may open: one check for /summary,
/export and their buttons.

A report command starts at the org of the user's one reporting role, or asks which when
there are several; a button carries an org id and a report token (the period's token,
with the class or flag the report is narrowed to: "y2026_lag"), trusted for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Message, Update

from bot.access import Action, allows, load_principal, scope_roots
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.guidance import flag_in, only_for, report_token, split_report_token
from bot.periods import Period, period_from_token
from bot.refusals import NOT_ALLOWED
from handlers.guard import STALE_BUTTON, refuse
from handlers.period_input import requested_period
from handlers.screens import button, callback_values
from storage import orgs
from storage.guidance import Only
from storage.models import OrgUnit


@dataclass(frozen=True, slots=True)
class Target:
    """What a report is of: where to answer, the org, the period, and any narrowing."""

    message: Message
    org: OrgUnit
    period: Period
    only: Only | None = None

    @property
    def token(self) -> str:
        """The report token its buttons carry."""
        return report_token(self.period.token, self.only.flag if self.only else None)


async def command_target(
    update: Update, context: BotContext, codec: CallbackCodec, period_help: str
) -> Target | None:
    """The org, period and narrowing a report command is for ("/summary 2026 落后"); None
    after answering otherwise (a bad period, no right to reports, or several scopes
    offered as buttons of ``codec``)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    flag, words = flag_in(list(context.args or []))
    period = requested_period(context, " ".join(words))
    if period is None:
        await message.reply_text(context._(period_help))
        return None
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        roots = scope_roots(principal, Action.VIEW_REPORTS)
        found = [await orgs.get_org(db=db, org_id=root.org_id) for root in roots]
    tops = [org for org in found if org is not None and org.id is not None]
    if not tops:
        await refuse(update, context, context._(NOT_ALLOWED))
        return None
    token = report_token(period.token, flag)
    if len(tops) > 1:
        rows = [[button(org.name, codec.encode(org.id or 0, token))] for org in tops]
        await message.reply_text(context._("Which one?"), reply_markup=InlineKeyboardMarkup(rows))
        return None
    return Target(message, tops[0], period, only_for(flag, period.start.year))


async def tapped_target(
    update: Update, context: BotContext, codec: CallbackCodec
) -> Target | None:
    """The org, period and narrowing of a tapped report button if the user may see that
    org; else refused (a forged or unknown org, a token that is not a report's)."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or not isinstance(query.message, Message):
        return None
    org_id, token = callback_values(codec, update)
    period_token, flag = split_report_token(str(token))
    period = period_from_token(period_token)
    async with context.services.database.session_scope() as db:
        org = await orgs.get_org(db=db, org_id=int(org_id))
        principal = await load_principal(db=db, telegram_user_id=user.id)
    if period is None:
        await refuse(update, context, context._(STALE_BUTTON))
        return None
    if org is None or not allows(principal, Action.VIEW_REPORTS, org.path):
        await refuse(update, context, context._(NOT_ALLOWED))
        return None
    return Target(query.message, org, period, only_for(flag, period.start.year))
