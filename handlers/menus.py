"""Per-user command menus, derived from the access policy so menu and rights never disagree.

One table (`MENU`) says which commands exist and what each needs: nothing (everyone),
being known (on a roster, or holding any role), or an `Action` held somewhere. A user's
menu is exactly the rows their roles allow; it is set for their private chat in their
language whenever their roles change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.access import Action, Principal, load_principal, scope_roots
from bot.i18n import N_, gettext
from storage import Database, duties, members

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MenuCommand:
    """One command of the menu and what it takes to see it."""

    name: str
    description: str  # an English msgid, translated per user
    # Needed somewhere in the user's scope (any one of a tuple); None: no role needed.
    action: Action | tuple[Action, ...] | None = None
    known_only: bool = False  # only for people on a roster or holding a role
    leader_only: bool = False  # only for leaders with a contact point (联系点)

    @property
    def actions(self) -> tuple[Action, ...]:
        """The actions of which any one shows the command (empty: no role needed)."""
        if self.action is None:
            return ()
        return self.action if isinstance(self.action, tuple) else (self.action,)


MENU: tuple[MenuCommand, ...] = (
    MenuCommand("start", N_("Begin, or join your branch")),
    MenuCommand("help", N_("What partybot can do")),
    MenuCommand("me", N_("My profile"), known_only=True),
    MenuCommand("language", N_("Language: 中文 / English"), known_only=True),
    MenuCommand("sessions", N_("My study sessions"), known_only=True),
    MenuCommand("trainings", N_("My trainings and study hours"), known_only=True),
    MenuCommand("newsession", N_("Schedule a study session"), Action.SCHEDULE_SESSION),
    # Members check in with it; officers get the code screen.
    MenuCommand("checkin", N_("Check in (officers: show the code)"), known_only=True),
    MenuCommand(
        "attendance",
        N_("Who came to a session"),
        (Action.MANAGE_ATTENDANCE, Action.VIEW_REPORTS),  # inspectors read it too
    ),
    MenuCommand("minutes", N_("Record the minutes of a session"), Action.MANAGE_ATTENDANCE),
    MenuCommand("members", N_("Branch roster"), Action.VIEW_ROSTER),
    MenuCommand("invite", N_("Invite members: link and QR code"), Action.INVITE),
    MenuCommand("invites", N_("Invitations: list and revoke"), Action.INVITE),
    MenuCommand("appoint", N_("Give or remove roles"), Action.APPOINT),
    MenuCommand("newtraining", N_("Publish a training"), Action.MANAGE_TRAININGS),
    MenuCommand("notice", N_("Send a notice"), Action.SEND_NOTICE),
    MenuCommand("notices", N_("Notices: who has read them"), Action.SEND_NOTICE),
    MenuCommand("greetings", N_("Political-birthday greetings on or off"), Action.SEND_NOTICE),
    MenuCommand("fund", N_("Record training or other funds"), Action.RECORD_FUNDS),
    MenuCommand("funds", N_("Training funds per member"), Action.VIEW_REPORTS),
    MenuCommand("visit", N_("Log a visit to my contact point"), leader_only=True),
    MenuCommand("duties", N_("Leaders' duties: visits, reports, studies"), Action.VIEW_REPORTS),
    MenuCommand("leaders", N_("Set contact points and demonstration sites"), Action.MANAGE_DUTIES),
    MenuCommand("summary", N_("Summary against the county's targets"), Action.VIEW_REPORTS),
    MenuCommand(
        "assess",
        N_("Annual assessment: five good, five lead"),
        (Action.ASSESS, Action.PROPOSE_FIVE_LEAD),
    ),
    MenuCommand("commend", N_("Commendation list of the year"), Action.ASSESS),
    MenuCommand("laggards", N_("Laggard branches: order rectification"), Action.RECTIFY),
    MenuCommand("rectify", N_("Rectification orders"), Action.RECTIFY),
    MenuCommand(
        "survey", N_("Satisfaction survey of departments and stations"), Action.RUN_SURVEY
    ),
    MenuCommand("export", N_("Export a workbook (.xlsx)"), Action.VIEW_REPORTS),
)


def public_commands() -> tuple[tuple[str, str], ...]:
    """(name, msgid) of the commands everyone sees: the default menu."""
    return tuple(
        (c.name, c.description)
        for c in MENU
        if c.action is None and not c.known_only and not c.leader_only
    )


def menu_for(
    principal: Principal, *, is_member: bool, is_leader: bool = False
) -> list[MenuCommand]:
    """The commands this person may use, in menu order."""
    known = is_member or bool(principal.grants)
    return [
        command
        for command in MENU
        if (known or not command.known_only)
        and (is_leader or not command.leader_only)
        and (not command.actions or any(scope_roots(principal, a) for a in command.actions))
    ]


async def refresh_menu(
    bot: Bot, *, database: Database, telegram_user_id: int, language: str
) -> None:
    """Set this user's private-chat menu to what their roles allow, in their language.

    Best effort: the change that caused the refresh is already committed, so a Telegram
    failure (e.g. the user blocked the bot) is logged and not raised.
    """
    async with database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=telegram_user_id)
        member = await members.member_by_telegram(db=db, telegram_user_id=telegram_user_id)
        leader = member is not None and await duties.is_leader(db=db, member=member)
    commands = [
        BotCommand(c.name, gettext(language, c.description))
        for c in menu_for(principal, is_member=member is not None, is_leader=leader)
    ]
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=telegram_user_id))
    except TelegramError as exc:
        log.warning("could not set the menu of user %s: %s", telegram_user_id, exc)
