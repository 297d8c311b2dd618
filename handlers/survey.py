"""/survey [year] and the rater's buttons: the yearly satisfaction survey (满意度测评).

County staff open the year's survey (choosing who rates), read the results by unit
against 65 % and close it. A rater's message lists the units as buttons: a unit opens its
three answers (满意 / 基本满意 / 不满意) and an optional comment, an answer goes back to
the list with a ✓ on the units answered. Every tap is checked again on the server; the
results screen shows counts only.
"""

from __future__ import annotations

from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from bot import satisfaction
from bot.access import Action, Principal, allows
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.dates import local_date
from bot.funds import check_year
from bot.htmltext import html_lines
from bot.i18n import N_
from bot.refusals import Refused
from bot.survey_buttons import UNIT, unit_rows
from bot.survey_text import result_lines
from handlers import awaiting
from handlers.guard import STALE_BUTTON, refuse
from handlers.screens import Screen, answer_with, button, callback_ints, first_tap, perform, show
from storage import orgs
from storage import satisfaction as store
from storage.models import OrgUnit, Satisfaction, SatisfactionSurvey, SurveyRaters, SurveyState

FLOW: Final = "survey"
_DRAFT_KEY: Final = awaiting.forget_on_cancel("survey.comment")

OPEN: Final = CallbackCodec("sv.o", (int, int))  # year, raters (0 secretaries, 1 members)
CHOOSE: Final = CallbackCodec("sv.a", (int, int, int))  # survey, unit, choice
LIST: Final = CallbackCodec("sv.l", (int,))  # survey
COMMENT: Final = CallbackCodec("sv.m", (int, int))  # survey, unit
CLOSE: Final = CallbackCodec("sv.c", (int,))  # survey
COMMENTS: Final = CallbackCodec("sv.k", (int,))  # survey

RATERS: Final = (SurveyRaters.SECRETARIES, SurveyRaters.MEMBERS)
CHOICES: Final = (Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.DISSATISFIED)
CHOICE_LABELS: Final = {
    Satisfaction.SATISFIED: N_("Satisfied"),
    Satisfaction.BASICALLY: N_("Basically satisfied"),
    Satisfaction.DISSATISFIED: N_("Dissatisfied"),
}
NO_SURVEY: Final = N_("Only county staff run the satisfaction survey.")
COMMENTS_SIZE: Final = 3000  # characters of comments on one screen (escaping adds some)


def _today_year(context: BotContext) -> int:
    return local_date(context.services.clock.now(), context.services.settings.tz).year


# --- staff: open, results, close ----------------------------------------------------------


async def cmd_survey(update: Update, context: BotContext) -> None:
    """The year's survey (default: this year): open it, or its results."""
    message = update.effective_message
    if message is None:
        return
    today = local_date(context.services.clock.now(), context.services.settings.tz)
    words = (message.text or "").split()[1:]
    try:
        year = check_year(words[0], today=today) if words else today.year
    except Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return
    await answer_with(
        update, context, lambda s, p: _staff_screen(s, p, year, context), refusal=NO_SURVEY
    )


async def _staff_screen(
    db: AsyncSession, principal: Principal, year: int, context: BotContext
) -> Screen | None:
    county = await orgs.get_county(db=db)
    if county is None or not allows(principal, Action.RUN_SURVEY, county.path):
        return None
    _ = context._
    survey = await store.survey_of_year(db=db, year=year)
    if survey is None:
        if year < _today_year(context) - 1:
            return _("There was no satisfaction survey in {year}.").format(year=year), None
        rows = [
            [button(_("Open it: branch secretaries rate"), OPEN.encode(year, 0))],
            [button(_("Open it: all members rate"), OPEN.encode(year, 1))],
        ]
        text = _(
            "The {year} satisfaction survey of county departments and grassroots stations "
            "is not open yet. Who rates?"
        ).format(year=year)
        return text, InlineKeyboardMarkup(rows)
    return await _results(db, survey, context)


async def _results(db: AsyncSession, survey: SatisfactionSurvey, context: BotContext) -> Screen:
    """Counts by unit and the share satisfied against 65 % (never who rated what)."""
    assert survey.id is not None
    found = await satisfaction.survey_results(db=db, year=survey.year)
    assert found is not None
    _ = context._
    rows = [[button(_("💬 Comments"), COMMENTS.encode(survey.id))]]
    if found.survey.state == SurveyState.OPEN:
        rows.append([button(_("🔒 Close the survey"), CLOSE.encode(survey.id))])
    return html_lines(result_lines(found, context.language)), InlineKeyboardMarkup(rows)


