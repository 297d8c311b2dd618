"""/fund records money for an org with buttons; /funds shows training money per member.

/fund: choose the org (the county, a township or a branch in one's scope), the year, the
budget it came from and what it is for, with taps; then type the amount in yuan. Every
tap's ids are checked again, and the amount is checked and written by bot.funds in one
transaction. /funds [year] lists the orgs below the 30-yuan floor, worst first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from bot import funds
from bot.access import Action, Principal, allows, load_principal, scope_roots
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.dates import local_date
from bot.fit import fit_lines
from bot.htmltext import Markup, html_lines
from bot.i18n import N_, gettext
from bot.orgs import org_trail
from bot.refusals import NOT_ALLOWED, Refused
from handlers import awaiting
from handlers.guard import refuse
from handlers.org_picker import OrgPicker, OrgQuestion
from handlers.screens import Screen, answer_with, button, callback_ints
from storage import funds as fund_store
from storage import orgs
from storage.models import FundPurpose, FundSource, OrgKind, OrgUnit

FLOW: Final = "fund"
SOURCE_ORDER: Final = tuple(funds.SOURCES)
PURPOSE_ORDER: Final = tuple(funds.PURPOSES)

PICKER: Final = OrgPicker(
    CallbackCodec("fnd.n", (int, int, int)), CallbackCodec("fnd.o", (int, int))
)
QUESTION: Final = OrgQuestion(
    PICKER,
    Action.RECORD_FUNDS,
    N_("Record funds for which org? Choose the county, a township or a branch:"),
    lambda principal, org: org.kind != OrgKind.PARTY_GROUP,
)
YEAR: Final = CallbackCodec("fnd.y", (int, int))  # org, year
SOURCE: Final = CallbackCodec("fnd.s", (int, int, int))  # org, year, source index
PURPOSE: Final = CallbackCodec("fnd.p", (int, int, int, int))  # org, year, source, purpose

NO_FUNDS: Final = N_("Only county and township staff record funds.")
NO_REPORT: Final = N_("Only party staff and secretaries see the funds report.")


@dataclass(frozen=True, slots=True)
class Draft:
    """What the taps chose; the typed amount completes it."""

    org_id: int
    year: int
    source: FundSource
    purpose: FundPurpose


_FORM: Final = awaiting.FormSlot("funds.draft", Draft, FLOW, lambda draft: draft.org_id)


def _today(context: BotContext) -> date:
    return local_date(context.services.clock.now(), context.services.settings.tz)


def _pick(options: tuple[FundSource, ...] | tuple[FundPurpose, ...], index: int) -> int:
    if not 0 <= index < len(options):
        raise Refused(NOT_ALLOWED)
    return index


async def _org(db: AsyncSession, principal: Principal, org_id: int) -> OrgUnit:
    org = await orgs.get_org(db=db, org_id=org_id)
    if org is None or not allows(principal, Action.RECORD_FUNDS, org.path):
        raise Refused(NOT_ALLOWED)
    return funds.check_org(org)


async def cmd_fund(update: Update, context: BotContext) -> None:
    """Start recording funds: which org."""
    awaiting.stop(context)
    lang = context.language
    await answer_with(
        update,
        context,
        lambda s, p: QUESTION.first(
            s, p, lang, lambda org: _years(s, p, org.id or 0, lang, context)
        ),
        refusal=NO_FUNDS,
    )


async def on_nav(update: Update, context: BotContext) -> None:
    """Move around the org tree."""
    await QUESTION.on_nav(update, context)


async def on_org(update: Update, context: BotContext) -> None:
    """The org is chosen: which year."""
    _, org_id = callback_ints(PICKER.pick, update)
    lang = context.language
    await answer_with(update, context, lambda s, p: _years(s, p, org_id, lang, context))


async def _years(
    db: AsyncSession, principal: Principal, org_id: int, lang: str, context: BotContext
) -> Screen:
    _ = partial(gettext, lang)
    org = await _org(db, principal, org_id)
    this = _today(context).year
    trail = await org_trail(db=db, org=org)
    rows = [[button(str(year), YEAR.encode(org_id, year)) for year in (this - 1, this, this + 1)]]
    text = html_lines([trail, _("Funds for which year?")])
    return text, InlineKeyboardMarkup(rows)


async def on_year(update: Update, context: BotContext) -> None:
    """The year is chosen: which budget."""
    org_id, year = callback_ints(YEAR, update)
    _ = context._

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        org = await _org(db, principal, org_id)
        funds.check_year(str(year), today=_today(context))
        rows = [
            [button(_(funds.SOURCES[source]), SOURCE.encode(org_id, year, index))]
            for index, source in enumerate(SOURCE_ORDER)
        ]
        text = _("{org}, {year}. Where does the money come from?").format(org=org.name, year=year)
        return text, InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


async def on_source(update: Update, context: BotContext) -> None:
    """The budget is chosen: what the money is for."""
    org_id, year, source = callback_ints(SOURCE, update)
    _ = context._

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        org = await _org(db, principal, org_id)
        funds.check_year(str(year), today=_today(context))
        _pick(SOURCE_ORDER, source)
        rows = [
            [button(_(funds.PURPOSES[purpose]), PURPOSE.encode(org_id, year, source, index))]
            for index, purpose in enumerate(PURPOSE_ORDER)
        ]
        text = _("{org}, {year}, {source}. What is the money for?").format(
            org=org.name, year=year, source=_(funds.SOURCES[SOURCE_ORDER[source]])
        )
        return text, InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


async def on_purpose(update: Update, context: BotContext) -> None:
    """Everything is chosen but the amount: wait for it to be typed."""
    org_id, year, source, purpose = callback_ints(PURPOSE, update)
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    _ = context._
    try:
        async with context.services.database.session_scope() as db:
            principal = await load_principal(db=db, telegram_user_id=user.id)
            org = await _org(db, principal, org_id)
            funds.check_year(str(year), today=_today(context))
            draft = Draft(
                org_id,
                year,
                SOURCE_ORDER[_pick(SOURCE_ORDER, source)],
                PURPOSE_ORDER[_pick(PURPOSE_ORDER, purpose)],
            )
    except Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return
    _FORM.keep(context, draft)
    await query.answer()
    text = _("{org}, {year}, {source}, {purpose}. Type the amount in yuan, e.g. 1200.50:").format(
        org=org.name,
        year=year,
        source=_(funds.SOURCES[draft.source]),
        purpose=_(funds.PURPOSES[draft.purpose]),
    )
    await query.edit_message_text(text)


async def on_amount(update: Update, context: BotContext) -> None:
    """The typed amount: record it, or say in one line why not (and wait for another)."""
    message, user = update.effective_message, update.effective_user
    draft = _FORM.get(context)
    if message is None or user is None:
        return
    if draft is None:
        awaiting.stop(context)
        return
    if not message.text:
        await message.reply_text(context._("Please type the amount in yuan, e.g. 1200.50."))
        return
    services = context.services
    now = services.clock.now()
    try:
        async with services.database.session_scope() as db:
            principal = await load_principal(db=db, telegram_user_id=user.id)
            row, org = await funds.record_fund(
                db=db,
                principal=principal,
                org_id=draft.org_id,
                year=draft.year,
                source=draft.source,
                purpose=draft.purpose,
                amount=message.text[:100],
                today=local_date(now, services.settings.tz),
                now=now,
            )
    except Refused as refused:
        await message.reply_text(refused.text(context.language))
        if refused.message == NOT_ALLOWED:
            awaiting.stop(context)
        return
    _FORM.drop(context)
    _ = context._
    await message.reply_text(
        _("Recorded: {amount} yuan for {org}, {year}, {source}, {purpose}.").format(
            amount=funds.format_yuan(row.amount_yuan),
            org=org.name,
            year=row.year,
            source=_(funds.SOURCES[draft.source]),
            purpose=_(funds.PURPOSES[draft.purpose]),
        )
    )


# --- /funds [year]: training money per member against the floor ---------------------------


async def cmd_funds(update: Update, context: BotContext) -> None:
    """Training money per member this year (or the year given), shortfalls worst first."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    lang = context.language
    today = _today(context)
    words = (message.text or "").split()[1:]
    try:
        year = funds.check_year(words[0], today=today) if words else today.year
    except Refused as refused:
        await message.reply_text(refused.text(lang))
        return
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        roots = scope_roots(principal, Action.VIEW_REPORTS)
        parts = [await _report(db, root.org_id, year, lang) for root in roots]
    if not roots:
        await refuse(update, context, context._(NO_REPORT))
        return
    await message.reply_text(Markup("\n\n").join(parts))


