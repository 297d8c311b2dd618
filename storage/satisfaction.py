"""The satisfaction survey aggregate: surveys, the units rated, the raters, the answers.

Anonymity is kept here: the only functions that take a rater are the rater's own
(`save_answer`, `save_comment`, `own_answers`: what this person answered, for their own
screen); every function that reports on a survey returns counts grouped by unit
(`results`) or comment texts without their author, in text order (`comments`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import table_of, upsert
from storage.models.accounts import Role, RoleGrant, TelegramAccount
from storage.models.members import Member
from storage.models.orgs import OrgKind, OrgUnit
from storage.models.satisfaction import (
    Satisfaction,
    SatisfactionAnswer,
    SatisfactionSurvey,
    SurveyRaters,
    SurveyState,
)

__all__ = [
    "RATED_KINDS",
    "RATER_KINDS",
    "Rater",
    "UnitResult",
    "close_survey",
    "comments",
    "create_survey",
    "get_survey",
    "is_rater",
    "own_answers",
    "rated_units",
    "raters",
    "results",
    "save_answer",
    "save_comment",
    "survey_of_year",
]

#: The units the grassroots rate, and the grassroots who rate them.
RATED_KINDS = (OrgKind.COUNTY_DEPARTMENT, OrgKind.GRASSROOTS_STATION)
RATER_KINDS = (OrgKind.VILLAGE_BRANCH,)

_ANSWER = table_of(SatisfactionAnswer)
_ORG = table_of(OrgUnit)
_GRANT = table_of(RoleGrant)
_MEMBER = table_of(Member)
_ACCOUNT = table_of(TelegramAccount)


@dataclass(frozen=True, slots=True)
class Rater:
    """Someone to send the survey to, in their language."""

    telegram_user_id: int
    language: str


@dataclass(frozen=True, slots=True)
class UnitResult:
    """How one unit was rated: counts only."""

    unit_id: int
    name: str
    satisfied: int
    basically: int
    dissatisfied: int

    @property
    def answers(self) -> int:
        return self.satisfied + self.basically + self.dissatisfied


async def create_survey(
    *, db: AsyncSession, year: int, raters: SurveyRaters, opened_by: int, now: datetime
) -> SatisfactionSurvey | None:
    """A new open survey for the year; None if the year has one already."""
    if await survey_of_year(db=db, year=year) is not None:
        return None
    survey = SatisfactionSurvey(year=year, raters=raters, opened_by=opened_by, opened_at=now)
    db.add(survey)
    await db.flush()
    return survey


async def get_survey(*, db: AsyncSession, survey_id: int) -> SatisfactionSurvey | None:
    result = await db.exec(
        select(SatisfactionSurvey)
        .where(col(SatisfactionSurvey.id) == survey_id)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def survey_of_year(*, db: AsyncSession, year: int) -> SatisfactionSurvey | None:
    result = await db.exec(
        select(SatisfactionSurvey)
        .where(col(SatisfactionSurvey.year) == year)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def close_survey(*, db: AsyncSession, survey_id: int, now: datetime) -> bool:
    """Close an open survey; False if it was closed already."""
    result = await db.exec(
        update(SatisfactionSurvey)
        .where(
            col(SatisfactionSurvey.id) == survey_id,
            col(SatisfactionSurvey.state) == SurveyState.OPEN,
        )
        .values(state=SurveyState.CLOSED, closed_at=now)
    )
    return bool(result.rowcount)


async def rated_units(*, db: AsyncSession) -> list[OrgUnit]:
    """The active county departments and grassroots stations, departments first, by code."""
    result = await db.exec(
        select(OrgUnit)
        .where(col(OrgUnit.kind).in_(RATED_KINDS), col(OrgUnit.active).is_(True))
        .order_by(col(OrgUnit.kind), col(OrgUnit.code))
    )
    return list(result.all())


async def _rows(db: AsyncSession, stmt: Any) -> Sequence[Any]:
    await db.flush()
    connection = await db.connection()
    rows: Sequence[Any] = (await connection.execute(stmt)).all()
    return rows


def _raters_query(kind: SurveyRaters) -> Any:
    """(telegram id, language) of everyone who rates, as SQL (once each)."""
    branch = sa.and_(_ORG.c.kind.in_([k.value for k in RATER_KINDS]), _ORG.c.active.is_(True))
    if kind == SurveyRaters.SECRETARIES:
        who = _GRANT.c.telegram_user_id
        stmt = (
            sa.select(who.label("who"), _ACCOUNT.c.language)
            .select_from(_GRANT)
            .join(_ORG, _ORG.c.id == _GRANT.c.org_id)
            .where(_GRANT.c.role == Role.SECRETARY.value, branch)
        )
    else:
        who = _MEMBER.c.telegram_user_id
        stmt = (
            sa.select(who.label("who"), _ACCOUNT.c.language)
            .select_from(_MEMBER)
            .join(_ORG, _ORG.c.id == _MEMBER.c.org_id)
            .where(who.is_not(None), _MEMBER.c.active.is_(True), branch)
        )
    return stmt.join(_ACCOUNT, _ACCOUNT.c.telegram_user_id == who, isouter=True).distinct()


async def raters(*, db: AsyncSession, kind: SurveyRaters) -> list[Rater]:
    """Everyone who rates in a survey of this kind, by Telegram id."""
    found = _raters_query(kind).subquery()
    rows = await _rows(db, sa.select(found).order_by(found.c.who))
    return [Rater(int(user_id), str(language or "zh")) for user_id, language in rows]


async def is_rater(*, db: AsyncSession, kind: SurveyRaters, telegram_user_id: int) -> bool:
    """Whether this person rates in a survey of this kind."""
    found = _raters_query(kind).subquery()
    rows = await _rows(
        db,
        sa.select(sa.func.count()).select_from(found).where(found.c.who == telegram_user_id),
    )
    return bool(rows[0][0])


async def save_answer(
    *,
    db: AsyncSession,
    survey_id: int,
    unit_id: int,
    rater_id: int,
    choice: Satisfaction,
) -> None:
    """The rater's answer about the unit, replacing an earlier one (one row, also when two
    taps race)."""
    await upsert(
        db,
        SatisfactionAnswer,
        {"survey_id": survey_id, "unit_id": unit_id, "rater_id": rater_id, "choice": choice},
        conflict=["survey_id", "unit_id", "rater_id"],
        update={"choice": choice},
    )


async def save_comment(
    *, db: AsyncSession, survey_id: int, unit_id: int, rater_id: int, comment: str
) -> bool:
    """The rater's comment on an answer given; False if there is no answer yet."""
    result = await db.exec(
        update(SatisfactionAnswer)
        .where(
            col(SatisfactionAnswer.survey_id) == survey_id,
            col(SatisfactionAnswer.unit_id) == unit_id,
            col(SatisfactionAnswer.rater_id) == rater_id,
        )
        .values(comment=comment)
    )
    return bool(result.rowcount)


