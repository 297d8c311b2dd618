"""Five lead (五带头): a branch secretary proposes members who meet it for a year; staff
above the branch (its township, or the county) confirm or reject each proposal, and the
one who proposed is told through the outbox. Only confirmed members count toward 60 %.

A proposal is news for the township: its organisers get a message with 确认 / 不确认
(bot/five_lead_buttons.py), so one tap decides it; a branch with no township organiser
on the bot (or no township above it) asks the county staff instead.

Each change is one function: it checks the right and the state, writes, audits and
queues its message in the caller's transaction. A button carries what it asks for
(propose or withdraw, confirm or reject), so a double tap asks for the same thing twice
and the second changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.access import Action, Principal, allows, allows_below
from bot.assessments import check_year
from bot.direct_messages import recipient
from bot.five_lead_buttons import verdict_markup
from bot.htmltext import payload_html
from bot.i18n import N_, gettext
from bot.refusals import MEMBER_GONE, NOT_ALLOWED, Refused
from storage import audit, deliveries, members, orgs, roles
from storage import five_lead as store
from storage.deliveries import Outgoing
from storage.five_lead import Standing
from storage.models import DeliveryKind, FiveLeadProposal, Member, OrgKind, OrgUnit, Role

__all__ = [
    "ALREADY_DECIDED",
    "Decided",
    "Proposed",
    "check_propose",
    "check_review",
    "decide",
    "propose",
    "reviewers",
]

ALREADY_DECIDED: Final = N_("The township has already decided on {name} for {year}.")
WITHDRAWN: Final = N_("This proposal was withdrawn.")
TOLD_CONFIRMED: Final = N_("✅ Five lead {year}: {name} of {org} is confirmed.")
TOLD_REJECTED: Final = N_("✖ Five lead {year}: {name} of {org} was not confirmed.")
ASK_TOWNSHIP: Final = N_(
    '📝 Five lead {year}: {org} proposes {name}. Does {name} meet "five lead"?'
)


def check_propose(principal: Principal, org: OrgUnit | None) -> OrgUnit:
    """The branch, if the principal proposes for it (its secretary); refused otherwise."""
    if (
        org is None
        or not org.active
        or org.kind != OrgKind.VILLAGE_BRANCH
        or not allows(principal, Action.PROPOSE_FIVE_LEAD, org.path)
    ):
        raise Refused(NOT_ALLOWED)
    return org


def check_review(principal: Principal, org: OrgUnit | None) -> OrgUnit:
    """The member's branch, if the principal assesses from above it; refused otherwise."""
    if org is None or not allows_below(principal, Action.ASSESS, org.path):
        raise Refused(NOT_ALLOWED)
    return org


@dataclass(frozen=True, slots=True)
class Proposed:
    """The member after a proposal or a withdrawal, and where they stand now."""

    member: Member
    org: OrgUnit
    standing: Standing


async def propose(
    *,
    db: AsyncSession,
    principal: Principal,
    member_id: int,
    year: int,
    proposed: bool,
    now: datetime,
) -> Proposed:
    """Propose the member for the year (``proposed``) or withdraw a pending proposal."""
    check_year(year, now)
    member = await members.get_member(db=db, member_id=member_id)
    if member is None or not member.active:
        raise Refused(MEMBER_GONE)
    org = check_propose(principal, await orgs.get_org(db=db, org_id=member.org_id))
    if await store.verdict_of(db=db, year=year, member_id=member_id) is not None:
        raise Refused(ALREADY_DECIDED, name=member.name, year=str(year))
    row = await store.proposal_of(db=db, year=year, member_id=member_id)
    if (row is not None) == proposed:  # a repeat: as asked already
        return Proposed(member, org, Standing.PROPOSED if proposed else Standing.NONE)
    if row is None:
        row = await store.add_proposal(
            db=db,
            year=year,
            member_id=member_id,
            proposed_by=principal.telegram_user_id,
            now=now,
        )
        await _ask_above(db, row, member, org, now)
    else:
        await store.remove_proposal(db=db, proposal=row)
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="assess.five_lead.propose" if proposed else "assess.five_lead.withdraw",
        target_kind="member",
        target_id=member_id,
        org_id=org.id,
        detail={"year": year, "member": member.name},
        at=now,
    )
    return Proposed(member, org, Standing.PROPOSED if proposed else Standing.NONE)


