"""The sandbox's demo county: one county, three townships, nine branches, 150 members.

Everything is planned from a fixed random seed, so every fresh sandbox shows the same
people and the same history; the plan is also how a restarted sandbox finds its demo cast
again (by branch and name) without any extra table. History (closed sessions with
attendance, trainings, notices with read receipts) lies in the months before the moment of
seeding, and each branch has one theme party day ahead with pending reminders, so the clock
control has something to show. Seeding writes only into a database without a county.

Rows are written through storage/ functions where they exist (orgs, members, accounts,
roles, audit) and as storage models directly for sessions, trainings and notices.
"""

from __future__ import annotations

import itertools
import random
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.notices import Audience
from bot.sessions import DEFAULT_REMINDER_OFFSETS as OFFSETS
from bot.sessions import plan_reminders
from storage import accounts, audit, members, notices, orgs, roles
from storage import sessions as session_store
from storage.models import (
    AttendanceOutcome,
    AudienceKind,
    CheckinMethod,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Gender,
    LeaveReason,
    Member,
    MemberStatus,
    OrgKind,
    OrgUnit,
    ReminderState,
    Role,
    SessionKind,
    StudySession,
    Training,
    TrainingConfirmation,
)

DEMO_SEED = 20260302
#: A roster member's Telegram id in the sandbox is this plus the member's id.
TELEGRAM_ID_BASE = 8_000_000
#: People who are on no roster yet (they register with an invitation) get ids from here.
VISITOR_ID_BASE = 9_000_000

MOBILE_PREFIXES = ("138", "139", "137", "135", "136", "150", "151", "152", "158", "159", "187")
DATA_FILE = Path(__file__).with_name("demo_county.toml")


@dataclass(frozen=True, slots=True)
class BranchData:
    """A village branch of the demo county and how many members its roster has."""

    code: str
    name: str
    size: int


@dataclass(frozen=True, slots=True)
class TownshipData:
    code: str
    name: str  # of the township committee
    place: str  # the township itself
    branches: tuple[BranchData, ...]


@dataclass(frozen=True, slots=True)
class NoticeData:
    """A past notice: sent by the county, the first township or its first branch."""

    org: str  # "county" | "township" | "branch"
    days_ago: int
    read_share: float
    text: str


@dataclass(frozen=True, slots=True)
class DemoData:
    """The names and texts of the demo county (bot/demo_county.toml)."""

    county_code: str
    county_name: str
    townships: tuple[TownshipData, ...]
    surnames: str
    male: tuple[str, ...]
    female: tuple[str, ...]
    topics: tuple[str, ...]
    places: tuple[str, ...]
    county_training: str
    township_training: str  # with {place}
    notices: tuple[NoticeData, ...]


@cache
def demo_data() -> DemoData:
    """Read the demo county's data file once."""
    raw = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    return DemoData(
        county_code=raw["county"]["code"],
        county_name=raw["county"]["name"],
        townships=tuple(
            TownshipData(
                t["code"],
                t["name"],
                t["place"],
                tuple(BranchData(b["code"], b["name"], int(b["members"])) for b in t["branches"]),
            )
            for t in raw["townships"]
        ),
        surnames=raw["names"]["surnames"],
        male=tuple(raw["names"]["male"]),
        female=tuple(raw["names"]["female"]),
        topics=tuple(raw["sessions"]["topics"]),
        places=tuple(raw["sessions"]["places"]),
        county_training=raw["trainings"]["county"],
        township_training=raw["trainings"]["township"],
        notices=tuple(
            NoticeData(n["org"], int(n["days_ago"]), float(n["read_share"]), n["text"])
            for n in raw["notices"]
        ),
    )


@dataclass(frozen=True, slots=True)
class PlannedMember:
    """One roster person of the plan."""

    name: str
    gender: Gender
    phone: str | None
    status: MemberStatus
    joined_on: date | None
    registered: bool  # linked to a Telegram account
    diligence: float  # how likely to attend a session


@dataclass(frozen=True, slots=True)
class CastRole:
    """A demo person of the web page, or one of the other office holders."""

    key: str  # "county_staff", "organiser", "secretary", "secretary_2", "member", "member_2"
    role: Role | None  # None: a plain member
    scope_code: str | None  # the org the role is held on
    branch_code: str  # the roster the person is on
    index: int  # position in that branch's planned roster


