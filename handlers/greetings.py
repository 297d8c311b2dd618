"""/greetings: a branch secretary switches political-birthday greetings on or off."""

from __future__ import annotations

from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.access import Action, Principal, load_principal, scope_roots
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.greetings import set_branch_greetings
from bot.htmltext import html_lines
from bot.orgs import BRANCH_KINDS
from bot.refusals import NOT_ALLOWED
from handlers.guard import refuse
from handlers.screens import button, callback_ints, perform, show
from storage import orgs
from storage.models import OrgUnit

SWITCH: Final = CallbackCodec("grt.set", (int, int))  # branch id, 1: on / 0: off


async def _branches(db: AsyncSession, principal: Principal) -> list[OrgUnit]:
    found = [
        await orgs.get_org(db=db, org_id=grant.org_id)
        for grant in scope_roots(principal, Action.SEND_NOTICE)
    ]
    return [org for org in found if org is not None and org.kind in BRANCH_KINDS]


def _screen(
    context: BotContext, branches: list[OrgUnit]
) -> tuple[str, InlineKeyboardMarkup | None]:
    _ = context._
    lines = [
        _(
            "On a member's political birthday (the day they joined the party) the branch "
            "sends them a short greeting."
        )
    ]
    rows: list[list[InlineKeyboardButton]] = []
    for branch in branches:
        assert branch.id is not None
        if branch.greetings_enabled:
            lines.append(_("{org}: greetings are on").format(org=branch.name))
            label = _("Turn off for {org}").format(org=branch.name)
            rows.append([button(label, SWITCH.encode(branch.id, 0))])
        else:
            lines.append(_("{org}: greetings are off").format(org=branch.name))
            label = _("Turn on for {org}").format(org=branch.name)
            rows.append([button(label, SWITCH.encode(branch.id, 1))])
    return html_lines(lines), InlineKeyboardMarkup(rows) if rows else None  # never `{}`


async def cmd_greetings(update: Update, context: BotContext) -> None:
    """Show whether the user's branches send political-birthday greetings."""
    user = update.effective_user
    if user is None:
        return
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        branches = await _branches(db, principal)
        staff = bool(scope_roots(principal, Action.SEND_NOTICE))
    if not branches:
        text = (
            context._("Each branch's secretary switches its greetings on or off.")
            if staff
            else context._(NOT_ALLOWED)
        )
        await refuse(update, context, text)
        return
    await show(update, context, *_screen(context, branches))


async def on_switch(update: Update, context: BotContext) -> None:
    """Turn a branch's greetings on or off (re-checked and audited)."""
    user = update.effective_user
    if user is None:
        return
    org_id, enabled = callback_ints(SWITCH, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> list[OrgUnit]:
        await set_branch_greetings(
            db=db, actor=principal, org_id=org_id, enabled=bool(enabled), now=now
        )
        branches = await _branches(db, principal)
        if all(branch.id != org_id for branch in branches):  # a branch below the user's unit
            switched = await orgs.get_org(db=db, org_id=org_id)
            branches += [switched] if switched is not None else []
        return branches

    branches = await perform(update, context, act)
    if branches is None:
        return
    await show(update, context, *_screen(context, branches))


CALLBACKS: Final = ((SWITCH, on_switch),)
