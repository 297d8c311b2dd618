"""The yearly satisfaction survey (满意度测评): the grassroots rate the county departments
and grassroots stations 满意 / 基本满意 / 不满意; a unit meets the mark when at least 65 %
of its answers are 满意 or 基本满意 (both count as satisfied).

County staff open the survey for the year, choosing the raters (the village branches'
secretaries, or all their members on Telegram); each rater gets one message with a
button per unit. One answer per person per unit, changeable (and a comment added) until
staff close the survey. Anonymous: an answer writes no audit row and keeps no time, and
results are counts per unit (storage/satisfaction.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.access import Action, Principal, allows
from bot.dates import local_date
from bot.htmltext import payload_html
from bot.i18n import N_, gettext
from bot.refusals import NOT_ALLOWED, STALE_BUTTON, Refused
from bot.survey_buttons import units_markup
from storage import audit, deliveries, orgs
from storage import satisfaction as store
from storage.deliveries import Outgoing
from storage.models import (
    DeliveryKind,
    OrgUnit,
    Satisfaction,
    SatisfactionSurvey,
    SurveyRaters,
    SurveyState,
)
from storage.satisfaction import UnitResult

__all__ = [
    "MAX_COMMENT",
    "TARGET",
    "RaterView",
    "SurveyResults",
    "answer",
    "close_survey",
    "comment",
    "meets",
    "open_survey",
    "rater_survey",
    "satisfied_share",
    "survey_results",
]

TARGET: Final = Fraction(65, 100)
MAX_COMMENT: Final = 500

NO_UNITS: Final = N_("There are no county departments or grassroots stations to rate.")
NO_RATERS: Final = N_("Nobody would rate: no one of the chosen raters is on Telegram.")
ALREADY_OPEN: Final = N_("The {year} satisfaction survey has been opened already.")
SURVEY_CLOSED: Final = N_("The satisfaction survey is closed.")
NOT_A_RATER: Final = N_("You are not among the raters of this survey.")
ANSWER_FIRST: Final = N_("Choose your answer first, then add a comment.")
EMPTY_COMMENT: Final = N_("Please type a few words.")
LONG_COMMENT: Final = N_("That is too long. Please keep it under {n} characters.")

INVITATION: Final = N_(
    "📊 The {year} satisfaction survey of county departments and grassroots stations. Tap "
    "a unit to rate it: satisfied, basically satisfied or dissatisfied. You can change "
    "your answers until the survey closes; nobody sees who rated what."
)


def satisfied_share(result: UnitResult) -> Fraction | None:
    """满意 + 基本满意 of all the unit's answers; None without answers."""
    if not result.answers:
        return None
    return Fraction(result.satisfied + result.basically, result.answers)


def meets(result: UnitResult) -> bool | None:
    """Whether the unit reaches 65 % satisfied; None without answers."""
    share = satisfied_share(result)
    return None if share is None else share >= TARGET


@dataclass(frozen=True, slots=True)
class SurveyResults:
    """A year's survey and how each unit was rated: counts only, never a rater."""

    survey: SatisfactionSurvey
    units: list[UnitResult]

    @property
    def judged(self) -> int:
        """Units with at least one answer (the others are not judged)."""
        return sum(1 for unit in self.units if unit.answers)

    @property
    def passing(self) -> int:
        """Units at the mark: 65 % satisfied or more."""
        return sum(1 for unit in self.units if meets(unit))


async def survey_results(*, db: AsyncSession, year: int) -> SurveyResults | None:
    """The year's survey with its results by unit; None if there was none. A read for
    the county's screens (/survey, /summary, /export): access is the caller's to check."""
    survey = await store.survey_of_year(db=db, year=year)
    if survey is None or survey.id is None:
        return None
    return SurveyResults(survey, await store.results(db=db, survey_id=survey.id))


async def _county_staff(db: AsyncSession, principal: Principal) -> OrgUnit:
    county = await orgs.get_county(db=db)
    if county is None or not allows(principal, Action.RUN_SURVEY, county.path):
        raise Refused(NOT_ALLOWED)
    return county


