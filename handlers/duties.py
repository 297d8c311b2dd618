"""/duties [year]: the leaders' duty counters; /leaders: county staff set contact points
and demonstration sites.

/duties shows, inside the viewer's scope, each contact point's visits (at least two a
year), each leading group's report hearings (at least two) and special studies (at least
one), and the demonstration sites. /leaders lists this year's contact points and sites
and walks the org tree with buttons: pick a leader from a roster, then his contact point;
remove one; or make a township or village a demonstration site (tap again to undo).
"""

from __future__ import annotations

from functools import partial
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import duties
from bot.access import Action, Principal, allows, load_principal, scope_roots
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.dates import local_date
from bot.funds import check_year
from bot.htmltext import Markup, html_lines
from bot.i18n import N_, gettext
from bot.orgs import is_branch
from bot.refusals import MEMBER_GONE, NOT_ALLOWED, Refused
from handlers.guard import refuse
from handlers.menus import refresh_menu
from handlers.org_picker import OrgPicker, OrgQuestion
from handlers.screens import (
    Screen,
    answer_with,
    button,
    callback_ints,
    first_tap,
    perform,
    show,
)
from storage import duties as store
from storage import members, orgs
from storage.models import Member, OrgKind, OrgUnit, TelegramAccount

PAGE_SIZE: Final = 8
SHOWN: Final = 40  # contact points listed in one /duties message

NO_DUTIES: Final = N_("Only party staff and secretaries see the duty counters.")
NO_LEADERS: Final = N_("Only the county organisation department sets contact points.")

HOME: Final = CallbackCodec("ldr.h")
LEADER_PICKER: Final = OrgPicker(
    CallbackCodec("ldr.n", (int, int, int)), CallbackCodec("ldr.o", (int, int))
)
LEADER_QUESTION: Final = OrgQuestion(
    LEADER_PICKER,
    Action.MANAGE_DUTIES,
    N_("Who is the leader? Choose the branch on whose roster he is:"),
    lambda principal, org: is_branch(org),
)
PEOPLE: Final = CallbackCodec("ldr.l", (int, int))  # roster org, page
POINT_PICKER: Final = OrgPicker(  # subject: the leader (member id)
    CallbackCodec("ldr.cn", (int, int, int)), CallbackCodec("ldr.co", (int, int))
)
REMOVE_LIST: Final = CallbackCodec("ldr.x", (int,))  # page
REMOVE: Final = CallbackCodec("ldr.r", (int,))  # contact point
REMOVE_DO: Final = CallbackCodec("ldr.ry", (int,))  # contact point
SITE_QUESTION: Final = OrgQuestion(
    OrgPicker(CallbackCodec("ldr.sn", (int, int, int)), CallbackCodec("ldr.so", (int, int))),
    Action.MANAGE_DUTIES,
    N_(
        "Demonstration sites: choose a township (county level, one or two) or a village "
        "(township level, one per township). Choosing a site again removes it."
    ),
    lambda principal, org: org.kind in (OrgKind.TOWNSHIP, OrgKind.VILLAGE_BRANCH),
)


def _year(context: BotContext) -> int:
    return local_date(context.services.clock.now(), context.services.settings.tz).year


def _tick(done: bool) -> str:
    return "✓" if done else "⚠️"


# --- /duties [year] -----------------------------------------------------------------------


