"""Trainings (培训): publishing one, completing it (one tap, or a passed quiz), secretaries
confirming for members, and deadline reminders.

Each state change is one function here that checks access and state, writes, audits and
queues outbox rows in the caller's transaction. The 已完成学习 button under every
training message is data from bot/training_buttons.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import partial
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.access import Action, Principal, allows, load_principal, scope_roots
from bot.dates import format_calendar_day, local_date, parse_day
from bot.htmltext import bold, html_lines, payload_html
from bot.i18n import N_, gettext
from bot.refusals import NOT_ALLOWED, Refused
from bot.training_buttons import done_markup
from storage import audit, deliveries, orgs, trainings
from storage.deliveries import Outgoing
from storage.models import (
    AttachmentKind,
    ConfirmationMethod,
    DeliveryKind,
    FundSource,
    MemberStatus,
    Training,
    TrainingKind,
    TrainingQuestion,
)

__all__ = [
    "KIND_LABELS",
    "MAX_QUESTIONS",
    "REMIND_DAYS",
    "SOURCE_LABELS",
    "Published",
    "QuizOutcome",
    "QuizStep",
    "TrainingPlan",
    "answer_question",
    "confirm_for",
    "format_hours",
    "hours_this_year",
    "publish",
    "read_cost",
    "read_deadline",
    "read_hours",
    "read_question",
    "remind_due",
    "start_completion",
    "training_text",
    "year_bounds",
]


KIND_LABELS: Final[dict[TrainingKind, str]] = {
    TrainingKind.COURSE: N_("Course"),
    TrainingKind.LECTURE: N_("Lecture"),
    TrainingKind.FIELD_VISIT: N_("Field visit"),
    TrainingKind.ONLINE_STUDY: N_("Online study"),
}
SOURCE_LABELS: Final[dict[FundSource, str]] = {
    FundSource.MUNICIPAL: N_("Municipal budget"),
    FundSource.COUNTY: N_("County budget"),
    FundSource.TOWNSHIP: N_("Township budget"),
    FundSource.OTHER: N_("Other source"),
}

MAX_TITLE: Final = 100
MAX_MATERIALS: Final = 1500
#: Hours of one training: more than a fortnight's full days is a typing mistake.
MAX_HOURS: Final = Decimal("200")
#: Yuan per person: the county's floor is 30 a year; ten thousand is surely a mistake.
MAX_COST: Final = Decimal("10000")
MAX_QUESTIONS: Final = 5
MAX_OPTIONS: Final = 4
MAX_QUESTION: Final = 200
MAX_OPTION: Final = 40
#: Members not done are reminded this many days before the deadline (once).
REMIND_DAYS: Final = 2

HEADER: Final = N_("📚 Training · {org}")
REMINDER: Final = N_("⏰ Reminder: the deadline of this training is near.")
BAD_HOURS: Final = N_(
    "Please type the hours as a number greater than 0 and at most {max}, e.g. 2 or 1.5."
)
BAD_COST: Final = N_(
    "Please type the cost per person in yuan: 0 or more, at most {max}, e.g. 30 or 12.50."
)
BAD_DEADLINE: Final = N_(
    "I could not read that date. Please type it like one of these:\n{examples}"
)
PAST_DEADLINE: Final = N_("{day} has already passed. Please type today or a later day.")
BAD_QUESTION: Final = N_(
    "Please send the question on the first line and 2 to {max} answers on the next lines, "
    "one per line (each at most {length} characters)."
)
NOT_IN: Final = N_("This training is not for you.")
#: Day forms bot.dates.parse_day reads; the catalog shows each language its own.
DAY_EXAMPLES: Final = N_("2026-12-20\n12-20\ntomorrow\nnext Friday")


@dataclass
class TrainingPlan:
    """Everything the author chose, ready to publish."""

    audience_org_id: int
    audience_status: MemberStatus | None
    kind: TrainingKind
    title: str
    hours: Decimal
    deadline: date
    cost_per_person: Decimal
    funding_source: FundSource | None
    materials_text: str | None = None
    materials_file_id: str | None = None
    materials_file_kind: AttachmentKind | None = None
    questions: list[tuple[str, list[str], int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Published:
    training_id: int
    assigned: int
    reached: int


# --- reading typed values ----------------------------------------------------------------------


def _number(text: str, places: int) -> Decimal | None:
    cleaned = text.strip().replace("，", ".").replace(",", ".")
    cleaned = re.sub(r"\s*(小时|学时|h|hours?|元|yuan|¥)\s*$", "", cleaned, flags=re.IGNORECASE)
    if not re.fullmatch(rf"-?\d{{1,6}}(\.\d{{1,{places}}})?", cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def read_hours(text: str) -> Decimal:
    """Hours as typed ("2", "1.5", "4 学时"); Refused when not in (0, MAX_HOURS]."""
    value = _number(text, 1)
    if value is None or value <= 0 or value > MAX_HOURS:
        raise Refused(BAD_HOURS, max=str(MAX_HOURS))
    return value.quantize(Decimal("0.1"))


def read_cost(text: str) -> Decimal:
    """Yuan per person ("30", "12.50 元"); Refused when negative or above MAX_COST."""
    value = _number(text, 2)
    if value is None or value < 0 or value > MAX_COST:
        raise Refused(BAD_COST, max=str(MAX_COST))
    return value.quantize(Decimal("0.01"))


def read_deadline(text: str, *, now: datetime, tz: ZoneInfo, language: str) -> date:
    """The last day to complete the training; Refused when unreadable or already past."""
    day = parse_day(text, now=now, tz=tz)
    if day is None:
        raise Refused(BAD_DEADLINE, examples=gettext(language, DAY_EXAMPLES))
    if day < local_date(now, tz):
        raise Refused(PAST_DEADLINE, day=format_calendar_day(day, language=language))
    return day


def read_question(text: str) -> tuple[str, list[str]]:
    """A quiz question typed as its text on one line and 2-4 answers on the next lines."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    question, options = (lines[0], lines[1:]) if lines else ("", [])
    if (
        not 2 <= len(options) <= MAX_OPTIONS
        or len(question) > MAX_QUESTION
        or any(len(option) > MAX_OPTION for option in options)
        or len(set(options)) != len(options)
    ):
        raise Refused(BAD_QUESTION, max=str(MAX_OPTIONS), length=str(MAX_OPTION))
    return question, options