async def reviewers(*, db: AsyncSession, org: OrgUnit) -> list[roles.Holder]:
    """Who is asked to decide a proposal of the branch: the organisers of the township
    above it, or the county staff when no township organiser is there to ask."""
    lineage = await orgs.lineage(db=db, org=org)
    townships = [unit.id for unit in lineage if unit.kind == OrgKind.TOWNSHIP and unit.id]
    found: dict[int, roles.Holder] = {}
    for township_id in townships:
        for holder in await roles.holders(
            db=db, org_id=township_id, roles=[Role.TOWNSHIP_ORGANISER]
        ):
            found.setdefault(holder.telegram_user_id, holder)
    if not found:
        county = await orgs.get_county(db=db)
        if county is not None and county.id is not None:
            for holder in await roles.holders(db=db, org_id=county.id, roles=[Role.COUNTY_STAFF]):
                found.setdefault(holder.telegram_user_id, holder)
    return list(found.values())


async def _ask_above(
    db: AsyncSession, proposal: FiveLeadProposal, member: Member, org: OrgUnit, now: datetime
) -> int:
    """Queue the proposal, with 确认 / 不确认, to those who decide it; how many."""
    assert proposal.id is not None
    assert member.id is not None
    items = []
    for holder in await reviewers(db=db, org=org):
        language = holder.language
        text = gettext(language, ASK_TOWNSHIP).format(
            year=proposal.year, org=org.name, name=member.name
        )
        items.append(
            Outgoing(
                holder.telegram_user_id,
                {
                    "text": payload_html(text),
                    "parse_mode": ParseMode.HTML.value,
                    "reply_markup": verdict_markup(proposal.id, member.id, language),
                },
                f"five_lead:{proposal.id}:ask:{member.id}:{holder.telegram_user_id}",
            )
        )
    return await deliveries.enqueue_many(db=db, kind=DeliveryKind.OTHER, items=items, due_at=now)


@dataclass(frozen=True, slots=True)
class Decided:
    """A proposal's verdict; ``changed`` False when it was already so."""

    member: Member
    org: OrgUnit
    confirmed: bool
    changed: bool


async def decide(
    *,
    db: AsyncSession,
    principal: Principal,
    proposal_id: int,
    confirm: bool,
    now: datetime,
    member_id: int | None = None,
) -> Decided:
    """Confirm or reject a proposal; the member's five-lead verdict is written and the
    one who proposed is told. The same verdict again changes nothing; the other one is
    refused (a verdict is final). ``member_id``, when the button names the member, must
    be the proposal's (an id taken again after a withdrawal is another proposal)."""
    proposal = await store.get_proposal(db=db, proposal_id=proposal_id)
    if proposal is None or member_id not in (None, proposal.member_id):
        raise Refused(WITHDRAWN)
    member = await members.get_member(db=db, member_id=proposal.member_id)
    if member is None or not member.active:
        raise Refused(MEMBER_GONE)
    org = check_review(principal, await orgs.get_org(db=db, org_id=member.org_id))
    verdict = await store.verdict_of(db=db, year=proposal.year, member_id=member.id or 0)
    if verdict is not None:
        if verdict.passed == confirm:
            return Decided(member, org, confirm, False)
        raise Refused(ALREADY_DECIDED, name=member.name, year=str(proposal.year))
    await store.save_verdict(
        db=db,
        proposal=proposal,
        passed=confirm,
        assessed_by=principal.telegram_user_id,
        now=now,
    )
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="assess.five_lead.confirm" if confirm else "assess.five_lead.reject",
        target_kind="member",
        target_id=member.id,
        org_id=org.id,
        detail={"year": proposal.year, "member": member.name, "proposal": proposal_id},
        at=now,
    )
    told = await recipient(db=db, telegram_user_id=proposal.proposed_by)
    language = told.language if told is not None else "zh"
    text = gettext(language, TOLD_CONFIRMED if confirm else TOLD_REJECTED).format(
        year=proposal.year, name=member.name, org=org.name
    )
    await deliveries.enqueue(
        db=db,
        kind=DeliveryKind.OTHER,
        chat_id=proposal.proposed_by,
        payload={"text": payload_html(text), "parse_mode": ParseMode.HTML.value},
        dedupe_key=f"five_lead:{proposal_id}:decided",
        due_at=now,
    )
    return Decided(member, org, confirm, True)