async def cmd_duties(update: Update, context: BotContext) -> None:
    """Visits per contact point, leading groups' sessions, demonstration sites."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    lang = context.language
    today = local_date(context.services.clock.now(), context.services.settings.tz)
    words = (message.text or "").split()[1:]
    try:
        year = check_year(words[0], today=today) if words else today.year
    except Refused as refused:
        await message.reply_text(refused.text(lang))
        return
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        roots = scope_roots(principal, Action.VIEW_REPORTS)
        parts = [await _counters(db, root.org_id, year, context) for root in roots]
    if not roots:
        await refuse(update, context, context._(NO_DUTIES))
        return
    await message.reply_text(Markup("\n\n").join(parts))


async def _counters(db: AsyncSession, org_id: int, year: int, context: BotContext) -> str:
    lang = context.language
    _ = partial(gettext, lang)
    org = await orgs.get_org(db=db, org_id=org_id)
    if org is None:
        return _("Nothing to show.")
    lines = [_("Leaders' duties {year}, {org}:").format(year=year, org=org.name)]
    points = await store.contact_point_views(db=db, year=year, under_path=org.path)
    lines.append(
        _("Contact points (at least {needed} visits a year each):").format(
            needed=duties.VISITS_NEEDED
        )
    )
    if not points:
        lines.append(_("• none set"))
    for point in points[:SHOWN]:
        lines.append(
            _("• {leader} → {org}: {count} visits {mark}").format(
                leader=point.leader_name,
                org=point.org_name,
                count=point.visits,
                mark=_tick(point.visits >= duties.VISITS_NEEDED),
            )
        )
    if len(points) > SHOWN:
        lines.append(_("…and {count} more").format(count=len(points) - SHOWN))
    start, end = duties.year_bounds(year, context.services.settings.tz)
    groups = await store.leading_group_counts(db=db, under_path=org.path, start=start, end=end)
    if groups:
        lines.append(
            _(
                "Leading groups (at least {hearings} report hearings and {studies} special "
                "study a year):"
            ).format(hearings=duties.HEARINGS_NEEDED, studies=duties.STUDIES_NEEDED)
        )
        for group in groups:
            lines.append(
                _(
                    "• {org}: report hearings {hearings} {h_mark}, special studies {studies} "
                    "{s_mark}"
                ).format(
                    org=group.org_name,
                    hearings=group.report_hearings,
                    h_mark=_tick(group.report_hearings >= duties.HEARINGS_NEEDED),
                    studies=group.special_studies,
                    s_mark=_tick(group.special_studies >= duties.STUDIES_NEEDED),
                )
            )
    lines.append(await _sites_line(db, org, year, lang))
    return html_lines(lines)


async def _sites_line(db: AsyncSession, org: OrgUnit, year: int, lang: str) -> str:
    _ = partial(gettext, lang)
    found = await store.sites(db=db, year=year, under_path=org.path)
    county = [s.org_name for s in found if s.kind == OrgKind.TOWNSHIP]
    village = [s.org_name for s in found if s.kind == OrgKind.VILLAGE_BRANCH]
    return _("Demonstration sites: county level {county}; township level {village}").format(
        county="、".join(county) or _("none"), village="、".join(village) or _("none")
    )


# --- /leaders: contact points and demonstration sites -------------------------------------


async def cmd_leaders(update: Update, context: BotContext) -> None:
    """This year's contact points and sites, with what can be changed."""
    await answer_with(update, context, lambda s, p: _home(s, p, context), refusal=NO_LEADERS)


async def on_home(update: Update, context: BotContext) -> None:
    """Back to the overview."""
    await answer_with(update, context, lambda s, p: _home(s, p, context), refusal=NO_LEADERS)


async def _home(db: AsyncSession, principal: Principal, context: BotContext) -> Screen | None:
    roots = scope_roots(principal, Action.MANAGE_DUTIES)
    if not roots:
        return None
    _ = context._
    year = _year(context)
    lines = [_("Contact points and demonstration sites, {year}:").format(year=year)]
    for root in roots:
        org = await orgs.get_org(db=db, org_id=root.org_id)
        if org is None:
            continue
        points = await store.contact_point_views(db=db, year=year, under_path=org.path)
        lines.append(_("Contact points: {count}").format(count=len(points)))
        lines.append(await _sites_line(db, org, year, context.language))
    rows = [
        [button(_("➕ Add a contact point"), LEADER_PICKER.nav.encode(0, 0, 0))],
        [button(_("✖ Remove a contact point"), REMOVE_LIST.encode(0))],
        [button(_("🏅 Demonstration sites"), SITE_QUESTION.picker.nav.encode(0, 0, 0))],
    ]
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def on_leader_nav(update: Update, context: BotContext) -> None:
    """Walk the tree to the leader's branch."""
    await LEADER_QUESTION.on_nav(update, context)


async def on_leader_branch(update: Update, context: BotContext) -> None:
    """The branch is chosen: its roster, a page at a time."""
    _, org_id = callback_ints(LEADER_PICKER.pick, update)
    await answer_with(update, context, lambda s, p: _people(s, p, org_id, 0, context))


