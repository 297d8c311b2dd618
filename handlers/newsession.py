"""/newsession: a secretary schedules a study session with buttons and a few typed lines.

Steps: organisation (if several), kind, topic, date and time, length, place, audience (if
the branch has party groups), reminders, repetition, materials, preview and confirm. The
form lives in user_data; every button carries the form's token, so a tap on an old form
changes nothing. Access is checked again when the form is confirmed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot import session_ops
from bot.access import Action, load_principal, scope_roots
from bot.context import BotContext
from bot.dates import (
    date_examples,
    format_day,
    format_when,
    local_date,
    parse_day,
    parse_time_on,
    parse_when,
)
from bot.htmltext import html_lines
from bot.i18n import N_
from bot.session_ops import SessionPlan
from bot.session_text import clip, kind_label, names_line, session_card
from bot.sessions import (
    DEFAULT_REMINDER_OFFSETS,
    DURATION_CHOICES,
    KIND_ORDER,
    REMINDER_CHOICES,
    REMINDER_LABELS,
    Repeat,
    audience_kinds_for,
    monthly_repeat_possible,
)
from handlers import awaiting
from handlers.guard import refuse
from handlers.screens import button, perform, show
from handlers.session_access import NOT_ALLOWED
from handlers.session_codecs import FORM
from storage import orgs, sessions
from storage.models import AttachmentKind, AudienceKind, OrgKind, SessionKind, StudySession

FLOW: Final = "newsession"
DRAFT_KEY: Final = awaiting.forget_on_cancel("sessions.draft")

MAX_TOPIC: Final = 100
MAX_PLACE: Final = 100
MAX_MATERIALS: Final = 2000
STALE: Final = N_("This form is no longer open. Send /newsession to start again.")


@dataclass
class Draft:
    """The form being filled in."""

    token: int
    org_id: int = 0
    org_name: str = ""
    org_kind: OrgKind = OrgKind.VILLAGE_BRANCH
    step: str = "org"
    kind: SessionKind = SessionKind.OTHER
    topic: str = ""
    starts_at: datetime | None = None
    day: date | None = None  # a day typed without a time: only the time is asked for
    duration: int = DURATION_CHOICES[1]
    place: str = ""
    audience_kind: AudienceKind = AudienceKind.BRANCH
    audience_org_id: int = 0
    audience_name: str = ""
    offsets: set[int] = field(default_factory=lambda: set(DEFAULT_REMINDER_OFFSETS))
    repeat: Repeat = Repeat.NONE
    materials_text: str | None = None
    materials_file_id: str | None = None
    materials_file_kind: AttachmentKind | None = None
    choices: list[tuple[int, str]] = field(default_factory=list)  # orgs or party groups
    places: list[str] = field(default_factory=list)


def _draft(context: BotContext) -> Draft | None:
    found = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    return found if isinstance(found, Draft) else None


async def cmd_newsession(update: Update, context: BotContext) -> None:
    """Start the form: pick the organisation, or go straight to the kind of session."""
    user = update.effective_user
    if user is None or update.effective_message is None:
        return
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        roots = scope_roots(principal, Action.SCHEDULE_SESSION)
        units = [await orgs.get_org(db=db, org_id=root.org_id) for root in roots]
    choices = [(unit.id, unit.name) for unit in units if unit is not None and unit.id]
    if not choices:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    awaiting.stop(context)
    draft = Draft(token=secrets.randbelow(10**9) + 1, choices=choices)
    if context.user_data is not None:
        context.user_data[DRAFT_KEY] = draft
    if len(choices) == 1:
        await _choose_org(update, context, draft, choices[0][0])
        return
    rows = [[button(name, FORM.encode(draft.token, "org", org_id))] for org_id, name in choices]
    await show(
        update,
        context,
        context._("Which organisation is this session for?"),
        InlineKeyboardMarkup(rows),
    )


async def on_form_tap(update: Update, context: BotContext) -> None:
    """One tap on the form: record the choice and show the next step."""
    query = update.callback_query
    values = FORM.decode(query.data if query else None)
    draft = _draft(context)
    if query is None or values is None:
        return
    token, step, value = int(values[0]), str(values[1]), int(values[2])
    if draft is None or draft.token != token:
        await refuse(update, context, context._(STALE))
        return
    if step == "org":
        if value not in {org_id for org_id, _name in draft.choices}:
            await refuse(update, context, context._(NOT_ALLOWED))
            return
        await _choose_org(update, context, draft, value)
    elif step == "kind" and 0 <= value < len(KIND_ORDER):
        draft.kind = KIND_ORDER[value]
        await _ask(update, context, draft, "topic")
    elif step == "dur" and value in DURATION_CHOICES:
        draft.duration = value
        await _ask(update, context, draft, "place")
    elif step == "place" and 0 <= value < len(draft.places):
        draft.place = draft.places[value]
        await _after_place(update, context, draft)
    elif step == "aud":
        await _choose_audience(update, context, draft, value)
    elif step == "rem" and value in REMINDER_CHOICES:
        draft.offsets ^= {value}
        await _ask(update, context, draft, "reminders")
    elif step == "next":
        await _ask(update, context, draft, "repeat")
    elif step == "rep" and 0 <= value < len(Repeat) and _repeat_allowed(context, draft, value):
        draft.repeat = list(Repeat)[value]
        await _ask(update, context, draft, "materials")
    elif step == "skip":
        await _ask(update, context, draft, "preview")
    elif step == "ok" and value:
        await _confirm(update, context, draft)
    elif step == "ok":
        await _abandon(update, context)
    else:
        await refuse(update, context, context._(STALE))


async def on_form_input(update: Update, context: BotContext) -> None:
    """Typed answers: topic, date and time, place, materials (text or a file)."""
    message = update.effective_message
    draft = _draft(context)
    if message is None:
        return
    if draft is None:
        awaiting.stop(context)
        await message.reply_text(context._(STALE))
        return
    if draft.step == "materials":
        await _take_materials(update, context, draft, message)
        return
    text = (message.text or "").strip()
    if not text:
        await message.reply_text(context._("Please type your answer as text."))
    elif draft.step == "topic":
        if len(text) > MAX_TOPIC:
            await awaiting.refuse_too_long(
                message, context, template=_too_long(context), limit=MAX_TOPIC, count=len(text)
            )
            return
        draft.topic = text
        await _ask(update, context, draft, "when")
    elif draft.step == "when":
        await _take_when(update, context, draft, text)
    elif draft.step == "place":
        if len(text) > MAX_PLACE:
            await awaiting.refuse_too_long(
                message, context, template=_too_long(context), limit=MAX_PLACE, count=len(text)
            )
            return
        draft.place = text
        await _after_place(update, context, draft)


def examples(context: BotContext) -> str:
    """Ways to type a date, in the reader's language and all in the future."""
    services = context.services
    return date_examples(
        language=context.language, now=services.clock.now(), tz=services.settings.tz
    )


