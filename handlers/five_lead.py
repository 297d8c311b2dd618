"""Five lead (五带头) with buttons: the secretary's roster and the staff's review.

A secretary's /assess opens the branch roster of the year: one tap on a member proposes
them (⏳ waits for the township), a tap on ⏳ withdraws; ✅ and ✖ are the township's
verdicts. Big branches are paged. Staff open "Five-lead proposals" from their /assess
overview: ✅ or ✖ beside each name, or 确认 / 不确认 on the message the proposal sent
them; the secretary is told through the outbox. Every tap is checked again on the server;
the screens only show, bot/five_lead.py changes.
"""

from __future__ import annotations

from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import five_lead
from bot.access import Action, Principal, scope_roots
from bot.context import BotContext
from bot.five_lead_buttons import VERDICT
from bot.htmltext import html_lines
from bot.i18n import N_
from bot.refusals import NOT_ALLOWED, STALE_BUTTON, Refused
from bot.summary import Check, Figure
from bot.summary_text import share_line
from handlers.assess_codecs import DECIDE, OVERVIEW, PROPOSE, REVIEW, ROSTER
from handlers.paging import page_across, pager
from handlers.screens import Screen, answer_with, button, callback_ints, perform, show
from storage import five_lead as store
from storage import orgs, reports
from storage.five_lead import Standing
from storage.models import OrgUnit
from storage.reports import By, Scope

ROSTER_PAGE: Final = 10  # members a page, two a row
REVIEW_PAGE: Final = 6  # proposals a page, one row each
MARKS: Final = {
    Standing.NONE: "⬜",
    Standing.PROPOSED: "⏳",
    Standing.CONFIRMED: "✅",
    Standing.REJECTED: "✖",
}
NOT_ASSESSED: Final = N_("{label}: not assessed yet")


async def five_lead_line(db: AsyncSession, org: OrgUnit, year: int, context: BotContext) -> str:
    """ "五带头：2/8（25%）⚠️ 目标 60%": confirmed of the active members under ``org``, as
    /summary counts them (`storage.reports.five_lead`)."""
    assert org.id is not None
    found = await reports.five_lead(db=db, scope=Scope(org.id, org.path, By.WHOLE), years=[year])
    figure = found.get(org.id)
    if figure is None:
        return context._(NOT_ASSESSED).format(label=context._(N_("Five lead")))
    return share_line(Check(Figure.FIVE_LEAD, figure.confirmed, figure.members), context.language)


