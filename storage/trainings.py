"""Trainings aggregate: trainings, their audience, quizzes, completions, reminders, reports.

A training's audience is written down once when it is published (``training_assignee``):
"is this member in it", done/total, overdue lists and reminders all read those rows, so a
later roster change does not rewrite history. Every count and sum here is one SQL
aggregate. Periods are half-open ``[since, until)`` UTC instants; callers turn a year in
the people's zone into those bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import dialect_name, table_of
from storage.guidance import Only, within
from storage.models import (
    AttachmentKind,
    ConfirmationMethod,
    FundSource,
    Member,
    MemberStatus,
    OrgUnit,
    TelegramAccount,
    Training,
    TrainingAssignee,
    TrainingConfirmation,
    TrainingKind,
    TrainingQuestion,
)
from storage.notices import Reader

__all__ = [
    "AssigneeRow",
    "DueReminder",
    "MemberTraining",
    "QuizSeat",
    "TrainingProgress",
    "UnitCompletion",
    "add_questions",
    "assign_audience",
    "assignees_in_scope",
    "completion_by_unit",
    "completion_total",
    "confirm",
    "create_training",
    "due_reminders",
    "fail_quiz",
    "get_training",
    "hours_between",
    "mark_reminded",
    "member_trainings",
    "pass_question",
    "progress_in_scope",
    "questions",
    "quiz_seat",
    "recipients",
]

_ASSIGNEE = table_of(TrainingAssignee)
_CONFIRMATION = table_of(TrainingConfirmation)


class QuizSeat(NamedTuple):
    """A member's place in one training: their assignee row and whether they are done."""

    assignee_id: int
    member_id: int
    quiz_next: int
    confirmed_at: datetime | None


class MemberTraining(NamedTuple):
    """One training of a member's /trainings list (``confirmed_at`` None: still pending)."""

    training_id: int
    title: str
    kind: TrainingKind
    hours: Decimal
    deadline: date | None
    org_name: str
    confirmed_at: datetime | None


class TrainingProgress(NamedTuple):
    """One training as an officer sees it: done/total and overdue among their members."""

    training_id: int
    title: str
    deadline: date | None
    org_name: str
    total: int
    done: int
    overdue: int


class AssigneeRow(NamedTuple):
    """A member in a training (inside an officer's scope), done or not."""

    member_id: int
    name: str
    branch: str
    on_telegram: bool
    done: bool


class DueReminder(NamedTuple):
    """A member to remind of a training's deadline."""

    assignee_id: int
    training_id: int
    member_id: int
    chat_id: int
    language: str


class UnitCompletion(NamedTuple):
    """Completion of trainings in one org unit's subtree for a period.

    ``assigned``: member-trainings published in the period; ``completed``: those done;
    ``hours``: the hours of the completed ones.
    """

    org_id: int
    org_name: str
    assigned: int
    completed: int
    hours: Decimal


async def _rows(db: AsyncSession, stmt: Any) -> Sequence[Any]:
    await db.flush()
    connection = await db.connection()
    return (await connection.execute(stmt)).all()


def _within(paths: Sequence[str]) -> Any:
    return sa.or_(*(col(OrgUnit.path).startswith(path) for path in paths))


# --- writing a training ------------------------------------------------------------------------


async def create_training(
    *,
    db: AsyncSession,
    org_id: int,
    title: str,
    kind: TrainingKind,
    held_on: date,
    deadline: date | None,
    hours: Decimal,
    cost_per_person_yuan: Decimal,
    funding_source: FundSource | None,
    audience_org_id: int,
    audience_status: MemberStatus | None,
    materials_text: str | None,
    materials_file_id: str | None,
    materials_file_kind: AttachmentKind | None,
    created_by: int,
    now: datetime,
) -> Training:
    """Record a training (its audience is written by :func:`assign_audience`)."""
    training = Training(
        org_id=org_id,
        title=title,
        kind=kind,
        held_on=held_on,
        deadline=deadline,
        hours=hours,
        cost_yuan=Decimal("0.00"),
        cost_per_person_yuan=cost_per_person_yuan,
        funding_source=funding_source,
        audience_org_id=audience_org_id,
        audience_status=audience_status,
        materials_text=materials_text,
        materials_file_id=materials_file_id,
        materials_file_kind=materials_file_kind,
        created_by=created_by,
        created_at=now,
    )
    db.add(training)
    await db.flush()
    return training