async def _take_when(update: Update, context: BotContext, draft: Draft, text: str) -> None:
    message = update.effective_message
    assert message is not None
    services = context.services
    now, tz = services.clock.now(), services.settings.tz
    moment = parse_time_on(text, day=draft.day, tz=tz) if draft.day is not None else None
    moment = moment or parse_when(text, now=now, tz=tz)
    if moment is None:
        day = parse_day(text, now=now, tz=tz)
        if day is not None:  # "明天": only the time is missing
            draft.day = day
            await message.reply_text(
                context._("What time on {day}? For example: 19:30").format(
                    day=format_day(day, language=context.language, tz=tz)
                ),
                reply_markup=_cancel_row_markup(context, draft),
            )
            return
        await message.reply_text(
            context._(
                "I could not read that date and time. Please type it like one of these:\n"
                "{examples}"
            ).format(examples=examples(context)),
            reply_markup=_cancel_row_markup(context, draft),
        )
        return
    if moment <= now:
        await message.reply_text(
            context._("{when} has already passed. Please type a time in the future.").format(
                when=format_when(moment, language=context.language, tz=tz, now=now)
            ),
            reply_markup=_cancel_row_markup(context, draft),
        )
        return
    draft.starts_at, draft.day = moment, None
    understood = context._("Understood: {when}").format(
        when=format_when(moment, language=context.language, tz=tz, now=now)
    )
    await _ask(update, context, draft, "duration", note=understood)


