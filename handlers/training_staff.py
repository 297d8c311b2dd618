"""Officers and trainings: who has completed one and who is overdue, and confirming in bulk
for members who attended in person or have no phone.

Everything is shown for the officer's own scope only: a training published by the county
shows a branch secretary just the members of their branch. Ticks are kept in user_data
until "Confirm" calls the one use case (bot.trainings.confirm_for), which checks again.
"""

from __future__ import annotations

from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import trainings as rules
from bot.access import Action, Principal, load_principal, scope_roots
from bot.context import BotContext
from bot.dates import format_calendar_day, local_date
from bot.htmltext import Markup, bold, html_lines
from bot.notices import names_line
from bot.session_text import clip
from handlers.guard import STALE_BUTTON, refuse
from handlers.screens import Screen, answer_with, button, callback_ints, perform, show
from handlers.training_codecs import BULK, LIST, SAVE, TICK, VIEW
from handlers.trainings import trainings_screen
from storage import trainings

TICKED_KEY: Final = "trainings.ticked"
PAGE_SIZE: Final = 10
NAMES_SHOWN: Final = 30


def _paths(principal: Principal) -> list[str]:
    return [grant.org_path for grant in scope_roots(principal, Action.MANAGE_TRAININGS)]


def _ticked(context: BotContext, training_id: int) -> set[int]:
    """The members ticked for this training (a new training starts a new selection)."""
    if context.user_data is None:
        return set()
    found = context.user_data.get(TICKED_KEY)
    if not isinstance(found, tuple) or found[0] != training_id:
        found = (training_id, set())
        context.user_data[TICKED_KEY] = found
    ticked: set[int] = found[1]
    return ticked


async def _detail(
    db: AsyncSession, principal: Principal, context: BotContext, training_id: int
) -> Screen | None:
    paths = _paths(principal)
    training = await trainings.get_training(db=db, training_id=training_id)
    if not paths or training is None:
        return None
    people = await trainings.assignees_in_scope(db=db, training_id=training_id, paths=paths)
    if not people:
        return None
    _ = context._
    services = context.services
    today = local_date(services.clock.now(), services.settings.tz)
    pending = [p.name for p in people if not p.done]
    done = len(people) - len(pending)
    overdue = training.deadline is not None and training.deadline < today
    lines = [
        bold(training.title),
        _("Deadline: {day}").format(
            day=format_calendar_day(training.deadline, language=context.language)
            if training.deadline
            else "-"
        ),
        _("Completed: {done} of {total}").format(done=done, total=len(people)),
    ]
    if pending:
        label = _("Overdue ({n}):") if overdue else _("Not completed yet ({n}):")
        names = pending[:NAMES_SHOWN]
        lines += [
            label.format(n=len(pending)),
            names_line(context.language, names, len(pending)),
        ]
    rows: list[list[InlineKeyboardButton]] = []
    if pending:
        rows.append(
            [button(_("Confirm for members who attended in person"), BULK.encode(training_id, 0))]
        )
    rows.append([button(_("◀ All trainings"), LIST.encode(0))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def on_view(update: Update, context: BotContext) -> None:
    """One training: done/total and who is overdue, among the officer's members."""
    (training_id,) = callback_ints(VIEW, update)
    await answer_with(update, context, lambda s, p: _detail(s, p, context, training_id))


async def on_list(update: Update, context: BotContext) -> None:
    """Back to /trainings."""
    await answer_with(update, context, lambda s, p: trainings_screen(s, p, context))


async def _picker(
    db: AsyncSession,
    principal: Principal,
    context: BotContext,
    training_id: int,
    page: int,
) -> Screen | None:
    paths = _paths(principal)
    training = await trainings.get_training(db=db, training_id=training_id)
    if not paths or training is None:
        return None
    pending = await trainings.assignees_in_scope(
        db=db, training_id=training_id, paths=paths, only_pending=True
    )
    _ = context._
    ticked = _ticked(context, training_id) & {p.member_id for p in pending}
    shown = pending[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows: list[list[InlineKeyboardButton]] = []
    for person in shown:
        mark = "☑" if person.member_id in ticked else "☐"
        phone = "" if person.on_telegram else " 📵"
        label = f"{mark} {clip(person.name, 12)} · {clip(person.branch, 12)}{phone}"
        rows.append([button(label, TICK.encode(training_id, person.member_id, page))])
    paging = []
    if page > 0:
        paging.append(button(_("◀ Previous"), BULK.encode(training_id, page - 1)))
    if (page + 1) * PAGE_SIZE < len(pending):
        paging.append(button(_("Next ▶"), BULK.encode(training_id, page + 1)))
    if paging:
        rows.append(paging)
    if ticked:
        label = _("Confirm {n} as completed").format(n=len(ticked))
        rows.append([button(label, SAVE.encode(training_id))])
    rows.append([button(_("◀ Back"), VIEW.encode(training_id))])
    text: str = Markup(
        _("{title}\nTick the members who attended in person or have no phone (📵), then confirm.")
    ).format(title=bold(training.title))
    if not pending:
        text = _("Everyone in your scope has completed this training.")
    return text, InlineKeyboardMarkup(rows)


async def on_bulk(update: Update, context: BotContext) -> None:
    """The roster of members not done yet, to tick."""
    training_id, page = callback_ints(BULK, update)
    await answer_with(update, context, lambda s, p: _picker(s, p, context, training_id, page))


async def on_tick(update: Update, context: BotContext) -> None:
    """Tick or untick one member (must be pending and in the officer's scope)."""
    training_id, member_id, page = callback_ints(TICK, update)
    user = update.effective_user
    if user is None:
        return
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        paths = _paths(principal)
        pending = (
            await trainings.assignees_in_scope(
                db=db, training_id=training_id, paths=paths, only_pending=True
            )
            if paths
            else []
        )
    if member_id not in {p.member_id for p in pending}:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    ticked = _ticked(context, training_id)
    ticked ^= {member_id}
    await answer_with(update, context, lambda s, p: _picker(s, p, context, training_id, page))


async def on_save(update: Update, context: BotContext) -> None:
    """Confirm the ticked members in one use case call (audited); then the training page."""
    (training_id,) = callback_ints(SAVE, update)
    user = update.effective_user
    if user is None or context.user_data is None:
        return
    ticked = sorted(_ticked(context, training_id))
    if not ticked:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> tuple[list[int], Screen | None]:
        confirmed = await rules.confirm_for(
            db=db,
            actor=principal.telegram_user_id,
            training_id=training_id,
            member_ids=ticked,
            now=now,
        )
        return confirmed, await _detail(db, principal, context, training_id)

    done = await perform(update, context, act)
    if done is None:
        return
    confirmed, screen = done
    context.user_data.pop(TICKED_KEY, None)
    note = context._("Confirmed for {n} members.").format(n=len(confirmed))
    if screen is None:
        await show(update, context, note)
        return
    await show(update, context, html_lines([note, "", screen[0]]), screen[1])


CALLBACKS: Final = (
    (LIST, on_list),
    (VIEW, on_view),
    (BULK, on_bulk),
    (TICK, on_tick),
    (SAVE, on_save),
)
