"""Walking the org tree with buttons to pick a unit inside one's scope.

Used wherever staff must first say which branch (or township) they mean: the roster, a
transfer's destination, the org of an appointment. Each feature owns two codecs, one to
move around (`nav`: subject, org id, page; org 0 is the top of the scope) and one for the
choice (`pick`: subject, org id), and routes them to its own handlers, which re-check the
scope of every id they receive.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.access import Action, Principal, allows, scope_roots
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.htmltext import html_lines
from bot.i18n import gettext
from bot.orgs import BRANCH_KINDS, is_branch, org_trail
from handlers.screens import Screen, answer_with, button, callback_ints
from storage import orgs
from storage.models import OrgUnit

PAGE_SIZE: Final = 8
TOP: Final = 0


@dataclass(frozen=True, slots=True)
class PickerScreen:
    """What to show: where we are (None at the top of the scope) and the buttons."""

    trail: str | None
    markup: InlineKeyboardMarkup

    def titled(self, title: str) -> Screen:
        """The screen with where-we-are above the question (title is already escaped)."""
        lines = [self.trail, title] if self.trail else [title]
        return html_lines(lines), self.markup


@dataclass(frozen=True, slots=True)
class OrgPicker:
    """The two button kinds of one feature's picker."""

    nav: CallbackCodec
    pick: CallbackCodec

    async def screen(
        self,
        *,
        db: AsyncSession,
        principal: Principal,
        action: Action,
        subject: int,
        at: int,
        page: int,
        can_pick: Callable[[OrgUnit], bool],
        _: Callable[[str], str],
    ) -> PickerScreen | None:
        """The tree level at `at` inside the principal's `action` scope; None if outside it."""
        roots = scope_roots(principal, action)
        here: OrgUnit | None = None
        if at == TOP and len(roots) == 1:
            at = roots[0].org_id
        if at != TOP:
            here = await orgs.get_org(db=db, org_id=at)
            if here is None or not allows(principal, action, here.path):
                return None
            total = await orgs.count_child_units(db=db, org_id=at)
            units = await orgs.child_units(
                db=db, org_id=at, offset=page * PAGE_SIZE, limit=PAGE_SIZE
            )
        else:
            found = [await orgs.get_org(db=db, org_id=g.org_id) for g in roots]
            every = [unit for unit in found if unit is not None]
            total, units = len(every), every[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        rows: list[list[InlineKeyboardButton]] = []
        if here is not None and can_pick(here):
            label = _("Choose {name}").format(name=here.name)
            rows.append([button(label, self.pick.encode(subject, at))])
        for unit in units:
            assert unit.id is not None
            if unit.kind not in BRANCH_KINDS:
                rows.append([button(f"{unit.name} ›", self.nav.encode(subject, unit.id, 0))])
            elif can_pick(unit):
                rows.append([button(unit.name, self.pick.encode(subject, unit.id))])
        paging = []
        if page > 0:
            paging.append(button(_("◀ Previous"), self.nav.encode(subject, at, page - 1)))
        if (page + 1) * PAGE_SIZE < total:
            paging.append(button(_("Next ▶"), self.nav.encode(subject, at, page + 1)))
        if paging:
            rows.append(paging)
        if here is not None:
            up = here.parent_id if here.parent_id is not None else TOP
            parent = await orgs.get_org(db=db, org_id=up) if up != TOP else None
            if parent is None or not allows(principal, action, parent.path):
                up = TOP
            if up != TOP or len(roots) > 1:
                rows.append([button(_("⬆ Up"), self.nav.encode(subject, up, 0))])
        trail = await org_trail(db=db, org=here) if here is not None else None
        return PickerScreen(trail, InlineKeyboardMarkup(rows))


@dataclass(frozen=True, slots=True)
class OrgQuestion:
    """A feature's first question, "which branch?", asked with its picker in one scope.

    Roster, invitations and appointments each ask it the same way; only the picker's
    codecs, the action that bounds the scope, which units may be chosen and the wording
    differ.
    """

    picker: OrgPicker
    action: Action
    title: str  # an English msgid, translated per user
    can_pick: Callable[[Principal, OrgUnit], bool]

    async def screen(
        self, db: AsyncSession, principal: Principal, at: int, page: int, language: str
    ) -> Screen | None:
        """The tree level at `at` with the question; None when it is outside the scope."""
        _ = partial(gettext, language)
        found = await self.picker.screen(
            db=db,
            principal=principal,
            action=self.action,
            subject=0,
            at=at,
            page=page,
            can_pick=lambda org: self.can_pick(principal, org),
            _=_,
        )
        return None if found is None else found.titled(_(self.title))

    async def first(
        self,
        db: AsyncSession,
        principal: Principal,
        language: str,
        open_branch: Callable[[OrgUnit], Awaitable[Screen | None]],
    ) -> Screen | None:
        """Where the feature's command starts: an officer of one branch goes straight to it
        (``open_branch``), anyone with a wider scope is asked which; None: nothing in scope.
        """
        roots = scope_roots(principal, self.action)
        if len(roots) == 1:
            org = await orgs.get_org(db=db, org_id=roots[0].org_id)
            if org is not None and is_branch(org):
                return await open_branch(org)
        return await self.screen(db, principal, TOP, 0, language) if roots else None

    async def on_nav(self, update: Update, context: BotContext) -> None:
        """A tap on one of the picker's move buttons: show that level of the tree."""
        _, at, page = callback_ints(self.picker.nav, update)
        await answer_with(
            update, context, lambda s, p: self.screen(s, p, at, page, context.language)
        )