# --- what members read -------------------------------------------------------------------------


def format_hours(hours: Decimal) -> str:
    """ "2" for whole hours, "1.5" otherwise."""
    return f"{hours.normalize():f}" if hours == hours.to_integral() else f"{hours:.1f}"


def training_text(
    language: str, training: Training, org_name: str, *, reminder: bool = False
) -> str:
    """The HTML a member reads: who organises it, what it is, how long, by when, materials."""
    _ = partial(gettext, language)
    lines: list[str] = [
        bold(_(HEADER).format(org=org_name)),
        bold(training.title),
        _("{kind} · {hours} h").format(
            kind=_(KIND_LABELS[training.kind]), hours=format_hours(training.hours)
        ),
    ]
    if training.deadline is not None:
        lines.append(
            _("Complete by: {day}").format(
                day=format_calendar_day(training.deadline, language=language)
            )
        )
    if training.materials_text:
        lines += ["", training.materials_text]
    if training.materials_file_id:
        lines.append(_("The materials are in the file above."))
    lines += ["", _("When you have studied it, tap “Done studying” below.")]
    if reminder:
        lines[:0] = [_(REMINDER), ""]
    return html_lines(lines)


def _payloads(
    training: Training, org_name: str, *, reminder: bool
) -> Callable[[str], dict[str, Any]]:
    assert training.id is not None
    training_id = training.id

    def payload(language: str) -> dict[str, Any]:
        return {
            "text": payload_html(training_text(language, training, org_name, reminder=reminder)),
            "parse_mode": ParseMode.HTML.value,
            "reply_markup": done_markup(training_id, language),
        }

    return payload


def _file_payload(training: Training) -> dict[str, Any] | None:
    if training.materials_file_id is None:
        return None
    is_photo = training.materials_file_kind == AttachmentKind.PHOTO
    return {
        "text": payload_html(training.title),
        "parse_mode": ParseMode.HTML.value,
        "photo": training.materials_file_id if is_photo else None,
        "document": None if is_photo else training.materials_file_id,
    }


# --- publishing --------------------------------------------------------------------------------


