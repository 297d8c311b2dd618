"""The database itself keeps the invariants: uniques, foreign keys, CHECKs, cascades."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, delete, select

from storage import Database
from storage.models import (
    Assessment,
    AssessmentScheme,
    AssessmentSubject,
    Attendance,
    AudienceKind,
    Delivery,
    DeliveryKind,
    DeliveryState,
    FundAllocation,
    FundPurpose,
    FundSource,
    Invitation,
    Member,
    MemberStatus,
    OrgKind,
    OrgUnit,
    Rating,
    Role,
    RoleGrant,
    SessionKind,
    SessionReminder,
    StudySession,
    TelegramAccount,
)

T0 = datetime(2025, 5, 1, 1, 0, tzinfo=UTC)


async def add(sqlite_db: Database, *rows: SQLModel) -> None:
    """Insert rows in one unit of work."""
    async with sqlite_db.session_scope() as db:
        for row in rows:
            db.add(row)
            await db.flush()


def member(org_id: int, name: str = "张三", telegram_user_id: int | None = None) -> Member:
    return Member(
        name=name, status=MemberStatus.FULL, org_id=org_id, telegram_user_id=telegram_user_id
    )


def study_session(org_id: int) -> StudySession:
    return StudySession(
        org_id=org_id,
        kind=SessionKind.THEME_PARTY_DAY,
        topic="主题党日",
        starts_at=T0,
        duration_minutes=90,
        place="村委会",
        audience_kind=AudienceKind.BRANCH,
        audience_org_id=org_id,
        created_by=1,
    )


def delivery(key: str) -> Delivery:
    return Delivery(kind=DeliveryKind.NOTICE, chat_id=42, payload={"text": "hi"}, dedupe_key=key)


async def test_member_telegram_account_is_unique(
    sqlite_db: Database, tree: dict[str, int]
) -> None:
    await add(sqlite_db, TelegramAccount(telegram_user_id=7, first_name="A"))
    await add(sqlite_db, member(tree["v1"], telegram_user_id=7))
    await add(sqlite_db, member(tree["v1"], name="无账号"), member(tree["v2"], name="也无账号"))
    with pytest.raises(IntegrityError):
        await add(sqlite_db, member(tree["v2"], name="李四", telegram_user_id=7))


async def test_member_needs_existing_account_and_org(
    sqlite_db: Database, tree: dict[str, int]
) -> None:
    with pytest.raises(IntegrityError):
        await add(sqlite_db, member(tree["v1"], telegram_user_id=999))
    with pytest.raises(IntegrityError):
        await add(sqlite_db, member(12345))


async def test_delivery_dedupe_key_is_unique(sqlite_db: Database) -> None:
    await add(sqlite_db, delivery("notice:1:member:1"))
    with pytest.raises(IntegrityError):
        await add(sqlite_db, delivery("notice:1:member:1"))
    async with sqlite_db.session_scope() as db:
        row = (await db.exec(select(Delivery))).one()
    assert row.state is DeliveryState.PENDING
    assert row.attempts == 0
    assert row.next_attempt_at.tzinfo is UTC
    assert row.payload == {"text": "hi"}


async def test_attendance_once_per_session_and_member(
    sqlite_db: Database, tree: dict[str, int]
) -> None:
    m, s = member(tree["v1"]), study_session(tree["v1"])
    await add(sqlite_db, m, s)
    assert m.id is not None
    assert s.id is not None
    await add(sqlite_db, Attendance(session_id=s.id, member_id=m.id))
    with pytest.raises(IntegrityError):
        await add(sqlite_db, Attendance(session_id=s.id, member_id=m.id))


async def test_role_grant_is_unique(sqlite_db: Database, tree: dict[str, int]) -> None:
    await add(sqlite_db, TelegramAccount(telegram_user_id=7, first_name="A"))
    grant = RoleGrant(telegram_user_id=7, role=Role.SECRETARY, org_id=tree["v1"])
    await add(
        sqlite_db, grant, RoleGrant(telegram_user_id=7, role=Role.SECRETARY, org_id=tree["v2"])
    )
    with pytest.raises(IntegrityError):
        await add(sqlite_db, RoleGrant(telegram_user_id=7, role=Role.SECRETARY, org_id=tree["v1"]))


async def test_deleting_a_session_cascades(sqlite_db: Database, tree: dict[str, int]) -> None:
    m, s = member(tree["v1"]), study_session(tree["v1"])
    await add(sqlite_db, m, s)
    assert m.id is not None
    assert s.id is not None
    await add(
        sqlite_db,
        Attendance(session_id=s.id, member_id=m.id),
        SessionReminder(session_id=s.id, offset_minutes=60, due_at=T0),
        Delivery(kind=DeliveryKind.SESSION_REMINDER, session_id=s.id, chat_id=1, dedupe_key="r:1"),
    )
    async with sqlite_db.session_scope() as db:
        await db.exec(delete(StudySession).where(col(StudySession.id) == s.id))
    async with sqlite_db.session_scope() as db:
        assert (await db.exec(select(Attendance))).all() == []
        assert (await db.exec(select(SessionReminder))).all() == []
        assert (await db.exec(select(Delivery))).all() == []


async def test_assessment_has_exactly_one_subject(
    sqlite_db: Database, tree: dict[str, int]
) -> None:
    def rating(
        subject_kind: AssessmentSubject, org_id: int | None = None, member_id: int | None = None
    ) -> Assessment:
        return Assessment(
            year=2025,
            subject_kind=subject_kind,
            org_id=org_id,
            member_id=member_id,
            scheme=AssessmentScheme.FIVE_GOOD,
            rating=Rating.GOOD,
            passed=True,
            assessed_by=1,
        )

    await add(sqlite_db, rating(subject_kind=AssessmentSubject.ORG, org_id=tree["v1"]))
    with pytest.raises(IntegrityError):  # once per year and scheme
        await add(sqlite_db, rating(subject_kind=AssessmentSubject.ORG, org_id=tree["v1"]))
    with pytest.raises(IntegrityError):  # org subject without org
        await add(sqlite_db, rating(subject_kind=AssessmentSubject.ORG))
    m = member(tree["v1"])
    await add(sqlite_db, m)
    with pytest.raises(IntegrityError):  # both subjects
        await add(
            sqlite_db,
            rating(subject_kind=AssessmentSubject.MEMBER, member_id=m.id, org_id=tree["v2"]),
        )


async def test_money_and_counters_are_checked(sqlite_db: Database, tree: dict[str, int]) -> None:
    def allocation(amount: str) -> FundAllocation:
        return FundAllocation(
            org_id=tree["t1"],
            year=2025,
            source=FundSource.COUNTY,
            purpose=FundPurpose.TRAINING,
            amount_yuan=Decimal(amount),
            recorded_by=1,
        )

    await add(sqlite_db, allocation("1234.50"))
    async with sqlite_db.session_scope() as db:
        stored = (await db.exec(select(FundAllocation))).one()
    assert stored.amount_yuan == Decimal("1234.50")
    with pytest.raises(IntegrityError):
        await add(sqlite_db, allocation("-0.01"))

    invitation = Invitation(
        code_hash="0" * 64, org_id=tree["v1"], role=Role.MEMBER, max_uses=1, expires_at=T0
    )
    await add(sqlite_db, invitation)
    invitation.uses = 2
    with pytest.raises(IntegrityError):
        await add(sqlite_db, invitation)


async def test_county_is_the_only_root(sqlite_db: Database, tree: dict[str, int]) -> None:
    with pytest.raises(IntegrityError):
        await add(sqlite_db, OrgUnit(code="X1", name="孤村", kind=OrgKind.VILLAGE_BRANCH))
    with pytest.raises(IntegrityError):
        await add(
            sqlite_db,
            OrgUnit(code="C002", name="又一县", kind=OrgKind.COUNTY, parent_id=tree["county"]),
        )
