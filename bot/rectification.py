"""Rectification within a deadline (限期整改): staff above a branch issue an order with a
notice of criticism, the required actions and a deadline; the branch secretary reports
progress; staff close it with evidence. The ladder reminds the secretary once before the
deadline and, once it has passed, tells the township staff and a week later the county.

Every step is one function here that checks the right and the state, writes, audits and
queues its messages in the caller's transaction. The ladder's day turns at 09:00 in the
people's zone, so nobody is written to at night: the reminder goes at 09:00 two days
before the deadline, the township hears at 09:00 the day after it, the county a week later.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.access import Action, Principal, allows_below
from bot.dates import format_calendar_day, local_date
from bot.direct_messages import recipient
from bot.htmltext import html_lines, payload_html
from bot.i18n import N_, gettext
from bot.orgs import BRANCH_KINDS
from bot.rectify_buttons import report_markup, view_markup
from bot.refusals import NOT_ALLOWED, Refused
from storage import audit, deliveries, orgs, roles
from storage import rectification as store
from storage.deliveries import Outgoing
from storage.models import (
    DeliveryKind,
    OrgKind,
    OrgUnit,
    RectificationOrder,
    RectificationReport,
    RectificationState,
    Role,
)
from storage.rectification import OrderView

__all__ = [
    "COUNTY_AFTER_DAYS",
    "LADDER_HOUR",
    "MAX_PHOTOS",
    "MAX_TEXT",
    "REMIND_DAYS",
    "check_deadline",
    "close_order",
    "issue_order",
    "ladder_day",
    "may_rectify",
    "next_ladder_due",
    "own_order",
    "queue_rectification_ladder",
    "report_progress",
    "staff_order",
]

REMIND_DAYS: Final = 2  # the secretary is reminded this many days before the deadline
COUNTY_AFTER_DAYS: Final = 7  # the county hears this long after the township
LADDER_HOUR: Final = 9  # the ladder's day starts at 09:00 local
MAX_TEXT: Final = 1000
MAX_PHOTOS: Final = 10
MAX_DAYS_AHEAD: Final = 366

GONE_ORDER: Final = N_("This rectification order no longer exists.")
CLOSED: Final = N_("This rectification order has been closed.")
NOT_YOURS: Final = N_("Only the secretary of the branch reports progress on this order.")
EMPTY_TEXT: Final = N_("Please type a few words.")
TOO_LONG: Final = N_("That is too long: at most {limit} characters.")
PAST_DEADLINE: Final = N_("The deadline must be a day after today.")
FAR_DEADLINE: Final = N_("The deadline must be within a year.")

TOLD_SECRETARY: Final = N_(
    "📢 Notice of criticism and rectification order for {org}, deadline {deadline}:"
)
CRITICISM: Final = N_("Criticism: {text}")
ACTIONS: Final = N_("Required actions: {text}")
REPORT_BEFORE: Final = N_("Report your progress with the button below before the deadline.")
REMINDED: Final = N_(
    "⏰ The rectification order for {org} is due on {deadline}. Report your progress with "
    "the button below."
)
OVERDUE: Final = N_(
    "⚠️ The rectification order for {org} is overdue: the deadline was {deadline}, "
    "{reports} progress reports so far. Please follow up."
)
REPORTED: Final = N_("📝 {org} reported progress on its rectification order: {note}")
PHOTOS: Final = N_("Photos: {count}")
CLOSED_TOLD: Final = N_("✅ The rectification order for {org} has been closed. Evidence: {note}")


def ladder_day(now: datetime, tz: ZoneInfo) -> date:
    """The ladder's day: the local calendar day, turning at LADDER_HOUR instead of midnight."""
    return local_date(now - timedelta(hours=LADDER_HOUR), tz)


def may_rectify(principal: Principal, org: OrgUnit) -> bool:
    """An active branch below one of the principal's staff grants (the level above acts)."""
    return (
        org.active
        and org.kind in BRANCH_KINDS
        and allows_below(principal, Action.RECTIFY, org.path)
    )


def _check_org(principal: Principal, org: OrgUnit | None) -> OrgUnit:
    if org is None or not may_rectify(principal, org):
        raise Refused(NOT_ALLOWED)
    return org


def _check_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise Refused(EMPTY_TEXT)
    if len(cleaned) > MAX_TEXT:
        raise Refused(TOO_LONG, limit=str(MAX_TEXT))
    return cleaned


def check_deadline(deadline: date, *, today: date) -> None:
    """A deadline lies after today and within a year."""
    if deadline <= today:
        raise Refused(PAST_DEADLINE)
    if deadline > today + timedelta(days=MAX_DAYS_AHEAD):
        raise Refused(FAR_DEADLINE)


async def _secretaries(db: AsyncSession, org_id: int) -> list[roles.Holder]:
    return await roles.holders(db=db, org_id=org_id, roles=[Role.SECRETARY])


def _deadline(order: RectificationOrder, language: str) -> str:
    return format_calendar_day(order.deadline, language=language)