async def add_questions(
    *,
    db: AsyncSession,
    training_id: int,
    items: Sequence[tuple[str, Sequence[str], int]],
) -> None:
    """The quiz: (question, options, index of the right option), in order."""
    for position, (text, options, answer) in enumerate(items):
        db.add(
            TrainingQuestion(
                training_id=training_id,
                position=position,
                text=text,
                options=list(options),
                answer=answer,
            )
        )
    await db.flush()


async def assign_audience(
    *,
    db: AsyncSession,
    training: Training,
    path: str,
    status: MemberStatus | None,
    now: datetime,
) -> int:
    """Write the audience down (active members of the subtree at ``path``, optionally of
    one status) in one INSERT … SELECT; set the training's total cost. Returns how many."""
    assert training.id is not None
    chosen = (
        sa.select(
            sa.literal(training.id).label("training_id"),
            col(Member.id),
            sa.literal(now, type_=_ASSIGNEE.c.assigned_at.type).label("assigned_at"),
            sa.literal(0).label("quiz_next"),
            sa.literal(0).label("quiz_failures"),
        )
        .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
        .where(col(Member.active).is_(True), col(OrgUnit.path).startswith(path))
    )
    if status is not None:
        chosen = chosen.where(col(Member.status) == status)
    stmt = (
        sa.insert(_ASSIGNEE)
        .from_select(
            ["training_id", "member_id", "assigned_at", "quiz_next", "quiz_failures"], chosen
        )
        .returning(_ASSIGNEE.c.id)
    )
    count = len(await _rows(db, stmt))
    per_person = training.cost_per_person_yuan or Decimal("0.00")
    training.cost_yuan = (per_person * count).quantize(Decimal("0.01"))
    db.add(training)
    await db.flush()
    return count


async def get_training(*, db: AsyncSession, training_id: int) -> Training | None:
    """The training with this id, if any."""
    return await db.get(Training, training_id)


async def questions(*, db: AsyncSession, training_id: int) -> list[TrainingQuestion]:
    """The training's quiz in order (empty: no quiz)."""
    stmt = (
        select(TrainingQuestion)
        .where(col(TrainingQuestion.training_id) == training_id)
        .order_by(col(TrainingQuestion.position))
    )
    return list((await db.exec(stmt)).all())


async def recipients(*, db: AsyncSession, training_id: int) -> list[Reader]:
    """Members of the training reachable on Telegram (linked, not blocked)."""
    result = await _rows(
        db,
        sa.select(col(Member.telegram_user_id), col(Member.id), col(TelegramAccount.language))
        .join(_ASSIGNEE, _ASSIGNEE.c.member_id == col(Member.id))
        .join(
            TelegramAccount,
            col(TelegramAccount.telegram_user_id) == col(Member.telegram_user_id),
        )
        .where(
            _ASSIGNEE.c.training_id == training_id,
            col(Member.active).is_(True),
            col(TelegramAccount.blocked_at).is_(None),
        )
        .order_by(col(Member.id)),
    )
    return [Reader(int(chat), int(member), str(language)) for chat, member, language in result]


# --- a member in a training --------------------------------------------------------------------


async def quiz_seat(
    *, db: AsyncSession, training_id: int, telegram_user_id: int
) -> QuizSeat | None:
    """The member behind this Telegram account in this training; None if not in it."""
    result = await _rows(
        db,
        sa.select(
            _ASSIGNEE.c.id,
            _ASSIGNEE.c.member_id,
            _ASSIGNEE.c.quiz_next,
            _CONFIRMATION.c.confirmed_at,
        )
        .join(Member, col(Member.id) == _ASSIGNEE.c.member_id)
        .outerjoin(
            _CONFIRMATION,
            sa.and_(
                _CONFIRMATION.c.training_id == _ASSIGNEE.c.training_id,
                _CONFIRMATION.c.member_id == _ASSIGNEE.c.member_id,
            ),
        )
        .where(
            _ASSIGNEE.c.training_id == training_id,
            col(Member.telegram_user_id) == telegram_user_id,
            col(Member.active).is_(True),
        ),
    )
    if not result:
        return None
    assignee_id, member_id, quiz_next, confirmed_at = result[0]
    return QuizSeat(int(assignee_id), int(member_id), int(quiz_next), confirmed_at)


