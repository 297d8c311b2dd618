"""/me (what the bot knows about me) and /language (中文 / English).

/me is a list of sections, each an async function returning lines. A feature adds its own
line (attendance rate, training hours...) by decorating one function with
`@profile_section` in its module; sections show in the order they were added.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from bot import roster as rules
from bot.access import Principal, load_principal
from bot.accounts import choose_language
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.dates import format_calendar_day
from bot.htmltext import bold, html_lines
from bot.i18n import gettext
from bot.orgs import org_trail
from handlers.guard import STALE_BUTTON, refuse
from handlers.menus import refresh_menu
from handlers.roles import role_name
from handlers.screens import button, callback_values, perform, show
from storage import members, orgs
from storage.models import Language, Member, TelegramAccount


@dataclass(frozen=True, slots=True)
class ProfileView:
    """What a /me section may read: the open session, the person, their language, now."""

    db: AsyncSession
    telegram_user_id: int
    member: Member | None
    principal: Principal
    language: str
    now: datetime
    tz: tzinfo  # the county's zone: where "this year" begins and ends

    def _(self, message: str) -> str:
        """Translate into the person's language."""
        return gettext(self.language, message)


ProfileSection = Callable[[ProfileView], Awaitable[list[str]]]
SECTIONS: list[ProfileSection] = []


def profile_section(section: ProfileSection) -> ProfileSection:
    """Add a section to /me (use as a decorator)."""
    SECTIONS.append(section)
    return section


@profile_section
async def roster_entry(view: ProfileView) -> list[str]:
    """Name, branch, status, joined date and party group; or why there is none."""
    _ = view._
    member = view.member
    if member is None:
        if view.principal.grants:
            return [_("You are not on a branch roster.")]
        return [
            _("You are not on a branch roster yet."),
            _("To join, ask your branch secretary for an invitation link."),
        ]
    branch = await orgs.get_org(db=view.db, org_id=member.org_id)
    trail = await org_trail(db=view.db, org=branch) if branch else ""
    joined = (
        format_calendar_day(member.joined_on, language=view.language)
        if member.joined_on
        else _("not recorded")
    )
    lines = [
        bold(member.name),
        _("Branch: {branch}").format(branch=trail),
        _("Status: {status}").format(status=_(rules.STATUS_NAMES[member.status])),
        _("Joined: {date}").format(date=joined),
    ]
    if member.party_group_id is not None:
        group = await orgs.get_org(db=view.db, org_id=member.party_group_id)
        if group is not None:
            lines.append(_("Party group: {group}").format(group=group.name))
    return lines


@profile_section
async def roles_held(view: ProfileView) -> list[str]:
    """The roles the person holds, and where."""
    held = []
    for grant in view.principal.grants:
        org = await orgs.get_org(db=view.db, org_id=grant.org_id)
        place = org.name if org is not None else "?"
        held.append(
            view._("{role} of {org}").format(role=role_name(view.language, grant.role), org=place)
        )
    if not held:
        return []
    return [view._("Roles: {roles}").format(roles="; ".join(held))]


async def cmd_me(update: Update, context: BotContext) -> None:
    """Show the user's profile, section by section."""
    user = update.effective_user
    if user is None or update.effective_message is None:
        return
    lines: list[str] = []
    async with context.services.database.session_scope() as db:
        view = ProfileView(
            db=db,
            telegram_user_id=user.id,
            member=await members.member_by_telegram(db=db, telegram_user_id=user.id),
            principal=await load_principal(db=db, telegram_user_id=user.id),
            language=context.language,
            now=context.services.clock.now(),
            tz=context.services.settings.tz,
        )
        for section in SECTIONS:
            lines += await section(view)
    await update.effective_message.reply_text(html_lines(lines))


# --- language -----------------------------------------------------------------------------

CHOOSE_LANGUAGE: Final = CallbackCodec("lang.set", (str,))
_LANGUAGE_LABELS: Final = {Language.ZH: "中文", Language.EN: "English"}


async def cmd_language(update: Update, context: BotContext) -> None:
    """Offer the two languages as buttons."""
    if update.effective_message is None:
        return
    row = [
        button(label, CHOOSE_LANGUAGE.encode(language.value))
        for language, label in _LANGUAGE_LABELS.items()
    ]
    await update.effective_message.reply_text(
        context._("Choose your language:"), reply_markup=InlineKeyboardMarkup([row])
    )


async def on_language(update: Update, context: BotContext) -> None:
    """Remember the chosen language, answer in it, and redo the menu in it."""
    user = update.effective_user
    if user is None:
        return
    (value,) = callback_values(CHOOSE_LANGUAGE, update)
    if value not in set(Language):
        await refuse(update, context, context._(STALE_BUTTON))
        return
    language = Language(str(value))

    async def act(db: AsyncSession, principal: Principal) -> TelegramAccount:
        return await choose_language(
            db=db,
            principal=principal,
            language=language,
            now=context.services.clock.now(),
        )

    if await perform(update, context, act) is None:
        return
    context.language = language.value
    await show(update, context, context._("OK, I will write to you in English from now on."))
    await refresh_menu(
        context.bot,
        database=context.services.database,
        telegram_user_id=user.id,
        language=language.value,
    )


CALLBACKS: Final = ((CHOOSE_LANGUAGE, on_language),)
