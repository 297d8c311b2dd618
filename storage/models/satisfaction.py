"""The yearly satisfaction survey (满意度测评) of county departments and grassroots
stations by the grassroots, and its answers.

Anonymous by design: an answer keeps its rater only so that a person answers once per
unit (the unique key) and can change the answer until the survey closes. It keeps no
time, and nothing reports it but aggregates (storage/satisfaction.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import enum_check, enum_column, fk, utc_column
from storage.types import utcnow

__all__ = [
    "Satisfaction",
    "SatisfactionAnswer",
    "SatisfactionSurvey",
    "SurveyRaters",
    "SurveyState",
]


class SurveyRaters(StrEnum):
    """Who rates: the village branches' secretaries, or all their members."""

    SECRETARIES = "secretaries"
    MEMBERS = "members"


class SurveyState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Satisfaction(StrEnum):
    """满意 / 基本满意 / 不满意."""

    SATISFIED = "satisfied"
    BASICALLY = "basically"
    DISSATISFIED = "dissatisfied"


class SatisfactionSurvey(SQLModel, table=True):
    """One survey a year, opened (and closed) by county staff."""

    __tablename__ = "satisfaction_survey"
    __table_args__ = (
        enum_check("raters", SurveyRaters),
        enum_check("state", SurveyState),
        sa.UniqueConstraint("year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    raters: SurveyRaters = Field(sa_column=enum_column(SurveyRaters))
    state: SurveyState = Field(
        default=SurveyState.OPEN, sa_column=enum_column(SurveyState, default=SurveyState.OPEN)
    )
    opened_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    opened_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class SatisfactionAnswer(SQLModel, table=True):
    """One person's answer about one unit in one survey (changeable while it is open)."""

    __tablename__ = "satisfaction_answer"
    __table_args__ = (
        enum_check("choice", Satisfaction),
        sa.UniqueConstraint("survey_id", "unit_id", "rater_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(sa_column=fk("satisfaction_survey.id", ondelete="CASCADE", index=False))
    unit_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    # The rater's Telegram id: only for the unique key and the rater's own screen.
    rater_id: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    choice: Satisfaction = Field(sa_column=enum_column(Satisfaction))
    comment: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