async def on_open(update: Update, context: BotContext) -> None:
    """Open the year's survey: one message to every rater."""
    year, which = callback_ints(OPEN, update)
    if which not in (0, 1) or not first_tap(update, context):
        await refuse(update, context, context._(STALE_BUTTON))
        return
    services = context.services

    async def act(db: AsyncSession, principal: Principal) -> Screen:
        survey, sent = await satisfaction.open_survey(
            db=db,
            principal=principal,
            year=year,
            raters=RATERS[which],
            now=services.clock.now(),
            tz=services.settings.tz,
        )
        text, markup = await _results(db, survey, context)
        head = context._("Opened: sent to {count} raters.").format(count=sent)
        return html_lines([head, "", text]), markup

    screen = await perform(update, context, act)
    if screen is not None:
        await show(update, context, *screen)


async def on_close(update: Update, context: BotContext) -> None:
    """Close the survey: the answers are final."""
    (survey_id,) = callback_ints(CLOSE, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> Screen:
        survey = await satisfaction.close_survey(
            db=db, principal=principal, survey_id=survey_id, now=now
        )
        return await _results(db, survey, context)

    screen = await perform(update, context, act)
    if screen is not None:
        await show(update, context, *screen)


async def on_comments(update: Update, context: BotContext) -> None:
    """The comments by unit, without their authors, in text order."""
    (survey_id,) = callback_ints(COMMENTS, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        county = await orgs.get_county(db=db)
        survey = await store.get_survey(db=db, survey_id=survey_id)
        if county is None or not allows(principal, Action.RUN_SURVEY, county.path):
            return None
        if survey is None:
            raise Refused(STALE_BUTTON)
        _ = context._
        found = await store.comments(db=db, survey_id=survey_id)
        lines = [_("💬 Comments, {year}:").format(year=survey.year)]
        size = 0
        for shown, (unit, text) in enumerate(found):
            line = _("• About {unit}: {comment}").format(unit=unit, comment=text)
            size += len(line) + 1
            if size > COMMENTS_SIZE:
                lines.append(_("…and {count} more").format(count=len(found) - shown))
                break
            lines.append(line)
        if not found:
            lines.append(_("No comments yet."))
        back = InlineKeyboardMarkup([[button(_("⬆ Back"), BACK.encode(survey.year))]])
        return html_lines(lines), back

    await answer_with(update, context, build, refusal=NO_SURVEY)


BACK: Final = CallbackCodec("sv.r", (int,))  # year: the results again


async def on_back(update: Update, context: BotContext) -> None:
    """Back to the results of the year."""
    (year,) = callback_ints(BACK, update)
    await answer_with(
        update, context, lambda s, p: _staff_screen(s, p, year, context), refusal=NO_SURVEY
    )


# --- raters: the list, a unit, an answer, a comment ---------------------------------------


def _list_screen(context: BotContext, view: satisfaction.RaterView, head: str | None) -> Screen:
    assert view.survey.id is not None
    text = context._(satisfaction.INVITATION).format(year=view.survey.year)
    lines = [head, "", text] if head else [text]
    markup = InlineKeyboardMarkup(unit_rows(view.survey.id, view.units, view.answers))
    return html_lines(lines), markup


async def on_list(update: Update, context: BotContext) -> None:
    """Back to the list of units."""
    (survey_id,) = callback_ints(LIST, update)
    user = update.effective_user
    if user is None:
        return

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        view = await satisfaction.rater_survey(
            db=db, telegram_user_id=user.id, survey_id=survey_id
        )
        return _list_screen(context, view, None)

    await answer_with(update, context, build)


async def on_unit(update: Update, context: BotContext) -> None:
    """A unit tapped: its three answers (the rater's own marked), a comment, back."""
    survey_id, unit_id = callback_ints(UNIT, update)
    user = update.effective_user
    if user is None:
        return
    _ = context._

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        view = await satisfaction.rater_survey(
            db=db, telegram_user_id=user.id, survey_id=survey_id
        )
        unit = _unit_of(view, unit_id)
        mine = view.answers.get(unit_id)
        lines = [
            _("{unit}: how satisfied are you with its work this year?").format(unit=unit.name)
        ]
        if mine is not None:
            lines.append(_("Your answer: {answer}").format(answer=_(CHOICE_LABELS[mine])))
        rows = [
            [
                button(
                    ("● " if choice == mine else "") + _(CHOICE_LABELS[choice]),
                    CHOOSE.encode(survey_id, unit_id, index),
                )
                for index, choice in enumerate(CHOICES)
            ]
        ]
        if mine is not None:
            rows.append([button(_("💬 Add a comment"), COMMENT.encode(survey_id, unit_id))])
        rows.append([button(_("⬆ All units"), LIST.encode(survey_id))])
        return html_lines(lines), InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


def _unit_of(view: satisfaction.RaterView, unit_id: int) -> OrgUnit:
    for unit in view.units:
        if unit.id == unit_id:
            return unit
    raise Refused(STALE_BUTTON)


async def on_choose(update: Update, context: BotContext) -> None:
    """An answer: saved (replacing an earlier one), then the list with ✓ marks."""
    survey_id, unit_id, index = callback_ints(CHOOSE, update)
    user = update.effective_user
    if user is None:
        return
    if not 0 <= index < len(CHOICES):
        await refuse(update, context, context._(STALE_BUTTON))
        return
    choice = CHOICES[index]

    async def act(db: AsyncSession, principal: Principal) -> Screen:
        view, unit = await satisfaction.answer(
            db=db,
            telegram_user_id=user.id,
            survey_id=survey_id,
            unit_id=unit_id,
            choice=choice,
        )
        head = context._("Saved: {unit}, {answer}.").format(
            unit=unit.name, answer=context._(CHOICE_LABELS[choice])
        )
        return _list_screen(context, view, head)

    screen = await perform(update, context, act)
    if screen is not None:
        await show(update, context, *screen)


async def on_comment(update: Update, context: BotContext) -> None:
    """💬 Add a comment: the comment is asked for."""
    survey_id, unit_id = callback_ints(COMMENT, update)
    user = update.effective_user
    if user is None:
        return

    async def act(db: AsyncSession, principal: Principal) -> str:
        view = await satisfaction.rater_survey(
            db=db, telegram_user_id=user.id, survey_id=survey_id
        )
        unit = _unit_of(view, unit_id)
        if unit_id not in view.answers:
            raise Refused(satisfaction.ANSWER_FIRST)
        return context._("{unit}: type your comment (nobody sees who wrote it).").format(
            unit=unit.name
        )

    text = await perform(update, context, act)
    message = update.effective_message
    if text is None or message is None:
        return
    if context.user_data is not None:
        context.user_data[_DRAFT_KEY] = (survey_id, unit_id)
    awaiting.expect(context, FLOW, survey_id)
    if update.callback_query is not None:
        await update.callback_query.answer()
    await message.reply_text(text, reply_markup=awaiting.cancel_keyboard(context))


async def on_input(update: Update, context: BotContext) -> None:
    """The comment typed while the survey flow waits."""
    message, user = update.effective_message, update.effective_user
    draft = context.user_data.get(_DRAFT_KEY) if context.user_data is not None else None
    if message is None or user is None:
        return
    if not isinstance(draft, tuple):
        awaiting.stop(context)
        return
    survey_id, unit_id = draft
    text = message.text or ""
    if len(text) > satisfaction.MAX_COMMENT:
        await awaiting.refuse_too_long(
            message,
            context,
            template=context._(satisfaction.LONG_COMMENT),
            limit=satisfaction.MAX_COMMENT,
            count=len(text),
            markup=awaiting.cancel_keyboard(context),
        )
        return

    async def act(db: AsyncSession, principal: Principal) -> OrgUnit:
        return await satisfaction.comment(
            db=db,
            telegram_user_id=user.id,
            survey_id=survey_id,
            unit_id=unit_id,
            text=text,
        )

    unit = await perform(update, context, act)
    if unit is None:
        return
    awaiting.stop(context)
    if context.user_data is not None:
        context.user_data.pop(_DRAFT_KEY, None)
    markup = InlineKeyboardMarkup([[button(context._("⬆ All units"), LIST.encode(survey_id))]])
    await message.reply_text(
        context._("Comment saved: {unit}.").format(unit=unit.name), reply_markup=markup
    )


CALLBACKS: Final = (
    (OPEN, on_open),
    (CLOSE, on_close),
    (COMMENTS, on_comments),
    (BACK, on_back),
    (UNIT, on_unit),
    (CHOOSE, on_choose),
    (LIST, on_list),
    (COMMENT, on_comment),
)