async def pass_question(*, db: AsyncSession, assignee_id: int, position: int) -> bool:
    """Move past question ``position``; False if the member is no longer at it (a double
    tap or an old button), so each answer counts once."""
    result = await db.exec(
        sa.update(_ASSIGNEE)
        .where(_ASSIGNEE.c.id == assignee_id, _ASSIGNEE.c.quiz_next == position)
        .values(quiz_next=position + 1)
    )
    return bool(result.rowcount)


async def fail_quiz(*, db: AsyncSession, assignee_id: int, position: int) -> bool:
    """A wrong answer at ``position``: back to the first question, one failure more."""
    result = await db.exec(
        sa.update(_ASSIGNEE)
        .where(_ASSIGNEE.c.id == assignee_id, _ASSIGNEE.c.quiz_next == position)
        .values(quiz_next=0, quiz_failures=_ASSIGNEE.c.quiz_failures + 1)
    )
    return bool(result.rowcount)


async def confirm(
    *,
    db: AsyncSession,
    training_id: int,
    member_ids: Sequence[int],
    method: ConfirmationMethod,
    marked_by: int | None,
    now: datetime,
) -> list[int]:
    """Record completion for those of ``member_ids`` who are in the training and not yet
    done, in one INSERT … SELECT; returns the members newly confirmed."""
    if not member_ids:
        return []
    done = sa.select(_CONFIRMATION.c.id).where(
        _CONFIRMATION.c.training_id == training_id,
        _CONFIRMATION.c.member_id == _ASSIGNEE.c.member_id,
    )
    chosen = sa.select(
        _ASSIGNEE.c.training_id,
        _ASSIGNEE.c.member_id,
        sa.literal(now, type_=_CONFIRMATION.c.confirmed_at.type).label("confirmed_at"),
        sa.literal(marked_by, type_=sa.BigInteger).label("marked_by"),
        sa.literal(method.value, type_=sa.String).label("method"),
    ).where(
        _ASSIGNEE.c.training_id == training_id,
        _ASSIGNEE.c.member_id.in_(list(member_ids)),
        ~done.exists(),
    )
    insert: Any = (
        postgresql.insert(_CONFIRMATION)
        if await dialect_name(db) == "postgresql"
        else sqlite.insert(_CONFIRMATION)
    )
    stmt = (
        insert.from_select(
            ["training_id", "member_id", "confirmed_at", "marked_by", "method"], chosen
        )
        .on_conflict_do_nothing(index_elements=["training_id", "member_id"])
        .returning(_CONFIRMATION.c.member_id)
    )
    result = await _rows(db, stmt)
    return sorted(int(member_id) for (member_id,) in result)


async def member_trainings(*, db: AsyncSession, member_id: int) -> list[MemberTraining]:
    """Every training the member is in, soonest deadline first (no deadline last)."""
    result = await _rows(
        db,
        sa.select(
            col(Training.id),
            col(Training.title),
            col(Training.kind),
            col(Training.hours),
            col(Training.deadline),
            col(OrgUnit.name),
            _CONFIRMATION.c.confirmed_at,
        )
        .join(_ASSIGNEE, _ASSIGNEE.c.training_id == col(Training.id))
        .join(OrgUnit, col(OrgUnit.id) == col(Training.org_id))
        .outerjoin(
            _CONFIRMATION,
            sa.and_(
                _CONFIRMATION.c.training_id == col(Training.id),
                _CONFIRMATION.c.member_id == _ASSIGNEE.c.member_id,
            ),
        )
        .where(_ASSIGNEE.c.member_id == member_id)
        .order_by(col(Training.deadline).is_(None), col(Training.deadline), col(Training.id)),
    )
    return [MemberTraining(*row) for row in result]


async def hours_between(
    *, db: AsyncSession, member_id: int, since: datetime, until: datetime
) -> Decimal:
    """Training hours the member completed in ``[since, until)`` (by confirmation time)."""
    result = await _rows(
        db,
        sa.select(sa.func.coalesce(sa.func.sum(col(Training.hours)), 0))
        .join(_CONFIRMATION, _CONFIRMATION.c.training_id == col(Training.id))
        .where(
            _CONFIRMATION.c.member_id == member_id,
            _CONFIRMATION.c.confirmed_at >= since,
            _CONFIRMATION.c.confirmed_at < until,
        ),
    )
    return Decimal(result[0][0]).quantize(Decimal("0.1"))


