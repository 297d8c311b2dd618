"""/assess [year]: the annual five-good assessment (五好评定) with buttons.

The overview shows, for the units below the user's grant, how many are rated and the
five-good share against 65 %, with the five-good units of the year (the commendation
list). "Rate the next unit" opens one screen per unit: five toggles and Save. The toggles
only redraw the screen (the button carries the criteria it would set); Save writes, and
then the next unrated unit is offered. Every tap is checked again on the server.
"""

from __future__ import annotations

from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import assessments
from bot.access import Action, Principal, scope_roots
from bot.assessments import ALL_MET, CRITERION_LABELS, FIRST_YEAR, NO_ASSESS, Criterion
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.dates import local_date
from bot.funds import check_year
from bot.htmltext import html_lines
from bot.i18n import N_
from bot.refusals import STALE_BUTTON, Refused
from bot.summary import Check, Figure
from bot.summary_text import share_line
from handlers.assess_codecs import BRANCHES, OVERVIEW, REVIEW
from handlers.five_lead import five_lead_line, secretary_start
from handlers.guard import refuse
from handlers.org_picker import OrgPicker
from handlers.screens import Screen, answer_with, button, callback_ints, perform, show
from storage import assessments as store
from storage import five_lead as five_lead_store
from storage import orgs
from storage.models import OrgUnit

COMMENDED_SHOWN: Final = 30  # five-good units listed on the overview

NEXT: Final = CallbackCodec("as.n", (int,))  # year
UNIT: Final = CallbackCodec("as.u", (int, int, int))  # year, org, criteria shown
SAVE: Final = CallbackCodec("as.s", (int, int, int))  # year, org, criteria to save
PICKER: Final = OrgPicker(  # subject: the year
    CallbackCodec("as.pn", (int, int, int)), CallbackCodec("as.pk", (int, int))
)
PICK_TITLE: Final = N_("Which unit do you want to rate?")


def _today_year(context: BotContext) -> int:
    return local_date(context.services.clock.now(), context.services.settings.tz).year


def _check_tapped_year(year: int, context: BotContext) -> None:
    if not FIRST_YEAR <= year <= _today_year(context) + 1:
        raise Refused(STALE_BUTTON)


async def cmd_assess(update: Update, context: BotContext) -> None:
    """The year's overview (default: this year) for the units below the user's grants; for
    a secretary, the branch's five-lead roster of the year."""
    message = update.effective_message
    if message is None:
        return
    today = local_date(context.services.clock.now(), context.services.settings.tz)
    words = (message.text or "").split()[1:]
    try:
        year = check_year(words[0], today=today) if words else today.year
    except Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        if scope_roots(principal, Action.ASSESS):
            return await _overview(db, principal, year, context)
        return await secretary_start(db, principal, year, context)

    await answer_with(update, context, build, refusal=NO_ASSESS)


async def on_overview(update: Update, context: BotContext) -> None:
    """Back to the overview of the year."""
    (year,) = callback_ints(OVERVIEW, update)
    await answer_with(
        update, context, lambda s, p: _overview(s, p, year, context), refusal=NO_ASSESS
    )


