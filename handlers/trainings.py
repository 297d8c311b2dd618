"""Trainings for members: 已完成学习 (one tap), the quiz, /trainings and the hours in /me.

The tapped message is edited into the result, so no stale buttons stay behind. Every tap
is one call of a bot.trainings use case, which finds out whether the member is in the
training at all: a forged or outdated button changes nothing and gets one line.
"""

from __future__ import annotations

from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import trainings as rules
from bot.access import Action, Principal, scope_roots
from bot.context import BotContext
from bot.dates import format_calendar_day, local_date
from bot.htmltext import Markup, bold, html_lines
from bot.session_text import clip
from bot.training_buttons import DONE
from bot.trainings import QuizOutcome, QuizStep, format_hours
from handlers.guard import STALE_BUTTON, refuse
from handlers.profile import ProfileView, profile_section
from handlers.screens import Screen, answer_with, button, callback_ints
from handlers.training_codecs import ANSWER, RETRY, VIEW
from storage import members, trainings
from storage.models import Training, TrainingQuestion

#: Trainings an officer's list shows (newest first).
LISTED: Final = 10
#: Done trainings a member's list shows (newest deadline first).
DONE_SHOWN: Final = 5


# --- completing --------------------------------------------------------------------------------


async def on_done(update: Update, context: BotContext) -> None:
    """已完成学习: done at once, or the quiz's first question in the same message."""
    (training_id,) = callback_ints(DONE, update)
    await _step(update, context, training_id, None)


async def on_retry(update: Update, context: BotContext) -> None:
    """Take the quiz again after a wrong answer."""
    (training_id,) = callback_ints(RETRY, update)
    await _step(update, context, training_id, None)


async def on_answer(update: Update, context: BotContext) -> None:
    """One answer of the quiz."""
    training_id, position, option = callback_ints(ANSWER, update)
    await _step(update, context, training_id, (position, option))


async def _step(
    update: Update, context: BotContext, training_id: int, answer: tuple[int, int] | None
) -> None:
    user = update.effective_user
    query = update.callback_query
    if user is None or query is None:
        return
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        if answer is None:
            step = await rules.start_completion(
                db=db, telegram_user_id=user.id, training_id=training_id, now=now
            )
        else:
            step = await rules.answer_question(
                db=db,
                telegram_user_id=user.id,
                training_id=training_id,
                position=answer[0],
                option=answer[1],
                now=now,
            )
    if step.outcome == QuizOutcome.NOT_IN:
        await refuse(update, context, context._(rules.NOT_IN))
        return
    if step.outcome == QuizOutcome.STALE:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    notes = {
        QuizOutcome.DONE: context._("Completed. Thank you!"),
        QuizOutcome.ALREADY: context._("You have already completed this training."),
        QuizOutcome.WRONG: context._("Not quite. The right answer is shown."),
    }
    await query.answer(notes.get(step.outcome))
    text, markup = _result(context, step)
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise


def _result(context: BotContext, step: QuizStep) -> tuple[str, InlineKeyboardMarkup | None]:
    """The tapped message after the tap: the result, or the question to answer now."""
    _ = context._
    training = step.training
    assert training is not None
    assert training.id is not None
    title = bold(training.title)
    if step.outcome in (QuizOutcome.DONE, QuizOutcome.ALREADY):
        passed = [_("Quiz passed.")] if step.total and step.outcome == QuizOutcome.DONE else []
        lines = [
            _("✅ Training completed"),
            title,
            *passed,
            _("{hours} h counted for this year.").format(hours=format_hours(training.hours)),
        ]
        return html_lines(lines), None
    question = step.question
    assert question is not None
    if step.outcome == QuizOutcome.WRONG:
        right = question.options[question.answer]
        lines = [
            title,
            _("Question {n} of {total}: {question}").format(
                n=question.position + 1, total=step.total, question=question.text
            ),
            _("❌ Not right. The right answer is: {answer}").format(answer=right),
            _("Read the materials again, then take the quiz once more."),
        ]
        retry = [[button(_("Take the quiz again"), RETRY.encode(training.id))]]
        return html_lines(lines), InlineKeyboardMarkup(retry)
    return _question_screen(context, training, question, step.total)


def _question_screen(
    context: BotContext, training: Training, question: TrainingQuestion, total: int
) -> tuple[str, InlineKeyboardMarkup]:
    _ = context._
    assert training.id is not None
    lines: list[str] = [bold(training.title)]
    if question.position == 0:
        lines.append(_("Answer the quiz to complete the training."))
    else:
        lines.append(_("✓ Right."))
    lines.append(
        _("Question {n} of {total}: {question}").format(
            n=question.position + 1, total=total, question=question.text
        )
    )
    rows = [
        [button(clip(str(option), 60), ANSWER.encode(training.id, question.position, index))]
        for index, option in enumerate(question.options)
    ]
    return html_lines(lines), InlineKeyboardMarkup(rows)


