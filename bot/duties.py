"""Leaders' duties: contact points (联系点), visits, demonstration sites (示范点), and the
reminder ladder that keeps each leader visiting at least twice a year.

The county's policy: each leader checks his contact point at least twice a year; county
and township leading groups hear at least two reports and hold at least one special study
a year; the county keeps one or two township demonstration sites, each township one
village site. A year is a calendar year in Asia/Shanghai.

Every change is one function here that checks the right, writes, audits and queues its
messages in the caller's transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.access import Action, Principal, allows
from bot.direct_messages import recipient
from bot.duty_buttons import visit_markup
from bot.fit import fit_lines
from bot.htmltext import Markup, payload_html
from bot.i18n import N_, gettext
from bot.orgs import BRANCH_KINDS
from bot.refusals import MEMBER_GONE, NOT_ALLOWED, Refused
from storage import audit, deliveries, members, orgs, roles
from storage import duties as store
from storage.deliveries import Outgoing
from storage.duties import ContactPointView
from storage.models import (
    ContactPoint,
    ContactVisit,
    DeliveryKind,
    DutyStep,
    OrgKind,
    OrgUnit,
    Role,
)

__all__ = [
    "HEARINGS_NEEDED",
    "STUDIES_NEEDED",
    "VISITS_NEEDED",
    "add_contact_point",
    "check_visit_day",
    "local_year",
    "log_visit",
    "next_rung_due",
    "queue_duty_reminders",
    "remove_contact_point",
    "toggle_site",
    "year_bounds",
]

#: The "log a visit" button under a message to a leader: (contact point id, language) ->
#: reply_markup dict; drawn by handlers.visits, which answers it.

VISITS_NEEDED: Final = 2
HEARINGS_NEEDED: Final = 2
STUDIES_NEEDED: Final = 1
COUNTY_SITES: Final = 2  # townships the county keeps as demonstration sites, at most
TOWNSHIP_SITES: Final = 1  # villages each township keeps as a site, at most
#: Orgs a leader can have as a contact point.
CONTACT_KINDS: Final = BRANCH_KINDS | {OrgKind.TOWNSHIP}
MAX_NOTE: Final = 1000
MAX_PHOTOS: Final = 10

NOT_YOURS: Final = N_("This is not your contact point.")
NO_CONTACT_POINT: Final = N_("You have no contact point this year.")
WRONG_YEAR: Final = N_("A visit on {day} belongs to another year than this contact point.")
FUTURE_VISIT: Final = N_("A visit cannot be in the future.")
ALREADY_LINKED: Final = N_("{name} already has {org} as a contact point this year.")
BAD_CONTACT_ORG: Final = N_("A contact point is a township or a branch.")
BAD_SITE_ORG: Final = N_("A demonstration site is a township (county level) or a village.")
TOO_MANY_COUNTY_SITES: Final = N_(
    "The county already has {count} township demonstration sites this year."
)
TOO_MANY_TOWNSHIP_SITES: Final = N_(
    "{township} already has a village demonstration site this year."
)

TOLD_LEADER: Final = N_(
    "📍 You have been given {org} as your contact point for {year}. Visit it at least "
    "twice this year and log each visit with /visit."
)
NO_VISIT_YET: Final = N_(
    "⏰ You have not visited your contact point {org} yet this year. Each leader visits it "
    "at least twice a year. Send /visit after your visit."
)
FEW_VISITS: Final = N_(
    "⏰ You have visited your contact point {org} {count} times this year; at least two "
    "visits are needed. Send /visit after your visit."
)
COUNTY_NO_VISIT: Final = N_(
    "⚠️ These contact points have had no visit this year, a month after the leaders were reminded:"
)
COUNTY_FEW_VISITS: Final = N_(
    "⚠️ These contact points have had fewer than two visits this year, a month after the "
    "leaders were reminded:"
)
COUNTY_LINE: Final = N_("• {leader} → {org}: {count} visits")


def local_year(now: datetime, tz: ZoneInfo) -> int:
    """The calendar year in the people's time zone (23:30 on 31 December is still that year)."""
    return now.astimezone(tz).year