async def issue_order(
    *,
    db: AsyncSession,
    principal: Principal,
    org_id: int,
    criticism: str,
    actions: str,
    deadline: date,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[OrderView, int]:
    """Issue an order to a branch below the principal; its secretaries are told. Returns
    the order and how many secretaries were told."""
    org = _check_org(principal, await orgs.get_org(db=db, org_id=org_id))
    assert org.id is not None
    criticism, actions = _check_text(criticism), _check_text(actions)
    today = local_date(now, tz)
    check_deadline(deadline, today=today)
    remind_on = deadline - timedelta(days=REMIND_DAYS)
    order = await store.create_order(
        db=db,
        org_id=org.id,
        year=today.year,
        criticism=criticism,
        actions=actions,
        issued_on=today,
        deadline=deadline,
        remind_on=remind_on if remind_on > today else None,
        issued_by=principal.telegram_user_id,
    )
    assert order.id is not None
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="rectify.issue",
        target_kind="rectification_order",
        target_id=order.id,
        org_id=org.id,
        detail={"deadline": deadline.isoformat(), "criticism": criticism, "actions": actions},
        at=now,
    )
    items = []
    for holder in await _secretaries(db, org.id):
        language = holder.language
        text = html_lines(
            [
                gettext(language, TOLD_SECRETARY).format(
                    org=org.name, deadline=_deadline(order, language)
                ),
                gettext(language, CRITICISM).format(text=criticism),
                gettext(language, ACTIONS).format(text=actions),
                gettext(language, REPORT_BEFORE),
            ]
        )
        items.append(
            Outgoing(
                holder.telegram_user_id,
                {
                    "text": payload_html(text),
                    "parse_mode": ParseMode.HTML.value,
                    "reply_markup": report_markup(order.id, language),
                },
                f"rect:told:{order.id}:{holder.telegram_user_id}",
            )
        )
    told = await deliveries.enqueue_many(db=db, kind=DeliveryKind.WARNING, items=items, due_at=now)
    view = await store.order_view(db=db, order_id=order.id)
    assert view is not None
    return view, told


async def own_order(
    *, db: AsyncSession, principal: Principal, order_id: int, open_only: bool = True
) -> OrderView:
    """The order, if the principal is the secretary of its branch (and, with
    ``open_only``, it is not closed)."""
    view = await store.order_view(db=db, order_id=order_id)
    if view is None:
        raise Refused(GONE_ORDER)
    if not any(
        grant.role == Role.SECRETARY and grant.org_id == view.order.org_id
        for grant in principal.grants
    ):
        raise Refused(NOT_YOURS)
    if open_only and view.order.state == RectificationState.DONE:
        raise Refused(CLOSED)
    return view


async def staff_order(*, db: AsyncSession, principal: Principal, order_id: int) -> OrderView:
    """The order, if the principal is staff above its branch."""
    view = await store.order_view(db=db, order_id=order_id)
    if view is None:
        raise Refused(GONE_ORDER)
    _check_org(principal, await orgs.get_org(db=db, org_id=view.order.org_id))
    return view


def _photos(photo_ids: list[str]) -> list[str]:
    return [photo for photo in photo_ids if photo][:MAX_PHOTOS]


async def report_progress(
    *,
    db: AsyncSession,
    principal: Principal,
    order_id: int,
    note: str,
    photo_ids: list[str],
    now: datetime,
) -> RectificationReport:
    """The branch secretary reports progress (text and photos); the issuer is told."""
    view = await own_order(db=db, principal=principal, order_id=order_id)
    note, photos = _check_text(note), _photos(photo_ids)
    report = await store.add_report(
        db=db,
        order_id=order_id,
        note=note,
        photo_ids=photos,
        reported_by=principal.telegram_user_id,
        now=now,
    )
    assert report.id is not None
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="rectify.report",
        target_kind="rectification_order",
        target_id=order_id,
        org_id=view.order.org_id,
        detail={"report_id": report.id, "photos": len(photos)},
        at=now,
    )
    told = await recipient(db=db, telegram_user_id=view.order.issued_by)
    if told is not None:
        issuer = told.language
        lines = [gettext(issuer, REPORTED).format(org=view.org_name, note=note)]
        if photos:
            lines.append(gettext(issuer, PHOTOS).format(count=len(photos)))
        await deliveries.enqueue(
            db=db,
            kind=DeliveryKind.OTHER,
            chat_id=view.order.issued_by,
            payload={
                "text": payload_html(html_lines(lines)),
                "parse_mode": ParseMode.HTML.value,
                "reply_markup": view_markup(order_id, issuer),
            },
            dedupe_key=f"rect:report:{report.id}",
            due_at=now,
        )
    return report


