"""A fixture county with known numbers for the county view (not a test module).

红旗县 > 东风镇 (东风村, 柳树村), 前进乡 (前进村); the clock at 2026-04-15 10:00 in
Shanghai, so in 2026 the months January to March and the first quarter are judged.
Sessions, outcomes, make-up study and 已阅 acks are written straight into the
database (as closed history), so every figure below is known by hand:

=========  =====  ===========  =========  ==========  =============  =======
unit       roster on Telegram  on time    attendance  make-up        read
=========  =====  ===========  =========  ==========  =============  =======
东风村     4      3            6/8        3/6         2/3            1/2
柳树村     2      1            2/8        2/2         0/0            1/1
前进村     2      2            8/8        1/2         0/1            0/0
=========  =====  ===========  =========  ==========  =============  =======

Training funds of 2026: 160 yuan at the county, 60 at 东风村 (so per member: county 27.50,
东风镇 30.00, 前进乡 20.00, 东风村 35.00, 柳树村 20.00). Contact points of 2026: 张三 ->
柳树村 (2 visits), 李四 -> 东风镇 (none), 吴九 -> 前进村 (1 visit). 东风镇 held a special
study; no leading group heard a report. Trainings published in 2026: 东风镇's (4 hours) for
all of 东风村 and 柳树村, done by 张三, 李四 and 孙七; the county's (2.5 hours) for 吴九, 郑十
and 张三, done by 吴九 and 张三 (county 5/9 and 17 hours, 东风镇 4/7 and 14.5, 前进乡 1/2
and 2.5, 东风村 3/5 and 10.5, 柳树村 1/2 and 4).

东风村 by member: 张三 2/2 read 1/1; 李四 1/2 (absent once, made up) read 0/1; 王五 0/1
(excused, made up); 赵六 0/1 (absent, not made up, not on Telegram). Excused 1, absent 3
in the county. 柳树村 also has a December 2025 committee meeting at which 孙七 was absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import SimUser
from storage import Database, accounts
from storage.models import (
    Attendance,
    AttendanceOutcome,
    AudienceKind,
    ContactPoint,
    ContactVisit,
    Delivery,
    DeliveryKind,
    DeliveryState,
    FundAllocation,
    FundPurpose,
    FundSource,
    Member,
    Notice,
    OrgUnit,
    Role,
    SessionKind,
    SessionState,
    StudySession,
    Training,
    TrainingAssignee,
    TrainingConfirmation,
    TrainingKind,
)
from tests.support.builders import Tree, add_member, build_tree, grant, id_of

Person = Callable[..., SimUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 15, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
FIRST_USE = datetime(2025, 12, 1, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)

G, C, T, L = (
    SessionKind.BRANCH_GENERAL_MEETING,
    SessionKind.BRANCH_COMMITTEE_MEETING,
    SessionKind.THEME_PARTY_DAY,
    SessionKind.PARTY_LESSON,
)
P, E, A = AttendanceOutcome.PRESENT, AttendanceOutcome.EXCUSED, AttendanceOutcome.ABSENT


def shanghai(year: int, month: int, day: int, hour: int = 19) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class County:
    """The fixture: its tree, members by name and the officers who ask for reports."""

    tree: Tree
    staff: SimUser  # county organisation department
    organiser: SimUser  # 东风镇
    secretary: SimUser  # 东风村
    members: dict[str, Member] = field(default_factory=dict)
    users: dict[str, SimUser] = field(default_factory=dict)

    def org(self, code: str) -> OrgUnit:
        found = self.tree.branches.get(code) or self.tree.townships.get(code)
        return found if found is not None else self.tree.county


ROSTER = {
    "T01-V01": (("张三", True), ("李四", True), ("王五", True), ("赵六", False)),
    "T01-V02": (("孙七", True), ("周八", False)),
    "T02-V01": (("吴九", True), ("郑十", True)),
}

# (branch, kind, Shanghai day, state, {member: (outcome, made up)})
Outcomes = dict[str, tuple[AttendanceOutcome, bool]]
SESSIONS: list[tuple[str, SessionKind, tuple[int, int, int], SessionState, Outcomes]] = [
    ("T01-V01", C, (2026, 1, 10), SessionState.CLOSED, {}),
    ("T01-V01", C, (2026, 2, 10), SessionState.CLOSED, {}),
    ("T01-V01", C, (2026, 3, 10), SessionState.CLOSED, {}),
    ("T01-V01", T, (2026, 1, 20), SessionState.CLOSED, {"张三": (P, False), "李四": (A, True)}),
    ("T01-V01", T, (2026, 3, 20), SessionState.CLOSED, {}),
    (
        "T01-V01",
        G,
        (2026, 3, 25),
        SessionState.CLOSED,
        {"张三": (P, False), "李四": (P, False), "王五": (E, True), "赵六": (A, False)},
    ),
    ("T01-V02", C, (2025, 12, 5), SessionState.CLOSED, {"孙七": (A, False)}),
    ("T01-V02", C, (2026, 1, 5), SessionState.CLOSED, {}),
    ("T01-V02", G, (2026, 2, 5), SessionState.CANCELLED, {}),
    ("T01-V02", L, (2026, 2, 15), SessionState.CLOSED, {"孙七": (P, False), "周八": (P, False)}),
    ("T02-V01", C, (2026, 1, 8), SessionState.CLOSED, {}),
    ("T02-V01", C, (2026, 2, 8), SessionState.CLOSED, {}),
    ("T02-V01", C, (2026, 3, 8), SessionState.CLOSED, {}),
    ("T02-V01", T, (2026, 1, 18), SessionState.CLOSED, {}),
    ("T02-V01", T, (2026, 2, 18), SessionState.CLOSED, {}),
    ("T02-V01", T, (2026, 3, 18), SessionState.CLOSED, {}),
    ("T02-V01", G, (2026, 2, 22), SessionState.CLOSED, {}),
    ("T02-V01", L, (2026, 3, 12), SessionState.CLOSED, {"吴九": (P, False), "郑十": (A, False)}),
    ("T02-V01", C, (2026, 4, 20), SessionState.SCHEDULED, {}),  # ahead: not held yet
    ("T01", SessionKind.SPECIAL_STUDY, (2026, 2, 1), SessionState.CLOSED, {}),
]

# (org code, yuan) of training money recorded for 2026
FUNDS = (("C", "160.00"), ("T01-V01", "60.00"))
# (leader, org code, visit days) of the 2026 contact points
CONTACT_POINTS = (
    ("张三", "T01-V02", (date(2026, 2, 3), date(2026, 3, 30))),
    ("李四", "T01", ()),
    ("吴九", "T02-V01", (date(2026, 4, 1),)),
)

# (org code, title, hours, published on, assigned, done) of the 2026 trainings
TRAININGS = (
    ("T01", "乡村振兴专题培训", "4.0", (2026, 3, 5),
     ("张三", "李四", "王五", "赵六", "孙七", "周八"), ("张三", "李四", "孙七")),
    ("C", "党章学习", "2.5", (2026, 2, 1), ("吴九", "郑十", "张三"), ("吴九", "张三")),
)  # fmt: skip

# (member, acked): deliveries of one notice of 东风镇 on 2026-03-01 that asked for 已阅.
ACKS = (("张三", True), ("李四", False), ("孙七", True))


@dataclass(frozen=True)
class Account:
    """A stand-in for a person when no bot is running (storage tests): just an id."""

    id: int


def accounts_only() -> Callable[..., Account]:
    """A `person` factory for storage tests: each call is a new Telegram id."""
    ids = count(9001)
    return lambda *_args, **_kwargs: Account(next(ids))


async def build_county(database: Database, person: Callable[..., Any]) -> County:
    """The fixture county with its officers on Telegram."""
    tree = await build_tree(database)
    staff = person("县委组织部小陈")
    organiser = person("东风镇组织委员")
    secretary = person("东风村书记")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    county = County(tree, staff, organiser, secretary)
    for code, people in ROSTER.items():
        for name, on_telegram in people:
            user = person(name) if on_telegram else None
            if user is not None:
                county.users[name] = user
            county.members[name] = await add_member(
                database,
                tree.branches[code],
                name,
                telegram_user_id=user.id if user is not None else None,
            )
    await _history(database, county)
    return county


async def _history(database: Database, county: County) -> None:
    async with database.session_scope() as db:
        for code, kind, day, state, outcomes in SESSIONS:
            org = county.org(code)
            starts = shanghai(*day)
            study = StudySession(
                org_id=id_of(org),
                kind=kind,
                topic=f"{org.name}{day[1]}月",
                starts_at=starts,
                duration_minutes=90,
                place="村委会",
                audience_kind=AudienceKind.BRANCH if code != "T01" else AudienceKind.SUBTREE,
                audience_org_id=id_of(org),
                state=state,
                created_by=county.staff.id,
                created_at=FIRST_USE,
                updated_at=FIRST_USE,
            )
            db.add(study)
            await db.flush()
            for name, (outcome, made_up) in outcomes.items():
                db.add(
                    Attendance(
                        session_id=id_of(study),
                        member_id=id_of(county.members[name]),
                        outcome=outcome,
                        checked_in_at=starts if outcome == P else None,
                        makeup_sent_at=starts if outcome != P else None,
                        makeup_done_at=starts if made_up else None,
                    )
                )
        notice = Notice(
            org_id=id_of(county.tree.townships["T01"]),
            sender_telegram_id=county.organiser.id,
            text="春耕期间注意安全",
            requires_ack=True,
            created_at=shanghai(2026, 3, 1, 9),
        )
        db.add(notice)
        await db.flush()
        for name, acked in ACKS:
            member = county.members[name]
            db.add(
                Delivery(
                    kind=DeliveryKind.NOTICE,
                    notice_id=notice.id,
                    member_id=member.id,
                    chat_id=member.telegram_user_id or 0,
                    state=DeliveryState.SENT,
                    sent_at=shanghai(2026, 3, 1, 9),
                    acknowledged_at=shanghai(2026, 3, 1, 12) if acked else None,
                    dedupe_key=f"notice:{notice.id}:{member.id}",
                )
            )
        wang = county.members["王五"]  # still waiting to be sent: not counted
        db.add(
            Delivery(
                kind=DeliveryKind.NOTICE,
                notice_id=notice.id,
                member_id=wang.id,
                chat_id=wang.telegram_user_id or 0,
                dedupe_key=f"notice:{notice.id}:{wang.id}",
            )
        )
        for code, yuan in FUNDS:
            db.add(
                FundAllocation(
                    org_id=id_of(county.org(code)),
                    year=2026,
                    source=FundSource.COUNTY,
                    purpose=FundPurpose.TRAINING,
                    amount_yuan=Decimal(yuan),
                    recorded_by=county.staff.id,
                )
            )
        for leader, code, days in CONTACT_POINTS:
            point = ContactPoint(
                leader_member_id=id_of(county.members[leader]),
                org_id=id_of(county.org(code)),
                year=2026,
                created_at=FIRST_USE,
            )
            db.add(point)
            await db.flush()
            for visited in days:
                db.add(
                    ContactVisit(
                        contact_point_id=id_of(point),
                        visited_on=visited,
                        recorded_by=county.staff.id,
                    )
                )
        for code, title, hours, day, assigned, done in TRAININGS:
            training = Training(
                org_id=id_of(county.org(code)),
                title=title,
                kind=TrainingKind.COURSE,
                held_on=date(*day),
                hours=Decimal(hours),
                created_by=county.staff.id,
                created_at=shanghai(*day, 9),
            )
            db.add(training)
            await db.flush()
            for name in assigned:
                db.add(
                    TrainingAssignee(
                        training_id=id_of(training), member_id=id_of(county.members[name])
                    )
                )
            for name in done:
                db.add(
                    TrainingConfirmation(
                        training_id=id_of(training),
                        member_id=id_of(county.members[name]),
                        confirmed_at=shanghai(*day, 20),
                    )
                )
        for user in (county.staff, county.organiser, county.secretary, *county.users.values()):
            await accounts.ensure_account(db=db, telegram_user_id=user.id)