async def _take_materials(
    update: Update, context: BotContext, draft: Draft, message: Message
) -> None:
    if message.document is not None:
        draft.materials_file_id = message.document.file_id
        draft.materials_file_kind = AttachmentKind.DOCUMENT
        draft.materials_text = message.caption
    elif message.photo:
        draft.materials_file_id = message.photo[-1].file_id
        draft.materials_file_kind = AttachmentKind.PHOTO
        draft.materials_text = message.caption
    elif message.text:
        text = message.text.strip()
        if len(text) > MAX_MATERIALS:  # never cut: the secretary shortens it or sends a file
            await awaiting.refuse_too_long(
                message, context, template=_too_long(context), limit=MAX_MATERIALS, count=len(text)
            )
            return
        draft.materials_text = text
    else:
        await message.reply_text(context._("Please send text, a link or a file."))
        return
    await _ask(update, context, draft, "preview")


async def _choose_org(update: Update, context: BotContext, draft: Draft, org_id: int) -> None:
    async with context.services.database.session_scope() as db:
        org = await orgs.get_org(db=db, org_id=org_id)
        groups = (
            await sessions.party_groups(db=db, org_id=org_id)
            if org is not None and AudienceKind.PARTY_GROUP in audience_kinds_for(org.kind)
            else []
        )
        places = await sessions.recent_places(db=db, org_id=org_id)
    if org is None:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    draft.org_id, draft.org_name, draft.org_kind = org_id, org.name, org.kind
    draft.audience_kind = audience_kinds_for(org.kind)[0]
    draft.audience_org_id, draft.audience_name = org_id, org.name
    draft.choices = [(unit.id, unit.name) for unit in groups if unit.id is not None]
    draft.places = places
    await _ask(update, context, draft, "kind")


async def _after_place(update: Update, context: BotContext, draft: Draft) -> None:
    await _ask(update, context, draft, "audience" if draft.choices else "reminders")


async def _choose_audience(update: Update, context: BotContext, draft: Draft, value: int) -> None:
    if value == 0:
        draft.audience_kind = audience_kinds_for(draft.org_kind)[0]
        draft.audience_org_id, draft.audience_name = draft.org_id, draft.org_name
    else:
        group = dict(draft.choices).get(value)
        if group is None:
            await refuse(update, context, context._(STALE))
            return
        draft.audience_kind = AudienceKind.PARTY_GROUP
        draft.audience_org_id, draft.audience_name = value, group
    await _ask(update, context, draft, "reminders")


async def _ask(
    update: Update, context: BotContext, draft: Draft, step: str, *, note: str = ""
) -> None:
    """Show the screen of `step` (after `note`); typed steps wait for the next message."""
    draft.step = step
    text, markup = _screen(context, draft)
    if step != "preview":  # every step can be left with 取消 (the preview has its own)
        rows = [list(row) for row in markup.inline_keyboard] if markup is not None else []
        markup = InlineKeyboardMarkup([*rows, _cancel_row(context, draft)])
    if step in ("topic", "when", "place", "materials"):
        awaiting.expect(context, FLOW)
    else:
        awaiting.stop(context)
    await show(update, context, html_lines([note, text]) if note else text, markup)


