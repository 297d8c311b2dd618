"""/newtraining: county, township or branch staff publish a training with buttons and a few
typed lines.

Steps: audience (the org picker inside the author's scope), member status, kind, title,
hours, deadline, materials, cost per person, funding source, quiz questions, preview and
publish. The form lives in user_data; every button carries the form's token, so a tap on
an old form changes nothing, and every screen has a 取消 button. Typed values are checked
(bot.trainings.read_*) and echoed on the next screen; a bad value gets one line and the
same question again. Access is checked again when the training is published.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot import trainings as rules
from bot.access import Action, Principal, allows, load_principal, scope_roots
from bot.context import BotContext
from bot.dates import format_calendar_day, local_date
from bot.htmltext import bold, html_lines
from bot.i18n import N_
from bot.invitations import status_label
from bot.refusals import NOT_ALLOWED, Refused
from bot.session_text import clip
from bot.trainings import KIND_LABELS, SOURCE_LABELS, TrainingPlan, format_hours
from handlers import awaiting
from handlers.guard import refuse
from handlers.screens import Screen, answer_with, button, callback_ints, perform, show
from handlers.training_codecs import AUDIENCE, FORM
from storage import orgs
from storage.models import AttachmentKind, FundSource, MemberStatus, TrainingKind

FLOW: Final = "newtraining"
DRAFT_KEY: Final = awaiting.forget_on_cancel("trainings.draft")
STALE: Final = N_("This form is no longer open. Send /newtraining to start again.")

KINDS: Final = tuple(TrainingKind)
SOURCES: Final = tuple(FundSource)
STATUSES: Final = (
    MemberStatus.FULL,
    MemberStatus.PROBATIONARY,
    MemberStatus.DEVELOPMENT_TARGET,
    MemberStatus.ACTIVIST,
)
HOUR_CHOICES: Final = (1, 2, 4, 8)
DEADLINE_DAYS: Final = (7, 14, 30)
#: Steps that wait for a typed answer (handlers.awaiting routes it here).
TYPED: Final = frozenset({"title", "hours", "deadline", "materials", "cost", "question"})


@dataclass
class Draft:
    """The form being filled in."""

    token: int
    step: str = "org"
    org_id: int = 0
    org_name: str = ""
    status: MemberStatus | None = None
    kind: TrainingKind = TrainingKind.COURSE
    title: str = ""
    hours: Decimal = Decimal("0")
    deadline_iso: str = ""
    materials_text: str | None = None
    materials_file_id: str | None = None
    materials_file_kind: AttachmentKind | None = None
    cost: Decimal = Decimal("0.00")
    source: FundSource | None = None
    questions: list[tuple[str, list[str], int]] = field(default_factory=list)
    pending: tuple[str, list[str]] | None = None  # a question waiting for its right answer


def _draft(context: BotContext, token: int | None = None) -> Draft | None:
    found = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    if not isinstance(found, Draft) or (token is not None and found.token != token):
        return None
    return found


def _cancel(context: BotContext, draft: Draft) -> list[InlineKeyboardButton]:
    return [button(context._("Cancel"), FORM.encode(draft.token, "cancel", 0))]


async def cmd_newtraining(update: Update, context: BotContext) -> None:
    """Start the form with the question: whose members is it for?"""
    user_data = context.user_data
    if update.effective_user is None or user_data is None:
        return
    draft = Draft(token=secrets.randbelow(10**9) + 1)

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        if not scope_roots(principal, Action.MANAGE_TRAININGS):
            return None
        user_data[DRAFT_KEY] = draft
        awaiting.stop(context)
        return await _audience_screen(db, principal, context, draft, 0, 0)

    await answer_with(update, context, build)


async def _audience_screen(
    db: AsyncSession,
    principal: Principal,
    context: BotContext,
    draft: Draft,
    at: int,
    page: int,
) -> Screen | None:
    found = await AUDIENCE.screen(
        db=db,
        principal=principal,
        action=Action.MANAGE_TRAININGS,
        subject=draft.token,
        at=at,
        page=page,
        can_pick=lambda _org: True,
        _=context._,
    )
    if found is None:
        return None
    text, _markup = found.titled(context._("New training. Whose members is it for?"))
    rows = [*found.markup.inline_keyboard, _cancel(context, draft)]
    return text, InlineKeyboardMarkup(rows)


async def on_audience_nav(update: Update, context: BotContext) -> None:
    """Move around the org tree while choosing the audience."""
    token, at, page = callback_ints(AUDIENCE.nav, update)
    draft = _draft(context, token)
    if draft is None or draft.step != "org":
        await refuse(update, context, context._(STALE))
        return
    await answer_with(
        update,
        context,
        lambda db, principal: _audience_screen(db, principal, context, draft, at, page),
    )


async def on_audience_pick(update: Update, context: BotContext) -> None:
    """The audience's unit is chosen (re-checked against the scope)."""
    token, org_id = callback_ints(AUDIENCE.pick, update)
    draft = _draft(context, token)
    if draft is None or draft.step != "org":
        await refuse(update, context, context._(STALE))
        return
    user = update.effective_user
    assert user is not None
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        org = await orgs.get_org(db=db, org_id=org_id)
    if org is None or not allows(principal, Action.MANAGE_TRAININGS, org.path):
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    draft.org_id, draft.org_name = org_id, org.name
    await _ask(update, context, draft, "status")