# --- /trainings --------------------------------------------------------------------------------


async def cmd_trainings(update: Update, context: BotContext) -> None:
    """A member's pending and done trainings and hours this year; for officers also the
    trainings reaching their members, with done/total and who is overdue."""
    user = update.effective_user
    if user is None:
        return

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        return await trainings_screen(db, principal, context)

    await answer_with(
        update, context, build, refusal=context._("You are not on a branch roster yet.")
    )


async def trainings_screen(
    db: AsyncSession, principal: Principal, context: BotContext
) -> Screen | None:
    """/trainings as one screen; None when the person is neither a member nor an officer."""
    member = await members.member_by_telegram(db=db, telegram_user_id=principal.telegram_user_id)
    roots = scope_roots(principal, Action.MANAGE_TRAININGS)
    if member is None and not roots:
        return None
    parts: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    if member is not None and member.id is not None:
        text, done_rows = await _member_part(db, context, member.id)
        parts.append(text)
        rows += done_rows
    if roots:
        text, view_rows = await _officer_part(db, context, [g.org_path for g in roots])
        parts.append(text)
        rows += view_rows
    return Markup("\n\n").join(parts), InlineKeyboardMarkup(rows) if rows else None


async def _member_part(
    db: AsyncSession, context: BotContext, member_id: int
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    _ = context._
    services = context.services
    now, tz = services.clock.now(), services.settings.tz
    today = local_date(now, tz)
    mine = await trainings.member_trainings(db=db, member_id=member_id)
    hours = await rules.hours_this_year(db=db, member_id=member_id, now=now, tz=tz)
    pending = [t for t in mine if t.confirmed_at is None]
    done = sorted(
        (t for t in mine if t.confirmed_at is not None),
        key=lambda t: t.confirmed_at or now,
        reverse=True,
    )
    lines = [
        Markup(_("<b>My trainings</b>")),
        _("Training hours this year: {hours}").format(hours=format_hours(hours)),
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if pending:
        lines.append(_("To complete ({n}):").format(n=len(pending)))
        for item in pending:
            due = (
                format_calendar_day(item.deadline, language=context.language)
                if item.deadline
                else "-"
            )
            late = _(" (overdue)") if item.deadline and item.deadline < today else ""
            lines.append(
                _("• {title} · {hours} h · by {day}{late}").format(
                    title=item.title,
                    hours=format_hours(item.hours),
                    day=due,
                    late=late,
                )
            )
            label = _("Done: {title}").format(title=clip(item.title, 24))
            rows.append([button(label, DONE.encode(item.training_id))])
    else:
        lines.append(_("Nothing to complete. Well done!"))
    if done:
        lines.append(_("Completed ({n}):").format(n=len(done)))
        for item in done[:DONE_SHOWN]:
            assert item.confirmed_at is not None
            lines.append(
                _("• {title} · {hours} h · {day}").format(
                    title=item.title,
                    hours=format_hours(item.hours),
                    day=format_calendar_day(
                        local_date(item.confirmed_at, tz), language=context.language
                    ),
                )
            )
    return html_lines(lines), rows


async def _officer_part(
    db: AsyncSession, context: BotContext, paths: list[str]
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    _ = context._
    services = context.services
    today = local_date(services.clock.now(), services.settings.tz)
    found = await trainings.progress_in_scope(db=db, paths=paths, today=today, limit=LISTED)
    if not found:
        return _("No trainings for your members yet. Send /newtraining to publish one."), []
    lines: list[str] = [
        Markup(_("<b>Trainings of your members</b> (tap one for who is overdue):"))
    ]
    rows = []
    for number, item in enumerate(found, start=1):
        due = (
            format_calendar_day(item.deadline, language=context.language) if item.deadline else "-"
        )
        line = _("{n}. {title} · done {done}/{total} · by {day}").format(
            n=number,
            title=clip(item.title, 40),
            done=item.done,
            total=item.total,
            day=due,
        )
        if item.overdue:
            line += _(" · overdue {n}").format(n=item.overdue)
        lines.append(line)
        rows.append([button(f"{number}. {clip(item.title, 24)}", VIEW.encode(item.training_id))])
    return html_lines(lines), rows


@profile_section
async def training_hours(view: ProfileView) -> list[str]:
    """Training hours this year (the people's zone), for members."""
    if view.member is None or view.member.id is None:
        return []
    hours = await rules.hours_this_year(
        db=view.db, member_id=view.member.id, now=view.now, tz=view.tz
    )
    return [view._("Training hours this year: {hours}").format(hours=format_hours(hours))]


CALLBACKS: Final = (
    (DONE, on_done),
    (ANSWER, on_answer),
    (RETRY, on_retry),
)