def _screen(context: BotContext, draft: Draft) -> tuple[str, InlineKeyboardMarkup | None]:
    _ = context._
    token = draft.token
    step = draft.step
    if step == "kind":
        labels = [
            button(kind_label(kind, context.language), FORM.encode(token, "kind", index))
            for index, kind in enumerate(KIND_ORDER)
        ]
        rows = [labels[i : i + 2] for i in range(0, len(labels), 2)]
        text = _("New session for {org}.\nWhat kind of session is it?").format(org=draft.org_name)
        return text, InlineKeyboardMarkup(rows)
    if step == "topic":
        return _("What is the topic? Please type it."), None
    if step == "when":
        return (
            _(
                "When does it start? Please type the date and time, for example:\n{examples}"
            ).format(examples=examples(context)),
            None,
        )
    if step == "duration":
        rows = [
            [
                button(
                    context.n_("{n} minute", "{n} minutes", minutes).format(n=minutes),
                    FORM.encode(token, "dur", minutes),
                )
                for minutes in DURATION_CHOICES
            ]
        ]
        return _("How long will it take?"), InlineKeyboardMarkup(rows)
    if step == "place":
        rows = [
            [button(clip(place, 40), FORM.encode(token, "place", index))]
            for index, place in enumerate(draft.places)
        ]
        text = _("Where is it? Please type the place.")
        if draft.places:
            text = _("Where is it? Please type the place, or tap one used before.")
        return text, InlineKeyboardMarkup(rows) if rows else None
    if step == "audience":
        rows = [[button(_("The whole branch"), FORM.encode(token, "aud", 0))]]
        rows += [
            [button(name, FORM.encode(token, "aud", group_id))] for group_id, name in draft.choices
        ]
        return _("Who is invited?"), InlineKeyboardMarkup(rows)
    if step == "reminders":
        rows = [
            [
                button(
                    ("✅ " if offset in draft.offsets else "⬜ ") + _offset_label(context, offset),
                    FORM.encode(token, "rem", offset),
                )
            ]
            for offset in REMINDER_CHOICES
        ]
        rows.append([button(_("Next"), FORM.encode(token, "next", 0))])
        text = _("When should I remind people? Tap to switch a reminder on or off, then Next.")
        return text, InlineKeyboardMarkup(rows)
    if step == "repeat":
        return _("Does it repeat?"), InlineKeyboardMarkup(_repeat_rows(context, draft))
    if step == "materials":
        text = _("Send the study materials: text, a link or a file. Or tap Skip.")
        return text, InlineKeyboardMarkup([[button(_("Skip"), FORM.encode(token, "skip", 0))]])
    return _preview(context, draft), InlineKeyboardMarkup(
        [
            [
                button(_("✅ Confirm"), FORM.encode(token, "ok", 1)),
                button(_("Cancel"), FORM.encode(token, "ok", 0)),
            ]
        ]
    )


def _cancel_row(context: BotContext, draft: Draft) -> list[InlineKeyboardButton]:
    return [button(context._("Cancel"), FORM.encode(draft.token, "ok", 0))]


def _cancel_row_markup(context: BotContext, draft: Draft) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([_cancel_row(context, draft)])


def _offset_label(context: BotContext, offset: int) -> str:
    return context._(REMINDER_LABELS[offset])


def _repeat_rows(context: BotContext, draft: Draft) -> list[list[InlineKeyboardButton]]:
    assert draft.starts_at is not None
    day = local_date(draft.starts_at, context.services.settings.tz)
    token = draft.token
    rows = [[button(context._("Only once"), FORM.encode(token, "rep", 0))]]
    rows.append(
        [button(_repeat_label(context, Repeat.WEEKLY, draft), FORM.encode(token, "rep", 1))]
    )
    if monthly_repeat_possible(day):
        for repeat in (Repeat.MONTHLY, Repeat.QUARTERLY):
            index = list(Repeat).index(repeat)
            label = _repeat_label(context, repeat, draft)
            rows.append([button(label, FORM.encode(token, "rep", index))])
    return rows


def _repeat_allowed(context: BotContext, draft: Draft, value: int) -> bool:
    """A monthly or quarterly series only from a day every month has (a forged tap is not)."""
    if draft.starts_at is None:
        return False
    if list(Repeat)[value] in (Repeat.MONTHLY, Repeat.QUARTERLY):
        return monthly_repeat_possible(local_date(draft.starts_at, context.services.settings.tz))
    return True


