"""Branches classified for guidance and flagged: staff (township over its branches, the
county over all) set each village branch's class of the year (advanced / average /
lagging), flag poverty-stricken villages, and (county staff) make a branch the year's
demonstration site through the leaders' duties (bot/duties.py, one home for sites).

/summary and /export can be narrowed to one class or flag: the words people type for
them are data here (`FLAG_WORDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import duties
from bot.access import Action, Principal, allows, allows_below
from bot.assessments import check_year
from bot.i18n import N_
from bot.refusals import NOT_ALLOWED, Refused
from storage import audit, orgs
from storage import duties as duty_store
from storage import guidance as store
from storage.guidance import Flag, Only
from storage.models import GuidanceClass, OrgKind, OrgUnit

__all__ = [
    "CLASS_LABELS",
    "FLAG_CODES",
    "FLAG_LABELS",
    "FLAG_WORDS",
    "Marked",
    "check_branch",
    "classify",
    "flag_in",
    "flag_poverty",
    "flag_site",
    "may_mark",
    "only_for",
    "report_token",
    "split_report_token",
]

CLASS_LABELS: Final = {
    GuidanceClass.ADVANCED: N_("Advanced"),
    GuidanceClass.AVERAGE: N_("Average"),
    GuidanceClass.LAGGING: N_("Lagging"),
}
FLAG_LABELS: Final = {
    Flag.ADVANCED: N_("advanced branches"),
    Flag.AVERAGE: N_("average branches"),
    Flag.LAGGING: N_("lagging branches"),
    Flag.POVERTY: N_("poverty-stricken villages"),
    Flag.DEMO: N_("demonstration sites"),
}
# What people type after /summary or /export to narrow it (data: parse aliases).
FLAG_WORDS: Final = {
    "先进": Flag.ADVANCED,
    "先进支部": Flag.ADVANCED,
    "advanced": Flag.ADVANCED,
    "一般": Flag.AVERAGE,
    "一般支部": Flag.AVERAGE,
    "average": Flag.AVERAGE,
    "落后": Flag.LAGGING,
    "后进": Flag.LAGGING,
    "落后支部": Flag.LAGGING,
    "lagging": Flag.LAGGING,
    "贫困村": Flag.POVERTY,
    "贫困": Flag.POVERTY,
    "poverty": Flag.POVERTY,
    "示范点": Flag.DEMO,
    "示范": Flag.DEMO,
    "demo": Flag.DEMO,
}


# A report button carries its narrowing after the period's token: "y2026_lag".
FLAG_CODES: Final = {
    Flag.ADVANCED: "adv",
    Flag.AVERAGE: "avg",
    Flag.LAGGING: "lag",
    Flag.POVERTY: "pov",
    Flag.DEMO: "demo",
}


def report_token(period_token: str, flag: Flag | None) -> str:
    """The period's token, with the flag's code when the report is narrowed."""
    return period_token if flag is None else f"{period_token}_{FLAG_CODES[flag]}"


def split_report_token(token: str) -> tuple[str, Flag | None]:
    """(the period's token, the flag) of a report button's token."""
    for flag, code in FLAG_CODES.items():
        if token.endswith(f"_{code}"):
            return token.removesuffix(f"_{code}"), flag
    return token, None


def flag_in(words: list[str]) -> tuple[Flag | None, list[str]]:
    """The flag named among the typed words (the first one), and the other words."""
    flag: Flag | None = None
    rest: list[str] = []
    for word in words:
        found = FLAG_WORDS.get(word.strip().lower())
        if found is not None and flag is None:
            flag = found
        else:
            rest.append(word)
    return flag, rest


def may_mark(principal: Principal, org: OrgUnit) -> bool:
    """An active village branch below one of the principal's assessing grants."""
    return (
        org.active
        and org.kind == OrgKind.VILLAGE_BRANCH
        and allows_below(principal, Action.ASSESS, org.path)
    )


def check_branch(principal: Principal, org: OrgUnit | None) -> OrgUnit:
    """The branch, if the principal may classify and flag it; refused otherwise."""
    if org is None or not may_mark(principal, org):
        raise Refused(NOT_ALLOWED)
    return org


@dataclass(frozen=True, slots=True)
class Marked:
    """A branch after a change: whether anything changed."""

    org: OrgUnit
    changed: bool


async def classify(
    *,
    db: AsyncSession,
    principal: Principal,
    org_id: int,
    year: int,
    grade: GuidanceClass,
    now: datetime,
) -> Marked:
    """Set the branch's class of the year (the same class again changes nothing)."""
    check_year(year, now)
    org = check_branch(principal, await orgs.get_org(db=db, org_id=org_id))
    before = await store.set_grade(
        db=db,
        org_id=org_id,
        year=year,
        grade=grade,
        set_by=principal.telegram_user_id,
        now=now,
    )
    if before == grade:
        return Marked(org, False)
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="assess.guidance.class",
        target_kind="org",
        target_id=org_id,
        org_id=org_id,
        detail={"year": year, "class": grade.value, "before": before},
        at=now,
    )
    return Marked(org, True)


async def flag_poverty(
    *, db: AsyncSession, principal: Principal, org_id: int, flagged: bool, now: datetime
) -> Marked:
    """Flag the village poverty-stricken, or clear the flag (as asked: a repeat is a no-op)."""
    org = check_branch(principal, await orgs.get_org(db=db, org_id=org_id))
    if not await store.set_poverty(db=db, org=org, flagged=flagged):
        return Marked(org, False)
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="assess.guidance.poverty",
        target_kind="org",
        target_id=org_id,
        org_id=org_id,
        detail={"poverty_village": flagged},
        at=now,
    )
    return Marked(org, True)


async def flag_site(
    *,
    db: AsyncSession,
    principal: Principal,
    org_id: int,
    year: int,
    site: bool,
    now: datetime,
) -> Marked:
    """Make the branch the year's demonstration site or stop it being one, as asked, by the
    leaders' duties use case (its rights, limits and audit); a repeat is a no-op."""
    check_year(year, now)
    org = check_branch(principal, await orgs.get_org(db=db, org_id=org_id))
    if not allows(principal, Action.MANAGE_DUTIES, org.path):
        raise Refused(NOT_ALLOWED)
    if await duty_store.is_site(db=db, org_id=org_id, year=year) == site:
        return Marked(org, False)
    await duties.toggle_site(db=db, principal=principal, org_id=org_id, year=year, now=now)
    return Marked(org, True)


def only_for(flag: Flag | None, year: int) -> Only | None:
    """The narrowing a report asks for, in the period's year."""
    return None if flag is None else Only(flag, year)