async def close_order(
    *,
    db: AsyncSession,
    principal: Principal,
    order_id: int,
    note: str,
    photo_ids: list[str],
    now: datetime,
) -> OrderView:
    """Staff above the branch close the order with evidence; the secretary is told."""
    view = await staff_order(db=db, principal=principal, order_id=order_id)
    note, photos = _check_text(note), _photos(photo_ids)
    if not await store.close_order(
        db=db,
        order_id=order_id,
        closed_by=principal.telegram_user_id,
        note=note,
        photo_ids=photos,
        now=now,
    ):
        raise Refused(CLOSED)
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="rectify.close",
        target_kind="rectification_order",
        target_id=order_id,
        org_id=view.order.org_id,
        detail={"note": note, "photos": len(photos), "level": view.order.level},
        at=now,
    )
    items = [
        Outgoing(
            holder.telegram_user_id,
            {
                "text": payload_html(
                    gettext(holder.language, CLOSED_TOLD).format(org=view.org_name, note=note)
                ),
                "parse_mode": ParseMode.HTML.value,
            },
            f"rect:closed:{order_id}:{holder.telegram_user_id}",
        )
        for holder in await _secretaries(db, view.order.org_id)
    ]
    await deliveries.enqueue_many(db=db, kind=DeliveryKind.OTHER, items=items, due_at=now)
    closed = await store.order_view(db=db, order_id=order_id)
    assert closed is not None
    return closed


# --- the ladder ---------------------------------------------------------------------------


async def queue_rectification_ladder(*, db: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """Take every step of the ladder that is due, once each; returns messages queued.

    Each step is claimed by a conditional UPDATE before its messages are queued, in the
    caller's transaction, so a second run or a run after a restart finds nothing to do.
    """
    day = ladder_day(now, tz)
    queued = 0
    for view in await store.reminders_due(db=db, day=day):
        if await store.claim_reminder(db=db, order_id=view.id, now=now):
            queued += await _step(db, view, "remind", REMINDED, None, now)
    for view in await store.ladder_candidates(db=db, level=0, deadline_before=day):
        township = await _township_of(db, view)
        if township is not None:
            if await store.step_level(db=db, order_id=view.id, from_level=0, to_level=1):
                queued += await _step(db, view, "township", OVERDUE, township, now)
        elif await store.step_level(db=db, order_id=view.id, from_level=0, to_level=2):
            queued += await _step(db, view, "county", OVERDUE, None, now)
    later = day - timedelta(days=COUNTY_AFTER_DAYS)
    for view in await store.ladder_candidates(db=db, level=1, deadline_before=later):
        if await store.step_level(db=db, order_id=view.id, from_level=1, to_level=2):
            queued += await _step(db, view, "county", OVERDUE, None, now)
    return queued


async def next_ladder_due(*, db: AsyncSession, after: datetime, tz: ZoneInfo) -> datetime | None:
    """When the ladder would next take a step after ``after`` (UTC), as the database
    stands now; None if no order waits for one. The sandbox's clock jumps there."""
    days = await store.next_ladder_days(
        db=db, after=ladder_day(after, tz), county_after_days=COUNTY_AFTER_DAYS
    )
    if not days:
        return None
    return datetime.combine(min(days), time(LADDER_HOUR), tz).astimezone(UTC)


async def _township_of(db: AsyncSession, view: OrderView) -> OrgUnit | None:
    """The township the branch lies in, if any (a county department has none)."""
    parent = await orgs.get_org(db=db, org_id=view.parent_id or 0)
    return parent if parent is not None and parent.kind == OrgKind.TOWNSHIP else None


async def _step(
    db: AsyncSession,
    view: OrderView,
    step: str,
    message: str,
    township: OrgUnit | None,
    now: datetime,
) -> int:
    """Audit one step of the ladder and queue its messages: the reminder to the branch's
    secretaries, an escalation to the township's staff or the county's."""
    order = view.order
    if step == "remind":
        told = await _secretaries(db, order.org_id)
    elif township is not None and township.id is not None:
        told = await roles.holders(db=db, org_id=township.id, roles=[Role.TOWNSHIP_ORGANISER])
    else:
        county = await orgs.get_county(db=db)
        told = (
            await roles.holders(db=db, org_id=county.id, roles=[Role.COUNTY_STAFF])
            if county is not None and county.id is not None
            else []
        )
    await audit.record(
        db=db,
        actor=None,
        action=f"rectify.{step}",
        target_kind="rectification_order",
        target_id=view.id,
        org_id=order.org_id,
        detail={"deadline": order.deadline.isoformat(), "told": len(told)},
        at=now,
    )
    items = []
    for holder in told:
        language = holder.language
        text = gettext(language, message).format(
            org=view.org_name, deadline=_deadline(order, language), reports=view.reports
        )
        markup = (
            report_markup(view.id, language)
            if step == "remind"
            else view_markup(view.id, language)
        )
        items.append(
            Outgoing(
                holder.telegram_user_id,
                {
                    "text": payload_html(text),
                    "parse_mode": ParseMode.HTML.value,
                    "reply_markup": markup,
                },
                f"rect:{step}:{view.id}:{holder.telegram_user_id}",
            )
        )
    return await deliveries.enqueue_many(db=db, kind=DeliveryKind.WARNING, items=items, due_at=now)