async def on_form_tap(update: Update, context: BotContext) -> None:
    """One tap on the form: record the choice and show the next step."""
    query = update.callback_query
    values = FORM.decode(query.data if query else None)
    if query is None or values is None:
        return
    token, step, value = int(values[0]), str(values[1]), int(values[2])
    draft = _draft(context, token)
    if draft is None:
        await refuse(update, context, context._(STALE))
        return
    if step == "cancel":
        await _abandon(update, context)
        return
    _ = context._
    if step == "status" and draft.step == "status" and 0 <= value <= len(STATUSES):
        draft.status = STATUSES[value - 1] if value else None
        await _ask(update, context, draft, "kind")
    elif step == "kind" and draft.step == "kind" and 0 <= value < len(KINDS):
        draft.kind = KINDS[value]
        await _ask(update, context, draft, "title")
    elif step == "hours" and draft.step == "hours" and value in HOUR_CHOICES:
        draft.hours = Decimal(value).quantize(Decimal("0.1"))
        await _ask(update, context, draft, "deadline")
    elif step == "due" and draft.step == "deadline" and value in DEADLINE_DAYS:
        services = context.services
        day = local_date(services.clock.now(), services.settings.tz) + timedelta(days=value)
        draft.deadline_iso = day.isoformat()
        await _ask(update, context, draft, "materials")
    elif step == "skip" and draft.step == "materials":
        await _ask(update, context, draft, "cost")
    elif step == "free" and draft.step == "cost":
        draft.cost, draft.source = Decimal("0.00"), None
        await _ask(update, context, draft, "quiz")
    elif step == "src" and draft.step == "source" and 0 <= value < len(SOURCES):
        draft.source = SOURCES[value]
        await _ask(update, context, draft, "quiz")
    elif step == "addq" and draft.step == "quiz" and len(draft.questions) < rules.MAX_QUESTIONS:
        await _ask(update, context, draft, "question")
    elif step == "right" and draft.step == "answer" and draft.pending is not None:
        question, options = draft.pending
        if not 0 <= value < len(options):
            await refuse(update, context, _(STALE))
            return
        draft.questions.append((question, options, value))
        draft.pending = None
        await _ask(update, context, draft, "quiz")
    elif step == "noquiz" and draft.step == "quiz":
        await _ask(update, context, draft, "preview")
    elif step == "publish" and draft.step == "preview":
        await _publish(update, context, draft)
    else:
        await refuse(update, context, _(STALE))


async def on_form_input(update: Update, context: BotContext) -> None:
    """Typed answers: title, hours, deadline, materials (text, link or file), cost, a
    quiz question. A bad value gets one line; nothing moves on."""
    message = update.effective_message
    draft = _draft(context)
    if message is None:
        return
    if draft is None or draft.step not in TYPED:
        awaiting.stop(context)
        await message.reply_text(context._(STALE))
        return
    if draft.step == "materials":
        await _take_materials(update, context, draft, message)
        return
    text = (message.text or "").strip()
    if not text:
        await message.reply_text(context._("Please type your answer as text."))
        return
    services = context.services
    try:
        if draft.step == "title":
            if len(text) > rules.MAX_TITLE:
                raise Refused(
                    N_("That is too long. Please keep it under {n} characters."),
                    n=str(rules.MAX_TITLE),
                )
            draft.title = text
            await _ask(update, context, draft, "hours")
        elif draft.step == "hours":
            draft.hours = rules.read_hours(text)
            await _ask(update, context, draft, "deadline")
        elif draft.step == "deadline":
            day = rules.read_deadline(
                text,
                now=services.clock.now(),
                tz=services.settings.tz,
                language=context.language,
            )
            draft.deadline_iso = day.isoformat()
            await _ask(update, context, draft, "materials")
        elif draft.step == "cost":
            draft.cost = rules.read_cost(text)
            await _ask(update, context, draft, "source" if draft.cost else "quiz")
        elif draft.step == "question":
            draft.pending = rules.read_question(text)
            await _ask(update, context, draft, "answer")
    except Refused as refused:
        await message.reply_text(refused.text(context.language))


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
    elif message.text and message.text.strip():
        draft.materials_text = message.text.strip()
    else:
        await message.reply_text(context._("Please send text, a link or a file."))
        return
    if draft.materials_text and len(draft.materials_text) > rules.MAX_MATERIALS:
        await message.reply_text(
            context._("That is too long. Please keep it under {n} characters.").format(
                n=rules.MAX_MATERIALS
            )
        )
        draft.materials_text = draft.materials_file_id = draft.materials_file_kind = None
        return
    await _ask(update, context, draft, "cost")