def _repeat_label(context: BotContext, repeat: Repeat, draft: Draft) -> str:
    assert draft.starts_at is not None
    local = draft.starts_at.astimezone(context.services.settings.tz)
    if repeat == Repeat.WEEKLY:
        return context._("Every week on the same day")
    if repeat == Repeat.MONTHLY:
        return context._("Every month on day {day}").format(day=local.day)
    if repeat == Repeat.QUARTERLY:
        return context._("Every three months on day {day}").format(day=local.day)
    return context._("Only once")


def _plan(draft: Draft) -> SessionPlan:
    assert draft.starts_at is not None
    return SessionPlan(
        org_id=draft.org_id,
        kind=draft.kind,
        topic=draft.topic,
        starts_at=draft.starts_at,
        duration_minutes=draft.duration,
        place=draft.place,
        audience_kind=draft.audience_kind,
        audience_org_id=draft.audience_org_id,
        reminder_offsets=tuple(sorted(draft.offsets, reverse=True)),
        repeat=draft.repeat,
        materials_text=draft.materials_text,
        materials_file_id=draft.materials_file_id,
        materials_file_kind=draft.materials_file_kind,
    )


def _preview(context: BotContext, draft: Draft) -> str:
    _ = context._
    plan = _plan(draft)
    card = session_card(
        StudySession(
            org_id=plan.org_id,
            kind=plan.kind,
            topic=plan.topic,
            starts_at=plan.starts_at,
            duration_minutes=plan.duration_minutes,
            place=plan.place,
            audience_kind=plan.audience_kind,
            audience_org_id=plan.audience_org_id,
            created_by=0,
        ),
        language=context.language,
        tz=context.services.settings.tz,
        now=context.services.clock.now(),
        heading=_("Please check the new session:"),
    )
    reminders = [_offset_label(context, offset) for offset in plan.reminder_offsets]
    lines = [
        card,
        _("Invited: {audience}").format(audience=draft.audience_name),
        _("Reminders: {list}").format(
            list=names_line(reminders, context.language) if reminders else _("none")
        ),
        _("Repeats: {repeat}").format(repeat=_repeat_label(context, plan.repeat, draft)),
    ]
    if plan.materials_text:
        lines.append(_("Materials: {text}").format(text=clip(plan.materials_text, 300)))
    if plan.materials_file_id:
        lines.append(_("Materials file: attached"))
    return html_lines(lines)


async def _confirm(update: Update, context: BotContext, draft: Draft) -> None:
    user = update.effective_user
    if user is None:
        return
    services = context.services
    now = services.clock.now()
    plan = _plan(draft)
    if plan.starts_at <= now:
        await _ask(update, context, draft, "when", note=context._("That time has already passed."))
        return
    scheduled = await perform(
        update,
        context,
        lambda db, principal: session_ops.schedule_as(
            db=db, actor=principal, plan=plan, settings=services.settings, now=now
        ),
    )
    if scheduled is None:
        return
    services.relay.wake()
    await _abandon(update, context, done=True)
    card = session_card(
        scheduled.study, language=context.language, tz=services.settings.tz, now=now
    )
    text = context._(
        "✅ Scheduled. {invited} invited; {reached} of them get the invitation on Telegram now."
    ).format(invited=scheduled.invited, reached=scheduled.reached)
    await show(update, context, html_lines([text, "", card]))


async def _abandon(update: Update, context: BotContext, *, done: bool = False) -> None:
    """Forget the form (and say so, unless it was just confirmed)."""
    awaiting.stop(context)
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)
    if not done:
        await show(update, context, context._("Cancelled. Nothing was scheduled."))


CALLBACKS: Final = ((FORM, on_form_tap),)


def _too_long(context: BotContext) -> str:
    return context._("That is too long. Please keep it under {n} characters.")
