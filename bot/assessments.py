"""The annual five-good assessment (五好): staff rate each unit below their own on five
criteria; a unit is five-good when all five hold. Township staff rate their branches,
county staff their township committees (and branches)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.access import Action, Principal, allows_below
from bot.i18n import N_
from bot.refusals import NOT_ALLOWED, STALE_BUTTON, Refused
from storage import assessments as store
from storage import audit, orgs
from storage.models import OrgUnit, Rating

FIRST_YEAR: Final = 2000
NO_ASSESS: Final = N_("Only township and county staff rate units in the annual assessment.")


class Criterion(IntEnum):
    """The five criteria of "five good"; the value is the criterion's bit."""

    LEADERSHIP = 0
    MEMBERS = 1
    MECHANISM = 2
    PERFORMANCE = 3
    RESPONSE = 4


CRITERION_LABELS: Final = {
    Criterion.LEADERSHIP: N_("Good leadership team"),
    Criterion.MEMBERS: N_("Good member team"),
    Criterion.MECHANISM: N_("Good working mechanism"),
    Criterion.PERFORMANCE: N_("Good performance"),
    Criterion.RESPONSE: N_("Good response from the people"),
}
ALL_MET: Final = (1 << len(Criterion)) - 1


def met(criteria: int) -> list[Criterion]:
    """The criteria whose bit is set, in order."""
    return [c for c in Criterion if criteria >> c & 1]


def toggled(criteria: int, criterion: Criterion) -> int:
    """The criteria with one flipped."""
    return criteria ^ (1 << criterion)


def is_five_good(criteria: int) -> bool:
    """Five-good only when all five criteria hold."""
    return criteria == ALL_MET


def rating_for(criteria: int) -> Rating:
    """The overall grade kept with the rating: all five excellent, four good, three fair."""
    count = len(met(criteria))
    if count == len(Criterion):
        return Rating.EXCELLENT
    return {4: Rating.GOOD, 3: Rating.FAIR}.get(count, Rating.POOR)


def check_year(year: int, now: datetime) -> None:
    """A year a button may carry: from FIRST_YEAR to next year (else a stale button)."""
    if not FIRST_YEAR <= year <= now.year + 1:
        raise Refused(STALE_BUTTON)


def may_rate(principal: Principal, org: OrgUnit) -> bool:
    """A township committee or village branch, active, below one of the principal's grants."""
    return (
        org.active
        and org.kind in store.FIVE_GOOD_KINDS
        and allows_below(principal, Action.ASSESS, org.path)
    )


def check_rate(principal: Principal, org: OrgUnit | None) -> OrgUnit:
    """The unit, if the principal may rate it; refused otherwise."""
    if org is None or not may_rate(principal, org):
        raise Refused(NOT_ALLOWED)
    return org


@dataclass(frozen=True, slots=True)
class Rated:
    """A saved rating: the unit, the criteria met, and whether it is five-good."""

    org: OrgUnit
    criteria: int
    passed: bool


async def rate_unit(
    *,
    db: AsyncSession,
    principal: Principal,
    org_id: int,
    year: int,
    criteria: int,
    now: datetime,
) -> Rated:
    """Save the unit's five-good rating of the year (replacing an earlier one), audited."""
    if not 0 <= criteria <= ALL_MET or not FIRST_YEAR <= year <= now.year + 1:
        raise Refused(STALE_BUTTON)
    org = check_rate(principal, await orgs.get_org(db=db, org_id=org_id))
    passed = is_five_good(criteria)
    before = await store.save_five_good(
        db=db,
        year=year,
        org_id=org_id,
        criteria=criteria,
        passed=passed,
        rating=rating_for(criteria),
        assessed_by=principal.telegram_user_id,
        now=now,
    )
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="assess.five_good",
        target_kind="org",
        target_id=org_id,
        org_id=org_id,
        detail={
            "year": year,
            "criteria": [c.name.lower() for c in met(criteria)],
            "passed": passed,
            "before": None if before is None else [c.name.lower() for c in met(before)],
        },
        at=now,
    )
    return Rated(org, criteria, passed)
