"""Training funds (培训经费) allocated to an org per year, from which budget, for what."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import enum_check, enum_column, fk, money_column, utc_column
from storage.types import utcnow

__all__ = ["FundAllocation", "FundPurpose", "FundSource"]


class FundSource(StrEnum):
    MUNICIPAL = "municipal"
    COUNTY = "county"
    TOWNSHIP = "township"
    OTHER = "other"


class FundPurpose(StrEnum):
    TRAINING = "training"
    OFFICE = "office"
    INFRASTRUCTURE = "infrastructure"
    OTHER = "other"


class FundAllocation(SQLModel, table=True):
    """Money given to an org; the >= 30 yuan/member/year rule is checked against these."""

    __tablename__ = "fund_allocation"
    __table_args__ = (
        enum_check("source", FundSource),
        enum_check("purpose", FundPurpose),
        sa.CheckConstraint("amount_yuan >= 0", name="amount_not_negative"),
        sa.Index("ix_fund_allocation_org_id_year", "org_id", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE", index=False))
    year: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    source: FundSource = Field(sa_column=enum_column(FundSource))
    purpose: FundPurpose = Field(sa_column=enum_column(FundPurpose))
    amount_yuan: Decimal = Field(sa_column=money_column())
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # NULL: recorded by the system (the spreadsheet import on the command line).
    recorded_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