#: The six people the page opens a chat for, in order.
CAST: tuple[CastRole, ...] = (
    CastRole("county_staff", Role.COUNTY_STAFF, "C", "T01-V01", 0),
    CastRole("organiser", Role.TOWNSHIP_ORGANISER, "T01", "T01-V02", 0),
    CastRole("secretary", Role.SECRETARY, "T01-V01", "T01-V01", 1),
    CastRole("secretary_2", Role.SECRETARY, "T02-V01", "T02-V01", 0),
    CastRole("member", None, None, "T01-V01", 2),
    CastRole("member_2", None, None, "T02-V01", 1),
)


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """Who is where in the demo county, and who holds which office."""

    rosters: dict[str, list[PlannedMember]]  # branch code -> members
    offices: tuple[CastRole, ...]  # the cast first, then the other secretaries and organisers


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """A demo person as the sandbox shows them: a roster member with an account."""

    key: str
    role: Role | None
    name: str
    member_id: int
    telegram_user_id: int
    phone: str | None
    branch_name: str
    scope_name: str  # where the role applies (the branch for plain members)


def roster_telegram_id(member_id: int) -> int:
    """The sandbox Telegram id of a roster member."""
    return TELEGRAM_ID_BASE + member_id


def plan_demo(seed: int = DEMO_SEED) -> DemoPlan:
    """The whole demo county as data, the same for the same seed."""
    rng = random.Random(seed)
    used_names: set[str] = set()
    used_phones: set[str] = set()
    offices = (*CAST, *_other_offices())
    pinned = {(o.branch_code, o.index) for o in offices}  # office holders use Telegram
    rosters: dict[str, list[PlannedMember]] = {}
    for township in demo_data().townships:
        for branch in township.branches:
            rosters[branch.code] = [
                _plan_member(rng, used_names, used_phones, pinned=(branch.code, i) in pinned)
                for i in range(branch.size)
            ]
    return DemoPlan(rosters=rosters, offices=offices)


def _plan_member(
    rng: random.Random, used_names: set[str], used_phones: set[str], *, pinned: bool
) -> PlannedMember:
    gender = Gender.FEMALE if rng.random() < 0.4 else Gender.MALE
    name = _name(rng, gender)
    while name in used_names:
        name = _name(rng, gender)
    used_names.add(name)
    phone: str | None = None
    if pinned or rng.random() < 0.88:  # many elders have no phone of their own
        phone = _phone(rng)
        while phone in used_phones:
            phone = _phone(rng)
        used_phones.add(phone)
    roll = rng.random()
    joined: date | None = date(rng.randint(1972, 2023), rng.randint(1, 12), rng.randint(1, 28))
    status = MemberStatus.FULL
    if roll > 0.95 and not pinned:
        status, joined = MemberStatus.ACTIVIST, None
    elif roll > 0.91 and not pinned:
        status, joined = MemberStatus.DEVELOPMENT_TARGET, None
    elif roll > 0.86 and not pinned:
        status, joined = MemberStatus.PROBATIONARY, date(2025, rng.randint(6, 12), 1)
    registered = pinned or (phone is not None and rng.random() < 0.7)
    return PlannedMember(
        name=name,
        gender=gender,
        phone=phone,
        status=status,
        joined_on=joined,
        registered=registered,
        diligence=rng.uniform(0.55, 0.98),
    )


def _name(rng: random.Random, gender: Gender) -> str:
    data = demo_data()
    given = data.female if gender is Gender.FEMALE else data.male
    return rng.choice(data.surnames) + rng.choice(given)


def _phone(rng: random.Random) -> str:
    return f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def _other_offices() -> tuple[CastRole, ...]:
    """A secretary for every branch and an organiser for every township the cast leaves."""
    taken = {(c.branch_code, c.index) for c in CAST}
    held = {(c.role, c.scope_code) for c in CAST}
    offices: list[CastRole] = []

    def first_free(branch_code: str) -> int:
        index = next(i for i in itertools.count() if (branch_code, i) not in taken)
        taken.add((branch_code, index))
        return index

    for township in demo_data().townships:
        for branch in township.branches:
            if (Role.SECRETARY, branch.code) not in held:
                index = first_free(branch.code)
                offices.append(CastRole("", Role.SECRETARY, branch.code, branch.code, index))
        if (Role.TOWNSHIP_ORGANISER, township.code) not in held:
            last = township.branches[-1].code
            offices.append(
                CastRole("", Role.TOWNSHIP_ORGANISER, township.code, last, first_free(last))
            )
    return tuple(offices)


