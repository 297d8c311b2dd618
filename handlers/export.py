"""/export: the requester's scope as an XLSX workbook, for a period (default this year).

A progress message appears at once and is edited when the file is ready; the workbook
is built in a thread, so the bot keeps answering others meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Final

from telegram import Update

from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.export import filename, gather, workbook_bytes
from bot.i18n import N_
from handlers.report_scope import Target, command_target, tapped_target
from storage.models import OrgUnit

PICK: Final = CallbackCodec("rep.xls", (int, str))  # org id, period token
PERIOD_HELP: Final = N_(
    "I did not understand that period. Examples: /export 2026, /export 2026年3月, /export 上季度."
)


async def cmd_export(update: Update, context: BotContext) -> None:
    """The workbook of the user's scope (several scopes: asked which)."""
    target = await command_target(update, context, PICK, PERIOD_HELP)
    if target is not None:
        await _export(context, target)


async def on_pick(update: Update, context: BotContext) -> None:
    """The scope chosen from the list (checked again: the id came from a button)."""
    query = update.callback_query
    target = await tapped_target(update, context, PICK)
    if query is None or target is None:
        return
    await query.answer()
    await _export(context, target)


async def _export(context: BotContext, target: Target) -> None:
    message, org, period = target.message, target.org, target.period
    _ = context._
    progress = await message.reply_text(
        _("Preparing the workbook of {org} for {period}…").format(
            org=org.name, period=period.label(context.language)
        )
    )
    async with context.services.database.session_scope() as db:
        data = await gather(
            db=db,
            org=org,
            period=period,
            tz=context.services.settings.tz,
            language=context.language,
            only=target.only,
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
