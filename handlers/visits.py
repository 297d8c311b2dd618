"""/visit: a leader logs a visit to his own contact point (联系点).

Which contact point (only if he has several), which day (a tap for today, yesterday or
the day before, or a typed date), what was checked (a few typed words), photos if any,
then Save. Every button carries the contact point's id and is checked again: a visit to
someone else's contact point is refused and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from bot import duties
from bot.access import Principal
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.dates import format_calendar_day, local_date
from bot.duty_buttons import POINT
from bot.htmltext import html_lines
from bot.i18n import gettext
from bot.refusals import Refused
from bot.roster_file import parse_date
from handlers import awaiting
from handlers.guard import STALE_BUTTON, refuse
from handlers.screens import Screen, answer_with, button, callback_ints, perform
from storage import duties as store
from storage import members

FLOW: Final = "visit"

DAY: Final = CallbackCodec("vis.d", (int, int))  # contact point, yyyymmdd
SAVE: Final = CallbackCodec("vis.s", (int,))  # contact point


@dataclass(frozen=True, slots=True)
class Draft:
    """The visit being logged: its point, then its day, its note, its photos."""

    point_id: int
    day: date | None = None
    note: str | None = None
    photos: tuple[str, ...] = field(default=())


_FORM: Final = awaiting.FormSlot("duties.visit", Draft, FLOW, lambda draft: draft.point_id)


def _today(context: BotContext) -> date:
    return local_date(context.services.clock.now(), context.services.settings.tz)


async def cmd_visit(update: Update, context: BotContext) -> None:
    """Start logging a visit: straight to the day if the leader has one contact point."""
    user = update.effective_user
    if user is None:
        return
    _FORM.drop(context)
    lang = context.language
    today = _today(context)

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        member = await members.member_by_telegram(db=db, telegram_user_id=user.id)
        points = (
            await store.contact_point_views(db=db, year=today.year, leader_member_id=member.id)
            if member is not None and member.id is not None
            else []
        )
        if not points:
            raise Refused(duties.NO_CONTACT_POINT)
        if len(points) == 1:
            _FORM.keep(context, Draft(points[0].id))
            return _days(points[0], today, lang)
        _ = partial(gettext, lang)
        rows = [[button(p.org_name, POINT.encode(p.id))] for p in points]
        return _("Which contact point did you visit?"), InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


def _days(point: store.ContactPointView, today: date, lang: str) -> Screen:
    _ = partial(gettext, lang)
    labels = (_("Today"), _("Yesterday"), _("The day before"))
    rows = [
        [
            button(
                f"{label} {day.month}-{day.day}",
                DAY.encode(point.id, int(day.strftime("%Y%m%d"))),
            )
        ]
        for label, day in ((label, today - timedelta(days=n)) for n, label in enumerate(labels))
        if day.year == point.year
    ]
    text = html_lines(
        [
            _("{org}: {count} of {needed} visits this year.").format(
                org=point.org_name, count=point.visits, needed=duties.VISITS_NEEDED
            ),
            _("When was the visit? Tap the day, or type the date (e.g. 2026-12-01)."),
        ]
    )
    return text, InlineKeyboardMarkup(rows)


async def on_point(update: Update, context: BotContext) -> None:
    """The contact point is chosen (it must be one's own): which day."""
    user = update.effective_user
    (point_id,) = callback_ints(POINT, update)
    if user is None:
        return
    lang, today = context.language, _today(context)

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        point = await duties.own_point(db=db, telegram_user_id=user.id, contact_point_id=point_id)
        _FORM.keep(context, Draft(point_id))
        return _days(point, today, lang)

    await answer_with(update, context, build)


async def on_day(update: Update, context: BotContext) -> None:
    """A day is tapped: check it and ask what was checked."""
    point_id, packed = callback_ints(DAY, update)
    try:
        day = date(packed // 10000, packed // 100 % 100, packed % 100)
    except ValueError:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    await _take_day(update, context, point_id, day)


async def _take_day(update: Update, context: BotContext, point_id: int, day: date) -> None:
    user = update.effective_user
    if user is None:
        return
    services = context.services
    try:
        async with services.database.session_scope() as db:
            point = await duties.own_point(
                db=db, telegram_user_id=user.id, contact_point_id=point_id
            )
            duties.check_visit_day(
                point, day, today=local_date(services.clock.now(), services.settings.tz)
            )
    except Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return
    _FORM.keep(context, Draft(point_id, day))
    text = context._("{org}, {day}. What did you check? Type a few words.").format(
        org=point.org_name, day=format_calendar_day(day, language=context.language)
    )
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(text)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def _save_markup(context: BotContext, point_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(context._("Save the visit"), SAVE.encode(point_id))]])


async def on_visit_input(update: Update, context: BotContext) -> None:
    """Typed day, then the note, then photos, while the visit flow waits."""
    message = update.effective_message
    draft = _FORM.get(context)
    if message is None:
        return
    if draft is None:
        awaiting.stop(context)
        return
    _ = context._
    text = (message.text or message.caption or "").strip()
    if draft.day is None:
        day = parse_date(text) if text else None
        if day is None:
            await message.reply_text(_("Please type the date like 2026-12-01."))
            return
        await _take_day(update, context, draft.point_id, day)
        return
    if draft.note is None:
        if not text:
            await message.reply_text(_("Please type in a few words what you checked."))
            return
        if len(text) > duties.MAX_NOTE:
            await message.reply_text(
                _("That is too long: at most {limit} characters.").format(limit=duties.MAX_NOTE)
            )
            return
        _FORM.keep(context, replace(draft, note=text))
        await message.reply_text(
            _("Send photos if you have any, then tap Save."),
            reply_markup=_save_markup(context, draft.point_id),
        )
        return
    if not message.photo:
        await message.reply_text(
            _("Please send a photo, or tap Save."),
            reply_markup=_save_markup(context, draft.point_id),
        )
        return
    photos = (*draft.photos, message.photo[-1].file_id)[: duties.MAX_PHOTOS]
    _FORM.keep(context, replace(draft, photos=photos))
    await message.reply_text(
        _("Photo {n} added. Send more, or tap Save.").format(n=len(photos)),
        reply_markup=_save_markup(context, draft.point_id),
    )


async def on_save(update: Update, context: BotContext) -> None:
    """Write the visit (one transaction, audited) and show the count this year."""
    (point_id,) = callback_ints(SAVE, update)
    user, query = update.effective_user, update.callback_query
    draft = _FORM.get(context)
    if user is None or query is None:
        return
    if draft is None or draft.point_id != point_id or draft.day is None or draft.note is None:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    services = context.services
    now, day, note = services.clock.now(), draft.day, draft.note
    done = await perform(
        update,
        context,
        lambda db, principal: duties.log_visit(
            db=db,
            telegram_user_id=principal.telegram_user_id,
            contact_point_id=point_id,
            visited_on=day,
            note=note,
            photo_ids=list(draft.photos),
            now=now,
            tz=services.settings.tz,
        ),
    )
    if done is None:
        return
    _FORM.drop(context)
    await query.answer()
    await query.edit_message_text(
        context._("Visit saved: {org}, {day}. Visits this year: {count} of {needed}.").format(
            org=done.point.org_name,
            day=format_calendar_day(draft.day, language=context.language),
            count=done.point.visits,
            needed=duties.VISITS_NEEDED,
        )
    )


CALLBACKS: Final = ((POINT, on_point), (DAY, on_day), (SAVE, on_save))