# --- officers ----------------------------------------------------------------------------------


def _members_in(paths: Sequence[str]) -> Any:
    """Assignee rows whose member belongs to a unit inside these subtrees."""
    return (
        sa.select(_ASSIGNEE.c.training_id, _ASSIGNEE.c.member_id)
        .join(Member, col(Member.id) == _ASSIGNEE.c.member_id)
        .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
        .where(col(Member.active).is_(True), _within(paths))
        .subquery()
    )


async def progress_in_scope(
    *, db: AsyncSession, paths: Sequence[str], today: date, limit: int = 10
) -> list[TrainingProgress]:
    """Trainings that reach members inside these subtrees, newest first, with done/total
    and overdue (deadline before ``today``, not done) counted among those members only."""
    mine = _members_in(paths)
    done = _CONFIRMATION.c.id.is_not(None)
    author = aliased(OrgUnit)
    result = await _rows(
        db,
        sa.select(
            col(Training.id),
            col(Training.title),
            col(Training.deadline),
            col(author.name),
            sa.func.count(),
            sa.func.count().filter(done),
            sa.func.count().filter(sa.and_(~done, col(Training.deadline) < today)),
        )
        .join(mine, mine.c.training_id == col(Training.id))
        .join(author, col(author.id) == col(Training.org_id))
        .outerjoin(
            _CONFIRMATION,
            sa.and_(
                _CONFIRMATION.c.training_id == mine.c.training_id,
                _CONFIRMATION.c.member_id == mine.c.member_id,
            ),
        )
        .group_by(col(Training.id), col(Training.title), col(Training.deadline), author.name)
        .order_by(col(Training.id).desc())
        .limit(limit),
    )
    return [TrainingProgress(*row) for row in result]


async def assignees_in_scope(
    *,
    db: AsyncSession,
    training_id: int,
    paths: Sequence[str],
    only_pending: bool = False,
) -> list[AssigneeRow]:
    """The training's members inside these subtrees, by branch and name."""
    stmt = (
        sa.select(
            col(Member.id),
            col(Member.name),
            col(OrgUnit.name),
            col(Member.telegram_user_id).is_not(None),
            _CONFIRMATION.c.id.is_not(None),
        )
        .join(_ASSIGNEE, _ASSIGNEE.c.member_id == col(Member.id))
        .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
        .outerjoin(
            _CONFIRMATION,
            sa.and_(
                _CONFIRMATION.c.training_id == _ASSIGNEE.c.training_id,
                _CONFIRMATION.c.member_id == _ASSIGNEE.c.member_id,
            ),
        )
        .where(
            _ASSIGNEE.c.training_id == training_id,
            col(Member.active).is_(True),
            _within(paths),
        )
        .order_by(col(OrgUnit.code), col(Member.name), col(Member.id))
    )
    if only_pending:
        stmt = stmt.where(_CONFIRMATION.c.id.is_(None))
    result = await _rows(db, stmt)
    return [AssigneeRow(int(m), str(n), str(b), bool(t), bool(d)) for m, n, b, t, d in result]


# --- reminders ---------------------------------------------------------------------------------


async def due_reminders(*, db: AsyncSession, today: date, last_day: date) -> list[DueReminder]:
    """Members on Telegram not done with a training whose deadline falls in
    ``[today, last_day]`` and who have not been reminded of it yet."""
    result = await _rows(
        db,
        sa.select(
            _ASSIGNEE.c.id,
            _ASSIGNEE.c.training_id,
            _ASSIGNEE.c.member_id,
            col(Member.telegram_user_id),
            col(TelegramAccount.language),
        )
        .join(Training, col(Training.id) == _ASSIGNEE.c.training_id)
        .join(Member, col(Member.id) == _ASSIGNEE.c.member_id)
        .join(
            TelegramAccount,
            col(TelegramAccount.telegram_user_id) == col(Member.telegram_user_id),
        )
        .outerjoin(
            _CONFIRMATION,
            sa.and_(
                _CONFIRMATION.c.training_id == _ASSIGNEE.c.training_id,
                _CONFIRMATION.c.member_id == _ASSIGNEE.c.member_id,
            ),
        )
        .where(
            _ASSIGNEE.c.reminded_at.is_(None),
            _CONFIRMATION.c.id.is_(None),
            col(Member.active).is_(True),
            col(TelegramAccount.blocked_at).is_(None),
            col(Training.deadline) >= today,
            col(Training.deadline) <= last_day,
        )
        .order_by(_ASSIGNEE.c.training_id, _ASSIGNEE.c.id),
    )
    return [DueReminder(int(a), int(t), int(m), int(c), str(lang)) for a, t, m, c, lang in result]


