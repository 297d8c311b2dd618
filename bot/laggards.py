"""/laggards: the branches under a staff member's unit that fall below the county's
targets, and why.

The figures are the summary's (`bot.summary.branch_figures`: the same grouped queries,
cadence periods and `TARGETS`), taken for every branch of the subtree at once. A branch
is a laggard when one of these figures misses its target: sessions not held on time
(silent), attendance, training money per member against the 30-yuan floor, notices
read, and the five-good rating of the period's years (only once it is rated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.funds import FLOOR_YUAN
from bot.i18n import N_, gettext
from bot.periods import Period
from bot.shares import percent
from bot.summary import TARGETS, Check, Figure, Figures, branch_figures
from storage import reports
from storage.guidance import Only
from storage.models import OrgUnit
from storage.reports import Branch

__all__ = ["LAGGARD_FIGURES", "Laggard", "laggards", "reason_text"]

#: What makes a branch a laggard, in the order the reasons are shown.
LAGGARD_FIGURES: Final = (
    Figure.CADENCE,
    Figure.ATTENDANCE,
    Figure.FUNDS,
    Figure.ACKS,
    Figure.FIVE_GOOD,
)


REASONS: Final = {
    Figure.CADENCE: N_("silent: sessions held on time in {part} of {whole} periods"),
    Figure.ATTENDANCE: N_("low attendance: {percent} (target {target})"),
    Figure.FUNDS: N_("training funds short: {amount} yuan a member (target {floor} yuan)"),
    Figure.ACKS: N_("low notice read rate: {percent} (target {target})"),
    Figure.FIVE_GOOD: N_("not five-good"),
}


@dataclass(frozen=True, slots=True)
class Laggard:
    """A branch below target, with the checks it misses (the reasons)."""

    branch: Branch
    missed: list[Check]
    figures: Figures

    def reasons(self, language: str) -> list[str]:
        return [reason_text(check, self.figures, language) for check in self.missed]


def reason_text(check: Check, figures: Figures, language: str) -> str:
    """Why a branch is a laggard, in a few words ("low attendance: 50% (target 90%)")."""
    share = check.share
    amount = figures.funds.per_member_yuan if figures.funds is not None else None
    return gettext(language, REASONS[check.figure]).format(
        part=check.part,
        whole=check.whole,
        percent=percent(share) if share is not None else "",
        target=percent(TARGETS[check.figure]),
        amount=f"{amount:.2f}" if amount is not None else "0.00",
        floor=FLOOR_YUAN,
    )


def _missed(figures: Figures) -> list[Check]:
    checks = {check.figure: check for check in figures.checks()}
    return [
        checks[figure]
        for figure in LAGGARD_FIGURES
        if figure in checks and checks[figure].judged and not checks[figure].ok
    ]


async def laggards(
    *,
    db: AsyncSession,
    org: OrgUnit,
    period: Period,
    now: datetime,
    tz: ZoneInfo,
    only: Only | None = None,
) -> tuple[int, list[Laggard]]:
    """How many branches lie under ``org``, and those below target, most reasons first;
    narrowed by ``only`` (a class or flag, as /summary takes it), of the branches in
    flagged units alone. Access is the caller's to check (the org came from the user's
    grant or a button)."""
    figures = await branch_figures(db=db, org=org, period=period, now=now, tz=tz, only=only)
    branches = await reports.branches(db=db, path=org.path, only=only)
    found = [
        Laggard(branch, missed, figures[branch.id])
        for branch in branches
        if branch.id in figures and (missed := _missed(figures[branch.id]))
    ]
    found.sort(key=lambda laggard: (-len(laggard.missed), laggard.branch.code))
    return len(branches), found
