"""The officers' actions on a member card: transfer, status step or correction, deactivation.

Each action is a short confirm flow; every tap re-checks MANAGE_MEMBERS on the member's
branch (and on the destination of a transfer) in bot/roster.py, inside the transaction
that writes the change and its audit row.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import roster as rules
from bot.access import Action, Principal, allows
from bot.context import BotContext
from bot.dates import format_calendar_day
from bot.direct_messages import Recipient, recipient
from bot.htmltext import bold, html_lines
from bot.i18n import gettext
from bot.orgs import is_branch
from bot.refusals import Refused
from handlers.menus import refresh_menu
from handlers.roster_codecs import (
    CARD,
    DEACTIVATE,
    DEACTIVATE_ASK,
    DEACTIVATE_DO,
    PAGE,
    STATUS,
    STATUS_DO,
    STATUS_FIX,
    STATUS_STEP,
    STATUS_WHY,
    TRANSFER,
    TRANSFER_DO,
    back_to_card,
)
from handlers.screens import (
    Screen,
    answer_with,
    button,
    callback_ints,
    callback_values,
    perform,
    show,
)
from storage import member_admin, orgs
from storage.models import InactiveReason, MemberStatus


def _status(index: int) -> MemberStatus | None:
    return rules.STATUS_PATH[index] if 0 <= index < len(rules.STATUS_PATH) else None


# --- transfer -----------------------------------------------------------------------------


async def on_transfer_nav(update: Update, context: BotContext) -> None:
    """Choose the branch to move a member to (walking the tree)."""
    member_id, at, page = callback_ints(TRANSFER.nav, update)
    lang = context.language

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, org = await rules.managed_member(db=db, principal=principal, member_id=member_id)
        found = await TRANSFER.screen(
            db=db,
            principal=principal,
            action=Action.MANAGE_MEMBERS,
            subject=member_id,
            at=at,
            page=page,
            can_pick=lambda unit: is_branch(unit) and unit.id != org.id,
            _=_,
        )
        if found is None:
            return None
        lines = [
            _("Move {name} from {branch} to which branch?").format(
                name=member.name, branch=org.name
            )
        ]
        if found.trail:
            lines.append(found.trail)
        rows = [*found.markup.inline_keyboard, back_to_card(member_id, lang)]
        return html_lines(lines), InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


async def on_transfer_pick(update: Update, context: BotContext) -> None:
    """Ask to confirm the move to the chosen branch."""
    member_id, to_org_id = callback_ints(TRANSFER.pick, update)
    lang = context.language

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, org = await rules.managed_member(db=db, principal=principal, member_id=member_id)
        target = await orgs.get_org(db=db, org_id=to_org_id)
        if target is None or not allows(principal, Action.MANAGE_MEMBERS, target.path):
            return None
        text = _("Move {name} from {source} to {target}?").format(
            name=member.name,
            source=org.name,
            target=target.name,
        )
        confirm = button(_("Yes, move"), TRANSFER_DO.encode(member_id, member.org_id, to_org_id))
        return text, InlineKeyboardMarkup([[confirm], back_to_card(member_id, lang)])

    await answer_with(update, context, build)


async def on_transfer_do(update: Update, context: BotContext) -> None:
    """Move the member and tell the secretaries of both branches."""
    member_id, from_org_id, to_org_id = callback_ints(TRANSFER_DO, update)
    user = update.effective_user
    if user is None:
        return
    services = context.services
    now = services.clock.now()
    done = await perform(
        update,
        context,
        lambda db, principal: rules.transfer(
            db=db,
            principal=principal,
            member_id=member_id,
            from_org_id=from_org_id,
            to_org_id=to_org_id,
            settings=services.settings,
            now=now,
        ),
    )
    if done is None:
        return
    services.relay.wake()  # the secretaries' news, invitations to the new branch's sessions
    text = context._(rules.MOVED).format(
        name=done.member_name, source=done.from_org.name, target=done.to_org.name
    )
    await show(update, context, text)


# --- status -------------------------------------------------------------------------------


async def on_status(update: Update, context: BotContext) -> None:
    """Show the member's status with the next step and a way to correct it."""
    (member_id,) = callback_ints(STATUS, update)
    lang = context.language

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(db=db, principal=principal, member_id=member_id)
        current = rules.STATUS_PATH.index(member.status)
        lines = [
            bold(member.name),
            _("Status: {status}").format(status=_(rules.STATUS_NAMES[member.status])),
        ]
        since = await member_admin.probation_started_on(db=db, member_id=member_id)
        if member.status is MemberStatus.PROBATIONARY and since is not None:
            lines.append(
                _("Probationary since {date}").format(
                    date=format_calendar_day(since, language=lang)
                )
            )
        rows: list[list[InlineKeyboardButton]] = []
        following = rules.next_status(member.status)
        if following is not None:
            label = _("Next step: {status}").format(status=_(rules.STATUS_NAMES[following]))
            index = rules.STATUS_PATH.index(following)
            rows.append([button(label, STATUS_STEP.encode(member_id, current, index))])
        rows.append([button(_("Correct the status"), STATUS_FIX.encode(member_id, current))])
        rows.append(back_to_card(member_id, lang))
        return html_lines(lines), InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


