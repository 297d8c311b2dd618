"""The people of the sandbox: emulator users that stand for roster members and newcomers.

Composition (with bot/app.py, bot/cli.py and demo/app.py): it ties the emulator's
World (sandbox/) to the roster in storage/, so it may import sandbox/.

A roster member's Telegram id is fixed by the member id (demo.plan.roster_telegram_id), and
the emulator keeps nothing across restarts, so every account in the database is given an
emulator user again at start-up: who registered, was picked or was seeded keeps talking to
the bot with the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from bot.access import ROLE_RANK
from bot.clock import Clock
from demo.plan import VISITOR_ID_BASE, roster_telegram_id, visitor_name, visitor_phone
from sandbox import SimUser, World
from storage import Database, accounts, audit, members, orgs, roles
from storage.models import Language, Member, OrgUnit, TelegramAccount


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One line of the person picker."""

    member_id: int
    name: str
    branch: str
    township: str
    telegram_user_id: int | None

    def view(self) -> dict[str, Any]:
        """JSON for the page."""
        return {
            "member_id": self.member_id,
            "name": self.name,
            "branch": self.branch,
            "township": self.township,
            "user_id": self.telegram_user_id,
        }


def telegram_language(language: Language | str) -> str:
    """The language_code a Telegram client of someone with this language sends."""
    return "en" if str(language) == Language.EN else "zh-hans"


class SandboxPeople:
    """Creates and finds emulator users for roster members and newcomers."""

    def __init__(self, world: World, database: Database, clock: Clock) -> None:
        self.world = world
        self.database = database
        self.clock = clock

    def _user(
        self, telegram_user_id: int, name: str, language_code: str, phone: str | None
    ) -> SimUser:
        """The emulator user with this id, created if the emulator does not know it yet."""
        found = self.world.users.get(telegram_user_id)
        if found is not None:
            return found
        return self.world.add_user(
            name,
            language_code=language_code,
            phone=phone or visitor_phone(telegram_user_id),
            user_id=telegram_user_id,
        )

    async def restore(self) -> int:
        """An emulator user for every account in the database; returns how many."""
        async with self.database.session_scope() as db:
            rows = (
                await db.exec(
                    select(TelegramAccount, Member)
                    .outerjoin(
                        Member,
                        col(Member.telegram_user_id) == col(TelegramAccount.telegram_user_id),
                    )
                    .order_by(col(TelegramAccount.telegram_user_id))
                )
            ).all()
        for account, member in rows:
            name = member.name if member is not None else account.first_name
            phone = member.phone if member is not None else None
            language = telegram_language(account.language)
            self._user(account.telegram_user_id, name or "?", language, phone)
        return len(rows)

    async def roster(self) -> list[RosterEntry]:
        """Every active member of the county, by township, branch and name."""
        async with self.database.session_scope() as db:
            county = await orgs.get_county(db=db)
            if county is None or county.id is None:
                return []
            org_ids = await orgs.subtree_ids(db=db, org_id=county.id)
            units = {
                unit.id: unit
                for unit in (
                    await db.exec(select(OrgUnit).where(col(OrgUnit.id).in_(org_ids)))
                ).all()
            }
            people = await members.list_members(db=db, org_ids=org_ids)

        entries: list[tuple[str, str, RosterEntry]] = []
        for member in people:
            assert member.id is not None
            branch = units[member.org_id]
            township = units.get(branch.parent_id) if branch.parent_id is not None else None
            entry = RosterEntry(
                member.id,
                member.name,
                branch.name,
                township.name if township else "",
                member.telegram_user_id,
            )
            entries.append((branch.code, member.name, entry))
        entries.sort(key=lambda item: (item[0], item[1], item[2].member_id))
        return [entry for _code, _name, entry in entries]

    async def open_member(self, member_id: int, language_code: str) -> SimUser:
        """The emulator user of a roster member, linking a new account on first use."""
        now = self.clock.now()
        async with self.database.session_scope() as db:
            member = await members.get_member(db=db, member_id=member_id)
            if member is None or not member.active:
                raise LookupError(f"no active member {member_id}")
            if member.telegram_user_id is None:
                telegram_id = roster_telegram_id(member_id)
                await accounts.ensure_account(
                    db=db, telegram_user_id=telegram_id, first_name=member.name, now=now
                )
                member = await members.link_telegram(
                    db=db, member_id=member_id, telegram_user_id=telegram_id, now=now
                )
                await audit.record(
                    db=db,
                    actor=None,
                    action="member.link",
                    target_kind="member",
                    target_id=member_id,
                    org_id=member.org_id,
                    detail={"telegram_user_id": telegram_id, "via": "sandbox"},
                    at=now,
                )
            assert member.telegram_user_id is not None
            account = await accounts.ensure_account(
                db=db, telegram_user_id=member.telegram_user_id, now=now
            )
        if account.language_chosen:
            language_code = telegram_language(account.language)
        return self._user(member.telegram_user_id, member.name, language_code, member.phone)

    def new_visitor(self, language_code: str) -> SimUser:
        """Someone on no roster yet (to register with an invitation), with a fresh id."""
        telegram_id = max([VISITOR_ID_BASE, *self.world.users]) + 1
        name = visitor_name(telegram_id - VISITOR_ID_BASE)
        return self._user(telegram_id, name, language_code, None)

    async def describe(self, user: SimUser) -> dict[str, Any]:
        """The page's card of a person: name, highest role, where they belong."""
        async with self.database.session_scope() as db:
            member = await members.member_by_telegram(db=db, telegram_user_id=user.id)
            held = await roles.roles_of(db=db, telegram_user_id=user.id)
            branch = await orgs.get_org(db=db, org_id=member.org_id) if member else None
            top = max(held, key=lambda scope: ROLE_RANK[scope.role], default=None)
            scope = await orgs.get_org(db=db, org_id=top.org_id) if top else None
        return {
            "user_id": user.id,
            "name": user.first_name,
            "language_code": user.language_code,
            "member_id": member.id if member else None,
            "branch": branch.name if branch else None,
            "role": top.role.value if top else None,
            "scope": scope.name if scope else None,
        }
