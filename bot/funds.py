"""Training funds (培训经费): the rules for recording money, and the 30-yuan floor.

County and township staff record money allocated to an org in their scope: how much
(exact yuan, never a float), for which year, from which budget, for what. The checks here
serve the bot's /fund flow and the spreadsheet import alike, so both refuse the same
input with the same words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.access import Action, Principal, allows
from bot.i18n import N_
from bot.refusals import NOT_ALLOWED, Refused
from storage import audit, orgs
from storage import funds as fund_store
from storage.models import FundAllocation, FundPurpose, FundSource, OrgKind, OrgUnit

__all__ = [
    "FLOOR_YUAN",
    "MAX_YUAN",
    "PURPOSES",
    "SOURCES",
    "FundEntry",
    "check_org",
    "check_year",
    "format_yuan",
    "parse_amount",
    "record_fund",
    "write_fund",
]

#: Training money the county's policy asks for, per member and year.
FLOOR_YUAN: Final = Decimal("30")
#: More than this in one record is a typing slip (a county's whole budget is far less).
MAX_YUAN: Final = Decimal("10000000")
#: Years that can be recorded: from this one to next year.
FIRST_YEAR: Final = 2000

SOURCES: Final[dict[FundSource, str]] = {
    FundSource.MUNICIPAL: N_("municipal budget"),
    FundSource.COUNTY: N_("county budget"),
    FundSource.TOWNSHIP: N_("township budget"),
}
PURPOSES: Final[dict[FundPurpose, str]] = {
    FundPurpose.TRAINING: N_("training"),
    FundPurpose.INFRASTRUCTURE: N_("village infrastructure"),
    FundPurpose.OFFICE: N_("office costs"),
}

BAD_AMOUNT: Final = N_("{value} is not an amount in yuan. Write it like 1200 or 1200.50.")
NOT_POSITIVE: Final = N_("The amount must be more than zero yuan.")
TOO_MANY_CENTS: Final = N_("An amount has at most two decimal places (fen): {value}.")
TOO_LARGE: Final = N_("{value} yuan is more than one record can hold (at most {limit} yuan).")
BAD_YEAR: Final = N_("{value} is not a year between {first} and {last}.")
BAD_ORG: Final = N_("Funds are recorded for the county, a township or a branch.")

_NUMBER: Final = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_DECORATION: Final = re.compile(r"[,\s¥￥元]|rmb|cny|yuan", re.IGNORECASE)


def format_yuan(amount: Decimal) -> str:
    """Exact yuan with two decimals and thousands separators: 12,345.60."""
    return f"{amount.quantize(Decimal('0.01')):,}"


def parse_amount(text: str) -> Decimal:
    """Yuan as typed or read from a sheet ("1,200.50元", "１２００"); refuses the rest."""
    cleaned = _DECORATION.sub("", unicodedata.normalize("NFKC", text))
    shown = text.strip()[:40]
    if not _NUMBER.match(cleaned):
        raise Refused(BAD_AMOUNT, value=shown)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise Refused(BAD_AMOUNT, value=shown) from error
    if amount <= 0:
        raise Refused(NOT_POSITIVE)
    if amount != amount.quantize(Decimal("0.01")):
        raise Refused(TOO_MANY_CENTS, value=shown)
    if amount > MAX_YUAN:
        raise Refused(TOO_LARGE, value=shown, limit=format_yuan(MAX_YUAN))
    return amount.quantize(Decimal("0.01"))


def check_year(text: str, *, today: date) -> int:
    """A year from 2000 to next year."""
    cleaned = unicodedata.normalize("NFKC", text).strip().removesuffix("年")
    last = today.year + 1
    if not cleaned.isdigit() or not FIRST_YEAR <= int(cleaned) <= last:
        raise Refused(BAD_YEAR, value=text.strip()[:20], first=str(FIRST_YEAR), last=str(last))
    return int(cleaned)


def check_org(org: OrgUnit | None) -> OrgUnit:
    """Funds go to an active org of the tree, not to a party group."""
    if org is None or not org.active or org.kind == OrgKind.PARTY_GROUP:
        raise Refused(BAD_ORG)
    return org


@dataclass(frozen=True, slots=True)
class FundEntry:
    """One allocation, checked: what the flow or a spreadsheet row says."""

    org_id: int
    year: int
    source: FundSource
    purpose: FundPurpose
    amount_yuan: Decimal
    note: str | None = None


async def write_fund(
    *, db: AsyncSession, entry: FundEntry, actor: int | None, via: str, now: datetime
) -> FundAllocation:
    """Store one checked entry with its audit row (the caller's transaction)."""
    row = await fund_store.record_fund(
        db=db,
        org_id=entry.org_id,
        year=entry.year,
        source=entry.source,
        purpose=entry.purpose,
        amount_yuan=entry.amount_yuan,
        note=entry.note,
        recorded_by=actor,
        now=now,
    )
    await audit.record(
        db=db,
        actor=actor,
        action="fund.record",
        target_kind="fund",
        target_id=row.id,
        org_id=entry.org_id,
        detail={
            "year": entry.year,
            "source": entry.source.value,
            "purpose": entry.purpose.value,
            "amount_yuan": str(entry.amount_yuan),
            "via": via,
        },
        at=now,
    )
    return row


async def record_fund(
    *,
    db: AsyncSession,
    principal: Principal,
    org_id: int,
    year: int,
    source: FundSource,
    purpose: FundPurpose,
    amount: str,
    today: date,
    now: datetime,
) -> tuple[FundAllocation, OrgUnit]:
    """/fund: check the right on the org, the amount and the year; write and audit."""
    org = await orgs.get_org(db=db, org_id=org_id)
    if org is None or not allows(principal, Action.RECORD_FUNDS, org.path):
        raise Refused(NOT_ALLOWED)
    check_org(org)
    if source not in SOURCES or purpose not in PURPOSES:
        raise Refused(NOT_ALLOWED)
    entry = FundEntry(
        org_id=org_id,
        year=check_year(str(year), today=today),
        source=source,
        purpose=purpose,
        amount_yuan=parse_amount(amount),
    )
    row = await write_fund(
        db=db, entry=entry, actor=principal.telegram_user_id, via="bot", now=now
    )
    return row, org