async def seed_demo(
    *, session: AsyncSession, now: datetime, tz: ZoneInfo, seed: int = DEMO_SEED
) -> bool:
    """Write the demo county into an empty database; False (and nothing written) otherwise."""
    if await orgs.get_county(session=session) is not None:
        return False
    data = demo_data()
    plan = plan_demo(seed)
    rng = random.Random(seed + 1)
    county = await orgs.create_org(
        session=session, code=data.county_code, name=data.county_name, kind=OrgKind.COUNTY
    )
    assert county.id is not None
    by_code: dict[str, OrgUnit] = {county.code: county}
    people: dict[str, list[Member]] = {}
    for t in data.townships:
        township = await orgs.create_org(
            session=session, code=t.code, name=t.name, kind=OrgKind.TOWNSHIP, parent_id=county.id
        )
        by_code[t.code] = township
        for b in t.branches:
            branch = await orgs.create_org(
                session=session,
                code=b.code,
                name=b.name,
                kind=OrgKind.VILLAGE_BRANCH,
                parent_id=township.id,
            )
            by_code[b.code] = branch
            people[b.code] = await _seed_roster(session, branch, plan.rosters[b.code], now)
    officers = await _seed_offices(session, plan, by_code, people, now)
    history = _History(session, rng, now, tz, officers)
    for code, roster in people.items():
        await history.sessions(by_code[code], roster, plan.rosters[code])
    await history.trainings(county, by_code, people)
    await history.notices(county, by_code)
    await audit.record(
        session=session,
        actor=None,
        action="sandbox.seed",
        target_kind="org_unit",
        target_id=county.id,
        org_id=county.id,
        detail={"seed": seed, "members": sum(len(r) for r in people.values())},
        at=now,
    )
    return True


async def _seed_roster(
    session: AsyncSession, branch: OrgUnit, planned: Sequence[PlannedMember], now: datetime
) -> list[Member]:
    assert branch.id is not None
    roster: list[Member] = []
    for person in planned:
        member = await members.create_member(
            session=session,
            name=person.name,
            org_id=branch.id,
            status=person.status,
            gender=person.gender,
            phone=person.phone,
            joined_on=person.joined_on,
            now=now,
        )
        assert member.id is not None
        if person.registered:
            telegram_id = roster_telegram_id(member.id)
            await accounts.ensure_account(
                session=session, telegram_user_id=telegram_id, first_name=person.name, now=now
            )
            member = await members.link_telegram(
                session=session, member_id=member.id, telegram_user_id=telegram_id, now=now
            )
        roster.append(member)
    return roster


async def _seed_offices(
    session: AsyncSession,
    plan: DemoPlan,
    by_code: dict[str, OrgUnit],
    people: dict[str, list[Member]],
    now: datetime,
) -> dict[str, int]:
    """Grant the planned roles; returns org code -> Telegram id of who acts for that org."""
    acting: dict[str, int] = {}
    for office in plan.offices:
        member = people[office.branch_code][office.index]
        if office.role is None or office.scope_code is None or member.telegram_user_id is None:
            continue
        org = by_code[office.scope_code]
        assert org.id is not None
        await roles.grant_role(
            session=session,
            telegram_user_id=member.telegram_user_id,
            role=office.role,
            org_id=org.id,
            granted_by=None,
            now=now,
        )
        acting.setdefault(office.scope_code, member.telegram_user_id)
    return acting


