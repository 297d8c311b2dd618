"""Invitation rules: codes and their hashes, deep links, QR codes, and the wrong-code throttle.

A code is shown once (in the link and its QR code) and stored only as its sha256, so a
leaked database does not leak working links. Every `/start <code>` attempt is logged; after
MAX_FAILED_ATTEMPTS failures within THROTTLE_WINDOW further attempts are refused, which
makes guessing an 11-character code hopeless.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import segno
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import TelegramError

from bot.access import ROLE_RANK, Action, Principal, allows, may_give_role
from bot.appointments import ROLE_NAMES
from bot.bootstrap import BootstrapError
from bot.checkin import parse_start_payload
from bot.clock import Clock, SystemClock
from bot.dates import format_when
from bot.i18n import N_, gettext
from bot.orgs import BRANCH_KINDS, org_trail
from bot.refusals import NOT_ALLOWED, STALE_BUTTON, Refused
from bot.roster import STATUS_NAMES
from bot.settings import Settings
from storage import Database, audit, orgs
from storage import invitations as store
from storage.models import Invitation, MemberStatus, OrgUnit, Role

CODE_BYTES: Final = 8  # secrets.token_urlsafe(8): 11 characters of [A-Za-z0-9_-]
PAYLOAD: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what Telegram allows in ?start=
# "Unlimited" uses: the column is an int with CHECK max_uses >= 1, so a cap stands in.
UNLIMITED_USES: Final = 1000
USES_CHOICES: Final = (1, 10, 50, UNLIMITED_USES)
DAYS_CHOICES: Final = (1, 7, 30)
DEFAULT_DAYS: Final = 7
MAX_DAYS: Final = 365
# Invitations bring people onto a branch roster, so only the roles held on a branch.
INVITABLE_ROLES: Final = (Role.MEMBER, Role.DEPUTY_SECRETARY, Role.SECRETARY)
THROTTLE_WINDOW: Final = timedelta(minutes=15)
MAX_FAILED_ATTEMPTS: Final = 5
QR_SCALE: Final = 16  # about 650 px: sharp when printed on A4 and posted on a wall


class CodeStatus(StrEnum):
    """What a code entered with /start turned out to be."""

    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED_UP = "used_up"
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The verdict on a code: the invitation if it exists, when to retry if throttled."""

    status: CodeStatus
    invitation: Invitation | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """A new invitation and its code in clear (shown once, never stored)."""

    invitation: Invitation
    code: str


# --- codes, links, pictures ---------------------------------------------------------------


def new_code() -> str:
    """A fresh random code, safe in a Telegram deep link.

    Never one that reads as another kind of /start payload (a check-in link), so a deep
    link's kind is told by its shape alone.
    """
    while True:
        code = secrets.token_urlsafe(CODE_BYTES)
        if parse_start_payload(code) is None:
            return code


def hash_code(code: str) -> str:
    """The sha256 (hex) under which a code is stored."""
    return hashlib.sha256(code.encode()).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    """The t.me link that opens the bot with `/start <code>`."""
    return f"https://t.me/{bot_username}?start={code}"


def qr_png(link: str) -> bytes:
    """A PNG of the link as a QR code, large and robust enough to print and post."""
    buffer = io.BytesIO()
    segno.make(link, error="q").save(buffer, kind="png", scale=QR_SCALE, border=4)
    return buffer.getvalue()


# --- words and times people read ----------------------------------------------------------


def role_label(language: str, role: Role | str) -> str:
    """A role in the reader's words."""
    return gettext(language, ROLE_NAMES[Role(role)])


def status_label(language: str, status: MemberStatus | str) -> str:
    """A member status in the reader's words."""
    return gettext(language, STATUS_NAMES[MemberStatus(status)])


def format_moment(
    language: str, moment: datetime, tz: ZoneInfo, *, now: datetime | None = None
) -> str:
    """A moment in local time, like "3月5日（周四）19:30" (bot.dates decides the style)."""
    return format_when(moment, language=language, tz=tz, now=now)


def uses_left_label(language: str, invitation: Invitation) -> str:
    """How many more people may use the invitation ("unlimited" for the cap)."""
    if invitation.max_uses >= UNLIMITED_USES:
        return gettext(language, "unlimited")
    return str(invitation.max_uses - invitation.uses)


def max_uses_label(language: str, max_uses: int) -> str:
    """A choice of uses as a button shows it."""
    return gettext(language, "unlimited") if max_uses >= UNLIMITED_USES else str(max_uses)


async def org_label(*, db: AsyncSession, org: OrgUnit) -> str:
    """The org with its parents below the county: "东风镇党委 / 东风村党支部"."""
    return await org_trail(db=db, org=org, include_county=False)


# --- who may invite whom ------------------------------------------------------------------


def may_invite_to(principal: Principal, org: OrgUnit) -> bool:
    """May the principal create invitations for this org (a branch, in scope)?"""
    return org.kind in BRANCH_KINDS and allows(principal, Action.INVITE, org.path)


