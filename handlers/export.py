"""/export: the requester's scope as an XLSX workbook, for a period (default this year).

A progress message appears at once and is edited when the file is ready; the workbook
is built in a thread, so the bot keeps answering others meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Final

from telegram import InlineKeyboardMarkup, Message, Update

from bot.access import Action, allows, load_principal, scope_roots
from bot.context import BotContext
from bot.export import filename, gather, workbook_bytes
from bot.i18n import N_
from bot.periods import Period, period_from_token
from handlers.callbacks import CallbackCodec
from handlers.guard import STALE_BUTTON, refuse
from handlers.period_input import requested_period
from handlers.screens import button, callback_values
from handlers.session_access import NOT_ALLOWED
from storage import orgs
from storage.models import OrgUnit

PICK: Final = CallbackCodec("rep.xls", (int, str))  # org id, period token
PERIOD_HELP: Final = N_(
    "I did not understand that period. Examples: /export 2026, /export 2026年3月, /export 上季度."
)


async def cmd_export(update: Update, context: BotContext) -> None:
    """The workbook of the user's scope (several scopes: asked which)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    period = requested_period(context, " ".join(context.args or []))
    if period is None:
        await message.reply_text(context._(PERIOD_HELP))
        return
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
        roots = scope_roots(principal, Action.VIEW_REPORTS)
        found = [await orgs.get_org(session=session, org_id=root.org_id) for root in roots]
    tops = [org for org in found if org is not None]
    if not tops:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    if len(tops) > 1:
        rows = [[button(org.name, PICK.encode(_id(org), period.token))] for org in tops]
        await message.reply_text(context._("Which one?"), reply_markup=InlineKeyboardMarkup(rows))
        return
    await _export(context, message, tops[0], period)


async def on_pick(update: Update, context: BotContext) -> None:
    """The scope chosen from the list (checked again: the id came from a button)."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or not isinstance(query.message, Message):
        return
    org_id, token = callback_values(PICK, update)
    period = period_from_token(str(token))
    async with context.services.database.session_scope() as session:
        org = await orgs.get_org(session=session, org_id=int(org_id))
        principal = await load_principal(session=session, telegram_user_id=user.id)
    if period is None:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    if org is None or not allows(principal, Action.VIEW_REPORTS, org.path):
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    await query.answer()
    await _export(context, query.message, org, period)


async def _export(context: BotContext, message: Message, org: OrgUnit, period: Period) -> None:
    _ = context._
    progress = await message.reply_text(
        _("Preparing the workbook of {org} for {period}…").format(
            org=org.name, period=period.label(context.language)
        )
    )
    async with context.services.database.session_scope() as session:
        data = await gather(
            session=session,
            org=org,
            period=period,
            tz=context.services.settings.tz,
            language=context.language,
        )
    content = await asyncio.to_thread(workbook_bytes, data, context.language)
    await message.reply_document(content, filename=filename(data))
    await progress.edit_text(
        _("The workbook of {org} for {period} is ready: {rows} rows.").format(
            org=org.name, period=period.label(context.language), rows=data.row_count
        )
    )


def _id(org: OrgUnit) -> int:
    assert org.id is not None
    return org.id


CALLBACKS: Final = ((PICK, on_pick),)
