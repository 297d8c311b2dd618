"""The months before the sandbox started: sessions with attendance, trainings, notices.

Written through the features' own storage functions (sessions, answers, leave, check-in,
closing, make-up; notices, recipients, 已阅 acks), so the history looks exactly as if
people had used the bot (trainings too: published, their audience written down, some
members done); already-sent deliveries, which have no such function, are inserted as
models.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.notices import Audience
from bot.sessions import DEFAULT_REMINDER_OFFSETS as OFFSETS
from bot.sessions import plan_reminders
from demo.plan import CurrentTraining, NoticeData, PlannedMember, demo_data
from storage import attendance, notices, sessions, trainings
from storage.models import (
    AttendanceOutcome,
    AudienceKind,
    CheckinMethod,
    ConfirmationMethod,
    Delivery,
    DeliveryKind,
    DeliveryState,
    FundSource,
    LeaveReason,
    Member,
    OrgUnit,
    ReminderState,
    SessionKind,
    StudySession,
    TrainingKind,
)


class History:
    """The months before the sandbox started: sessions, trainings, notices."""

    def __init__(
        self,
        db: AsyncSession,
        rng: random.Random,
        now: datetime,
        tz: ZoneInfo,
        acting: dict[str, int],
    ) -> None:
        self.db = db
        self.rng = rng
        self.now = now
        self.tz = tz
        self.acting = acting
        self.today = now.astimezone(tz).date()
        #: The first of the month three months back: the history's first day.
        self.begins = self._at(_months_before(self.today.replace(day=1), 3), 0)

    def _at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.tz).astimezone(self.now.tzinfo)

    async def sessions(
        self, branch: OrgUnit, roster: list[Member], planned: list[PlannedMember]
    ) -> None:
        """Three months of theme party days and committee meetings, a party lesson, a general
        meeting; what comes next ahead. Every required cadence is kept, so the silent-branch
        ladder starts quiet and speaks only when the user lets a month pass without meetings.
        """
        first_of_month = self.today.replace(day=1)

        def month(back: int, day: int) -> date:
            return _months_before(first_of_month, back).replace(day=day)

        next_theme_day = self.today + timedelta(days=6 + self.rng.randint(0, 4))
        planned_sessions = [
            *((SessionKind.THEME_PARTY_DAY, self._at(month(n, 15), 9)) for n in (3, 2, 1)),
            *(
                (SessionKind.BRANCH_COMMITTEE_MEETING, self._at(month(n, 5), 19, 30))
                for n in (3, 2, 1, 0)  # this month's too: held already or coming
            ),
            *self._quarterly(month),
            (SessionKind.THEME_PARTY_DAY, self._at(next_theme_day, 9)),
        ]
        diligence = {m.id: p.diligence for m, p in zip(roster, planned, strict=True)}
        for kind, starts_at in sorted(planned_sessions, key=lambda item: item[1]):
            if starts_at > self.now:
                ahead = [
                    (r.offset_minutes, r.due_at, r.state)
                    for r in plan_reminders(starts_at, OFFSETS, self.now)
                ]
                await self._invited(await self._create(branch, kind, starts_at, ahead))
                continue
            study = await self._create(branch, kind, starts_at, _sent_reminders(starts_at))
            await self._held(branch, study, diligence)

    def _quarterly(self, month: Callable[[int, int], date]) -> list[tuple[SessionKind, datetime]]:
        """A party lesson and a general meeting in every quarter the three months touch, so
        the quarter /summary judges first (the one the history starts in) was kept too."""
        held: list[tuple[SessionKind, datetime]] = []
        quarters: set[tuple[int, int]] = set()
        for back in (3, 2, 1):
            first = month(back, 1)
            quarter = (first.year, (first.month - 1) // 3)
            if quarter in quarters:
                continue
            quarters.add(quarter)
            held.append((SessionKind.PARTY_LESSON, self._at(month(back, 8), 19, 30)))
            held.append((SessionKind.BRANCH_GENERAL_MEETING, self._at(month(back, 25), 19, 30)))
        return held

    async def leadership(self, org: OrgUnit) -> None:
        """A township's or the county's leading group: a special study and a report hearing.

        Its members are not on a branch roster, so nobody is invited through partybot.
        """
        first_of_month = self.today.replace(day=1)
        for kind, back in ((SessionKind.SPECIAL_STUDY, 3), (SessionKind.REPORT_HEARING, 2)):
            starts_at = self._at(_months_before(first_of_month, back).replace(day=20), 9)
            study = await self._create(org, kind, starts_at, _sent_reminders(starts_at))
            await self._held(org, study, {})

    async def _create(
        self,
        branch: OrgUnit,
        kind: SessionKind,
        starts_at: datetime,
        reminders: Sequence[tuple[int, datetime, ReminderState]],
    ) -> StudySession:
        assert branch.id is not None
        return await sessions.create_session(
            db=self.db,
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
            # Scheduled a week ahead, but not before the history starts: partybot's first
            # use, from which /summary and the ladder judge (no month before it).
            now=min(max(starts_at - timedelta(days=7), self.begins), self.now),
        )

    async def _invited(self, study: StudySession) -> None:
        """Those on Telegram had their invitation before the sandbox started (so the
        session_roster job does not send it again when the sandbox runs)."""
        assert study.id is not None
        await attendance.mark_invited(
            db=self.db,
            session_id=study.id,
            member_ids=[
                invitee.member_id
                for invitee in await attendance.invitees(db=self.db, session_id=study.id)
                if invitee.telegram_user_id is not None
            ],
            now=study.created_at,
        )

    async def _held(
        self, branch: OrgUnit, study: StudySession, diligence: dict[int | None, float]
    ) -> None:
        """Answers, leave, check-ins, the closing, and make-up study, as members gave them."""
        assert study.id is not None
        secretary = self.acting.get(branch.code, 0)
        db, start = self.db, study.starts_at
        day_before = start - timedelta(days=1)
        for invitee in await attendance.invitees(db=db, session_id=study.id):
            row, roll = invitee.attendance_id, self.rng.random()
            present = diligence[invitee.member_id]
            if roll < present:
                await attendance.set_rsvp(db=db, attendance_id=row, now=day_before)
                proxy = invitee.telegram_user_id is None
                await attendance.check_in(
                    db=db,
                    attendance_id=row,
                    method=CheckinMethod.PROXY if proxy else CheckinMethod.CODE,
                    now=start + timedelta(minutes=self.rng.randint(-25, 10)),
                    marked_by=secretary if proxy else None,
                )
            elif roll < present + 0.08:
                reason = self.rng.choice(tuple(LeaveReason))
                await attendance.request_leave(
                    db=db, attendance_id=row, reason=reason, note=None, now=day_before
                )
                await attendance.decide_leave(
                    db=db, attendance_id=row, approve=True, decided_by=secretary, now=start
                )
        closed = start + timedelta(hours=3)
        await attendance.finalise_session(db=db, session_id=study.id, now=closed)
        missed = [
            invitee.attendance_id
            for invitee in await attendance.invitees(db=db, session_id=study.id)
            if invitee.outcome in (AttendanceOutcome.ABSENT, AttendanceOutcome.EXCUSED)
        ]
        await attendance.mark_makeup_sent(db=db, attendance_ids=missed, now=closed)
        for row in missed:
            if self.rng.random() < 0.6:
                done = closed + timedelta(days=self.rng.randint(1, 6))
                await attendance.mark_makeup_done(db=db, attendance_id=row, now=done)

    async def trainings(self, county: OrgUnit, by_code: dict[str, OrgUnit]) -> None:
        """A county-wide winter training and one training per township, long over; then
        the trainings still open (one with a quiz), some members done, the rest pending."""
        data = demo_data()
        await self._training(county, data.county_training, 60, Decimal("8.0"), 0.8)
        for t in data.townships:
            title = data.township_training.format(place=t.place)
            await self._training(by_code[t.code], title, 30, Decimal("4.0"), 0.7)
        township = data.townships[0]
        senders = {
            "county": county,
            "township": by_code[township.code],
            "branch": by_code[township.branches[0].code],
        }
        for current in data.current_trainings:
            await self._current(senders[current.org], current)

    async def _training(
        self, org: OrgUnit, title: str, days_ago: int, hours: Decimal, share: float
    ) -> None:
        """A past training of ``org``'s whole subtree: its deadline two weeks later, each
        member done with probability ``share`` (the rest overdue)."""
        held_on = self.today - timedelta(days=days_ago)
        training_id, assignees = await self._publish(
            org,
            title=title,
            kind=TrainingKind.COURSE,
            hours=hours,
            held_on=held_on,
            deadline=held_on + timedelta(days=14),
            materials=None,
            questions=(),
        )
        for member_id in assignees:
            if self.rng.random() < share:
                done = self._at(held_on + timedelta(days=self.rng.randint(0, 10)), 17)
                await trainings.confirm(
                    db=self.db,
                    training_id=training_id,
                    member_ids=[member_id],
                    method=ConfirmationMethod.SELF,
                    marked_by=None,
                    now=done,
                )

    async def _current(self, org: OrgUnit, data: CurrentTraining) -> None:
        """A training still open: deadline ahead (beyond the reminder's lead, so nothing is
        due at the start), a share of its members done, by quiz if it has one."""
        held_on = self.today - timedelta(days=data.days_ago)
        training_id, assignees = await self._publish(
            org,
            title=data.title,
            kind=TrainingKind(data.kind),
            hours=Decimal(data.hours),
            held_on=held_on,
            deadline=self.today + timedelta(days=data.deadline_in),
            materials=data.materials,
            questions=data.questions,
        )
        method = ConfirmationMethod.QUIZ if data.questions else ConfirmationMethod.SELF
        for member_id in assignees:
            if self.rng.random() < data.done_share:
                done_on = held_on + timedelta(days=self.rng.randint(0, data.days_ago - 1))
                await trainings.confirm(
                    db=self.db,
                    training_id=training_id,
                    member_ids=[member_id],
                    method=method,
                    marked_by=None,
                    now=min(self._at(done_on, 20), self.now),
                )

    async def _publish(
        self,
        org: OrgUnit,
        *,
        title: str,
        kind: TrainingKind,
        hours: Decimal,
        held_on: date,
        deadline: date,
        materials: str | None,
        questions: Sequence[tuple[str, Sequence[str], int]],
    ) -> tuple[int, list[int]]:
        """A training as /newtraining leaves it once the relay has sent it: its audience
        (the org's subtree) written down, one sent message per member on Telegram."""
        assert org.id is not None
        published = self._at(held_on, 9)
        training = await trainings.create_training(
            db=self.db,
            org_id=org.id,
            title=title,
            kind=kind,
            held_on=held_on,
            deadline=deadline,
            hours=hours,
            cost_per_person_yuan=Decimal("30.00"),
            funding_source=FundSource.COUNTY,
            audience_org_id=org.id,
            audience_status=None,
            materials_text=materials,
            materials_file_id=None,
            materials_file_kind=None,
            created_by=self.acting.get(org.code, 0),
            now=published,
        )
        assert training.id is not None
        await trainings.add_questions(db=self.db, training_id=training.id, items=questions)
        await trainings.assign_audience(
            db=self.db, training=training, path=org.path, status=None, now=published
        )
        for reader in await trainings.recipients(db=self.db, training_id=training.id):
            self.db.add(
                Delivery(
                    kind=DeliveryKind.TRAINING,
                    member_id=reader.member_id,
                    chat_id=reader.chat_id,
                    payload={"text": title},
                    state=DeliveryState.SENT,
                    attempts=1,
                    next_attempt_at=published,
                    sent_at=published,
                    dedupe_key=f"training:{training.id}:{reader.chat_id}",
                    created_at=published,
                )
            )
        await self.db.flush()
        members_in = await trainings.assignees_in_scope(
            db=self.db, training_id=training.id, paths=[org.path]
        )
        return training.id, [row.member_id for row in members_in]

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
        """A notice as /notice leaves it once the relay has sent it and people have acked it."""
        assert org.id is not None
        db = self.db
        sent_at = self._at(self.today - timedelta(days=data.days_ago), 10)
        paths = [org.path]
        readers = await notices.recipients(db=db, paths=paths)
        counts = await notices.audience_counts(db=db, paths=paths)
        audience = Audience(root_id=org.id, org_ids=(org.id,)).to_json()
        notice = await notices.create_notice(
            db=db,
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
            if self.rng.random() < data.ack_share:
                acked_at = sent_at + timedelta(hours=self.rng.randint(1, 30))
                await notices.acknowledge(
                    db=db, notice_id=notice.id, chat_id=reader.chat_id, now=acked_at
                )


def _sent_reminders(starts_at: datetime) -> list[tuple[int, datetime, ReminderState]]:
    """The reminders of a session held in the past: all sent on time."""
    return [(o, starts_at - timedelta(minutes=o), ReminderState.SENT) for o in OFFSETS]


def _months_before(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