async def own_answers(
    *, db: AsyncSession, survey_id: int, rater_id: int
) -> dict[int, Satisfaction]:
    """What this rater answered, by unit: for the rater's own screen, nobody else's."""
    result = await db.exec(
        select(SatisfactionAnswer.unit_id, SatisfactionAnswer.choice).where(
            col(SatisfactionAnswer.survey_id) == survey_id,
            col(SatisfactionAnswer.rater_id) == rater_id,
        )
    )
    return {int(unit): Satisfaction(choice) for unit, choice in result.all()}


async def results(*, db: AsyncSession, survey_id: int) -> list[UnitResult]:
    """Every rated unit with how many answered each way (GROUP BY; no rater leaves here)."""
    choice = _ANSWER.c.choice
    counts = (
        sa.select(
            _ANSWER.c.unit_id,
            sa.func.count().filter(choice == Satisfaction.SATISFIED.value).label("s"),
            sa.func.count().filter(choice == Satisfaction.BASICALLY.value).label("b"),
            sa.func.count().filter(choice == Satisfaction.DISSATISFIED.value).label("d"),
        )
        .where(_ANSWER.c.survey_id == survey_id)
        .group_by(_ANSWER.c.unit_id)
        .subquery("counts")
    )
    stmt = (
        sa.select(
            _ORG.c.id,
            _ORG.c.name,
            sa.func.coalesce(counts.c.s, 0),
            sa.func.coalesce(counts.c.b, 0),
            sa.func.coalesce(counts.c.d, 0),
        )
        .join(counts, counts.c.unit_id == _ORG.c.id, isouter=True)
        .where(
            sa.or_(
                sa.and_(
                    _ORG.c.kind.in_([kind.value for kind in RATED_KINDS]),
                    _ORG.c.active.is_(True),
                ),
                counts.c.unit_id.is_not(None),
            )
        )
        .order_by(_ORG.c.kind, _ORG.c.code)
    )
    rows = await _rows(db, stmt)
    return [UnitResult(int(i), str(n), int(s), int(b), int(d)) for i, n, s, b, d in rows]


async def comments(*, db: AsyncSession, survey_id: int) -> list[tuple[str, str]]:
    """(unit name, comment) of the survey, by unit and then by the comment's text (never
    in the order given, which could tell who wrote it)."""
    stmt = (
        sa.select(_ORG.c.name, _ANSWER.c.comment)
        .join(_ORG, _ORG.c.id == _ANSWER.c.unit_id)
        .where(_ANSWER.c.survey_id == survey_id, _ANSWER.c.comment.is_not(None))
        .order_by(_ORG.c.kind, _ORG.c.code, _ANSWER.c.comment)
    )
    rows = await _rows(db, stmt)
    return [(str(name), str(comment)) for name, comment in rows]
