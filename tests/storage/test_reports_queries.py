"""The county view's aggregates on both databases: the fixture county's known numbers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import col, select

from bot.export import gather
from bot.periods import Period, PeriodKind
from bot.summary import Figures, Leading, build_summary
from storage import Database, orgs, reports
from storage.models import Attendance, OrgUnit, SessionKind, StudySession
from storage.reports import Acks, AttendanceFigures, By, Ratings, Roster, Scope
from tests.storage.test_sessions_storage import database  # noqa: F401  (both databases)
from tests.support.reports import NOW, SHANGHAI, accounts_only, build_county

YEAR = Period(PeriodKind.YEAR, 2026)


async def _figures(sqlite_db: Database, org: OrgUnit) -> tuple[Figures, dict[str, Figures]]:
    async with sqlite_db.session_scope() as db:
        fresh = await orgs.get_org(db=db, org_id=org.id or 0)
        assert fresh is not None
        summary = await build_summary(db=db, org=fresh, period=YEAR, now=NOW, tz=SHANGHAI)
    return summary.whole, {line.name: line.figures for line in summary.lines}


async def test_every_scope_on_both_databases(database: Database) -> None:  # noqa: F811
    county = await build_county(database, accounts_only())
    whole, towns = await _figures(database, county.tree.county)
    assert whole.roster == Roster(8, 6)
    assert whole.attendance == AttendanceFigures(10, 6, 1, 3, 4, 2)
    assert whole.acks == Acks(3, 2)
    assert (whole.periods_met, whole.periods_required) == (16, 24)
    assert whole.cadence[SessionKind.BRANCH_COMMITTEE_MEETING] == (7, 9, 7)
    assert whole.cadence[SessionKind.SPECIAL_STUDY] == (0, 0, 1)
    assert whole.five_good is None
    assert whole.funds is not None
    assert whole.funds.per_member_yuan == Decimal("27.50")
    assert whole.visits == Ratings(3, 1)
    assert whole.training is not None
    assert (whole.training.assigned, whole.training.completed) == (9, 5)
    assert whole.training.hours == Decimal("17.0")
    assert towns["东风镇党委"].training is not None
    assert towns["东风镇党委"].training.hours == Decimal("14.5")
    assert whole.leading == Leading(3, 0, 1, 0, 1)
    assert towns["前进乡党委"].funds is not None
    assert towns["前进乡党委"].funds.per_member_yuan == Decimal("20.00")
    assert towns["东风镇党委"].visits == Ratings(2, 1)
    assert towns["东风镇党委"].leading == Leading(1, 0, 1, 0, 1)
    assert list(towns) == ["东风镇党委", "前进乡党委"]  # worst first
    assert towns["东风镇党委"].attendance == AttendanceFigures(8, 5, 1, 2, 3, 2)
    assert (towns["前进乡党委"].periods_met, towns["前进乡党委"].periods_required) == (8, 8)

    township, branches = await _figures(database, county.tree.townships["T01"])
    assert township.roster == Roster(6, 4)
    assert (township.periods_met, township.periods_required) == (8, 16)
    assert branches["柳树村党支部"].attendance == AttendanceFigures(2, 2, 0, 0, 0, 0)
    assert (branches["柳树村党支部"].periods_met, branches["柳树村党支部"].periods_required) == (
        2,
        8,
    )

    branch, people = await _figures(database, county.tree.dongfeng)
    assert branch.attendance == AttendanceFigures(6, 3, 1, 2, 3, 2)
    assert list(people) == ["赵六", "李四", "王五", "张三"]
    assert people["李四"].attendance == AttendanceFigures(2, 1, 0, 1, 1, 1)
    assert people["李四"].acks == Acks(1, 0)


async def test_grouped_queries_key_by_unit_member_or_whole(database: Database) -> None:  # noqa: F811
    county = await build_county(database, accounts_only())
    top = county.tree.county
    t01, t02 = county.tree.townships["T01"], county.tree.townships["T02"]
    assert top.id is not None
    assert t01.id is not None
    assert t02.id is not None
    async with database.session_scope() as db:
        by_unit = await reports.roster(db=db, scope=Scope(top.id, top.path, By.UNIT))
        whole = await reports.roster(db=db, scope=Scope(top.id, top.path, By.WHOLE))
        branch = county.tree.dongfeng
        assert branch.id is not None
        by_member = await reports.roster(db=db, scope=Scope(branch.id, branch.path, By.MEMBER))
        rated = await reports.five_good(
            db=db, scope=Scope(top.id, top.path, By.UNIT), years=[2026]
        )
    assert by_unit == {t01.id: Roster(6, 4), t02.id: Roster(2, 2)}
    assert whole == {top.id: Roster(8, 6)}
    assert sorted(by_member.values()) == [Roster(1, 0), Roster(1, 1), Roster(1, 1), Roster(1, 1)]
    assert rated == {}


async def test_the_workbook_rows_on_both_databases(database: Database) -> None:  # noqa: F811
    county = await build_county(database, accounts_only())
    async with database.session_scope() as db:
        data = await gather(db=db, org=county.tree.county, period=YEAR, tz=SHANGHAI, language="zh")
    counts = {sheet.title: len(sheet.rows) for sheet in data.sheets}
    assert counts == {
        "Members": 8,
        "Sessions": 19,  # 2026 in the county, the cancelled one included
        "Attendance": 10,
        "Notices": 1,
        "Read receipts": 3,
        "Trainings": 9,
        "Funds": 2,
        "Training funds per member": 6,
        "Contact points": 3,
        "Leading groups": 3,
        "Satisfaction survey": 0,  # no survey held in this county
    }
    sessions = next(sheet for sheet in data.sheets if sheet.title == "Sessions")
    invited = [row[6] for row in sessions.rows]
    assert sum(invited) == 10
    # Read raw and named once per value: still local wall-clock times and readers' words.
    attendance = next(sheet for sheet in data.sheets if sheet.title == "Attendance")
    for row in [*attendance.rows, *sessions.rows]:
        assert isinstance(row[0], datetime)
        assert row[0].tzinfo is None
        assert row[0].year == 2026
    assert {row[7] for row in attendance.rows} <= {"出席", "缺席", "请假", "未定"}
    assert {row[2] for row in attendance.rows} <= {"支委会", "主题党日", "支部党员大会", "党课"}
    checked = [row[8] for row in attendance.rows if row[8] is not None]
    assert checked
    assert all(moment.tzinfo is None for moment in checked)
    # The same wall-clock times as the stored UTC ones, shown in Asia/Shanghai.
    async with database.session_scope() as db:
        stored = await db.exec(
            select(StudySession.starts_at, Attendance.checked_in_at).join(
                Attendance, col(Attendance.session_id) == col(StudySession.id)
            )
        )
        pairs = stored.all()
    shown = {
        (
            at.astimezone(SHANGHAI).replace(tzinfo=None),
            done and done.astimezone(SHANGHAI).replace(tzinfo=None),
        )
        for at, done in pairs
    }
    assert {(row[0], row[8]) for row in attendance.rows} <= shown
    assert set(checked) <= {done for _, done in shown}


async def test_one_read_of_attendance_says_what_the_whole_and_the_units_say(
    database: Database,  # noqa: F811
) -> None:
    county = await build_county(database, accounts_only())
    start, end = YEAR.bounds(SHANGHAI)
    for org in (county.tree.county, county.tree.townships["T01"]):
        assert org.id is not None
        async with database.session_scope() as db:
            whole, units = await reports.attendance_with_whole(
                db=db, scope=Scope(org.id, org.path, By.UNIT), start=start, end=end
            )
            apart = [
                await reports.attendance(
                    db=db, scope=Scope(org.id, org.path, by), start=start, end=end
                )
                for by in (By.WHOLE, By.UNIT)
            ]
        assert (whole, units) == (apart[0], apart[1])
        assert whole[org.id].invited > 0
        assert units
    async with database.session_scope() as db:
        nothing = await reports.attendance_with_whole(
            db=db,
            scope=Scope(county.tree.county.id or 0, county.tree.county.path, By.UNIT),
            start=end,
            end=end,
        )
    assert nothing == ({}, {})
