"""/laggards and rectification orders (限期整改) in the chat.

/laggards [period] [class or flag] [unit] lists the branches below target under the staff
member's unit (narrowed as /summary is: 落后, 贫困村, 示范点, ...), with
the reasons, and a button per branch to issue an order: the criticism, the required
actions and the deadline are typed, then one tap issues it. The secretary's message
carries 📝 Report progress (a few words, photos, Send); staff open an order from /rectify
or from the messages they get and close it with evidence the same way. Every button
carries only ids and is checked again on the server; each write is one bot/ use case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)

from bot import rectification
from bot.access import Action, Principal, allows, scope_roots
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.dates import format_calendar_day, local_date, parse_day
from bot.fit import fit_lines
from bot.guidance import (
    FLAG_LABELS,
    FLAG_WORDS,
    flag_in,
    only_for,
    report_token,
    split_report_token,
)
from bot.htmltext import html_lines
from bot.i18n import N_
from bot.laggards import laggards
from bot.periods import Period, period_from_token
from bot.rectify_buttons import REPORT, REPORT_PROGRESS, VIEW
from bot.refusals import NOT_ALLOWED, Refused
from handlers import awaiting
from handlers.guard import STALE_BUTTON, refuse
from handlers.period_input import requested_period
from handlers.screens import (
    Screen,
    answer_with,
    button,
    callback_ints,
    callback_values,
    first_tap,
    perform,
    show,
)
from storage import orgs
from storage import rectification as store
from storage.guidance import Flag, Only
from storage.models import OrgUnit, RectificationState, Role
from storage.rectification import OrderView

FLOW: Final = "rectify"

ISSUE: Final = CallbackCodec("rect.n", (int, str))  # branch, period token
CONFIRM: Final = CallbackCodec("rect.i", (int,))  # branch
CLOSE: Final = CallbackCodec("rect.c", (int,))  # order
SEND_REPORT: Final = CallbackCodec("rect.rs", (int,))  # order
SEND_CLOSE: Final = CallbackCodec("rect.cs", (int,))  # order
ORDERS: Final = CallbackCodec("rect.l")
PAGE: Final = CallbackCodec("rect.g", (int, str, int))  # org, report token, offset
PHOTOS: Final = CallbackCodec("rect.p", (int,))  # order: its photos
PHOTOS_SHOWN: Final = 10  # the latest photos shown: one album holds at most 10

LISTED: Final = 25  # orders listed in one message (4096 characters)
LAGGARDS_LISTED: Final = 15  # laggards in one message: a line each and up to five reasons
NO_RECTIFY: Final = N_("Only township and county staff list laggard branches.")
NO_ORDERS: Final = N_("Rectification orders are for township and county staff and secretaries.")
FILTER_HELP: Final = N_(
    "After /laggards type a period, a class or flag, and a unit's name, in any order, or "
    "nothing. Examples: /laggards 2026, /laggards 上季度, /laggards 2026 东风镇 落后, "
    "/laggards 贫困村."
)
NO_SUCH_UNIT: Final = N_("No unit called “{name}” under yours.")
UNITS_OFFERED: Final = 20  # units of the same name offered as buttons
MORE_UNITS: Final = N_(
    "{n} units have names beginning with “{name}”; here are the first {shown}. "
    "Type more of the name to find the others."
)
STATES: Final = {
    RectificationState.OPEN: N_("open"),
    RectificationState.OVERDUE: N_("overdue"),
    RectificationState.DONE: N_("closed"),
}


@dataclass(frozen=True, slots=True)
class Draft:
    """What the rectify flow is filling in: an order to issue (``ref`` the branch), a
    progress report or a closing (``ref`` the order)."""

    mode: str  # "issue", "report" or "close"
    ref: int
    criticism: str | None = None
    actions: str | None = None
    deadline: date | None = None
    note: str | None = None
    photos: tuple[str, ...] = field(default=())


_FORM: Final = awaiting.FormSlot("rectify.draft", Draft, FLOW, lambda draft: draft.ref)


def _today(context: BotContext) -> date:
    return local_date(context.services.clock.now(), context.services.settings.tz)


def _day(context: BotContext, day: date) -> str:
    return format_calendar_day(day, language=context.language)


# --- /laggards ----------------------------------------------------------------------------


def _laggard_filters(
    context: BotContext, args: list[str]
) -> tuple[Period, Flag | None, str | None] | None:
    """(period, class or flag, unit name) typed after /laggards, in any order: a class or
    flag word, a unit's name (one word that is neither), the period the rest; None if the
    words are not that."""
    flag, words = flag_in(args)
    period = requested_period(context, " ".join(words))
    if period is not None:
        return period, flag, None
    for index, word in enumerate(words):
        if word.strip().lower() in FLAG_WORDS:
            continue  # a second class or flag is not a unit's name
        period = requested_period(context, " ".join(words[:index] + words[index + 1 :]))
        if period is not None:
            return period, flag, word.strip()
    return None


async def cmd_laggards(update: Update, context: BotContext) -> None:
    """The branches below target under the user's units, for a period (default: this year),
    narrowed to a class or flag and to a unit by name, typed as after /summary
    ("/laggards 2026 东风镇 贫困村"). Words that are none of these get the help."""
    message = update.effective_message
    if message is None:
        return
    filters = _laggard_filters(context, list(context.args or []))
    if filters is None:
        await message.reply_text(context._(FILTER_HELP))
        return
    period, flag, name = filters
    only = only_for(flag, period.start.year)
    token = report_token(period.token, flag)

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        roots = scope_roots(principal, Action.RECTIFY)
        if not roots:
            return None
        if name is not None:
            paths = [root.org_path for root in roots]
            tops = await orgs.named_within(db=db, paths=paths, name=name)
            if not tops:
                missing = context._(NO_SUCH_UNIT).format(name=name)
                return html_lines([missing, context._(FILTER_HELP)]), None
        else:
            found = [await orgs.get_org(db=db, org_id=root.org_id) for root in roots]
            tops = [org for org in found if org is not None and org.id is not None]
        if not tops:
            return None
        if len(tops) > 1:  # several units: which one (each then pages on its own)
            offered = tops[:UNITS_OFFERED]
            rows = [[button(org.name, PAGE.encode(org.id or 0, token, 0))] for org in offered]
            lines = [context._("Which one?")]
            if name is not None and len(tops) > len(offered):  # say so: the rest are unreachable
                more = context._(MORE_UNITS).format(n=len(tops), name=name, shown=len(offered))
                lines.append(more)
            return html_lines(lines), InlineKeyboardMarkup(rows)
        return await _laggard_page(db, context, tops[0], period, only, 0)

    await answer_with(update, context, build, refusal=NO_RECTIFY)


async def on_page(update: Update, context: BotContext) -> None:
    """Another page of an org's laggards (or the org chosen among several)."""
    org_id, token, offset = callback_values(PAGE, update)
    period_token, flag = split_report_token(str(token))
    period = period_from_token(period_token)
    if period is None:
        await refuse(update, context, context._(STALE_BUTTON))
        return

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        org = await orgs.get_org(db=db, org_id=int(org_id))
        if org is None or not allows(principal, Action.RECTIFY, org.path):
            return None
        only = only_for(flag, period.start.year)
        return await _laggard_page(db, context, org, period, only, int(offset))

    await answer_with(update, context, build, refusal=NO_RECTIFY)