async def _ask(update: Update, context: BotContext, draft: Draft, step: str) -> None:
    """Show the screen of ``step`` under an echo of what the form holds so far."""
    draft.step = step
    if step in TYPED:
        awaiting.expect(context, FLOW)
    else:
        awaiting.stop(context)
    text, rows = _screen(context, draft)
    echo = _echo(context, draft) if step != "preview" else ""
    body = f"{echo}\n\n{text}" if echo else text
    await show(update, context, body, InlineKeyboardMarkup([*rows, _cancel(context, draft)]))


def _echo(context: BotContext, draft: Draft) -> str:
    """What has been chosen so far, one line each (escaped)."""
    _ = context._
    lines: list[str] = []
    if draft.org_name:
        lines.append(_("Audience: {who}").format(who=_audience_label(context, draft)))
    if draft.step not in ("status", "kind"):
        lines.append(_("Kind: {kind}").format(kind=_(KIND_LABELS[draft.kind])))
    if draft.title:
        lines.append(_("Title: {title}").format(title=draft.title))
    if draft.hours:
        lines.append(_("Hours: {hours}").format(hours=format_hours(draft.hours)))
    if draft.deadline_iso:
        lines.append(_("Deadline: {day}").format(day=_deadline(context, draft)))
    if draft.step in ("source", "quiz", "question", "answer"):
        lines.append(_cost_line(context, draft))
    if draft.questions:
        lines.append(_("Quiz questions: {n}").format(n=len(draft.questions)))
    return "\n".join(f"✓ {line}" for line in lines)


def _audience_label(context: BotContext, draft: Draft) -> str:
    name = draft.org_name
    if draft.status is None:
        return context._("all members of {org}").format(org=name)
    return context._("{status}s of {org}").format(
        status=status_label(context.language, draft.status), org=name
    )


def _deadline(context: BotContext, draft: Draft) -> str:
    return format_calendar_day(date.fromisoformat(draft.deadline_iso), language=context.language)


def _cost_line(context: BotContext, draft: Draft) -> str:
    if not draft.cost:
        return context._("Cost: none")
    line = context._("Cost: {yuan} yuan per person").format(yuan=f"{draft.cost:.2f}")
    if draft.source is not None:
        line += f" · {context._(SOURCE_LABELS[draft.source])}"
    return line