class _History:
    """The months before the sandbox started: sessions, trainings, notices."""

    def __init__(
        self,
        session: AsyncSession,
        rng: random.Random,
        now: datetime,
        tz: ZoneInfo,
        acting: dict[str, int],
    ) -> None:
        self.db = session
        self.rng = rng
        self.now = now
        self.tz = tz
        self.acting = acting
        self.today = now.astimezone(tz).date()

    def _at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.tz).astimezone(self.now.tzinfo)

    async def sessions(
        self, branch: OrgUnit, roster: list[Member], planned: list[PlannedMember]
    ) -> None:
        """Three months of theme party days, a party lesson, a general meeting; one ahead."""
        first_of_month = self.today.replace(day=1)
        past = [
            (SessionKind.THEME_PARTY_DAY, _months_before(first_of_month, n).replace(day=15), 9, 0)
            for n in (3, 2, 1)
        ]
        past.append(
            (SessionKind.PARTY_LESSON, _months_before(first_of_month, 2).replace(day=8), 19, 30)
        )
        past.append(
            (
                SessionKind.BRANCH_GENERAL_MEETING,
                _months_before(first_of_month, 1).replace(day=25),
                19,
                30,
            )
        )
        diligence = {m.id: p.diligence for m, p in zip(roster, planned, strict=True)}
        for kind, day, hour, minute in sorted(past, key=lambda item: item[1]):
            starts_at = self._at(day, hour, minute)
            sent = [(o, starts_at - timedelta(minutes=o), ReminderState.SENT) for o in OFFSETS]
            study = await self._create(branch, kind, starts_at, sent)
            await self._held(branch, study, diligence)
        starts_at = self._at(self.today + timedelta(days=6 + self.rng.randint(0, 4)), 9)
        ahead = [
            (r.offset_minutes, r.due_at, r.state)
            for r in plan_reminders(starts_at, OFFSETS, self.now)
        ]
        await self._create(branch, SessionKind.THEME_PARTY_DAY, starts_at, ahead)

    async def _create(
        self,
        branch: OrgUnit,
        kind: SessionKind,
        starts_at: datetime,
        reminders: Sequence[tuple[int, datetime, ReminderState]],
    ) -> StudySession:
        assert branch.id is not None
        return await session_store.create_session(
            session=self.db,
            org_id=branch.id,
            kind=kind,
            topic=self.rng.choice(demo_data().topics),
            starts_at=starts_at,
            duration_minutes=90,
            place=self.rng.choice(demo_data().places),
            audience_kind=AudienceKind.BRANCH,
            audience_org_id=branch.id,
            created_by=self.acting.get(branch.code, 0),
            reminders=reminders,
            now=min(starts_at - timedelta(days=7), self.now),
        )

    async def _held(
        self, branch: OrgUnit, study: StudySession, diligence: dict[int | None, float]
    ) -> None:
        """Answers, leave, check-ins, the closing, and make-up study, as members gave them."""
        assert study.id is not None
        secretary = self.acting.get(branch.code, 0)
        db, start = self.db, study.starts_at
        day_before = start - timedelta(days=1)
        for invitee in await session_store.invitees(session=db, session_id=study.id):
            row, roll = invitee.attendance_id, self.rng.random()
            present = diligence[invitee.member_id]
            if roll < present:
                await session_store.set_rsvp(session=db, attendance_id=row, now=day_before)
                proxy = invitee.telegram_user_id is None
                await session_store.check_in(
                    session=db,
                    attendance_id=row,
                    method=CheckinMethod.PROXY if proxy else CheckinMethod.CODE,
                    now=start + timedelta(minutes=self.rng.randint(-25, 10)),
                    marked_by=secretary if proxy else None,
                )
            elif roll < present + 0.08:
                reason = self.rng.choice(tuple(LeaveReason))
                await session_store.request_leave(
                    session=db, attendance_id=row, reason=reason, note=None, now=day_before
                )
                await session_store.decide_leave(
                    session=db, attendance_id=row, approve=True, decided_by=secretary, now=start
                )
        closed = start + timedelta(hours=3)
        await session_store.finalise_session(session=db, session_id=study.id, now=closed)
        missed = [
            invitee.attendance_id
            for invitee in await session_store.invitees(session=db, session_id=study.id)
            if invitee.outcome in (AttendanceOutcome.ABSENT, AttendanceOutcome.EXCUSED)
        ]
        await session_store.mark_makeup_sent(session=db, attendance_ids=missed, now=closed)
        for row in missed:
            if self.rng.random() < 0.6:
                done = closed + timedelta(days=self.rng.randint(1, 6))
                await session_store.mark_makeup_done(session=db, attendance_id=row, now=done)

    async def trainings(
        self, county: OrgUnit, by_code: dict[str, OrgUnit], people: dict[str, list[Member]]
    ) -> None:
        """A county-wide winter training and one training per township, with confirmations."""
        data = demo_data()
        everyone = [m for roster in people.values() for m in roster]
        await self._training(county, data.county_training, 60, Decimal("8.0"), everyone, 0.8)
        for t in data.townships:
            township_people = [m for b in t.branches for m in people[b.code]]
            title = data.township_training.format(place=t.place)
            await self._training(by_code[t.code], title, 30, Decimal("4.0"), township_people, 0.7)

    async def _training(
        self,
        org: OrgUnit,
        title: str,
        days_ago: int,
        hours: Decimal,
        audience: list[Member],
        share: float,
    ) -> None:
        assert org.id is not None
        held_on = self.today - timedelta(days=days_ago)
        training = Training(
            org_id=org.id,
            title=title,
            held_on=held_on,
            hours=hours,
            cost_yuan=Decimal(30 * len(audience)).quantize(Decimal("0.01")),
            created_by=self.acting.get(org.code, 0),
            created_at=self._at(held_on, 18),
        )
        self.db.add(training)
        await self.db.flush()
        assert training.id is not None
        for member in audience:
            if self.rng.random() < share:
                assert member.id is not None
                self.db.add(
                    TrainingConfirmation(
                        training_id=training.id,
                        member_id=member.id,
                        confirmed_at=self._at(held_on, 17),
                    )
                )
        await self.db.flush()

    async def notices(self, county: OrgUnit, by_code: dict[str, OrgUnit]) -> None:
        """Past notices of the county, the first township and its first branch, with reads."""
        township = demo_data().townships[0]
        senders = {
            "county": county,
            "township": by_code[township.code],
            "branch": by_code[township.branches[0].code],
        }
        for notice in demo_data().notices:
            await self._notice(senders[notice.org], notice)

    async def _notice(self, org: OrgUnit, data: NoticeData) -> None:
        """A notice as /notice leaves it once the relay has sent it and people have read it."""
        assert org.id is not None
        db = self.db
        sent_at = self._at(self.today - timedelta(days=data.days_ago), 10)
        paths = [org.path]
        readers = await notices.recipients(session=db, paths=paths)
        counts = await notices.audience_counts(session=db, paths=paths)
        audience = Audience(root_id=org.id, org_ids=(org.id,)).to_json()
        notice = await notices.create_notice(
            session=db,
            org_id=org.id,
            sender_telegram_id=self.acting.get(org.code, 0),
            text=data.text,
            parse_mode=ParseMode.HTML.value,
            attachment_kind=None,
            attachment_file_id=None,
            audience={**audience, "unreachable": counts.unreachable},
            requires_ack=True,
            ack_reminder_after_minutes=24 * 60,
            progress_chat_id=None,
            progress_message_id=None,
            now=sent_at,
        )
        assert notice.id is not None
        notice.ack_reminded_at = sent_at + timedelta(days=1)  # that reminder went out long ago
        for reader in readers:
            db.add(
                Delivery(
                    kind=DeliveryKind.NOTICE,
                    notice_id=notice.id,
                    member_id=reader.member_id,
                    chat_id=reader.chat_id,
                    payload={"text": data.text, "parse_mode": ParseMode.HTML.value},
                    state=DeliveryState.SENT,
                    attempts=1,
                    next_attempt_at=sent_at,
                    sent_at=sent_at,
                    dedupe_key=f"notice:{notice.id}:{reader.chat_id}",
                    created_at=sent_at,
                )
            )
        await db.flush()
        for reader in readers:
            if self.rng.random() < data.read_share:
                read_at = sent_at + timedelta(hours=self.rng.randint(1, 30))
                await notices.acknowledge(
                    session=db, notice_id=notice.id, chat_id=reader.chat_id, now=read_at
                )