def year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The year from local midnight to local midnight, in UTC."""
    start = datetime.combine(date(year, 1, 1), time(0), tz).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(0), tz).astimezone(UTC)
    return start, end


def _check_manage(principal: Principal, org: OrgUnit | None) -> OrgUnit:
    if org is None or not org.active or not allows(principal, Action.MANAGE_DUTIES, org.path):
        raise Refused(NOT_ALLOWED)
    return org


@dataclass(frozen=True, slots=True)
class PointChange:
    """A contact point added or removed: who and where."""

    point: ContactPoint
    leader_name: str
    org: OrgUnit


async def add_contact_point(
    *,
    db: AsyncSession,
    principal: Principal,
    leader_member_id: int,
    org_id: int,
    year: int,
    now: datetime,
) -> PointChange:
    """Link a leader (a roster member) to an org for a year; the leader is told."""
    org = _check_manage(principal, await orgs.get_org(db=db, org_id=org_id))
    if org.kind not in CONTACT_KINDS:
        raise Refused(BAD_CONTACT_ORG)
    leader = await members.get_member(db=db, member_id=leader_member_id)
    if leader is None or not leader.active:
        raise Refused(MEMBER_GONE)
    home = await orgs.get_org(db=db, org_id=leader.org_id)
    _check_manage(principal, home)
    point = await store.add_contact_point(
        db=db, leader_member_id=leader_member_id, org_id=org_id, year=year, now=now
    )
    if point is None:
        raise Refused(ALREADY_LINKED, name=leader.name, org=org.name)
    assert point.id is not None
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="duty.contact_point.add",
        target_kind="contact_point",
        target_id=point.id,
        org_id=org_id,
        detail={"leader_member_id": leader_member_id, "leader": leader.name, "year": year},
        at=now,
    )
    if leader.telegram_user_id is not None:
        told = await recipient(db=db, telegram_user_id=leader.telegram_user_id)
        language = told.language if told is not None else "zh"
        await deliveries.enqueue(
            db=db,
            kind=DeliveryKind.OTHER,
            chat_id=leader.telegram_user_id,
            payload={
                "text": payload_html(
                    gettext(language, TOLD_LEADER).format(org=org.name, year=year)
                ),
                "parse_mode": ParseMode.HTML.value,
                "reply_markup": visit_markup(point.id, language),
            },
            # With the creation time: a point removed and set up again is told again.
            dedupe_key=f"duty:told:{point.id}:{now.timestamp():.0f}",
            due_at=now,
            member_id=leader.id,
        )
    return PointChange(point, leader.name, org)


async def remove_contact_point(
    *, db: AsyncSession, principal: Principal, contact_point_id: int, now: datetime
) -> PointChange:
    """Unlink a leader from a contact point (its visits go with it)."""
    point = await store.get_contact_point(db=db, contact_point_id=contact_point_id)
    if point is None:
        raise Refused(MEMBER_GONE)
    org = _check_manage(principal, await orgs.get_org(db=db, org_id=point.org_id))
    leader = await members.get_member(db=db, member_id=point.leader_member_id)
    name = leader.name if leader is not None else "?"
    await store.remove_contact_point(db=db, contact_point_id=contact_point_id)
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="duty.contact_point.remove",
        target_kind="contact_point",
        target_id=contact_point_id,
        org_id=point.org_id,
        detail={"leader_member_id": point.leader_member_id, "leader": name, "year": point.year},
        at=now,
    )
    return PointChange(point, name, org)


async def toggle_site(
    *, db: AsyncSession, principal: Principal, org_id: int, year: int, now: datetime
) -> tuple[OrgUnit, bool]:
    """Make the org a demonstration site for the year, or stop it being one.

    A township is a county-level site (at most two a year), a village branch a
    township-level site (at most one per township a year). Returns (org, is a site now).
    """
    org = _check_manage(principal, await orgs.get_org(db=db, org_id=org_id))
    if org.kind not in (OrgKind.TOWNSHIP, OrgKind.VILLAGE_BRANCH):
        raise Refused(BAD_SITE_ORG)
    if await store.remove_site(db=db, org_id=org_id, year=year):
        added = False
    else:
        if org.kind == OrgKind.TOWNSHIP:
            held = await store.count_sites(db=db, year=year, kind=OrgKind.TOWNSHIP)
            if held >= COUNTY_SITES:
                raise Refused(TOO_MANY_COUNTY_SITES, count=str(held))
        else:
            held = await store.count_sites(
                db=db, year=year, kind=OrgKind.VILLAGE_BRANCH, parent_id=org.parent_id
            )
            if held >= TOWNSHIP_SITES:
                parent = await orgs.get_org(db=db, org_id=org.parent_id or 0)
                raise Refused(TOO_MANY_TOWNSHIP_SITES, township=parent.name if parent else "?")
        await store.add_site(
            db=db,
            org_id=org_id,
            year=year,
            created_by=principal.telegram_user_id,
            now=now,
        )
        added = True
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="duty.site.add" if added else "duty.site.remove",
        target_kind="org",
        target_id=org_id,
        org_id=org_id,
        detail={"year": year},
        at=now,
    )
    return org, added


@dataclass(frozen=True, slots=True)
class Visited:
    """A visit logged, and the contact point's count after it."""

    visit: ContactVisit
    point: ContactPointView