async def open_survey(
    *,
    db: AsyncSession,
    principal: Principal,
    year: int,
    raters: SurveyRaters,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[SatisfactionSurvey, int]:
    """Open the year's survey and queue one message to every rater; returns the survey
    and how many raters were sent it."""
    county = await _county_staff(db, principal)
    if year not in (local_date(now, tz).year, local_date(now, tz).year - 1):
        raise Refused(STALE_BUTTON)
    units = await store.rated_units(db=db)
    if not units:
        raise Refused(NO_UNITS)
    people = await store.raters(db=db, kind=raters)
    if not people:
        raise Refused(NO_RATERS)
    survey = await store.create_survey(
        db=db, year=year, raters=raters, opened_by=principal.telegram_user_id, now=now
    )
    if survey is None or survey.id is None:
        raise Refused(ALREADY_OPEN, year=str(year))
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="survey.open",
        target_kind="satisfaction_survey",
        target_id=survey.id,
        org_id=county.id,
        detail={"year": year, "raters": raters.value, "units": len(units), "sent": len(people)},
        at=now,
    )
    markup = units_markup(survey.id, units)
    items = [
        Outgoing(
            person.telegram_user_id,
            {
                "text": payload_html(gettext(person.language, INVITATION).format(year=year)),
                "parse_mode": ParseMode.HTML.value,
                "reply_markup": markup,
            },
            f"survey:{survey.id}:{person.telegram_user_id}",
        )
        for person in people
    ]
    sent = await deliveries.enqueue_many(db=db, kind=DeliveryKind.OTHER, items=items, due_at=now)
    return survey, sent


@dataclass(frozen=True, slots=True)
class RaterView:
    """An open survey as one rater sees it: its units and the rater's own answers."""

    survey: SatisfactionSurvey
    units: list[OrgUnit]
    answers: dict[int, Satisfaction]


async def rater_survey(*, db: AsyncSession, telegram_user_id: int, survey_id: int) -> RaterView:
    """The survey for one of its raters while it is open; refused otherwise."""
    survey = await store.get_survey(db=db, survey_id=survey_id)
    if survey is None or survey.id is None:
        raise Refused(STALE_BUTTON)
    if survey.state != SurveyState.OPEN:
        raise Refused(SURVEY_CLOSED)
    if not await store.is_rater(db=db, kind=survey.raters, telegram_user_id=telegram_user_id):
        raise Refused(NOT_A_RATER)
    units = await store.rated_units(db=db)
    answers = await store.own_answers(db=db, survey_id=survey.id, rater_id=telegram_user_id)
    return RaterView(survey, units, answers)


def _unit(view: RaterView, unit_id: int) -> OrgUnit:
    for unit in view.units:
        if unit.id == unit_id:
            return unit
    raise Refused(STALE_BUTTON)


async def answer(
    *,
    db: AsyncSession,
    telegram_user_id: int,
    survey_id: int,
    unit_id: int,
    choice: Satisfaction,
) -> tuple[RaterView, OrgUnit]:
    """A rater's answer about a unit (replacing an earlier one). No audit row: who rated
    what is not recorded anywhere but in the answer's unique key."""
    view = await rater_survey(db=db, telegram_user_id=telegram_user_id, survey_id=survey_id)
    unit = _unit(view, unit_id)
    await store.save_answer(
        db=db,
        survey_id=survey_id,
        unit_id=unit_id,
        rater_id=telegram_user_id,
        choice=choice,
    )
    view.answers[unit_id] = choice
    return view, unit


async def comment(
    *,
    db: AsyncSession,
    telegram_user_id: int,
    survey_id: int,
    unit_id: int,
    text: str,
) -> OrgUnit:
    """A rater's comment on their answer about a unit (replacing an earlier one)."""
    cleaned = text.strip()
    if not cleaned:
        raise Refused(EMPTY_COMMENT)
    if len(cleaned) > MAX_COMMENT:
        raise Refused(LONG_COMMENT, n=str(MAX_COMMENT))
    view = await rater_survey(db=db, telegram_user_id=telegram_user_id, survey_id=survey_id)
    unit = _unit(view, unit_id)
    if not await store.save_comment(
        db=db,
        survey_id=survey_id,
        unit_id=unit_id,
        rater_id=telegram_user_id,
        comment=cleaned,
    ):
        raise Refused(ANSWER_FIRST)
    return unit


async def close_survey(
    *, db: AsyncSession, principal: Principal, survey_id: int, now: datetime
) -> SatisfactionSurvey:
    """County staff close the survey: answers are final from now on."""
    county = await _county_staff(db, principal)
    survey = await store.get_survey(db=db, survey_id=survey_id)
    if survey is None or survey.id is None:
        raise Refused(STALE_BUTTON)
    if not await store.close_survey(db=db, survey_id=survey.id, now=now):
        raise Refused(SURVEY_CLOSED)
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="survey.close",
        target_kind="satisfaction_survey",
        target_id=survey.id,
        org_id=county.id,
        detail={"year": survey.year},
        at=now,
    )
    closed = await store.get_survey(db=db, survey_id=survey.id)
    assert closed is not None
    return closed