def offered_roles(principal: Principal, org: OrgUnit) -> list[Role]:
    """The roles an invitation to this org may carry when this principal creates it."""
    return [
        role
        for role in INVITABLE_ROLES
        if may_give_role(principal, role, org.path, org.kind, via=Action.INVITE)
    ]


def is_raised_role(role: Role | str) -> bool:
    """Does joining with this role mean a grant beyond being on the roster?"""
    return ROLE_RANK[Role(role)] > ROLE_RANK[Role.MEMBER]


def uses_allowed(role: Role | str, max_uses: int) -> bool:
    """An invitation that carries a role is for one person: a role is given, not broadcast."""
    return max_uses == 1 or not is_raised_role(role)


def may_revoke(principal: Principal, role: Role | str, org: OrgUnit) -> bool:
    """May the principal revoke an invitation to `org` carrying `role`?

    Only someone who may give that role by invitation there: a deputy does not revoke the
    secretary invitation the township made.
    """
    return may_invite_to(principal, org) and may_give_role(
        principal, Role(role), org.path, org.kind, via=Action.INVITE
    )


ROLE_NOT_YOURS: Final = N_("You may not give this role here.")
ONE_PERSON: Final = N_("An invitation that carries a role is for one person only.")
GONE_INVITATION: Final = N_("This invitation no longer exists.")
ALREADY_REVOKED: Final = N_("This invitation was already revoked.")


async def invitable(
    *, db: AsyncSession, actor: Principal, org_id: int, role_name: str
) -> tuple[OrgUnit, Role]:
    """The branch and role of a tapped invitation button, re-checked against the policy."""
    org = await orgs.get_org(db=db, org_id=org_id)
    if org is None or not org.active or org.kind not in BRANCH_KINDS:
        raise Refused(STALE_BUTTON)
    if not allows(actor, Action.INVITE, org.path):
        raise Refused(NOT_ALLOWED)
    role = next((r for r in offered_roles(actor, org) if r.value == role_name), None)
    if role is None:
        raise Refused(ROLE_NOT_YOURS)
    return org, role


async def create(
    *,
    db: AsyncSession,
    actor: Principal,
    org_id: int,
    role_name: str,
    max_uses: int,
    days: int,
    now: datetime,
) -> IssuedInvitation:
    """/invite: the actor creates an invitation they may give, checked and audited."""
    if max_uses not in USES_CHOICES or days not in DAYS_CHOICES:
        raise Refused(STALE_BUTTON)
    org, role = await invitable(db=db, actor=actor, org_id=org_id, role_name=role_name)
    if not uses_allowed(role, max_uses):
        raise Refused(ONE_PERSON)
    return await issue(
        db=db,
        org=org,
        role=role,
        max_uses=max_uses,
        days=days,
        actor=actor.telegram_user_id,
        now=now,
        via="telegram",
    )


async def revoke_as(
    *, db: AsyncSession, actor: Principal, invitation_id: int, now: datetime
) -> Invitation:
    """/invites: the actor revokes an invitation they could have given, audited."""
    invitation = await store.get_invitation(db=db, invitation_id=invitation_id)
    org = await orgs.get_org(db=db, org_id=invitation.org_id) if invitation else None
    if invitation is None or org is None:
        raise Refused(GONE_INVITATION)
    if not may_revoke(actor, invitation.role, org):
        raise Refused(NOT_ALLOWED)
    if not await revoke(db=db, invitation=invitation, actor=actor.telegram_user_id, now=now):
        raise Refused(ALREADY_REVOKED)
    return invitation


# --- creating, checking, revoking ---------------------------------------------------------


async def issue(
    *,
    db: AsyncSession,
    org: OrgUnit,
    role: Role,
    max_uses: int,
    days: int,
    actor: int | None,
    now: datetime,
    via: str,
) -> IssuedInvitation:
    """Create an invitation with a fresh code and audit it (the caller checked access)."""
    assert org.id is not None
    if not uses_allowed(role, max_uses):
        raise ValueError(f"an invitation carrying the role {role.value} is for one person")
    code = new_code()
    invitation = await store.create_invitation(
        db=db,
        code_hash=hash_code(code),
        org_id=org.id,
        role=role,
        created_by=actor,
        max_uses=max_uses,
        expires_at=now + timedelta(days=days),
        now=now,
    )
    await audit.record(
        db=db,
        actor=actor,
        action="invitation.create",
        target_kind="invitation",
        target_id=invitation.id,
        org_id=org.id,
        detail={"role": role.value, "max_uses": max_uses, "days": days, "via": via},
        at=now,
    )
    return IssuedInvitation(invitation, code)


def status_of(invitation: Invitation | None, now: datetime) -> CodeStatus:
    """Why an invitation can or cannot be used right now."""
    if invitation is None:
        return CodeStatus.UNKNOWN
    if invitation.revoked_at is not None:
        return CodeStatus.REVOKED
    if invitation.expires_at <= now:
        return CodeStatus.EXPIRED
    if invitation.uses >= invitation.max_uses:
        return CodeStatus.USED_UP
    return CodeStatus.VALID