async def own_point(
    *, db: AsyncSession, telegram_user_id: int, contact_point_id: int
) -> ContactPointView:
    """The contact point, if it is the user's own; refused otherwise."""
    member = await members.member_by_telegram(db=db, telegram_user_id=telegram_user_id)
    point = await store.get_contact_point(db=db, contact_point_id=contact_point_id)
    if member is None or point is None or point.leader_member_id != member.id:
        raise Refused(NOT_YOURS)
    [view] = await store.contact_point_views(
        db=db, year=point.year, contact_point_id=contact_point_id
    )
    return view


def check_visit_day(point: ContactPointView, day: date, *, today: date) -> None:
    """A visit day is not in the future and lies in the contact point's year."""
    if day > today:
        raise Refused(FUTURE_VISIT)
    if day.year != point.year:
        raise Refused(WRONG_YEAR, day=day.isoformat())


async def log_visit(
    *,
    db: AsyncSession,
    telegram_user_id: int,
    contact_point_id: int,
    visited_on: date,
    note: str | None,
    photo_ids: list[str],
    now: datetime,
    tz: ZoneInfo,
) -> Visited:
    """/visit: a leader logs a visit to his own contact point, on a day of its year."""
    point = await own_point(
        db=db, telegram_user_id=telegram_user_id, contact_point_id=contact_point_id
    )
    check_visit_day(point, visited_on, today=now.astimezone(tz).date())
    visit = await store.add_visit(
        db=db,
        contact_point_id=contact_point_id,
        visited_on=visited_on,
        note=(note or "")[:MAX_NOTE] or None,
        photo_ids=photo_ids[:MAX_PHOTOS],
        recorded_by=telegram_user_id,
        now=now,
    )
    await audit.record(
        db=db,
        actor=telegram_user_id,
        action="duty.visit",
        target_kind="contact_point",
        target_id=contact_point_id,
        org_id=point.org_id,
        detail={"visited_on": visited_on.isoformat(), "photos": len(photo_ids[:MAX_PHOTOS])},
        at=now,
    )
    [after] = await store.contact_point_views(
        db=db, year=point.year, contact_point_id=contact_point_id
    )
    return Visited(visit, after)


# --- the reminder ladder -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rung:
    """One rung: when it falls due, what it needs, and whom it tells."""

    step: DutyStep
    month: int
    day: int
    fewer_than: int
    after: DutyStep | None  # a county rung follows the leader's rung a month earlier


#: 30 June: no visit yet -> the leader; 30 July, still none -> the county. 30 September:
#: fewer than two -> the leader; 30 October, still fewer -> the county. At 09:00 local.
RUNGS: Final = (
    Rung(DutyStep.NO_VISIT, 6, 30, 1, None),
    Rung(DutyStep.NO_VISIT_COUNTY, 7, 30, 1, DutyStep.NO_VISIT),
    Rung(DutyStep.FEW_VISITS, 9, 30, VISITS_NEEDED, None),
    Rung(DutyStep.FEW_VISITS_COUNTY, 10, 30, VISITS_NEEDED, DutyStep.FEW_VISITS),
)
RUNG_HOUR: Final = 9


def rung_due(rung: Rung, year: int, tz: ZoneInfo) -> datetime:
    """When the rung falls due, in UTC."""
    return datetime.combine(date(year, rung.month, rung.day), time(RUNG_HOUR), tz).astimezone(UTC)