async def on_people(update: Update, context: BotContext) -> None:
    """Turn a page of the roster."""
    org_id, page = callback_ints(PEOPLE, update)
    await answer_with(update, context, lambda s, p: _people(s, p, org_id, page, context))


async def _org_in_scope(db: AsyncSession, principal: Principal, org_id: int) -> OrgUnit:
    org = await orgs.get_org(db=db, org_id=org_id)
    if org is None or not allows(principal, Action.MANAGE_DUTIES, org.path):
        raise Refused(NOT_ALLOWED)
    return org


async def _people(
    db: AsyncSession, principal: Principal, org_id: int, page: int, context: BotContext
) -> Screen:
    _ = context._
    org = await _org_in_scope(db, principal, org_id)
    total = await members.count_members(db=db, org_ids=[org_id])
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    found = await members.list_members(
        db=db, org_ids=[org_id], offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    rows = [
        [button(m.name, POINT_PICKER.nav.encode(m.id, 0, 0))] for m in found if m.id is not None
    ]
    paging = []
    if page > 0:
        paging.append(button(_("◀ Previous"), PEOPLE.encode(org_id, page - 1)))
    if page + 1 < pages:
        paging.append(button(_("Next ▶"), PEOPLE.encode(org_id, page + 1)))
    if paging:
        rows.append(paging)
    rows.append([button(_("Back"), HOME.encode())])
    text = html_lines([org.name, _("Choose the leader:")])
    return text, InlineKeyboardMarkup(rows)


async def on_point_nav(update: Update, context: BotContext) -> None:
    """Walk the tree to the leader's contact point."""
    member_id, at, page = callback_ints(POINT_PICKER.nav, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        leader = await members.get_member(db=db, member_id=member_id)
        if leader is None or not leader.active:
            raise Refused(MEMBER_GONE)
        await _org_in_scope(db, principal, leader.org_id)
        found = await POINT_PICKER.screen(
            db=db,
            principal=principal,
            action=Action.MANAGE_DUTIES,
            subject=member_id,
            at=at,
            page=page,
            can_pick=lambda org: org.kind in duties.CONTACT_KINDS,
            _=context._,
        )
        title = context._("Contact point of {name}? Choose a township or a branch:").format(
            name=leader.name
        )
        return None if found is None else found.titled(title)

    await answer_with(update, context, build)


async def on_point(update: Update, context: BotContext) -> None:
    """Link the leader to the chosen org for this year; the leader is told."""
    member_id, org_id = callback_ints(POINT_PICKER.pick, update)
    services = context.services

    async def act(
        db: AsyncSession, principal: Principal
    ) -> tuple[duties.PointChange, Member | None]:
        change = await duties.add_contact_point(
            db=db,
            principal=principal,
            leader_member_id=member_id,
            org_id=org_id,
            year=_year(context),
            now=services.clock.now(),
        )
        return change, await members.get_member(db=db, member_id=member_id)

    done = await perform(update, context, act)
    if done is None:
        return
    change, leader = done
    services.relay.wake()
    text = context._("{name} now has {org} as a contact point for {year}.").format(
        name=change.leader_name,
        org=change.org.name,
        year=change.point.year,
    )
    await show(update, context, text, _back(context))
    if leader is not None and leader.telegram_user_id is not None:
        await _refresh(context, leader.telegram_user_id)


async def _refresh(context: BotContext, telegram_user_id: int) -> None:
    """The leader's menu gains /visit."""
    async with context.services.database.session_scope() as db:
        account = await db.get(TelegramAccount, telegram_user_id)
    if account is not None:
        await refresh_menu(
            context.bot,
            database=context.services.database,
            telegram_user_id=telegram_user_id,
            language=str(account.language),
        )


def _back(context: BotContext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(context._("Back"), HOME.encode())]])