def _screen(context: BotContext, draft: Draft) -> tuple[str, list[list[InlineKeyboardButton]]]:
    _ = context._
    token, step = draft.token, draft.step
    if step == "status":
        rows = [[button(_("All members"), FORM.encode(token, "status", 0))]]
        rows += [
            [button(status_label(context.language, s), FORM.encode(token, "status", i + 1))]
            for i, s in enumerate(STATUSES)
        ]
        return _("All members, or only members of one status?"), rows
    if step == "kind":
        labels = [
            button(_(KIND_LABELS[kind]), FORM.encode(token, "kind", index))
            for index, kind in enumerate(KINDS)
        ]
        return _("What kind of training is it?"), [labels[:2], labels[2:]]
    if step == "title":
        return _("What is the title? Please type it."), []
    if step == "hours":
        row = [
            button(
                context.n_("{n} hour", "{n} hours", h).format(n=h), FORM.encode(token, "hours", h)
            )
            for h in HOUR_CHOICES
        ]
        return _("How many study hours does it count? Tap one or type a number."), [row]
    if step == "deadline":
        row = [
            button(
                context.n_("in {n} day", "in {n} days", d).format(n=d),
                FORM.encode(token, "due", d),
            )
            for d in DEADLINE_DAYS
        ]
        text = _("By when must it be completed? Tap one or type a day, for example:\n{examples}")
        return text.format(examples=_(rules.DAY_EXAMPLES)), [row]
    if step == "materials":
        text = _("Send the study materials: text, a link or a file. Or tap Skip.")
        return text, [[button(_("Skip"), FORM.encode(token, "skip", 0))]]
    if step == "cost":
        text = _("What does it cost per person, in yuan? Type the amount, or tap Free.")
        return text, [[button(_("Free"), FORM.encode(token, "free", 0))]]
    if step == "source":
        rows = [
            [button(_(SOURCE_LABELS[source]), FORM.encode(token, "src", index))]
            for index, source in enumerate(SOURCES)
        ]
        return _("Which budget pays for it?"), rows
    if step == "quiz":
        rows = []
        if len(draft.questions) < rules.MAX_QUESTIONS:
            rows.append([button(_("Add a quiz question"), FORM.encode(token, "addq", 0))])
        done = _("No quiz") if not draft.questions else _("Done with the quiz")
        rows.append([button(done, FORM.encode(token, "noquiz", 0))])
        text = _(
            "Members can be asked up to {n} multiple-choice questions; the training counts "
            "as completed only when they answer all of them right."
        ).format(n=rules.MAX_QUESTIONS)
        return text, rows
    if step == "question":
        text = _(
            "Type the question on the first line and 2 to {n} answers on the next lines, "
            "one per line."
        ).format(n=rules.MAX_OPTIONS)
        return text, []
    if step == "answer":
        assert draft.pending is not None
        question, options = draft.pending
        rows = [
            [button(clip(option, 40), FORM.encode(token, "right", index))]
            for index, option in enumerate(options)
        ]
        text = _("{question}\nWhich answer is right?").format(question=question)
        return text, rows
    return _preview(context, draft), [[button(_("✅ Publish"), FORM.encode(token, "publish", 0))]]


def _preview(context: BotContext, draft: Draft) -> str:
    _ = context._
    lines = [
        _("Please check the new training:"),
        bold(draft.title),
        _("Kind: {kind}").format(kind=_(KIND_LABELS[draft.kind])),
        _("Hours: {hours}").format(hours=format_hours(draft.hours)),
        _("Deadline: {day}").format(day=_deadline(context, draft)),
        _("Audience: {who}").format(who=_audience_label(context, draft)),
        _cost_line(context, draft),
    ]
    if draft.materials_text:
        lines.append(_("Materials: {text}").format(text=clip(draft.materials_text, 300)))
    if draft.materials_file_id:
        lines.append(_("Materials file: attached"))
    for number, (question, options, right) in enumerate(draft.questions, start=1):
        lines.append(
            _("Question {n}: {question} (right: {answer})").format(
                n=number, question=question, answer=options[right]
            )
        )
    return html_lines(lines)


def _plan(draft: Draft) -> TrainingPlan:
    return TrainingPlan(
        audience_org_id=draft.org_id,
        audience_status=draft.status,
        kind=draft.kind,
        title=draft.title,
        hours=draft.hours,
        deadline=date.fromisoformat(draft.deadline_iso),
        cost_per_person=draft.cost,
        funding_source=draft.source,
        materials_text=draft.materials_text,
        materials_file_id=draft.materials_file_id,
        materials_file_kind=draft.materials_file_kind,
        questions=list(draft.questions),
    )


async def _publish(update: Update, context: BotContext, draft: Draft) -> None:
    """Publish once: the form is dropped first, so a second tap finds nothing."""
    user = update.effective_user
    if user is None or context.user_data is None:
        return
    context.user_data.pop(DRAFT_KEY, None)
    awaiting.stop(context)
    services = context.services
    plan, now = _plan(draft), services.clock.now()
    published = await perform(
        update,
        context,
        lambda db, principal: rules.publish(
            db=db,
            actor=principal.telegram_user_id,
            plan=plan,
            now=now,
            tz=services.settings.tz,
        ),
    )
    if published is None:  # refused (and told why)
        await show(update, context, context._("Nothing was published."))
        return
    services.relay.wake()
    text = context._(
        "✅ Published: {title}\n{assigned} members are in it; {reached} of them get it on "
        "Telegram now. Send /trainings to follow who has completed it."
    ).format(title=draft.title, assigned=published.assigned, reached=published.reached)
    await show(update, context, text)


async def _abandon(update: Update, context: BotContext) -> None:
    """Forget the form; nothing is written."""
    awaiting.stop(context)
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)
    await show(update, context, context._("Cancelled. Nothing was published."))


CALLBACKS: Final = (
    (FORM, on_form_tap),
    (AUDIENCE.nav, on_audience_nav),
    (AUDIENCE.pick, on_audience_pick),
)