async def on_status_step(update: Update, context: BotContext) -> None:
    """Ask to confirm one step forward, dated today."""
    member_id, current, target = callback_ints(STATUS_STEP, update)
    lang = context.language
    today = context.services.clock.now().astimezone(context.services.settings.tz).date()

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(db=db, principal=principal, member_id=member_id)
        before, after = _status(current), _status(target)
        if before is None or after is None or member.status is not before:
            raise Refused(rules.STALE)
        text = _("Change {name} from {before} to {after}, dated {date}?").format(
            name=member.name,
            before=_(rules.STATUS_NAMES[before]),
            after=_(rules.STATUS_NAMES[after]),
            date=format_calendar_day(today, language=lang),
        )
        confirm = button(
            _("Yes, change"), STATUS_DO.encode(member_id, current, target, rules.STEP)
        )
        return text, InlineKeyboardMarkup([[confirm], back_to_card(member_id, lang)])

    await answer_with(update, context, build)


async def on_status_fix(update: Update, context: BotContext) -> None:
    """Offer every other status, for correcting a wrong record."""
    member_id, current = callback_ints(STATUS_FIX, update)
    lang = context.language

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(db=db, principal=principal, member_id=member_id)
        if _status(current) is not member.status:
            raise Refused(rules.STALE)
        text = _("Correct the status of {name} to:").format(name=member.name)
        rows = [
            [button(_(rules.STATUS_NAMES[status]), STATUS_WHY.encode(member_id, current, index))]
            for index, status in enumerate(rules.STATUS_PATH)
            if index != current
        ]
        return text, InlineKeyboardMarkup([*rows, back_to_card(member_id, lang)])

    await answer_with(update, context, build)


async def on_status_why(update: Update, context: BotContext) -> None:
    """Ask why the status is being corrected."""
    member_id, current, target = callback_ints(STATUS_WHY, update)
    lang = context.language

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(db=db, principal=principal, member_id=member_id)
        after = _status(target)
        if _status(current) is not member.status or after is None:
            raise Refused(rules.STALE)
        text = _("Why is the status of {name} corrected to {after}?").format(
            name=member.name, after=_(rules.STATUS_NAMES[after])
        )
        rows = [
            [button(_(label), STATUS_DO.encode(member_id, current, target, reason))]
            for reason, label in rules.CORRECTION_REASONS.items()
        ]
        return text, InlineKeyboardMarkup([*rows, back_to_card(member_id, lang)])

    await answer_with(update, context, build)


async def on_status_do(update: Update, context: BotContext) -> None:
    """Record the status change (a step or a correction)."""
    member_id, current, target, reason = callback_values(STATUS_DO, update)
    before, after = _status(int(current)), _status(int(target))
    services = context.services
    now = services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> rules.StatusChanged:
        if before is None or after is None:
            raise Refused(rules.STALE)
        return await rules.change_status(
            db=db,
            principal=principal,
            member_id=int(member_id),
            expected=before,
            to=after,
            reason=str(reason),
            today=now.astimezone(services.settings.tz).date(),
            now=now,
        )

    done = await perform(update, context, act)
    if done is None:
        return
    _ = context._
    text = _("Recorded: {name} is now {status} (from {date}).").format(
        name=done.member_name,
        status=_(rules.STATUS_NAMES[done.after]),
        date=format_calendar_day(done.changed_on, language=context.language),
    )
    back = button(_("Back to the card"), CARD.encode(int(member_id), 0))
    await show(update, context, text, InlineKeyboardMarkup([[back]]))