async def queue_duty_reminders(*, db: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """Take every rung that is due this year, once each; returns messages queued.

    A leader's rung is taken only for contact points that existed before it fell due (a
    point set up in August is not blamed for June); a county rung only after the leader's
    rung, whether or not the leader could be reached on Telegram.
    """
    year = local_year(now, tz)
    queued = 0
    for rung in RUNGS:
        due = rung_due(rung, year, tz)
        if now < due:
            continue
        unmet = await store.ladder_candidates(
            db=db,
            year=year,
            step=rung.step,
            fewer_than=rung.fewer_than,
            created_before=due,
            after_step=rung.after,
        )
        taken = [
            point
            for point in unmet
            if await store.claim_rung(db=db, contact_point_id=point.id, step=rung.step, now=now)
        ]
        if rung.after is None:
            queued += await _tell_leaders(db, rung, taken, now)
        else:
            queued += await _tell_county(db, rung, taken, now)
    return queued


async def next_rung_due(*, db: AsyncSession, after: datetime, tz: ZoneInfo) -> datetime | None:
    """When the next rung that would tell someone falls due after ``after`` (this year or
    next), as the database stands now; None if none would. The sandbox's clock jumps there.
    """
    this = local_year(after, tz)
    for year in (this, this + 1):
        for rung in RUNGS:
            due = rung_due(rung, year, tz)
            if due > after and await store.ladder_candidates(
                db=db,
                year=year,
                step=rung.step,
                fewer_than=rung.fewer_than,
                created_before=due,
                after_step=rung.after,
            ):
                return due
    return None


async def _tell_leaders(
    db: AsyncSession,
    rung: Rung,
    points: list[ContactPointView],
    now: datetime,
) -> int:
    items = []
    for point in points:
        if point.leader_telegram_id is None:
            continue
        language = point.leader_language or "zh"
        message = NO_VISIT_YET if rung.step == DutyStep.NO_VISIT else FEW_VISITS
        text = gettext(language, message).format(org=point.org_name, count=point.visits)
        items.append(
            Outgoing(
                point.leader_telegram_id,
                {
                    "text": payload_html(text),
                    "parse_mode": ParseMode.HTML.value,
                    "reply_markup": visit_markup(point.id, language),
                },
                f"duty:{rung.step.value}:{point.id}:{point.created_at.timestamp():.0f}",
                point.leader_member_id,
            )
        )
    return await deliveries.enqueue_many(db=db, kind=DeliveryKind.WARNING, items=items, due_at=now)


def _county_text(language: str, head: str, points: list[ContactPointView]) -> Markup:
    """The county's list: a line per contact point, as many as fit in one message (names
    of any length), then how many more."""
    more = gettext(language, N_("…and {count} more"))
    return fit_lines(
        [gettext(language, head)],
        [
            gettext(language, COUNTY_LINE).format(
                leader=p.leader_name, org=p.org_name, count=p.visits
            )
            for p in points
        ],
        [gettext(language, N_("Please follow up with them."))],
        more=lambda n: more.format(count=n),
    )


async def _tell_county(
    db: AsyncSession, rung: Rung, points: list[ContactPointView], now: datetime
) -> int:
    if not points:
        return 0
    county = await orgs.get_county(db=db)
    if county is None or county.id is None:
        return 0
    staff = await roles.holders(db=db, org_id=county.id, roles=[Role.COUNTY_STAFF])
    taken = ",".join(f"{p.id}@{p.created_at.timestamp():.0f}" for p in points)
    key = hashlib.sha256(taken.encode()).hexdigest()[:16]
    head = COUNTY_NO_VISIT if rung.step == DutyStep.NO_VISIT_COUNTY else COUNTY_FEW_VISITS
    items = []
    by_language: dict[str, str] = defaultdict(str)  # HTML (Markup)
    for holder in staff:
        language = holder.language
        if language not in by_language:
            by_language[language] = _county_text(language, head, points)
        items.append(
            Outgoing(
                holder.telegram_user_id,
                {"text": payload_html(by_language[language]), "parse_mode": ParseMode.HTML.value},
                f"duty:{rung.step.value}:{key}:{holder.telegram_user_id}",
            )
        )
    return await deliveries.enqueue_many(db=db, kind=DeliveryKind.WARNING, items=items, due_at=now)