async def roster_screen(
    db: AsyncSession,
    principal: Principal,
    year: int,
    org_id: int,
    page: int,
    context: BotContext,
    note: str | None = None,
) -> Screen:
    """The branch's members of the year with where each stands; a tap proposes/withdraws."""
    org = five_lead.check_propose(principal, await orgs.get_org(db=db, org_id=org_id))
    total = await store.count_roster(db=db, org_id=org_id)
    page = max(0, min(page, (total - 1) // ROSTER_PAGE)) if total else 0
    entries = await store.roster(
        db=db, org_id=org_id, year=year, offset=page * ROSTER_PAGE, limit=ROSTER_PAGE
    )
    _ = context._
    lines = [note, ""] if note else []
    lines += [
        _("{org} · five lead {year}").format(org=org.name, year=year),
        await five_lead_line(db, org, year, context),
    ]
    if not entries:
        lines.append(_("The branch has no active members."))
        return html_lines(lines), None
    lines.append(
        _(
            'Tap each member who meets "five lead" to propose them; ⏳ waits for the '
            "township (tap it to withdraw), ✅ confirmed, ✖ not confirmed."
        )
    )
    if total > ROSTER_PAGE:
        pages = (total - 1) // ROSTER_PAGE + 1
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
    tiles = []
    for entry in entries:
        label = f"{MARKS[entry.standing]} {entry.name}"
        if entry.standing in (Standing.NONE, Standing.PROPOSED):
            wanted = int(entry.standing == Standing.NONE)
            tiles.append(button(label, PROPOSE.encode(year, entry.member_id, wanted, page)))
        else:
            tiles.append(button(label, ROSTER.encode(year, org_id, page)))
    rows = [tiles[i : i + 2] for i in range(0, len(tiles), 2)]
    paging = pager(page, total, ROSTER_PAGE, lambda p: ROSTER.encode(year, org_id, p), _)
    if paging:
        rows.append(paging)
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def secretary_start(
    db: AsyncSession, principal: Principal, year: int, context: BotContext
) -> Screen | None:
    """/assess for a secretary: the branch's roster (several branches: asked which)."""
    roots = scope_roots(principal, Action.PROPOSE_FIVE_LEAD)
    if not roots:
        return None
    if len(roots) == 1:
        return await roster_screen(db, principal, year, roots[0].org_id, 0, context)
    rows = []
    for root in roots:
        org = await orgs.get_org(db=db, org_id=root.org_id)
        if org is not None:
            rows.append([button(org.name, ROSTER.encode(year, root.org_id, 0))])
    return html_lines([context._("Which one?")]), InlineKeyboardMarkup(rows)


async def on_roster(update: Update, context: BotContext) -> None:
    """Another page of the roster (or the same again after a verdict's tap)."""
    year, org_id, page = callback_ints(ROSTER, update)
    await answer_with(
        update, context, lambda s, p: roster_screen(s, p, year, org_id, page, context)
    )


async def on_propose(update: Update, context: BotContext) -> None:
    """Propose a member, or withdraw the pending proposal; then the roster again."""
    year, member_id, wanted, page = callback_ints(PROPOSE, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> Screen:
        if wanted not in (0, 1):
            raise Refused(STALE_BUTTON)
        done = await five_lead.propose(
            db=db,
            principal=principal,
            member_id=member_id,
            year=year,
            proposed=bool(wanted),
            now=now,
        )
        _ = context._
        note = (
            _("Proposed: {name}. The township will confirm.")
            if wanted
            else _("Withdrawn: {name}.")
        ).format(name=done.member.name)
        assert done.org.id is not None
        return await roster_screen(db, principal, year, done.org.id, page, context, note)

    screen = await perform(update, context, act)
    if screen is not None:
        await show(update, context, *screen)


async def review_screen(
    db: AsyncSession,
    principal: Principal,
    year: int,
    page: int,
    context: BotContext,
    note: str | None = None,
) -> Screen | None:
    """The proposals waiting below the staff's grants: ✅ or ✖ beside each name."""
    roots = [root.org_path for root in scope_roots(principal, Action.ASSESS)]
    if not roots:
        return None
    total = 0
    for path in roots:
        total += await store.count_pending(db=db, year=year, under_path=path)
    page = max(0, min(page, (total - 1) // REVIEW_PAGE)) if total else 0

    async def fetch(path: str, limit: int) -> list[store.Pending]:
        return await store.pending(db=db, year=year, under_path=path, offset=0, limit=limit)

    waiting = await page_across(roots, fetch, page, REVIEW_PAGE)
    _ = context._
    lines = [note, ""] if note else []
    heading = _("📝 Five-lead proposals {year}: {count} waiting")
    lines.append(heading.format(year=year, count=total))
    rows: list[list[InlineKeyboardButton]] = []
    for item in waiting:
        lines.append(f"• {item.member_name} · {item.branch_name}")
        rows.append(
            [
                button(f"✅ {item.member_name}", DECIDE.encode(year, item.proposal_id, 1, page)),
                button(f"✖ {item.member_name}", DECIDE.encode(year, item.proposal_id, 0, page)),
            ]
        )
    paging = pager(page, total, REVIEW_PAGE, lambda p: REVIEW.encode(year, p), _)
    if paging:
        rows.append(paging)
    rows.append([button(_("⬆ Back"), OVERVIEW.encode(year))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def on_review(update: Update, context: BotContext) -> None:
    """The proposals waiting for the staff (a page of them)."""
    year, page = callback_ints(REVIEW, update)
    await answer_with(
        update,
        context,
        lambda s, p: review_screen(s, p, year, page, context),
        refusal=NOT_ALLOWED,
    )


async def on_decide(update: Update, context: BotContext) -> None:
    """Confirm or reject one proposal; then the proposals still waiting."""
    year, proposal_id, verdict, page = callback_ints(DECIDE, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> Screen | None:
        if verdict not in (0, 1):
            raise Refused(STALE_BUTTON)
        done = await five_lead.decide(
            db=db,
            principal=principal,
            proposal_id=proposal_id,
            confirm=bool(verdict),
            now=now,
        )
        _ = context._
        note = (_("Confirmed: {name}.") if done.confirmed else _("Not confirmed: {name}.")).format(
            name=done.member.name
        )
        return await review_screen(db, principal, year, page, context, note)

    screen = await perform(update, context, act)
    if screen is not None:
        await show(update, context, *screen)


async def on_verdict(update: Update, context: BotContext) -> None:
    """确认 / 不确认 on the message a proposal sent: decided in one tap, and the message
    keeps its text with the outcome under it instead of the buttons."""
    proposal_id, member_id, verdict = callback_ints(VERDICT, update)
    query = update.callback_query
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> five_lead.Decided:
        if verdict not in (0, 1):
            raise Refused(STALE_BUTTON)
        return await five_lead.decide(
            db=db,
            principal=principal,
            proposal_id=proposal_id,
            member_id=member_id,
            confirm=bool(verdict),
            now=now,
        )

    done = await perform(update, context, act)
    if done is None or query is None or query.message is None:
        return
    _ = context._
    if done.changed:
        outcome = _("Confirmed: {name}.") if done.confirmed else _("Not confirmed: {name}.")
    else:
        outcome = (
            _("Already confirmed: {name}.")
            if done.confirmed
            else _("Already not confirmed: {name}.")
        )
    original = getattr(query.message, "text", None) or ""
    await show(update, context, html_lines([original, outcome.format(name=done.member.name)]))


CALLBACKS: Final = (
    (ROSTER, on_roster),
    (PROPOSE, on_propose),
    (REVIEW, on_review),
    (DECIDE, on_decide),
    (VERDICT, on_verdict),
)