# --- deactivation -------------------------------------------------------------------------


async def on_deactivate(update: Update, context: BotContext) -> None:
    """Ask why the member leaves the roster."""
    (member_id,) = callback_ints(DEACTIVATE, update)
    lang = context.language

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(db=db, principal=principal, member_id=member_id)
        text = _("Why does {name} leave the roster?").format(name=member.name)
        rows = [
            [button(_(label), DEACTIVATE_ASK.encode(member_id, reason.value))]
            for reason, label in rules.DEACTIVATION_REASONS.items()
        ]
        return text, InlineKeyboardMarkup([*rows, back_to_card(member_id, lang)])

    await answer_with(update, context, build)


def _reason(value: int | str) -> InactiveReason | None:
    try:
        reason = InactiveReason(str(value))
    except ValueError:
        return None
    return reason if reason in rules.DEACTIVATION_REASONS else None


async def on_deactivate_ask(update: Update, context: BotContext) -> None:
    """Ask to confirm taking the member off the roster."""
    member_id, value = callback_values(DEACTIVATE_ASK, update)
    lang = context.language
    reason = _reason(value)

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(
            db=db, principal=principal, member_id=int(member_id)
        )
        if reason is None:
            raise Refused(rules.STALE)
        text = _(
            "Take {name} off the roster ({reason})? They will no longer be listed "
            "or sent messages. Their history is kept."
        ).format(name=member.name, reason=_(rules.DEACTIVATION_REASONS[reason]))
        confirm = button(_("Yes, take off"), DEACTIVATE_DO.encode(int(member_id), reason.value))
        return text, InlineKeyboardMarkup([[confirm], back_to_card(int(member_id), lang)])

    await answer_with(update, context, build)


async def on_deactivate_do(update: Update, context: BotContext) -> None:
    """Take the member off the roster; their branch roles end with it."""
    member_id, value = callback_values(DEACTIVATE_DO, update)
    reason = _reason(value)
    services = context.services

    async def act(
        db: AsyncSession, principal: Principal
    ) -> tuple[rules.Deactivated, Recipient | None]:
        if reason is None:
            raise Refused(rules.STALE)
        done = await rules.deactivate(
            db=db,
            principal=principal,
            member_id=int(member_id),
            reason=reason,
            settings=services.settings,
            now=services.clock.now(),
        )
        holder = (
            await recipient(db=db, telegram_user_id=done.telegram_user_id)
            if done.telegram_user_id is not None
            else None
        )
        return done, holder

    performed = await perform(update, context, act)
    if performed is None:
        return
    done, holder = performed
    text = context._("{name} is no longer on the roster of {branch}.").format(
        name=done.member_name, branch=done.org.name
    )
    back = button(context._("Back to the roster"), PAGE.encode(done.org_id, 0))
    await show(update, context, text, InlineKeyboardMarkup([[back]]))
    if holder is not None:
        await refresh_menu(
            context.bot,
            database=services.database,
            telegram_user_id=holder.telegram_user_id,
            language=holder.language,
        )


CALLBACKS: Final = (
    (TRANSFER.nav, on_transfer_nav),
    (TRANSFER.pick, on_transfer_pick),
    (TRANSFER_DO, on_transfer_do),
    (STATUS, on_status),
    (STATUS_STEP, on_status_step),
    (STATUS_FIX, on_status_fix),
    (STATUS_WHY, on_status_why),
    (STATUS_DO, on_status_do),
    (DEACTIVATE, on_deactivate),
    (DEACTIVATE_ASK, on_deactivate_ask),
    (DEACTIVATE_DO, on_deactivate_do),
)