def _per_member(lang: str, spend: fund_store.OrgSpend) -> str:
    _ = partial(gettext, lang)
    if spend.per_member_yuan is None:
        return _("{org}: no members").format(org=spend.name)
    return _("{org}: {per} yuan per member ({members} members)").format(
        org=spend.name,
        per=funds.format_yuan(spend.per_member_yuan),
        members=spend.members,
    )


async def _report(db: AsyncSession, org_id: int, year: int, lang: str) -> str:
    _ = partial(gettext, lang)
    spends = await fund_store.training_spend(
        db=db, org_id=org_id, year=year, floor_yuan=funds.FLOOR_YUAN
    )
    if not spends:
        return _("Nothing to show.")
    top = spends[0]
    lines = [
        _("Training funds {year} (at least {floor} yuan per member):").format(
            year=year, floor=funds.format_yuan(funds.FLOOR_YUAN)
        ),
        _per_member(lang, top),
    ]
    for total in await fund_store.fund_totals(db=db, org_id=org_id, year=year):
        lines.append(
            _("• {purpose}, {source}: {amount} yuan").format(
                purpose=_(funds.PURPOSES.get(total.purpose, N_("other"))),
                source=_(funds.SOURCES.get(total.source, N_("other"))),
                amount=funds.format_yuan(total.total_yuan),
            )
        )
    short = sorted(
        (s for s in spends if s.short),
        key=lambda s: (s.per_member_yuan or 0, -s.gap_yuan, s.path),
    )
    if not short:
        lines.append(
            _("Every org here reaches {floor} yuan per member.").format(
                floor=funds.format_yuan(funds.FLOOR_YUAN)
            )
        )
        return html_lines(lines)
    lines.append(_("Below the floor ({count}), worst first:").format(count=len(short)))
    below = [
        _("{line}, short {gap} yuan").format(
            line=_per_member(lang, spend), gap=funds.format_yuan(spend.gap_yuan)
        )
        for spend in short
    ]
    # Org names of any length: the worst that fit in one message (4096 characters).
    return fit_lines(lines, below, more=lambda n: _("…and {count} more").format(count=n))


CALLBACKS: Final = (
    (PICKER.nav, on_nav),
    (PICKER.pick, on_org),
    (YEAR, on_year),
    (SOURCE, on_source),
    (PURPOSE, on_purpose),
)