def _months_before(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


async def demo_people(*, session: AsyncSession, seed: int = DEMO_SEED) -> list[DemoPerson]:
    """The cast as it stands in the database (found by branch and name), in page order."""
    plan = plan_demo(seed)
    found: list[DemoPerson] = []
    for cast in CAST:
        planned = plan.rosters[cast.branch_code][cast.index]
        row = (
            await session.exec(
                select(Member, OrgUnit)
                .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
                .where(OrgUnit.code == cast.branch_code, Member.name == planned.name)
            )
        ).first()
        if row is None:
            continue
        member, branch = row
        if member.id is None or member.telegram_user_id is None:
            continue
        scope = branch
        if cast.scope_code is not None:
            scope = await orgs.get_org_by_code(session=session, code=cast.scope_code) or branch
        found.append(
            DemoPerson(
                key=cast.key,
                role=cast.role,
                name=member.name,
                member_id=member.id,
                telegram_user_id=member.telegram_user_id,
                phone=member.phone,
                branch_name=branch.name,
                scope_name=scope.name,
            )
        )
    return found


def visitor_name(number: int, seed: int = DEMO_SEED) -> str:
    """A plausible name for the n-th newcomer (someone not on any roster yet)."""
    rng = random.Random(seed * 1000 + number)
    return _name(rng, Gender.FEMALE if rng.random() < 0.4 else Gender.MALE)


def visitor_phone(telegram_user_id: int) -> str:
    """A stable mobile number for a sandbox Telegram account that has none on a roster."""
    return f"+86199{telegram_user_id % 10**8:08d}"