async def _laggard_page(
    db: AsyncSession,
    context: BotContext,
    org: OrgUnit,
    period: Period,
    only: Only | None,
    offset: int,
) -> Screen:
    """LAGGARDS_LISTED laggards of ``org`` from ``offset``, each with its reasons and a
    button to order rectification; ◀ / ▶ page through the rest (keeping the narrowing)."""
    _ = context._
    services = context.services
    total, found = await laggards(
        db=db,
        org=org,
        period=period,
        now=services.clock.now(),
        tz=services.settings.tz,
        only=only,
    )
    label = period.label(context.language)
    token = report_token(period.token, only.flag if only is not None else None)
    narrowed = (
        [_("🔎 Only {what} of {year}").format(what=_(FLAG_LABELS[only.flag]), year=only.year)]
        if only is not None
        else []
    )
    orders_row = [button(_("📋 Rectification orders"), ORDERS.encode())]
    if not total:
        text = _("{org}, {period}: no branch to judge.").format(org=org.name, period=label)
        return html_lines([text, *narrowed]), InlineKeyboardMarkup([orders_row])
    if not found:
        text = _("✅ {org}, {period}: none of {total} branches is below target.").format(
            org=org.name, period=label, total=total
        )
        return html_lines([text, *narrowed]), InlineKeyboardMarkup([orders_row])
    offset = min(max(offset, 0), (len(found) - 1) // LAGGARDS_LISTED * LAGGARDS_LISTED)
    lines = [
        _("⚠️ {org}, {period}: {count} of {total} branches below target").format(
            org=org.name, period=label, count=len(found), total=total
        ),
        *narrowed,
    ]
    rows: list[list[InlineKeyboardButton]] = []
    shown = found[offset : offset + LAGGARDS_LISTED]
    for laggard in shown:
        branch = laggard.branch
        lines.append(
            _("• {org} ({parent}): {count} below target").format(
                org=branch.name, parent=branch.parent_name, count=len(laggard.missed)
            )
        )
        lines += [f"    {reason}" for reason in laggard.reasons(context.language)]
        label_issue = _("Order rectification: {org}").format(org=branch.name)
        rows.append([button(label_issue, ISSUE.encode(branch.id, period.token))])
    pages: list[InlineKeyboardButton] = []
    if offset:
        back = max(offset - LAGGARDS_LISTED, 0)
        pages.append(button(_("◀ Previous"), PAGE.encode(org.id or 0, token, back)))
    if offset + LAGGARDS_LISTED < len(found):
        ahead = offset + LAGGARDS_LISTED
        pages.append(button(_("Next ▶"), PAGE.encode(org.id or 0, token, ahead)))
    if len(found) > LAGGARDS_LISTED:
        lines.append(
            _("{first}-{last} of {count} shown.").format(
                first=offset + 1, last=offset + len(shown), count=len(found)
            )
        )
    if pages:
        rows.append(pages)
    rows.append(orders_row)
    return html_lines(lines), InlineKeyboardMarkup(rows)


# --- issuing an order ---------------------------------------------------------------------


async def on_issue(update: Update, context: BotContext) -> None:
    """A laggard chosen: its reasons, then the criticism is asked for."""
    org_id, token = callback_values(ISSUE, update)
    period = period_from_token(str(token))
    if period is None:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    _ = context._
    services = context.services

    async def build(db: AsyncSession, principal: Principal) -> str:
        org = await orgs.get_org(db=db, org_id=int(org_id))
        if org is None or org.id is None or not rectification.may_rectify(principal, org):
            raise Refused(NOT_ALLOWED)
        _total, found = await laggards(
            db=db,
            org=org,
            period=period,
            now=services.clock.now(),
            tz=services.settings.tz,
        )
        lines = [_("Rectification order for {org}").format(org=org.name)]
        for laggard in found:
            lines += [f"• {reason}" for reason in laggard.reasons(context.language)]
        lines += ["", _("Type the notice of criticism.")]
        _FORM.keep(context, Draft("issue", org.id))
        return html_lines(lines)

    await _ask(update, context, build)


async def _ask(
    update: Update,
    context: BotContext,
    build: Callable[[AsyncSession, Principal], Awaitable[str]],
) -> None:
    """A prompt for typed input, sent as a new message under the tapped one (which stays
    as it was: the list, the order), with 取消."""
    text = await perform(update, context, build)
    message = update.effective_message
    if text is None or message is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    await message.reply_text(text, reply_markup=awaiting.cancel_keyboard(context))


def _issue_screen(context: BotContext, draft: Draft, org_name: str) -> Screen:
    _ = context._
    assert draft.deadline is not None
    lines = [
        _("Rectification order for {org}").format(org=org_name),
        _("Criticism: {text}").format(text=draft.criticism),
        _("Required actions: {text}").format(text=draft.actions),
        _("Deadline: {day}").format(day=_day(context, draft.deadline)),
    ]
    rows = [
        [button(_("✅ Issue the order"), CONFIRM.encode(draft.ref))],
        [button(_(awaiting.CANCEL_LABEL), awaiting.CANCEL.encode())],
    ]
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def on_confirm(update: Update, context: BotContext) -> None:
    """Issue the order typed in (once: a second tap finds no draft)."""
    (org_id,) = callback_ints(CONFIRM, update)
    draft = _FORM.get(context)
    if (
        not first_tap(update, context)
        or draft is None
        or draft.mode != "issue"
        or draft.ref != org_id
        or draft.criticism is None
        or draft.actions is None
        or draft.deadline is None
    ):
        await refuse(update, context, context._(STALE_BUTTON))
        return
    deadline, criticism, actions = draft.deadline, draft.criticism, draft.actions
    services = context.services

    async def act(db: AsyncSession, principal: Principal) -> tuple[OrderView, int]:
        return await rectification.issue_order(
            db=db,
            principal=principal,
            org_id=org_id,
            criticism=criticism,
            actions=actions,
            deadline=deadline,
            now=services.clock.now(),
            tz=services.settings.tz,
        )

    done = await perform(update, context, act)
    if done is None:
        return
    _FORM.drop(context)
    view, told = done
    _ = context._
    lines = [
        _("Rectification order issued to {org}, deadline {day}.").format(
            org=view.org_name, day=_day(context, deadline)
        ),
        _("The secretary has been told.")
        if told
        else _("No secretary of {org} is on Telegram: tell them yourself.").format(
            org=view.org_name
        ),
    ]
    markup = InlineKeyboardMarkup([[button(_("📋 View the order"), VIEW.encode(view.id))]])
    await show(update, context, html_lines(lines), markup)


# --- an order's screen and the list -------------------------------------------------------


async def _visible(
    db: AsyncSession, principal: Principal, order_id: int
) -> tuple[OrderView, bool]:
    """The order and whether the user is staff above it (else its branch's secretary,
    who sees it closed too); refused for anyone else."""
    try:
        view = await rectification.staff_order(db=db, principal=principal, order_id=order_id)
        return view, True
    except Refused as refused:
        try:
            view = await rectification.own_order(
                db=db, principal=principal, order_id=order_id, open_only=False
            )
        except Refused:
            raise refused from None
        return view, False


def _order_screen(
    context: BotContext, view: OrderView, staff: bool, reports: list[str], photos: int
) -> Screen:
    _ = context._
    order = view.order
    lines = [
        _("📋 Rectification order for {org}").format(org=view.org_name),
        _("State: {state}").format(state=_(STATES[order.state])),
        _("Issued {issued}, deadline {deadline}").format(
            issued=_day(context, order.issued_on), deadline=_day(context, order.deadline)
        ),
        _("Criticism: {text}").format(text=order.reason),
    ]
    if order.actions:
        lines.append(_("Required actions: {text}").format(text=order.actions))
    lines.append(_("Progress reports: {count}").format(count=view.reports))
    closing: list[str] = []
    if order.state == RectificationState.DONE and order.closed_at is not None:
        day = local_date(order.closed_at, context.services.settings.tz)
        closing.append(
            _("Closed {day}. Evidence: {note}").format(
                day=_day(context, day), note=order.closed_note or ""
            )
        )
        if order.closed_photo_ids:
            closing.append(_("Photos: {count}").format(count=len(order.closed_photo_ids)))
    rows: list[list[InlineKeyboardButton]] = []
    if photos:
        label = _("🖼 Photos ({count})").format(count=photos)
        rows.append([button(label, PHOTOS.encode(view.id))])
    if order.state != RectificationState.DONE:
        if staff:
            rows.append([button(_("✅ Close with evidence"), CLOSE.encode(view.id))])
        else:
            rows.append([button(_(REPORT_PROGRESS), REPORT.encode(view.id))])
    rows.append([button(_("⬆ Rectification orders"), ORDERS.encode())])
    # Reports of up to MAX_TEXT characters each: the newest that fit in one message.
    text = fit_lines(
        lines,
        reports,
        closing,
        more=lambda n: _("…{count} earlier reports not shown").format(count=n),
        keep_last=True,
    )
    return text, InlineKeyboardMarkup(rows)


async def _report_lines(db: AsyncSession, context: BotContext, order_id: int) -> list[str]:
    _ = context._
    tz = context.services.settings.tz
    lines = []
    for report in (await store.reports_of(db=db, order_id=order_id))[-LISTED:]:
        line = f"• {_day(context, local_date(report.reported_at, tz))}：{report.note}"
        if report.photo_ids:
            line += _(" (photos: {count})").format(count=len(report.photo_ids))
        lines.append(line)
    return lines


async def _photos(db: AsyncSession, context: BotContext, view: OrderView) -> list[tuple[str, str]]:
    """(file id, caption) of the order's photos: the progress reports', then the closing
    evidence."""
    _ = context._
    tz = context.services.settings.tz
    found: list[tuple[str, str]] = []
    for report in await store.reports_of(db=db, order_id=view.id):
        caption = _("{org}: progress of {day}").format(
            org=view.org_name, day=_day(context, local_date(report.reported_at, tz))
        )
        found += [(photo, caption) for photo in report.photo_ids or []]
    evidence = _("{org}: evidence of the closing").format(org=view.org_name)
    found += [(photo, evidence) for photo in view.order.closed_photo_ids or []]
    return found


async def on_photos(update: Update, context: BotContext) -> None:
    """🖼 Photos: the order's photos (the latest PHOTOS_SHOWN, an album's most, and a
    note saying so when there are more), one album when there are several (each photo
    keeps its caption: whose progress, or the closing's evidence), else the one photo."""
    (order_id,) = callback_ints(PHOTOS, update)

    async def act(db: AsyncSession, principal: Principal) -> list[tuple[str, str]]:
        view, _staff = await _visible(db, principal, order_id)
        return await _photos(db, context, view)

    found = await perform(update, context, act)
    message = update.effective_message
    if found is None or message is None:
        return
    photos = found[-PHOTOS_SHOWN:]
    if update.callback_query is not None:
        more = len(found) > len(photos)
        await update.callback_query.answer(
            context._("The latest {shown} of {count} photos.").format(
                shown=len(photos), count=len(found)
            )
            if more
            else None
        )
    if len(photos) == 1:
        [(file_id, caption)] = photos
        await message.reply_photo(file_id, caption=caption)
    elif photos:
        await message.reply_media_group(
            [InputMediaPhoto(file_id, caption=caption) for file_id, caption in photos]
        )


async def on_view(update: Update, context: BotContext) -> None:
    """An order: its state, criticism, actions and reports; close it or report on it."""
    (order_id,) = callback_ints(VIEW, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        view, staff = await _visible(db, principal, order_id)
        lines = await _report_lines(db, context, order_id)
        photos = await _photos(db, context, view)
        return _order_screen(context, view, staff, lines, len(photos))

    await answer_with(update, context, build)


async def cmd_rectify(update: Update, context: BotContext) -> None:
    """/rectify: the orders the user may see (staff: under their units; a secretary: the
    branch's), the earliest deadline first."""
    await answer_with(update, context, lambda s, p: _orders(s, p, context), refusal=NO_ORDERS)


async def on_orders(update: Update, context: BotContext) -> None:
    """Back to the list of orders."""
    await answer_with(update, context, lambda s, p: _orders(s, p, context), refusal=NO_ORDERS)


async def _orders(db: AsyncSession, principal: Principal, context: BotContext) -> Screen | None:
    """Staff: the orders under their units; a secretary: the branch's. None: neither."""
    paths = [root.org_path for root in scope_roots(principal, Action.RECTIFY)]
    paths += [
        grant.org_path
        for grant in principal.grants
        if grant.role == Role.SECRETARY and not any(grant.org_path.startswith(p) for p in paths)
    ]
    if not paths:
        return None
    _ = context._
    views: list[OrderView] = []
    for path in paths:
        views += await store.orders_under(db=db, path=path, open_only=False, limit=LISTED)
    views = views[:LISTED]
    if not views:
        return _("There are no rectification orders."), None
    lines = [_("📋 Rectification orders, the earliest deadline first:")]
    rows = []
    for view in views:
        order = view.order
        lines.append(
            _("• {org}: deadline {deadline}, {state}, {count} reports").format(
                org=view.org_name,
                deadline=_day(context, order.deadline),
                state=_(STATES[order.state]),
                count=view.reports,
            )
        )
        rows.append(
            [button(f"{view.org_name} · {order.deadline.isoformat()}", VIEW.encode(view.id))]
        )
    return html_lines(lines), InlineKeyboardMarkup(rows)


# --- progress reports and closing ---------------------------------------------------------


async def on_report(update: Update, context: BotContext) -> None:
    """📝 Report progress under the secretary's order: a few words are asked for."""
    (order_id,) = callback_ints(REPORT, update)

    async def build(db: AsyncSession, principal: Principal) -> str:
        view = await rectification.own_order(db=db, principal=principal, order_id=order_id)
        _FORM.keep(context, Draft("report", view.id))
        return context._("{org}: what has been done? Type a few words.").format(org=view.org_name)

    await _ask(update, context, build)


async def on_close(update: Update, context: BotContext) -> None:
    """✅ Close with evidence: the evidence is asked for."""
    (order_id,) = callback_ints(CLOSE, update)

    async def build(db: AsyncSession, principal: Principal) -> str:
        view = await rectification.staff_order(db=db, principal=principal, order_id=order_id)
        if view.order.state == RectificationState.DONE:
            raise Refused(rectification.CLOSED)
        _FORM.keep(context, Draft("close", view.id))
        return context._("{org}: what shows the rectification is done? Type the evidence.").format(
            org=view.org_name
        )

    await _ask(update, context, build)


def _send_markup(context: BotContext, draft: Draft) -> InlineKeyboardMarkup:
    if draft.mode == "report":
        label, data = context._("📤 Send the report"), SEND_REPORT.encode(draft.ref)
    else:
        label, data = context._("✅ Close the order"), SEND_CLOSE.encode(draft.ref)
    return InlineKeyboardMarkup(
        [
            [button(label, data)],
            [button(context._(awaiting.CANCEL_LABEL), awaiting.CANCEL.encode())],
        ]
    )


async def on_input(update: Update, context: BotContext) -> None:
    """Typed text (and photos) while the rectify flow waits."""
    message = update.effective_message
    draft = _FORM.get(context)
    if message is None:
        return
    if draft is None:
        awaiting.stop(context)
        return
    _ = context._
    text = (message.text or message.caption or "").strip()
    if draft.mode == "issue" and draft.criticism is not None and draft.actions is not None:
        await _take_deadline(update, context, draft, text)
        return
    wants_text = (
        draft.criticism is None or draft.actions is None
        if draft.mode == "issue"
        else draft.note is None
    )
    if wants_text:
        if not text:
            await message.reply_text(_(rectification.EMPTY_TEXT))
            return
        if len(text) > rectification.MAX_TEXT:
            await awaiting.refuse_too_long(
                message,
                context,
                template=_("That is too long. Please keep it under {n} characters."),
                limit=rectification.MAX_TEXT,
                count=len(text),
                markup=awaiting.cancel_keyboard(context),
            )
            return
    if draft.mode == "issue":
        if draft.criticism is None:
            _FORM.keep(context, replace(draft, criticism=text))
            await message.reply_text(
                _("Type the required actions."), reply_markup=awaiting.cancel_keyboard(context)
            )
        else:
            _FORM.keep(context, replace(draft, actions=text))
            example = _today(context) + timedelta(days=30)
            await message.reply_text(
                _("By when? Type the deadline, e.g. {example}.").format(
                    example=example.isoformat()
                ),
                reply_markup=awaiting.cancel_keyboard(context),
            )
        return
    if draft.note is None:
        draft = replace(draft, note=text, photos=_photo_of(message, ()))
        _FORM.keep(context, draft)
        await message.reply_text(
            _("Send photos if you have any, then tap the button."),
            reply_markup=_send_markup(context, draft),
        )
        return
    if not message.photo:
        await message.reply_text(
            _("Please send a photo, or tap the button."), reply_markup=_send_markup(context, draft)
        )
        return
    draft = replace(draft, photos=_photo_of(message, draft.photos))
    _FORM.keep(context, draft)
    await message.reply_text(
        _("Photo {n} added. Send more, or tap the button.").format(n=len(draft.photos)),
        reply_markup=_send_markup(context, draft),
    )


def _photo_of(message: Message, photos: tuple[str, ...]) -> tuple[str, ...]:
    """The photos so far, and the message's photo (its largest size) if it has one."""
    if not message.photo:
        return photos
    return (*photos, message.photo[-1].file_id)[: rectification.MAX_PHOTOS]


async def _take_deadline(update: Update, context: BotContext, draft: Draft, text: str) -> None:
    message = update.effective_message
    assert message is not None
    services = context.services
    day = parse_day(text, now=services.clock.now(), tz=services.settings.tz) if text else None
    if day is None:
        await message.reply_text(
            context._("I did not understand that date. Type it like 2026-05-31."),
            reply_markup=awaiting.cancel_keyboard(context),
        )
        return
    try:
        rectification.check_deadline(day, today=_today(context))
    except Refused as refused:
        await message.reply_text(
            refused.text(context.language), reply_markup=awaiting.cancel_keyboard(context)
        )
        return
    async with services.database.session_scope() as db:
        org = await orgs.get_org(db=db, org_id=draft.ref)
    draft = replace(draft, deadline=day)
    _FORM.keep(context, draft)
    text, markup = _issue_screen(context, draft, org.name if org else "?")
    await message.reply_text(text, reply_markup=markup)


async def on_send_report(update: Update, context: BotContext) -> None:
    """Send the progress report (once: a second tap finds no draft)."""
    (order_id,) = callback_ints(SEND_REPORT, update)
    draft = _FORM.get(context)
    if draft is None or draft.mode != "report" or draft.ref != order_id or draft.note is None:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    note, photos = draft.note, list(draft.photos)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> OrderView:
        await rectification.report_progress(
            db=db,
            principal=principal,
            order_id=order_id,
            note=note,
            photo_ids=photos,
            now=now,
        )
        view = await store.order_view(db=db, order_id=order_id)
        assert view is not None
        return view

    view = await perform(update, context, act)
    if view is None:
        return
    _FORM.drop(context)
    text = context._(
        "Progress reported on the rectification order for {org} ({count} reports so far)."
    ).format(org=view.org_name, count=view.reports)
    markup = InlineKeyboardMarkup([[button(context._("📋 View the order"), VIEW.encode(view.id))]])
    await show(update, context, text, markup)


async def on_send_close(update: Update, context: BotContext) -> None:
    """Close the order with the evidence typed (once: a second tap finds no draft)."""
    (order_id,) = callback_ints(SEND_CLOSE, update)
    draft = _FORM.get(context)
    if draft is None or draft.mode != "close" or draft.ref != order_id or draft.note is None:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    note, photos = draft.note, list(draft.photos)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> OrderView:
        return await rectification.close_order(
            db=db,
            principal=principal,
            order_id=order_id,
            note=note,
            photo_ids=photos,
            now=now,
        )

    view = await perform(update, context, act)
    if view is None:
        return
    _FORM.drop(context)
    text = context._("The rectification order for {org} is closed.").format(org=view.org_name)
    markup = InlineKeyboardMarkup([[button(context._("📋 View the order"), VIEW.encode(view.id))]])
    await show(update, context, text, markup)


CALLBACKS: Final = (
    (ISSUE, on_issue),
    (CONFIRM, on_confirm),
    (REPORT, on_report),
    (VIEW, on_view),
    (CLOSE, on_close),
    (SEND_REPORT, on_send_report),
    (SEND_CLOSE, on_send_close),
    (ORDERS, on_orders),
    (PAGE, on_page),
    (PHOTOS, on_photos),
)