async def throttled_until(
    *, db: AsyncSession, telegram_user_id: int, now: datetime
) -> datetime | None:
    """When the user may try codes again, or None if they may now.

    Blocked while MAX_FAILED_ATTEMPTS failures lie within the window; the block lifts
    when the oldest of those leaves it. Refused attempts are not logged, so waiting the
    announced time always works.
    """
    recent = await store.failed_attempt_times(
        db=db,
        telegram_user_id=telegram_user_id,
        since=now - THROTTLE_WINDOW,
        limit=MAX_FAILED_ATTEMPTS,
    )
    if len(recent) < MAX_FAILED_ATTEMPTS:
        return None
    return recent[-1] + THROTTLE_WINDOW


def minutes_until(moment: datetime, now: datetime) -> int:
    """Whole minutes to wait, rounded up, at least one."""
    return max(1, math.ceil((moment - now).total_seconds() / 60))


async def check_code(
    *, db: AsyncSession, telegram_user_id: int, code: str, now: datetime
) -> CodeCheck:
    """Look the code up, unless the user is throttled, and log the attempt."""
    retry_at = await throttled_until(db=db, telegram_user_id=telegram_user_id, now=now)
    if retry_at is not None:
        return CodeCheck(CodeStatus.THROTTLED, retry_at=retry_at)
    invitation = None
    if PAYLOAD.fullmatch(code):
        invitation = await store.get_by_hash(db=db, code_hash=hash_code(code))
    status = status_of(invitation, now)
    await store.record_attempt(
        db=db,
        telegram_user_id=telegram_user_id,
        succeeded=status is CodeStatus.VALID,
        at=now,
    )
    return CodeCheck(status, invitation)


async def revoke(*, db: AsyncSession, invitation: Invitation, actor: int, now: datetime) -> bool:
    """Revoke the invitation and audit it; False if it was already revoked.

    The caller checked that the actor may manage invitations of its org.
    """
    assert invitation.id is not None
    if not await store.revoke_invitation(db=db, invitation_id=invitation.id, now=now):
        return False
    await audit.record(
        db=db,
        actor=actor,
        action="invitation.revoke",
        target_kind="invitation",
        target_id=invitation.id,
        org_id=invitation.org_id,
        detail={"role": Role(invitation.role).value, "uses": invitation.uses},
        at=now,
    )
    return True


# --- the command line ---------------------------------------------------------------------


async def create_from_cli(
    settings: Settings,
    *,
    org_code: str,
    role_name: str,
    uses: int,
    days: int,
    bot_username: str | None,
    qr_path: str | None = None,
    clock: Clock | None = None,
) -> str:
    """`partybot invite create`: the first invitation of a county, without Telegram."""
    role = _cli_role(role_name)
    if not 1 <= uses <= UNLIMITED_USES:
        raise BootstrapError(f"--uses must be between 1 and {UNLIMITED_USES}")
    if not 1 <= days <= MAX_DAYS:
        raise BootstrapError(f"--days must be between 1 and {MAX_DAYS}")
    if not uses_allowed(role, uses):
        raise BootstrapError(
            f"an invitation with the role {role.value} is for one person: --uses 1"
        )
    username = bot_username or await _ask_bot_username(settings)
    now = (clock or SystemClock()).now()
    database = Database(settings.database_url)
    try:
        async with database.session_scope() as db:
            org = await orgs.get_org_by_code(db=db, code=org_code)
            if org is None:
                raise BootstrapError(f"no org with code {org_code!r}")
            if org.kind not in BRANCH_KINDS:
                raise BootstrapError(f"{org.name} ({org.code}) is a {org.kind}, not a branch")
            issued = await issue(
                db=db,
                org=org,
                role=role,
                max_uses=uses,
                days=days,
                actor=None,
                now=now,
                via="cli",
            )
            label = await org_label(db=db, org=org)
    finally:
        await database.dispose()
    link = deep_link(username, issued.code)
    if qr_path is not None:
        await asyncio.to_thread(Path(qr_path).write_bytes, qr_png(link))
    expires = issued.invitation.expires_at.astimezone(settings.tz)
    return (
        f"{link}\n{label}: {role.value}, {uses} use(s), "
        f"valid until {expires:%Y-%m-%d %H:%M} {settings.timezone}"
    )


def _cli_role(role_name: str) -> Role:
    try:
        role = Role(role_name)
    except ValueError:
        role = None
    if role not in INVITABLE_ROLES:
        known = ", ".join(r.value for r in INVITABLE_ROLES)
        raise BootstrapError(f"an invitation's role is one of: {known}")
    assert role is not None
    return role


async def _ask_bot_username(settings: Settings) -> str:
    """The bot's @username from getMe, for the link."""
    if settings.token is None:
        raise BootstrapError("set TELEGRAM_BOT_TOKEN (or pass --bot-username) to build the link")
    try:
        async with Bot(settings.token, base_url=settings.bot_api_url) as telegram_bot:
            return telegram_bot.username
    except TelegramError as exc:
        raise BootstrapError(f"could not ask Telegram for the bot's username: {exc}") from None