async def _overview(
    db: AsyncSession, principal: Principal, year: int, context: BotContext
) -> Screen | None:
    _check_tapped_year(year, context)
    roots = scope_roots(principal, Action.ASSESS)
    if not roots:
        return None
    _ = context._
    units = rated = passed = 0
    commended: list[OrgUnit] = []
    unrated = False
    waiting = 0
    lead_lines = []
    for root in roots:
        waiting += await five_lead_store.count_pending(db=db, year=year, under_path=root.org_path)
        top = await orgs.get_org(db=db, org_id=root.org_id)
        if top is not None:
            lead = await five_lead_line(db, top, year, context)
            lead_lines.append(lead if len(roots) == 1 else f"{top.name} · {lead}")
        tally = await store.tally(db=db, year=year, under_path=root.org_path)
        units, rated, passed = units + tally.units, rated + tally.rated, passed + tally.passed
        unrated = unrated or tally.rated < tally.units
        commended += await store.five_good_units(
            db=db, year=year, under_path=root.org_path, limit=COMMENDED_SHOWN
        )
    lines = [
        _("🏅 Five-good assessment, {year}").format(year=year),
        _("Rated: {rated}/{units} units").format(rated=rated, units=units),
        share_line(Check(Figure.FIVE_GOOD, passed, rated), context.language),
        *lead_lines,
    ]
    if commended:
        lines += ["", _("Five-good units:")]
        lines += [f"• {org.name}" for org in commended[:COMMENDED_SHOWN]]
        if passed > COMMENDED_SHOWN:
            lines.append(_("… and {count} more").format(count=passed - COMMENDED_SHOWN))
    rows: list[list[InlineKeyboardButton]] = []
    if unrated:
        rows.append([button(_("▶ Rate the next unrated unit"), NEXT.encode(year))])
    rows.append([button(_("Choose a unit"), PICKER.nav.encode(year, 0, 0))])
    if waiting:
        label = _("📝 Five-lead proposals ({count})").format(count=waiting)
        rows.append([button(label, REVIEW.encode(year, 0))])
    rows.append([button(_("🧭 Classify branches"), BRANCHES.encode(year, 0))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def _next_unit(db: AsyncSession, principal: Principal, year: int) -> OrgUnit | None:
    for root in scope_roots(principal, Action.ASSESS):
        found = await store.next_unrated(db=db, year=year, under_path=root.org_path)
        if found is not None:
            return found
    return None


async def _unit_screen(
    db: AsyncSession,
    principal: Principal,
    year: int,
    org_id: int,
    criteria: int | None,
    context: BotContext,
) -> Screen:
    """One unit: its criteria as toggles (the saved ones first time), Save and Back."""
    _check_tapped_year(year, context)
    if criteria is not None and not 0 <= criteria <= ALL_MET:
        raise Refused(STALE_BUTTON)
    org = assessments.check_rate(principal, await orgs.get_org(db=db, org_id=org_id))
    saved = await store.five_good_of(db=db, year=year, org_id=org_id)
    if criteria is None:
        criteria = saved.criteria or 0 if saved is not None else 0
    _ = context._
    lines = [
        _("{org} · five-good assessment {year}").format(org=org.name, year=year),
        _("Tap each criterion the unit meets, then Save."),
    ]
    if saved is not None:
        state = _("five-good") if saved.passed else _("not five-good")
        lines.append(_("Saved so far: {state}").format(state=state))
    rows = [
        [
            button(
                ("✅ " if criteria >> criterion & 1 else "⬜ ") + _(CRITERION_LABELS[criterion]),
                UNIT.encode(year, org_id, assessments.toggled(criteria, criterion)),
            )
        ]
        for criterion in Criterion
    ]
    rows.append(
        [
            button(_("💾 Save"), SAVE.encode(year, org_id, criteria)),
            button(_("⬆ Back"), OVERVIEW.encode(year)),
        ]
    )
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def on_next(update: Update, context: BotContext) -> None:
    """The first unit in scope with no rating of the year."""
    (year,) = callback_ints(NEXT, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        org = await _next_unit(db, principal, year)
        if org is None or org.id is None:
            return await _overview(db, principal, year, context)
        return await _unit_screen(db, principal, year, org.id, None, context)

    await answer_with(update, context, build, refusal=NO_ASSESS)


async def on_unit(update: Update, context: BotContext) -> None:
    """A toggle: the same unit with one criterion flipped (nothing is written yet)."""
    year, org_id, criteria = callback_ints(UNIT, update)
    await answer_with(
        update,
        context,
        lambda s, p: _unit_screen(s, p, year, org_id, criteria, context),
        refusal=NO_ASSESS,
    )


async def on_pick_nav(update: Update, context: BotContext) -> None:
    """Walk the tree to a unit; the year rides along as the picker's subject."""
    year, at, page = callback_ints(PICKER.nav, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _check_tapped_year(year, context)
        found = await PICKER.screen(
            db=db,
            principal=principal,
            action=Action.ASSESS,
            subject=year,
            at=at,
            page=page,
            can_pick=lambda org: assessments.may_rate(principal, org),
            _=context._,
        )
        return None if found is None else found.titled(context._(PICK_TITLE))

    await answer_with(update, context, build, refusal=NO_ASSESS)


async def on_pick(update: Update, context: BotContext) -> None:
    """A unit chosen in the tree: its screen, with its saved criteria."""
    year, org_id = callback_ints(PICKER.pick, update)
    await answer_with(
        update,
        context,
        lambda s, p: _unit_screen(s, p, year, org_id, None, context),
        refusal=NO_ASSESS,
    )


async def on_save(update: Update, context: BotContext) -> None:
    """Save the unit's rating, then offer the next unrated unit (or the overview)."""
    year, org_id, criteria = callback_ints(SAVE, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> Screen:
        _check_tapped_year(year, context)
        rated = await assessments.rate_unit(
            db=db,
            principal=principal,
            org_id=org_id,
            year=year,
            criteria=criteria,
            now=now,
        )
        _ = context._
        verdict = _("five-good") if rated.passed else _("not five-good")
        done = _("Saved: {org}, {count}/5 criteria, {verdict}.").format(
            org=rated.org.name, count=len(assessments.met(criteria)), verdict=verdict
        )
        following = await _next_unit(db, principal, year)
        if following is None or following.id is None:
            text, markup = await _overview(db, principal, year, context) or ("", None)
        else:
            text, markup = await _unit_screen(db, principal, year, following.id, None, context)
        return html_lines([done, "", text]), markup

    screen = await perform(update, context, act)
    if screen is not None:
        await show(update, context, *screen)


CALLBACKS: Final = (
    (OVERVIEW, on_overview),
    (NEXT, on_next),
    (UNIT, on_unit),
    (SAVE, on_save),
    (PICKER.nav, on_pick_nav),
    (PICKER.pick, on_pick),
)
