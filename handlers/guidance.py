"""Classifying branches for guidance and flagging them, with buttons (from /assess).

"🧭 Classify branches" lists the village branches below the staff's grants with their class
of the year and flags; a branch's screen sets its class (先进 / 一般 / 落后), the poverty
flag and (county staff, through the leaders' duties) the demonstration site. Each button
carries what it asks for, so a double tap changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import guidance
from bot.access import Action, Principal, allows, scope_roots
from bot.assessments import check_year
from bot.context import BotContext
from bot.guidance import CLASS_LABELS
from bot.htmltext import html_lines
from bot.refusals import STALE_BUTTON, Refused
from handlers.assess_codecs import BRANCH, BRANCHES, GRADE, OVERVIEW, POVERTY, SITE
from handlers.paging import page_across, pager
from handlers.screens import (
    Screen,
    answer_with,
    button,
    callback_ints,
    callback_values,
    perform,
    show,
)
from storage import duties, orgs
from storage import guidance as store
from storage.guidance import BranchMarks
from storage.models import GuidanceClass

PAGE: Final = 8


def _marks(branch: BranchMarks, context: BotContext) -> str:
    """ "东风村党支部 · 先进 · 贫困村 · 示范点"."""
    _ = context._
    parts = [branch.name]
    if branch.grade is not None:
        parts.append(_(CLASS_LABELS[branch.grade]))
    if branch.poverty:
        parts.append(_("poverty-stricken village"))
    if branch.demo:
        parts.append(_("demonstration site"))
    return " · ".join(parts)


async def branches_screen(
    db: AsyncSession, principal: Principal, year: int, page: int, context: BotContext
) -> Screen | None:
    """The village branches below the staff's grants, a page of them, with their marks."""
    check_year(year, context.services.clock.now())
    roots = [root.org_path for root in scope_roots(principal, Action.ASSESS)]
    if not roots:
        return None
    total = 0
    for path in roots:
        total += await store.count_branches(db=db, under_path=path)
    page = max(0, min(page, (total - 1) // PAGE)) if total else 0

    async def fetch(path: str, limit: int) -> list[BranchMarks]:
        return await store.branch_marks(db=db, year=year, under_path=path, offset=0, limit=limit)

    shown = await page_across(roots, fetch, page, PAGE)
    _ = context._
    lines = [_("🧭 Classify branches, {year}").format(year=year)]
    if not shown:
        lines.append(_("There are no village branches here."))
    else:
        lines.append(_("Tap a branch to set its class and flags."))
    rows: list[list[InlineKeyboardButton]] = [
        [button(_marks(branch, context), BRANCH.encode(year, branch.org_id))] for branch in shown
    ]
    paging = pager(page, total, PAGE, lambda p: BRANCHES.encode(year, p), _)
    if paging:
        rows.append(paging)
    rows.append([button(_("⬆ Back"), OVERVIEW.encode(year))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def branch_screen(
    db: AsyncSession,
    principal: Principal,
    year: int,
    org_id: int,
    context: BotContext,
    note: str | None = None,
) -> Screen:
    """One branch: its class of the year as three buttons, the poverty flag, and the
    demonstration site for those who keep the sites."""
    check_year(year, context.services.clock.now())
    org = guidance.check_branch(principal, await orgs.get_org(db=db, org_id=org_id))
    grade = await store.grade_of(db=db, org_id=org_id, year=year)
    site = await duties.is_site(db=db, org_id=org_id, year=year)
    _ = context._
    lines = [note, ""] if note else []
    lines.append(_("{org} · classification {year}").format(org=org.name, year=year))
    rows = [
        [
            button(
                ("✅ " if grade is not None and grade.grade == value else "")
                + _(CLASS_LABELS[value]),
                GRADE.encode(year, org_id, value.value),
            )
            for value in GuidanceClass
        ]
    ]
    poor = org.poverty_village
    rows.append(
        [
            button(
                ("✅ " if poor else "⬜ ") + _("Poverty-stricken village"),
                POVERTY.encode(year, org_id, int(not poor)),
            )
        ]
    )
    if allows(principal, Action.MANAGE_DUTIES, org.path):
        rows.append(
            [
                button(
                    ("✅ " if site else "⬜ ") + _("Demonstration site {year}").format(year=year),
                    SITE.encode(year, org_id, int(not site)),
                )
            ]
        )
    elif site:
        lines.append(_("Demonstration site of {year}.").format(year=year))
    rows.append([button(_("⬆ Back"), BRANCHES.encode(year, 0))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def on_branches(update: Update, context: BotContext) -> None:
    """The list of branches (a page)."""
    year, page = callback_ints(BRANCHES, update)
    await answer_with(update, context, lambda s, p: branches_screen(s, p, year, page, context))


async def on_branch(update: Update, context: BotContext) -> None:
    """One branch's screen."""
    year, org_id = callback_ints(BRANCH, update)
    await answer_with(update, context, lambda s, p: branch_screen(s, p, year, org_id, context))


async def on_grade(update: Update, context: BotContext) -> None:
    """Set the branch's class of the year."""
    year, org_id, value = callback_values(GRADE, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> Screen:
        try:
            grade = GuidanceClass(str(value))
        except ValueError:
            raise Refused(STALE_BUTTON) from None
        done = await guidance.classify(
            db=db,
            principal=principal,
            org_id=int(org_id),
            year=int(year),
            grade=grade,
            now=now,
        )
        note = context._("Saved: {org} is {grade}.").format(
            org=done.org.name, grade=context._(CLASS_LABELS[grade])
        )
        return await branch_screen(db, principal, int(year), int(org_id), context, note)

    await _perform_and_show(update, context, act)


async def on_poverty(update: Update, context: BotContext) -> None:
    """Flag the village poverty-stricken, or clear the flag."""
    year, org_id, wanted = callback_ints(POVERTY, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> Screen:
        if wanted not in (0, 1):
            raise Refused(STALE_BUTTON)
        await guidance.flag_poverty(
            db=db, principal=principal, org_id=org_id, flagged=bool(wanted), now=now
        )
        return await branch_screen(db, principal, year, org_id, context)

    await _perform_and_show(update, context, act)


async def on_site(update: Update, context: BotContext) -> None:
    """Make the branch the year's demonstration site, or stop it being one."""
    year, org_id, wanted = callback_ints(SITE, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> Screen:
        if wanted not in (0, 1):
            raise Refused(STALE_BUTTON)
        await guidance.flag_site(
            db=db,
            principal=principal,
            org_id=org_id,
            year=year,
            site=bool(wanted),
            now=now,
        )
        return await branch_screen(db, principal, year, org_id, context)

    await _perform_and_show(update, context, act)


async def _perform_and_show(
    update: Update,
    context: BotContext,
    act: Callable[[AsyncSession, Principal], Awaitable[Screen]],
) -> None:
    screen = await perform(update, context, act)
    if screen is not None:
        await show(update, context, *screen)


CALLBACKS: Final = (
    (BRANCHES, on_branches),
    (BRANCH, on_branch),
    (GRADE, on_grade),
    (POVERTY, on_poverty),
    (SITE, on_site),
)
