"""The org tree as every feature names it: which units keep a roster, and a unit's trail.

Shared by notices, reports, duties, invitations and the roster alike, so it lives apart
from any one feature.
"""

from __future__ import annotations

from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.access import ROLE_ORG_KINDS
from storage import orgs
from storage.models import OrgKind, OrgUnit, Role

#: Where members may belong (village branches, departments, stations).
BRANCH_KINDS: Final[frozenset[OrgKind]] = ROLE_ORG_KINDS[Role.MEMBER]


def is_branch(org: OrgUnit) -> bool:
    """Is this unit one that has a roster (a village branch, department or station)?"""
    return org.kind in BRANCH_KINDS


async def org_trail(*, db: AsyncSession, org: OrgUnit, include_county: bool = True) -> str:
    """The org and its ancestors: "红旗县 / 东风镇党委 / 东风村党支部" (or without the county)."""
    units = await orgs.lineage(db=db, org=org)
    if not include_county and len(units) > 1:
        units = units[1:]
    return " / ".join(unit.name for unit in units)
