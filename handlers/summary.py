"""/summary: how the requester's org and each unit under it stand against the targets.

County staff see the county by township, township staff their township by branch, a
secretary the branch by member. Buttons drill into a unit and back up; they carry only an
org id and a report token (the period, and the class or flag it is narrowed to), and
every tap is checked again on the server. The chart comes
with the command, and again on request from any level.
"""

from __future__ import annotations

import asyncio
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.access import Action, allows, load_principal
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.guidance import report_token
from bot.i18n import N_
from bot.summary import Summary, build_summary
from bot.summary_text import split_message, summary_text
from handlers.report_scope import Target, command_target, tapped_target
from handlers.screens import button
from storage import orgs
from storage.models import OrgUnit
from storage.reports import By

DRILL: Final = CallbackCodec("rep.sum", (int, str))  # org id, period token
CHART: Final = CallbackCodec("rep.chart", (int, str))  # org id, period token
PERIOD_HELP: Final = N_(
    "I did not understand that period. Examples: /summary 2026, /summary 2026年3月, "
    "/summary 上季度, /summary 本月."
)
BUTTONS_PER_ROW: Final = 2


async def cmd_summary(update: Update, context: BotContext) -> None:
    """The summary of the user's scope for a period (default: this year)."""
    target = await command_target(update, context, DRILL, PERIOD_HELP)
    user = update.effective_user
    if target is None or user is None:
        return
    summary = await _summary(context, target)
    await _send(context, target.message, user.id, summary)
    await _send_chart(context, target.message, summary)


async def on_drill(update: Update, context: BotContext) -> None:
    """Into a unit, or back up: the same summary for another org of the user's scope."""
    query = update.callback_query
    target = await tapped_target(update, context, DRILL)
    if query is None or target is None:
        return
    summary = await _summary(context, target)
    parts = split_message(summary_text(summary, context.language))
    markup = await _keyboard(context, query.from_user.id, summary)
    await query.answer()
    if len(parts) == 1:
        await query.edit_message_text(parts[0], reply_markup=markup)
        return
    await query.edit_message_text(parts[0])
    for index, part in enumerate(parts[1:], start=2):
        await target.message.reply_text(part, reply_markup=markup if index == len(parts) else None)


async def on_chart(update: Update, context: BotContext) -> None:
    """The chart of the summary on screen."""
    query = update.callback_query
    target = await tapped_target(update, context, CHART)
    if query is None or target is None:
        return
    summary = await _summary(context, target)
    await query.answer()
    await _send_chart(context, target.message, summary)


async def _summary(context: BotContext, target: Target) -> Summary:
    async with context.services.database.session_scope() as db:
        return await build_summary(
            db=db,
            org=target.org,
            period=target.period,
            now=context.services.clock.now(),
            tz=context.services.settings.tz,
            only=target.only,
        )


async def _keyboard(context: BotContext, user_id: int, summary: Summary) -> InlineKeyboardMarkup:
    """A button per unit (drill down), one back up if the user may see the parent, a chart."""
    token = report_token(summary.period.token, summary.only.flag if summary.only else None)
    rows: list[list[InlineKeyboardButton]] = []
    if summary.by == By.UNIT:
        units = [
            button(f"{'⚠️' if line.warnings else '✅'} {line.name}", DRILL.encode(line.id, token))
            for line in summary.lines
        ]
        rows += [units[i : i + BUTTONS_PER_ROW] for i in range(0, len(units), BUTTONS_PER_ROW)]
    last = [button(context._("📈 Chart"), CHART.encode(_id(summary.org), token))]
    if summary.org.parent_id is not None:
        async with context.services.database.session_scope() as db:
            parent = await orgs.get_org(db=db, org_id=summary.org.parent_id)
            principal = await load_principal(db=db, telegram_user_id=user_id)
        if parent is not None and allows(principal, Action.VIEW_REPORTS, parent.path):
            label = context._("⬆ Back to {org}").format(org=parent.name)
            last.insert(0, button(label, DRILL.encode(_id(parent), token)))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


async def _send(context: BotContext, message: Message, user_id: int, summary: Summary) -> None:
    """The summary as one or more messages; the buttons go under the last one."""
    markup = await _keyboard(context, user_id, summary)
    parts = split_message(summary_text(summary, context.language))
    for index, part in enumerate(parts, start=1):
        await message.reply_text(part, reply_markup=markup if index == len(parts) else None)


async def _send_chart(context: BotContext, message: Message, summary: Summary) -> None:
    """The chart as a photo, drawn off the event loop (matplotlib is CPU work).

    Imported on the first chart, not at start-up: matplotlib and its font tables take
    about 30 MB of the bot's resident memory (bench/footprint.py).
    """
    from bot.charts import chart_png

    if not summary.lines:
        return
    png = await asyncio.to_thread(chart_png, summary, context.language)
    await message.reply_photo(png, caption=context._("Attendance and sessions on time"))


def _id(org: OrgUnit) -> int:
    assert org.id is not None
    return org.id


CALLBACKS: Final = ((DRILL, on_drill), (CHART, on_chart))