async def publish(
    *,
    db: AsyncSession,
    actor: int,
    plan: TrainingPlan,
    now: datetime,
    tz: ZoneInfo,
) -> Published:
    """Record the training, write its audience down, queue one message per member on
    Telegram (the materials file first, if any), audit; all in the caller's transaction."""
    principal = await load_principal(db=db, telegram_user_id=actor)
    audience = await orgs.get_org(db=db, org_id=plan.audience_org_id)
    if audience is None or not allows(principal, Action.MANAGE_TRAININGS, audience.path):
        raise Refused(NOT_ALLOWED)
    if plan.deadline < local_date(now, tz):
        raise Refused(PAST_DEADLINE, day=plan.deadline.isoformat())
    author = _author_org(principal, audience.path)
    training = await trainings.create_training(
        db=db,
        org_id=author,
        title=plan.title,
        kind=plan.kind,
        held_on=local_date(now, tz),
        deadline=plan.deadline,
        hours=plan.hours,
        cost_per_person_yuan=plan.cost_per_person,
        funding_source=plan.funding_source,
        audience_org_id=plan.audience_org_id,
        audience_status=plan.audience_status,
        materials_text=plan.materials_text,
        materials_file_id=plan.materials_file_id,
        materials_file_kind=plan.materials_file_kind,
        created_by=actor,
        now=now,
    )
    assert training.id is not None
    await trainings.add_questions(db=db, training_id=training.id, items=plan.questions)
    assigned = await trainings.assign_audience(
        db=db,
        training=training,
        path=audience.path,
        status=plan.audience_status,
        now=now,
    )
    author_org = await orgs.get_org(db=db, org_id=author)
    readers = await trainings.recipients(db=db, training_id=training.id)
    payload = _payloads(training, author_org.name if author_org else "", reminder=False)
    by_language: dict[str, dict[str, Any]] = {}
    file_payload = _file_payload(training)
    items: list[Outgoing] = []
    for reader in readers:
        if file_payload is not None:
            key = f"training:{training.id}:file:{reader.chat_id}"
            items.append(Outgoing(reader.chat_id, file_payload, key, reader.member_id))
        items.append(
            Outgoing(
                reader.chat_id,
                by_language.setdefault(reader.language, payload(reader.language)),
                f"training:{training.id}:{reader.chat_id}",
                reader.member_id,
            )
        )
    await deliveries.enqueue_many(db=db, kind=DeliveryKind.TRAINING, items=items, due_at=now)
    await audit.record(
        db=db,
        actor=actor,
        action="training.publish",
        target_kind="training",
        target_id=training.id,
        org_id=plan.audience_org_id,
        detail={
            "title": plan.title,
            "kind": plan.kind.value,
            "hours": str(plan.hours),
            "deadline": plan.deadline.isoformat(),
            "status": plan.audience_status.value if plan.audience_status else None,
            "cost_per_person": str(plan.cost_per_person),
            "funding_source": plan.funding_source.value if plan.funding_source else None,
            "questions": len(plan.questions),
            "assigned": assigned,
            "reached": len(readers),
        },
        at=now,
    )
    return Published(training.id, assigned, len(readers))


def _author_org(principal: Principal, path: str) -> int:
    """The unit of the actor's outermost grant that reaches ``path``: who organises it."""
    for grant in sorted(principal.grants, key=lambda g: len(g.org_path)):
        if path.startswith(grant.org_path) and allows(
            principal, Action.MANAGE_TRAININGS, grant.org_path
        ):
            return grant.org_id
    raise Refused(NOT_ALLOWED)


# --- completing --------------------------------------------------------------------------------


class QuizOutcome(StrEnum):
    DONE = "done"  # completion recorded now
    ALREADY = "already"  # was done before
    QUESTION = "question"  # show ``question`` (the next one)
    WRONG = "wrong"  # the answer was wrong; ``question`` is the one answered
    NOT_IN = "not_in"  # not this member's training (or a forged button)
    STALE = "stale"  # an answer to a question the member is not at (an old button)


@dataclass(frozen=True, slots=True)
class QuizStep:
    """What the member sees after a tap."""

    outcome: QuizOutcome
    training: Training | None = None
    question: TrainingQuestion | None = None
    total: int = 0


async def start_completion(
    *, db: AsyncSession, telegram_user_id: int, training_id: int, now: datetime
) -> QuizStep:
    """The 已完成学习 tap: done at once, or the quiz begins (at the question reached)."""
    seat = await trainings.quiz_seat(
        db=db, training_id=training_id, telegram_user_id=telegram_user_id
    )
    training = await trainings.get_training(db=db, training_id=training_id)
    if seat is None or training is None:
        return QuizStep(QuizOutcome.NOT_IN)
    if seat.confirmed_at is not None:
        return QuizStep(QuizOutcome.ALREADY, training)
    quiz = await trainings.questions(db=db, training_id=training_id)
    if not quiz:
        await trainings.confirm(
            db=db,
            training_id=training_id,
            member_ids=[seat.member_id],
            method=ConfirmationMethod.SELF,
            marked_by=None,
            now=now,
        )
        return QuizStep(QuizOutcome.DONE, training)
    position = min(seat.quiz_next, len(quiz) - 1)
    return QuizStep(QuizOutcome.QUESTION, training, quiz[position], len(quiz))