async def on_remove_list(update: Update, context: BotContext) -> None:
    """This year's contact points, a page at a time, each with a remove button."""
    (page,) = callback_ints(REMOVE_LIST, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen | None:
        _ = context._
        roots = scope_roots(principal, Action.MANAGE_DUTIES)
        if not roots:
            return None
        points: list[store.ContactPointView] = []
        for root in roots:
            org = await orgs.get_org(db=db, org_id=root.org_id)
            if org is not None:
                points += await store.contact_point_views(
                    db=db, year=_year(context), under_path=org.path
                )
        pages = max(1, -(-len(points) // PAGE_SIZE))
        at = min(max(page, 0), pages - 1)
        shown = points[at * PAGE_SIZE : (at + 1) * PAGE_SIZE]
        rows: list[list[InlineKeyboardButton]] = [
            [button(f"{p.leader_name} → {p.org_name}", REMOVE.encode(p.id))] for p in shown
        ]
        paging = []
        if at > 0:
            paging.append(button(_("◀ Previous"), REMOVE_LIST.encode(at - 1)))
        if at + 1 < pages:
            paging.append(button(_("Next ▶"), REMOVE_LIST.encode(at + 1)))
        if paging:
            rows.append(paging)
        rows.append([button(_("Back"), HOME.encode())])
        text = _("Remove which contact point?") if points else _("No contact points this year.")
        return text, InlineKeyboardMarkup(rows)

    await answer_with(update, context, build, refusal=NO_LEADERS)


async def on_remove(update: Update, context: BotContext) -> None:
    """Ask to confirm: the visits logged there go too."""
    (point_id,) = callback_ints(REMOVE, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        point = await store.get_contact_point(db=db, contact_point_id=point_id)
        if point is None:
            raise Refused(MEMBER_GONE)
        await _org_in_scope(db, principal, point.org_id)
        [view] = await store.contact_point_views(db=db, year=point.year, contact_point_id=point_id)
        _ = context._
        text = _("Remove the contact point {org} of {leader}? Its {count} visits go too.").format(
            org=view.org_name, leader=view.leader_name, count=view.visits
        )
        rows = [
            [button(_("Yes, remove"), REMOVE_DO.encode(point_id))],
            [button(_("Cancel"), REMOVE_LIST.encode(0))],
        ]
        return text, InlineKeyboardMarkup(rows)

    await answer_with(update, context, build, refusal=NO_LEADERS)


async def on_remove_do(update: Update, context: BotContext) -> None:
    """Remove it, in one transaction with its audit row."""
    (point_id,) = callback_ints(REMOVE_DO, update)
    now = context.services.clock.now()
    change = await perform(
        update,
        context,
        lambda db, principal: duties.remove_contact_point(
            db=db, principal=principal, contact_point_id=point_id, now=now
        ),
    )
    if change is None:
        return
    text = context._("{name} no longer has {org} as a contact point.").format(
        name=change.leader_name, org=change.org.name
    )
    await show(update, context, text, _back(context))


async def on_site_nav(update: Update, context: BotContext) -> None:
    """Walk the tree to a township or village."""
    await SITE_QUESTION.on_nav(update, context)


async def on_site(update: Update, context: BotContext) -> None:
    """Make the org a demonstration site this year, or stop it being one."""
    _unused, org_id = callback_ints(SITE_QUESTION.picker.pick, update)
    user = update.effective_user
    if user is None or not first_tap(update, context):
        if update.callback_query is not None:
            await update.callback_query.answer()
        return
    year, now = _year(context), context.services.clock.now()
    toggled = await perform(
        update,
        context,
        lambda db, principal: duties.toggle_site(
            db=db, principal=principal, org_id=org_id, year=year, now=now
        ),
    )
    if toggled is None:
        return
    org, added = toggled
    _ = context._
    if not added:
        text = _("{org} is no longer a demonstration site in {year}.")
    elif org.kind == OrgKind.TOWNSHIP:
        text = _("{org} is a county-level demonstration site in {year}.")
    else:
        text = _("{org} is a township-level demonstration site in {year}.")
    await show(update, context, text.format(org=org.name, year=year), _back(context))


CALLBACKS: Final = (
    (HOME, on_home),
    (LEADER_PICKER.nav, on_leader_nav),
    (LEADER_PICKER.pick, on_leader_branch),
    (PEOPLE, on_people),
    (POINT_PICKER.nav, on_point_nav),
    (POINT_PICKER.pick, on_point),
    (REMOVE_LIST, on_remove_list),
    (REMOVE, on_remove),
    (REMOVE_DO, on_remove_do),
    (SITE_QUESTION.picker.nav, on_site_nav),
    (SITE_QUESTION.picker.pick, on_site),
)
