"""已阅 (acks): the 已阅 button, /notices with ack rates, who has not acked, reminders."""

from __future__ import annotations

from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.access import Action, Principal, load_principal, scope_roots
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.dates import format_when
from bot.htmltext import html_lines
from bot.notice_buttons import ACK, ACKED, acked_markup
from bot.notices import acknowledge, names_line, notice_in_scope, plain_text, remind_as
from bot.orgs import BRANCH_KINDS
from bot.refusals import NOT_ALLOWED
from handlers.guard import refuse
from handlers.screens import button, callback_ints, perform, show
from storage import notices, orgs
from storage.models import Notice

VIEW: Final = CallbackCodec("ntc.view", (int,))  # notice id
LIST: Final = CallbackCodec("ntc.list", (int,))  # always 0
REMIND: Final = CallbackCodec("ntc.remind", (int,))  # notice id

LISTED: Final = 10
EXCERPT: Final = 40


async def on_ack(update: Update, context: BotContext) -> None:
    """已阅: record the first tap, replace the button by "已阅 ✓"."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    (notice_id,) = callback_ints(ACK, update)
    now = context.services.clock.now()
    first = await perform(
        update,
        context,
        lambda db, principal: acknowledge(db=db, actor=principal, notice_id=notice_id, now=now),
    )
    if first is None:
        return
    if first:
        await query.answer(context._("Thank you, noted as read."))
    else:
        await query.answer(context._("You have already marked this as read."))
    try:
        await query.edit_message_reply_markup(acked_markup(notice_id, context.language))
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise


async def on_acked(update: Update, context: BotContext) -> None:
    """A tap on "已阅 ✓": nothing more to do."""
    if update.callback_query is not None:
        await update.callback_query.answer(context._("You have already marked this as read."))


# --- /notices --------------------------------------------------------------------------------


def _scope_paths(principal: Principal) -> list[str]:
    return [grant.org_path for grant in scope_roots(principal, Action.SEND_NOTICE)]


def _excerpt(text_html: str) -> str:
    text = " ".join(plain_text(text_html).split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _rate(context: BotContext, summary: notices.NoticeSummary) -> str:
    if not summary.requires_ack:
        return context._("delivered {delivered} of {total} · no read receipt").format(
            delivered=summary.delivered, total=summary.total
        )
    percent = 100 * summary.acked // summary.delivered if summary.delivered else 0
    return context._("read {read} of {delivered} ({percent}%)").format(
        read=summary.acked, delivered=summary.delivered, percent=percent
    )


async def _list_screen(
    db: AsyncSession, principal: Principal, context: BotContext
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    paths = _scope_paths(principal)
    if not paths:
        return None
    found = await notices.recent_notices(db=db, paths=paths, limit=LISTED)
    if not found:
        return context._("No notices yet. Send /notice to write one."), None
    tz, now = context.services.settings.tz, context.services.clock.now()
    lines = [context._("Recent notices (tap one to see who has not read it):")]
    rows: list[list[InlineKeyboardButton]] = []
    for number, summary in enumerate(found, start=1):
        when = format_when(summary.created_at, language=context.language, tz=tz, now=now)
        lines += [
            "",
            f"{number}. {when} · {summary.org_name}",
            f"   {_excerpt(summary.text)}",
            f"   {_rate(context, summary)}",
        ]
        rows.append([button(f"{number}. {_excerpt(summary.text)[:20]}", VIEW.encode(summary.id))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def cmd_notices(update: Update, context: BotContext) -> None:
    """List recent notices in the user's scope with their ack rates."""
    await _show_list(update, context)


async def on_list(update: Update, context: BotContext) -> None:
    """Back from a notice to the list."""
    await _show_list(update, context)


async def _show_list(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        screen = await _list_screen(db, principal, context)
    if screen is None:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    await show(update, context, *screen)


async def _detail_screen(
    db: AsyncSession, notice: Notice, context: BotContext
) -> tuple[str, InlineKeyboardMarkup]:
    assert notice.id is not None
    _ = context._
    org = await orgs.get_org(db=db, org_id=notice.org_id)
    counts = (await notices.delivery_counts(db=db, notice_ids=[notice.id]))[notice.id]
    delivered = counts.sent
    when = format_when(
        notice.created_at,
        language=context.language,
        tz=context.services.settings.tz,
        now=context.services.clock.now(),
    )
    lines = [f"{when} · {org.name if org else ''}", _excerpt(notice.text), ""]
    rows: list[list[InlineKeyboardButton]] = []
    if notice.requires_ack:
        percent = 100 * counts.acked // delivered if delivered else 0
        lines.append(
            _("Delivered {delivered} of {total} · read {read} ({percent}%)").format(
                delivered=delivered, total=counts.total, read=counts.acked, percent=percent
            )
        )
        unacked = delivered - counts.acked
        lines.append(_("Not read yet: {n}").format(n=unacked))
        if unacked and org is not None and org.kind in BRANCH_KINDS:
            names = await notices.unacked_names(db=db, notice_id=notice.id)
            lines.append(names_line(context.language, names, unacked))
        elif unacked:
            off_roster = _("Not on a roster")
            for group in await notices.unacked_by_branch(db=db, notice_id=notice.id):
                place = " · ".join(p for p in (group.township, group.branch) if p)
                lines.append(f"  {place or off_roster}: {group.unacked}")
        if unacked:
            label = _("Remind the {n} who have not read it").format(n=unacked)
            rows.append([button(label, REMIND.encode(notice.id))])
    else:
        lines.append(
            _("Delivered {delivered} of {total} · read receipts were not asked for").format(
                delivered=delivered, total=counts.total
            )
        )
    if counts.unreachable:
        names = await notices.unreachable_names(db=db, notice_id=notice.id)
        lines.append(
            _("Blocked the bot, please tell them in person ({n}): {names}").format(
                n=counts.unreachable,
                names=names_line(context.language, names, counts.unreachable),
            )
        )
    rows.append([button(_("◀ All notices"), LIST.encode(0))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def on_view(update: Update, context: BotContext) -> None:
    """One notice: ack rate, who has not acked it, and a button to remind them."""
    user = update.effective_user
    if user is None:
        return
    (notice_id,) = callback_ints(VIEW, update)
    screen = None
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        notice = await notice_in_scope(db=db, actor=principal, notice_id=notice_id)
        if notice is not None:
            screen = await _detail_screen(db, notice, context)
    if screen is None:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    await show(update, context, *screen)


async def on_remind(update: Update, context: BotContext) -> None:
    """Remind everyone who has not acked the notice (once per tap-able message)."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None or query.message is None:
        return
    (notice_id,) = callback_ints(REMIND, update)
    key, now = f"remind:{user.id}:{query.message.message_id}", context.services.clock.now()
    reminded = await perform(
        update,
        context,
        lambda db, principal: remind_as(
            db=db, actor=principal, notice_id=notice_id, key=key, now=now
        ),
    )
    if reminded is None:
        return
    context.services.relay.wake()
    if reminded:
        await query.answer(
            context._("A reminder is on its way to {n} people.").format(n=reminded),
            show_alert=True,
        )
    else:
        await query.answer(context._("They have already been reminded."), show_alert=True)


CALLBACKS: Final = (
    (ACK, on_ack),
    (ACKED, on_acked),
    (VIEW, on_view),
    (LIST, on_list),
    (REMIND, on_remind),
)
