"""A county with rows in every table and a value in every column, for the migration round
trip (tests/storage/test_migrations_keep_data.py).

The demo county (demo/county.py) fills most tables; ``fill_every_table`` adds what it
leaves empty (rectification, the survey, five lead, guidance, registration, the ladders'
state, the leader's lease, ...) and sets the columns it leaves at their default, so a
value a migration dropped and could not give back shows up as a difference.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from demo.county import seed_demo
from storage import Database, orgs
from storage.models import (
    Assessment,
    AssessmentScheme,
    AssessmentSubject,
    AttachmentKind,
    Attendance,
    AudienceKind,
    AuditLog,
    BranchGuidance,
    CodeAttempt,
    ContactPoint,
    ContactVisit,
    Delivery,
    DeliveryKind,
    DeliveryState,
    DemonstrationSite,
    DutyReminder,
    DutyStep,
    FiveLeadProposal,
    FundAllocation,
    FundPurpose,
    FundSource,
    GuidanceClass,
    InactiveReason,
    Invitation,
    LeaderLease,
    LeaveReason,
    LeaveState,
    Member,
    MemberStatus,
    MemberStatusChange,
    Notice,
    OrgKind,
    OrgUnit,
    ProcessedUpdate,
    Rating,
    RectificationOrder,
    RectificationReport,
    RectificationState,
    RegistrationRequest,
    RegistrationState,
    ReminderState,
    Role,
    RoleGrant,
    Rsvp,
    Satisfaction,
    SatisfactionAnswer,
    SatisfactionSurvey,
    SessionEscalation,
    SessionKind,
    SessionReminder,
    SessionSeries,
    SessionState,
    StudySession,
    SurveyRaters,
    SurveyState,
    TelegramAccount,
    Training,
    TrainingAssignee,
    TrainingConfirmation,
)

__all__ = ["SEEDED_AT", "fill_every_table"]

# 2026-03-02 09:00 in Asia/Shanghai, as in the sandbox tests.
SEEDED_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
_TZ = ZoneInfo("Asia/Shanghai")

_Row = TypeVar("_Row", bound=SQLModel)


async def fill_every_table(database: Database, *, now: datetime = SEEDED_AT) -> None:
    """The demo county, then a row in every table it leaves empty and a value in every
    column it leaves at its default (at least two different values in each column)."""
    async with database.session_scope() as db:
        assert await seed_demo(db=db, now=now, tz=_TZ)
    async with database.session_scope() as db:
        await _Filler(db, now).fill()


async def _first(db: AsyncSession, model: type[_Row], *where: Any, offset: int = 0) -> _Row:
    """The ``offset``-th row of ``model`` (by primary key) that matches ``where``."""
    key = sa.inspect(model).primary_key
    query = select(model).where(*where).order_by(*key).offset(offset)
    row = (await db.exec(query)).first()
    assert row is not None, f"the demo county has no such {model.__name__}"
    return row


def _id(row: Any) -> int:
    value = row.id
    assert isinstance(value, int)
    return value


class _Filler:
    """Writes the rows; one method per area, in the order their references need."""

    def __init__(self, db: AsyncSession, now: datetime) -> None:
        self.db = db
        self.now = now
        self.year = now.astimezone(_TZ).year

    async def fill(self) -> None:
        await self.orgs_and_people()
        await self.sessions()
        await self.outbox()
        await self.trainings()
        await self.funds_and_duties()
        await self.assessments()
        await self.rectification()
        await self.survey()
        await self.registration()
        await self.runtime()

    async def add(self, *rows: SQLModel) -> None:
        self.db.add_all(rows)
        await self.db.flush()

    async def org(self, code: str) -> OrgUnit:
        return await _first(self.db, OrgUnit, col(OrgUnit.code) == code)

    async def orgs_and_people(self) -> None:
        db = self.db
        county = await self.org("C")
        branch = await self.org("T01-V01")
        # A branch that switched its greetings off, a poor village, a unit gone.
        branch.greetings_enabled = False
        poor = await self.org("T03-V02")
        poor.poverty_village = True
        self.department = await orgs.create_org(
            db=db,
            code="C-D01",
            name="县农业农村局",
            kind=OrgKind.COUNTY_DEPARTMENT,
            parent_id=_id(county),
        )
        self.station = await orgs.create_org(
            db=db,
            code="T01-S01",
            name="东镇农技站",
            kind=OrgKind.GRASSROOTS_STATION,
            parent_id=_id(await self.org("T01")),
        )
        self.group = await orgs.create_org(
            db=db,
            code="T01-V01-G1",
            name="第一党小组",
            kind=OrgKind.PARTY_GROUP,
            parent_id=_id(branch),
        )
        gone = await orgs.create_org(
            db=db,
            code="C-D02",
            name="县供销社",
            kind=OrgKind.COUNTY_DEPARTMENT,
            parent_id=_id(county),
        )
        gone.active = False
        in_group = await _first(db, Member, col(Member.org_id) == _id(branch))
        in_group.party_group_id = _id(self.group)
        left = await _first(db, Member, col(Member.org_id) == _id(branch), offset=5)
        left.active = False
        left.inactive_reason = InactiveReason.TRANSFERRED_OUT
        left.inactive_note = "2026年2月转往县城社区党支部"
        account = await _first(db, TelegramAccount, col(TelegramAccount.telegram_user_id) > 0)
        account.username = "zhang_nongye"
        blocked = await _first(
            db, TelegramAccount, col(TelegramAccount.telegram_user_id) > 0, offset=1
        )
        blocked.blocked_at = self.now - timedelta(days=3)
        grant = await _first(db, RoleGrant)
        grant.granted_by = account.telegram_user_id
        await self.add(
            MemberStatusChange(
                member_id=_id(in_group),
                from_status=None,
                to_status=MemberStatus.PROBATIONARY,
                changed_on=date(self.year - 1, 7, 1),
                recorded_by=None,
                created_at=self.now - timedelta(days=200),
            ),
            MemberStatusChange(
                member_id=_id(in_group),
                from_status=MemberStatus.PROBATIONARY,
                to_status=MemberStatus.FULL,
                changed_on=date(self.year, 1, 2),
                recorded_by=account.telegram_user_id,
                created_at=self.now - timedelta(days=59),
            ),
            AuditLog(
                at=self.now - timedelta(hours=2),
                actor_telegram_id=account.telegram_user_id,
                action="member.deactivate",
                target_kind="member",
                target_id=_id(left),
                org_id=_id(branch),
                detail={"reason": "transferred_out"},
            ),
        )
        self.account = account
        self.branch = branch

    async def sessions(self) -> None:
        """Two weekly series with their occurrences, minutes and materials on one session,
        a wrong code and a leave note on an attendance, a sent reminder, two ladders."""
        db = self.db
        branch = self.branch
        actor = self.account.telegram_user_id
        weekly = SessionSeries(
            org_id=_id(branch),
            kind=SessionKind.PARTY_GROUP_MEETING,
            topic="党小组学习",
            rule="FREQ=WEEKLY;BYDAY=WE",
            local_time=time(19, 30),
            duration_minutes=60,
            place="第一党小组活动点",
            audience_kind=AudienceKind.PARTY_GROUP,
            audience_org_id=_id(self.group),
            until=date(self.year, 12, 31),
            created_by=actor,
            created_at=self.now - timedelta(days=10),
            reminder_offsets=[1440, 60],
        )
        monthly = SessionSeries(
            org_id=_id(branch),
            kind=SessionKind.THEME_PARTY_DAY,
            topic="主题党日",
            rule="FREQ=MONTHLY;BYMONTHDAY=10",
            local_time=time(9, 0),
            duration_minutes=120,
            place="村委会会议室",
            audience_kind=AudienceKind.BRANCH,
            audience_org_id=_id(branch),
            created_by=actor,
            created_at=self.now - timedelta(days=9),
            active=False,
        )
        await self.add(weekly, monthly)
        for week in range(2):
            day = date(2026, 3, 4) + timedelta(weeks=week)
            starts = datetime.combine(day, time(19, 30), _TZ).astimezone(UTC)
            await self.add(
                StudySession(
                    org_id=_id(branch),
                    kind=SessionKind.PARTY_GROUP_MEETING,
                    topic="党小组学习",
                    starts_at=starts,
                    duration_minutes=60,
                    place="第一党小组活动点",
                    audience_kind=AudienceKind.PARTY_GROUP,
                    audience_org_id=_id(self.group),
                    series_id=_id(weekly),
                    series_slot=day,
                    state=SessionState.SCHEDULED if week else SessionState.CANCELLED,
                    created_by=actor,
                    created_at=self.now - timedelta(days=10),
                    updated_at=self.now - timedelta(days=10),
                )
            )
        held = await _first(db, StudySession, col(StudySession.state) == SessionState.CLOSED)
        held.materials_text = "学习《中国共产党农村基层组织工作条例》第三章"
        held.materials_file_id = "BQACAgUAAxkBAAIB-materials"
        held.materials_file_kind = AttachmentKind.DOCUMENT
        held.minutes_text = "到会28人，请假2人；书记传达县委文件，讨论春耕互助安排。"
        held.minutes_photo_ids = ["AgACAgUAAxkBAAIC-minutes-1", "AgACAgUAAxkBAAIC-minutes-2"]
        attended = await _first(db, Attendance, col(Attendance.session_id) == _id(held))
        attended.checkin_failures = 2
        excused = await _first(db, Attendance, col(Attendance.session_id) == _id(held), offset=1)
        excused.rsvp = Rsvp.LEAVE
        excused.leave_reason = LeaveReason.MIGRANT_WORK
        excused.leave_note = "在县城工地打工，周末回村补学"
        excused.leave_state = LeaveState.APPROVED
        reminder = await _first(db, SessionReminder)
        reminder.state = ReminderState.SENT
        reminder.sent_at = reminder.due_at
        await self.add(
            SessionEscalation(
                org_id=_id(branch),
                kind=SessionKind.BRANCH_COMMITTEE_MEETING,
                period_start=date(self.year, 1, 1),
                level=2,
                last_step_at=self.now - timedelta(days=20),
                resolved_at=self.now - timedelta(days=5),
                created_at=self.now - timedelta(days=50),
            ),
            SessionEscalation(
                org_id=_id(await self.org("T02-V01")),
                kind=SessionKind.PARTY_LESSON,
                period_start=date(self.year, 2, 1),
                level=1,
                last_step_at=self.now - timedelta(days=2),
                created_at=self.now - timedelta(days=2),
            ),
        )
        self.held = held

    async def outbox(self) -> None:
        """A notice with a photo and a progress message; deliveries in flight and failed."""
        db = self.db
        notice = await _first(db, Notice)
        notice.attachment_kind = AttachmentKind.PHOTO
        notice.attachment_file_id = "AgACAgUAAxkBAAID-notice"
        notice.progress_chat_id = self.account.telegram_user_id
        notice.progress_message_id = 4711
        notice.parse_mode = None
        other = await _first(db, Notice, offset=1)
        other.parse_mode = "HTML"
        other.requires_ack = False
        sending = await _first(db, Delivery)
        sending.kind = DeliveryKind.SESSION_INVITATION
        sending.notice_id = None
        sending.session_id = _id(self.held)
        sending.state = DeliveryState.SENDING
        sending.claimed_at = self.now - timedelta(seconds=20)
        sending.claimed_by = "web-1:4242"
        sent = await _first(db, Delivery, offset=1)
        sent.state = DeliveryState.SENT
        sent.attempts = 1
        sent.sent_at = self.now - timedelta(minutes=5)
        sent.telegram_message_id = 90817
        failed = await _first(db, Delivery, offset=2)
        failed.state = DeliveryState.FAILED
        failed.attempts = 2
        failed.last_error = "Forbidden: bot was blocked by the user"
        await db.flush()

    async def trainings(self) -> None:
        """Materials as a file, an audience by status, costs from two sources; a reminder
        sent, a quiz half done, a completion a secretary marked."""
        db = self.db
        with_file = await _first(db, Training)
        with_file.materials_file_id = "BQACAgUAAxkBAAIE-training"
        with_file.materials_file_kind = AttachmentKind.PHOTO
        with_file.audience_status = MemberStatus.PROBATIONARY
        with_file.cost_per_person_yuan = Decimal("45.50")
        with_file.funding_source = FundSource.TOWNSHIP
        assignee = await _first(db, TrainingAssignee)
        assignee.reminded_at = self.now - timedelta(days=1)
        assignee.quiz_next = 1
        assignee.quiz_failures = 1
        confirmation = await _first(db, TrainingConfirmation)
        confirmation.marked_by = self.account.telegram_user_id
        await db.flush()

    async def funds_and_duties(self) -> None:
        """A fund someone recorded with a note, a visit with photos, a site of last year,
        two rungs of the visit ladder taken."""
        db = self.db
        await self.add(
            FundAllocation(
                org_id=_id(self.branch),
                year=self.year - 1,
                source=FundSource.OTHER,
                purpose=FundPurpose.OTHER,
                amount_yuan=Decimal("2600.00"),
                note="乡贤捐赠，用于党员活动室桌椅",
                recorded_by=self.account.telegram_user_id,
                recorded_at=self.now - timedelta(days=70),
            ),
            DemonstrationSite(
                org_id=_id(await self.org("T02")),
                year=self.year - 1,
                created_by=self.account.telegram_user_id,
                created_at=self.now - timedelta(days=300),
            ),
        )
        visit = await _first(db, ContactVisit)
        visit.photo_ids = ["AgACAgUAAxkBAAIF-visit-1"]
        first = await _first(db, ContactPoint)
        second = await _first(db, ContactPoint, offset=1)
        await self.add(
            DutyReminder(
                contact_point_id=_id(first),
                step=DutyStep.NO_VISIT,
                sent_at=self.now - timedelta(days=30),
            ),
            DutyReminder(
                contact_point_id=_id(second),
                step=DutyStep.FEW_VISITS_COUNTY,
                sent_at=self.now - timedelta(days=3),
            ),
        )

    async def assessments(self) -> None:
        """A five-good rating with its criteria, a five-lead verdict from a proposal, a
        pending proposal, two branches classed."""
        db = self.db
        members = (
            await db.exec(
                select(Member)
                .where(col(Member.org_id) == _id(self.branch))
                .order_by(col(Member.id))
            )
        ).all()
        five_good = Assessment(
            year=self.year - 1,
            subject_kind=AssessmentSubject.ORG,
            org_id=_id(self.branch),
            scheme=AssessmentScheme.FIVE_GOOD,
            rating=Rating.GOOD,
            passed=True,
            criteria=0b10111,
            score=Decimal("88.50"),
            note="集体经济项目尚在起步",
            assessed_by=self.account.telegram_user_id,
            assessed_at=self.now - timedelta(days=60),
        )
        five_lead = Assessment(
            year=self.year - 1,
            subject_kind=AssessmentSubject.MEMBER,
            member_id=_id(members[1]),
            scheme=AssessmentScheme.FIVE_LEAD,
            rating=Rating.EXCELLENT,
            passed=True,
            assessed_by=self.account.telegram_user_id,
            assessed_at=self.now - timedelta(days=58),
        )
        await self.add(five_good, five_lead)
        await self.add(
            FiveLeadProposal(
                year=self.year - 1,
                member_id=_id(members[1]),
                proposed_by=self.account.telegram_user_id,
                proposed_at=self.now - timedelta(days=62),
                assessment_id=_id(five_lead),
            ),
            FiveLeadProposal(
                year=self.year,
                member_id=_id(members[2]),
                proposed_by=self.account.telegram_user_id + 1,
                proposed_at=self.now - timedelta(days=1),
            ),
            BranchGuidance(
                year=self.year,
                org_id=_id(self.branch),
                grade=GuidanceClass.ADVANCED,
                set_by=self.account.telegram_user_id,
                set_at=self.now - timedelta(days=40),
            ),
            BranchGuidance(
                year=self.year - 1,
                org_id=_id(await self.org("T03-V02")),
                grade=GuidanceClass.LAGGING,
                set_by=self.account.telegram_user_id + 1,
                set_at=self.now - timedelta(days=400),
            ),
        )
        self.five_good = five_good

    async def rectification(self) -> None:
        """An order closed after escalating, with photos and reports; one just issued."""
        closed = RectificationOrder(
            org_id=_id(await self.org("T03-V02")),
            year=self.year - 1,
            assessment_id=_id(self.five_good),
            reason="全年只召开两次支部党员大会",
            criticised=True,
            issued_on=date(self.year - 1, 11, 1),
            deadline=date(self.year - 1, 12, 31),
            state=RectificationState.DONE,
            closed_at=self.now - timedelta(days=45),
            closed_note="补开三次党员大会，会议记录已上传",
            issued_by=self.account.telegram_user_id,
            actions="按月召开支部党员大会并上传会议记录",
            level=2,
            remind_on=date(self.year - 1, 12, 24),
            reminded_at=datetime(self.year - 1, 12, 24, 1, 0, tzinfo=UTC),
            closed_by=self.account.telegram_user_id,
            closed_photo_ids=["AgACAgUAAxkBAAIG-closed-1"],
        )
        issued = RectificationOrder(
            org_id=_id(await self.org("T02-V02")),
            year=self.year,
            reason="党员活动室长期闲置",
            issued_on=date(self.year, 3, 1),
            deadline=date(self.year, 4, 30),
            issued_by=self.account.telegram_user_id + 1,
        )
        await self.add(closed, issued)
        await self.add(
            RectificationReport(
                order_id=_id(closed),
                note="已召开12月党员大会",
                photo_ids=["AgACAgUAAxkBAAIH-report-1", "AgACAgUAAxkBAAIH-report-2"],
                reported_by=self.account.telegram_user_id,
                reported_at=self.now - timedelta(days=70),
            ),
            RectificationReport(
                order_id=_id(issued),
                note="活动室已打扫，下周开放",
                reported_by=self.account.telegram_user_id + 2,
                reported_at=self.now - timedelta(hours=5),
            ),
        )

    async def survey(self) -> None:
        """Last year's survey closed, this year's open; an answer in each."""
        last = SatisfactionSurvey(
            year=self.year - 1,
            raters=SurveyRaters.SECRETARIES,
            state=SurveyState.CLOSED,
            opened_by=self.account.telegram_user_id,
            opened_at=self.now - timedelta(days=120),
            closed_at=self.now - timedelta(days=90),
        )
        this = SatisfactionSurvey(
            year=self.year,
            raters=SurveyRaters.MEMBERS,
            opened_by=self.account.telegram_user_id + 1,
            opened_at=self.now - timedelta(days=2),
        )
        await self.add(last, this)
        await self.add(
            SatisfactionAnswer(
                survey_id=_id(last),
                unit_id=_id(self.department),
                rater_id=self.account.telegram_user_id,
                choice=Satisfaction.BASICALLY,
                comment="下村指导次数偏少",
            ),
            SatisfactionAnswer(
                survey_id=_id(this),
                unit_id=_id(self.station),
                rater_id=self.account.telegram_user_id + 3,
                choice=Satisfaction.SATISFIED,
            ),
        )

    async def registration(self) -> None:
        """Two invitations (one revoked), a request approved and one waiting, two tries."""
        db = self.db
        newcomer = await _first(db, TelegramAccount, offset=2)
        other = await _first(db, TelegramAccount, offset=3)
        member = await _first(
            db, Member, col(Member.telegram_user_id) == newcomer.telegram_user_id
        )
        used = Invitation(
            code_hash="a" * 64,
            org_id=_id(self.branch),
            role=Role.MEMBER,
            created_by=self.account.telegram_user_id,
            max_uses=20,
            uses=1,
            expires_at=self.now + timedelta(days=7),
            created_at=self.now - timedelta(days=7),
        )
        revoked = Invitation(
            code_hash="b" * 64,
            org_id=_id(await self.org("T02-V01")),
            role=Role.DEPUTY_SECRETARY,
            created_by=None,
            expires_at=self.now + timedelta(days=1),
            revoked_at=self.now - timedelta(days=1),
            created_at=self.now - timedelta(days=2),
        )
        await self.add(used, revoked)
        await self.add(
            RegistrationRequest(
                telegram_user_id=newcomer.telegram_user_id,
                invitation_id=_id(used),
                org_id=_id(self.branch),
                claimed_name=member.name,
                phone=None,
                state=RegistrationState.APPROVED,
                member_id=_id(member),
                decided_by=self.account.telegram_user_id,
                decided_at=self.now - timedelta(days=6),
                created_at=self.now - timedelta(days=6, hours=2),
            ),
            RegistrationRequest(
                telegram_user_id=other.telegram_user_id,
                invitation_id=_id(used),
                org_id=_id(self.branch),
                claimed_name="刘桂兰",
                phone="13907310042",
                created_at=self.now - timedelta(hours=3),
            ),
            CodeAttempt(
                telegram_user_id=other.telegram_user_id,
                at=self.now - timedelta(hours=3, minutes=1),
                succeeded=False,
            ),
            CodeAttempt(
                telegram_user_id=other.telegram_user_id,
                at=self.now - timedelta(hours=3),
                succeeded=True,
            ),
        )

    async def runtime(self) -> None:
        """The leader's lease and the webhook updates taken lately."""
        await self.add(
            LeaderLease(
                name="jobs",
                holder="web-1:4242",
                acquired_at=self.now - timedelta(minutes=10),
                expires_at=self.now + timedelta(seconds=50),
            ),
            LeaderLease(
                name="relay",
                holder="web-2:5151",
                acquired_at=self.now - timedelta(minutes=3),
                expires_at=self.now + timedelta(seconds=40),
            ),
            ProcessedUpdate(
                update_id=700000001,
                taken_by="web-1:4242",
                taken_at=self.now - timedelta(seconds=30),
                finished_at=self.now - timedelta(seconds=29),
            ),
            ProcessedUpdate(
                update_id=700000002,
                taken_by="web-2:5151",
                taken_at=self.now - timedelta(seconds=2),
            ),
        )