async def answer_question(
    *,
    db: AsyncSession,
    telegram_user_id: int,
    training_id: int,
    position: int,
    option: int,
    now: datetime,
) -> QuizStep:
    """One answer: right moves on (the last right answer completes the training), wrong
    shows the right one and starts the quiz over. Only the question the member is at
    counts, so an old or forged button changes nothing."""
    seat = await trainings.quiz_seat(
        db=db, training_id=training_id, telegram_user_id=telegram_user_id
    )
    training = await trainings.get_training(db=db, training_id=training_id)
    quiz = await trainings.questions(db=db, training_id=training_id)
    if (
        seat is None
        or training is None
        or not 0 <= position < len(quiz)
        or not 0 <= option < len(quiz[position].options)
    ):
        return QuizStep(QuizOutcome.NOT_IN)
    if seat.confirmed_at is not None:
        return QuizStep(QuizOutcome.ALREADY, training)
    question = quiz[position]
    if seat.quiz_next != position:
        return QuizStep(QuizOutcome.STALE, training)
    if option != question.answer:
        await trainings.fail_quiz(db=db, assignee_id=seat.assignee_id, position=position)
        return QuizStep(QuizOutcome.WRONG, training, question, len(quiz))
    if not await trainings.pass_question(db=db, assignee_id=seat.assignee_id, position=position):
        return QuizStep(QuizOutcome.STALE, training)
    if position + 1 < len(quiz):
        return QuizStep(QuizOutcome.QUESTION, training, quiz[position + 1], len(quiz))
    await trainings.confirm(
        db=db,
        training_id=training_id,
        member_ids=[seat.member_id],
        method=ConfirmationMethod.QUIZ,
        marked_by=None,
        now=now,
    )
    return QuizStep(QuizOutcome.DONE, training, None, len(quiz))


async def confirm_for(
    *,
    db: AsyncSession,
    actor: int,
    training_id: int,
    member_ids: Sequence[int],
    now: datetime,
) -> list[int]:
    """A secretary confirms completion for members who attended in person or have no
    phone. Only members of the training inside the actor's scope count; returns those
    newly confirmed (audited once, with their ids)."""
    principal = await load_principal(db=db, telegram_user_id=actor)
    training = await trainings.get_training(db=db, training_id=training_id)
    paths = [grant.org_path for grant in scope_roots(principal, Action.MANAGE_TRAININGS)]
    if training is None or not paths:
        raise Refused(NOT_ALLOWED)
    in_scope = {
        row.member_id
        for row in await trainings.assignees_in_scope(db=db, training_id=training_id, paths=paths)
    }
    wanted = sorted(set(member_ids))
    if not wanted or not set(wanted) <= in_scope:
        raise Refused(NOT_ALLOWED)
    confirmed = await trainings.confirm(
        db=db,
        training_id=training_id,
        member_ids=wanted,
        method=ConfirmationMethod.BULK,
        marked_by=actor,
        now=now,
    )
    if confirmed:
        await audit.record(
            db=db,
            actor=actor,
            action="training.confirm",
            target_kind="training",
            target_id=training_id,
            org_id=training.audience_org_id or training.org_id,
            detail={"members": confirmed},
            at=now,
        )
    return confirmed


# --- reminders and hours -----------------------------------------------------------------------


async def remind_due(*, db: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """Queue the deadline reminder for every member not done whose training ends within
    REMIND_DAYS (once each: the assignee row is marked and the dedupe key is fixed)."""
    today = local_date(now, tz)
    due = await trainings.due_reminders(
        db=db, today=today, last_day=today + timedelta(days=REMIND_DAYS)
    )
    if not due:
        return 0
    items: list[Outgoing] = []
    payloads: dict[int, Callable[[str], dict[str, Any]]] = {}
    cache: dict[tuple[int, str], dict[str, Any]] = {}
    for row in due:
        if row.training_id not in payloads:
            training = await trainings.get_training(db=db, training_id=row.training_id)
            assert training is not None
            org = await orgs.get_org(db=db, org_id=training.org_id)
            payloads[row.training_id] = _payloads(training, org.name if org else "", reminder=True)
        payload = cache.setdefault(
            (row.training_id, row.language), payloads[row.training_id](row.language)
        )
        key = f"training:{row.training_id}:remind:{row.chat_id}"
        items.append(Outgoing(row.chat_id, payload, key, row.member_id))
    queued = await deliveries.enqueue_many(
        db=db, kind=DeliveryKind.TRAINING_REMINDER, items=items, due_at=now
    )
    await trainings.mark_reminded(db=db, assignee_ids=[row.assignee_id for row in due], now=now)
    for training_id in payloads:
        training = await trainings.get_training(db=db, training_id=training_id)
        assert training is not None
        await audit.record(
            db=db,
            actor=None,
            action="training.remind",
            target_kind="training",
            target_id=training_id,
            org_id=training.audience_org_id or training.org_id,
            detail={"reminded": sum(row.training_id == training_id for row in due)},
            at=now,
        )
    return queued


def year_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The people's calendar year containing ``now``, as UTC instants ``[since, until)``."""
    year = now.astimezone(tz).year
    since = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    until = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return since, until


async def hours_this_year(
    *, db: AsyncSession, member_id: int, now: datetime, tz: tzinfo
) -> Decimal:
    """Training hours the member completed in this calendar year (the people's zone)."""
    since, until = year_bounds(now, tz)
    return await trainings.hours_between(db=db, member_id=member_id, since=since, until=until)
