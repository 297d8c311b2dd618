"""Small builders for test data: an org tree, roster members, Telegram links and roles.

Tests that need people already in place (a secretary, members of a branch) build them here
directly in the database, then talk to the bot through the emulator as those people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import Database, accounts, members, orgs, roles
from storage.models import Member, MemberStatus, OrgKind, OrgUnit, Role


@dataclass
class Tree:
    """A small county: two townships, three village branches."""

    county: OrgUnit
    townships: dict[str, OrgUnit] = field(default_factory=dict)
    branches: dict[str, OrgUnit] = field(default_factory=dict)

    @property
    def dongfeng(self) -> OrgUnit:
        """东风村党支部 (T01-V01), the branch most tests use."""
        return self.branches["T01-V01"]

    @property
    def liushu(self) -> OrgUnit:
        """柳树村党支部 (T01-V02), same township as dongfeng."""
        return self.branches["T01-V02"]

    @property
    def qianjin(self) -> OrgUnit:
        """前进村党支部 (T02-V01), another township."""
        return self.branches["T02-V01"]


async def build_tree(database: Database) -> Tree:
    """红旗县 > 东风镇 (东风村, 柳树村), 前进乡 (前进村)."""
    async with database.session_scope() as db:
        county = await orgs.create_org(db=db, code="C", name="红旗县", kind=OrgKind.COUNTY)
        tree = Tree(county=county)
        layout = {
            ("T01", "东风镇党委"): [("T01-V01", "东风村党支部"), ("T01-V02", "柳树村党支部")],
            ("T02", "前进乡党委"): [("T02-V01", "前进村党支部")],
        }
        for (t_code, t_name), villages in layout.items():
            township = await orgs.create_org(
                db=db,
                code=t_code,
                name=t_name,
                kind=OrgKind.TOWNSHIP,
                parent_id=county.id,
            )
            tree.townships[t_code] = township
            for v_code, v_name in villages:
                tree.branches[v_code] = await orgs.create_org(
                    db=db,
                    code=v_code,
                    name=v_name,
                    kind=OrgKind.VILLAGE_BRANCH,
                    parent_id=township.id,
                )
    return tree


async def add_member(
    database: Database,
    org: OrgUnit,
    name: str,
    *,
    phone: str | None = None,
    status: MemberStatus = MemberStatus.FULL,
    telegram_user_id: int | None = None,
    first_name: str | None = None,
    joined_on: date | None = None,
) -> Member:
    """Put a person on a branch roster, optionally already linked to a Telegram account.

    Being on the roster is what makes someone a member; no MEMBER role grant is stored.
    """
    assert org.id is not None
    async with database.session_scope() as db:
        if telegram_user_id is not None:
            await accounts.ensure_account(
                db=db, telegram_user_id=telegram_user_id, first_name=first_name or name
            )
        member = await members.create_member(
            db=db,
            name=name,
            org_id=org.id,
            status=status,
            phone=phone,
            telegram_user_id=telegram_user_id,
            joined_on=joined_on,
        )
    return member


async def grant(database: Database, telegram_user_id: int, role: Role, org: OrgUnit) -> None:
    """Give an account a role on an org (creating the account row if needed)."""
    async with database.session_scope() as db:
        await accounts.ensure_account(db=db, telegram_user_id=telegram_user_id)
        await _grant(db, telegram_user_id, role, org)


async def _grant(db: AsyncSession, telegram_user_id: int, role: Role, org: OrgUnit) -> None:
    assert org.id is not None
    await roles.grant_role(
        db=db,
        telegram_user_id=telegram_user_id,
        role=role,
        org_id=org.id,
        granted_by=None,
    )


class _Stored(Protocol):
    id: int | None


def id_of(row: _Stored) -> int:
    """The primary key of a stored (flushed) row; the test fails if it has none."""
    assert row.id is not None, f"{type(row).__name__} has no id yet"
    return row.id