async def mark_reminded(*, db: AsyncSession, assignee_ids: Sequence[int], now: datetime) -> int:
    """Note that these members were reminded (only rows not noted yet change)."""
    if not assignee_ids:
        return 0
    result = await db.exec(
        sa.update(_ASSIGNEE)
        .where(_ASSIGNEE.c.id.in_(list(assignee_ids)), _ASSIGNEE.c.reminded_at.is_(None))
        .values(reminded_at=now)
    )
    return int(result.rowcount)


# --- reports (for /summary, /export and the funds roll-up) -------------------------------------


def _completion_columns() -> tuple[Any, ...]:
    done = _CONFIRMATION.c.id.is_not(None)
    return (
        sa.func.count(),
        sa.func.count().filter(done),
        sa.func.coalesce(sa.func.sum(sa.case((done, col(Training.hours)), else_=0)), 0),
    )


def _assignments(since: datetime, until: datetime, only: Only | None = None) -> Any:
    """Member-trainings of trainings published in ``[since, until)``, with the member's unit
    path and whether each is done; narrowed by ``only``, of members of flagged units."""
    stmt = (
        sa.select(*_completion_columns())
        .select_from(_ASSIGNEE)
        .join(Training, col(Training.id) == _ASSIGNEE.c.training_id)
        .join(Member, col(Member.id) == _ASSIGNEE.c.member_id)
        .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
        .outerjoin(
            _CONFIRMATION,
            sa.and_(
                _CONFIRMATION.c.training_id == _ASSIGNEE.c.training_id,
                _CONFIRMATION.c.member_id == _ASSIGNEE.c.member_id,
            ),
        )
        .where(col(Training.created_at) >= since, col(Training.created_at) < until)
    )
    return stmt if only is None else stmt.where(within(only, col(OrgUnit.id)))


async def completion_total(
    *,
    db: AsyncSession,
    org_id: int,
    since: datetime,
    until: datetime,
    only: Only | None = None,
) -> UnitCompletion:
    """Completion in the whole subtree of ``org_id`` for trainings published in the period
    (narrowed by ``only``: of the members of the flagged units alone)."""
    org = await db.get(OrgUnit, org_id)
    if org is None:
        raise LookupError(f"no org unit {org_id}")
    stmt = _assignments(since, until, only).where(col(OrgUnit.path).startswith(org.path))
    assigned, completed, hours = (await _rows(db, stmt))[0]
    return UnitCompletion(
        org_id, org.name, int(assigned), int(completed), Decimal(hours).quantize(Decimal("0.1"))
    )


async def completion_by_unit(
    *,
    db: AsyncSession,
    parent_id: int,
    since: datetime,
    until: datetime,
    only: Only | None = None,
) -> list[UnitCompletion]:
    """Completion per unit directly below ``parent_id`` (each unit's whole subtree), for
    trainings published in the period; units without any assignment are left out
    (narrowed by ``only``: of the members of the flagged units alone)."""
    child = aliased(OrgUnit)
    stmt = (
        _assignments(since, until, only)
        .add_columns(col(child.id), col(child.name))
        .join(
            child,
            sa.and_(
                col(child.parent_id) == parent_id,
                col(OrgUnit.path).startswith(col(child.path)),
            ),
        )
        .group_by(col(child.id), col(child.name), col(child.code))
        .order_by(col(child.code))
    )
    return [
        UnitCompletion(
            int(unit_id),
            str(name),
            int(assigned),
            int(completed),
            Decimal(hours).quantize(Decimal("0.1")),
        )
        for assigned, completed, hours, unit_id, name in await _rows(db, stmt)
    ]
