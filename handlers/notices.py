"""/notice: write a notice, choose who gets it, ask for 已阅 or not, preview, send once.

The draft lives in user_data (its text is awaited through handlers.awaiting, so one typed
input flow waits at a time); every button carries the draft's token, so a tap on an old
screen changes nothing, and the send button consumes the draft before anything is written:
a double tap sends once. The confirmation message then becomes the live progress report.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.access import Action, Principal, allows, load_principal, scope_roots
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.htmltext import html_lines
from bot.i18n import N_
from bot.invitations import role_label, status_label
from bot.notices import (
    Audience,
    SentNotice,
    join_names,
    names_line,
    notice_body,
    preview,
    send_notice,
    too_long,
)
from bot.refusals import NOT_ALLOWED
from handlers import awaiting
from handlers.guard import refuse
from handlers.screens import button, callback_values, perform
from storage import orgs
from storage.models import AttachmentKind, MemberStatus, OrgKind, OrgUnit, Role

DRAFT_KEY: Final = awaiting.forget_on_cancel("notices.draft")
SENT_KEY: Final = "notices.sent"
#: The typed-input flow (handlers.awaiting) of a draft waiting for its text.
FLOW: Final = "notice.text"

AUDIENCE: Final = CallbackCodec("ntc.aud", (str, str, int))  # token, all|pick|stat|role, root
PICK: Final = CallbackCodec("ntc.pick", (str, int))  # token, unit id (0: done)
STATUS: Final = CallbackCodec("ntc.stat", (str, int, int))  # token, root, index in STATUSES
ROLE: Final = CallbackCodec("ntc.role", (str, int, int))  # token, root, index in ROLES
ASK_ACK: Final = CallbackCodec("ntc.askack", (str, int))  # token, 1: ask for 已阅
SEND: Final = CallbackCodec("ntc.send", (str,))  # token
CANCEL: Final = CallbackCodec("ntc.cancel", (str,))  # token

STATUSES: Final = (
    MemberStatus.FULL,
    MemberStatus.PROBATIONARY,
    MemberStatus.DEVELOPMENT_TARGET,
    MemberStatus.ACTIVIST,
)
ROLES: Final = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.TOWNSHIP_ORGANISER)
#: Units whose children can be picked one by one (a township's branches, a county's townships).
PARENT_KINDS: Final = frozenset({OrgKind.TOWNSHIP, OrgKind.COUNTY})

STALE: Final = N_("This notice draft is no longer open. Send /notice to start again.")


@dataclass
class Draft:
    """A notice being written (kept in user_data between messages and taps)."""

    token: str
    step: str = "text"  # text -> audience -> ack -> confirm
    text_html: str = ""
    attachment_kind: AttachmentKind | None = None
    file_id: str | None = None
    root_id: int = 0
    picked: list[int] = field(default_factory=list)
    audience: Audience | None = None
    requires_ack: bool = True


# --- the draft ---------------------------------------------------------------------------------


def _draft(context: BotContext, token: str | None = None) -> Draft | None:
    found = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    if not isinstance(found, Draft) or (token is not None and found.token != token):
        return None
    return found


def _cancel_row(context: BotContext, draft: Draft) -> list[InlineKeyboardButton]:
    return [button(context._("Cancel"), CANCEL.encode(draft.token))]


async def cmd_notice(update: Update, context: BotContext) -> None:
    """Start writing a notice (secretaries and above)."""
    user = update.effective_user
    if user is None or update.effective_message is None or context.user_data is None:
        return
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
    if not scope_roots(principal, Action.SEND_NOTICE):
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    draft = Draft(token=secrets.token_hex(4))
    context.user_data[DRAFT_KEY] = draft
    awaiting.expect(context, FLOW)
    await update.effective_message.reply_text(
        context._(
            "Write the notice and send it to me. Bold and italics from your Telegram app are "
            "kept. To add a photo or a file, send it with the notice as its caption."
        ),
        reply_markup=InlineKeyboardMarkup([_cancel_row(context, draft)]),
    )


async def on_notice_text(update: Update, context: BotContext) -> None:
    """The notice itself: text, or a photo or document with the text as caption."""
    message = update.effective_message
    draft = _draft(context)
    if message is None or draft is None or draft.step != "text":
        awaiting.stop(context)
        return
    if message.photo or message.document:
        body, plain = message.caption_html or "", message.caption or ""
        kind = AttachmentKind.PHOTO if message.photo else AttachmentKind.DOCUMENT
        file_id = message.photo[-1].file_id if message.photo else message.document.file_id  # type: ignore[union-attr]
    else:
        body, plain = message.text_html or "", message.text or ""
        kind, file_id = None, None
    if not plain.strip():
        await message.reply_text(
            context._("Please send the photo or file again with the notice as its caption.")
        )
        return
    limit = too_long(len(plain), has_attachment=kind is not None)
    if limit is not None:
        template = context._(
            "This notice is too long: at most {limit} characters, it has {count}. "
            "Please shorten it and send it again."
        )
        await awaiting.refuse_too_long(
            message, context, template=template, limit=limit, count=len(plain)
        )
        return
    draft.text_html, draft.attachment_kind, draft.file_id = body, kind, file_id
    draft.step = "audience"
    awaiting.stop(context)
    user = update.effective_user
    assert user is not None
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        markup = await _audience_menu(db, principal, context, draft)
    await message.reply_text(context._("Who should get this notice?"), reply_markup=markup)


async def _audience_menu(
    db: AsyncSession, principal: Principal, context: BotContext, draft: Draft
) -> InlineKeyboardMarkup:
    _ = context._
    rows: list[list[InlineKeyboardButton]] = []
    for grant in scope_roots(principal, Action.SEND_NOTICE):
        root = await orgs.get_org(db=db, org_id=grant.org_id)
        if root is None:
            continue
        name, token = root.name, draft.token
        rows.append([button(_("Everyone in {org}").format(org=name), _aud(token, "all", root))])
        if root.kind in PARENT_KINDS:
            label = _("Choose units of {org}").format(org=name)
            rows.append([button(label, _aud(token, "pick", root))])
            rows.append(
                [button(_("By role in {org}").format(org=name), _aud(token, "role", root))]
            )
        label = _("By member status in {org}").format(org=name)
        rows.append([button(label, _aud(token, "stat", root))])
    rows.append(_cancel_row(context, draft))
    return InlineKeyboardMarkup(rows)


def _aud(token: str, kind: str, root: OrgUnit) -> str:
    assert root.id is not None
    return AUDIENCE.encode(token, kind, root.id)


async def _root_in_scope(
    db: AsyncSession, update: Update, root_id: int
) -> tuple[Principal, OrgUnit] | None:
    user = update.effective_user
    if user is None:
        return None
    principal = await load_principal(db=db, telegram_user_id=user.id)
    root = await orgs.get_org(db=db, org_id=root_id)
    if root is None or not allows(principal, Action.SEND_NOTICE, root.path):
        return None
    return principal, root


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(text, reply_markup=markup)


async def on_audience(update: Update, context: BotContext) -> None:
    """The first audience choice: everyone, chosen units, a role or a member status."""
    token, kind, root_id = callback_values(AUDIENCE, update)
    draft = _draft(context, str(token))
    if draft is None or draft.step != "audience":
        await refuse(update, context, context._(STALE))
        return
    async with context.services.database.session_scope() as db:
        found = await _root_in_scope(db, update, int(root_id))
        children = (
            await orgs.child_units(db=db, org_id=int(root_id)) if found and kind == "pick" else []
        )
    if found is None or (kind in ("pick", "role") and found[1].kind not in PARENT_KINDS):
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    root = found[1]
    draft.root_id = int(root_id)
    _ = context._
    if kind == "all":
        draft.audience = Audience(draft.root_id, (draft.root_id,))
        await _ask_ack(update, context, draft)
    elif kind == "pick":
        draft.picked = []
        await _edit(update, *_pick_screen(context, draft, root, children))
    elif kind == "stat":
        rows = [
            [button(status_label(context.language, s), STATUS.encode(draft.token, root_id, i))]
            for i, s in enumerate(STATUSES)
        ]
        rows.append(_cancel_row(context, draft))
        text = _("Which members of {org}?").format(org=root.name)
        await _edit(update, text, InlineKeyboardMarkup(rows))
    else:
        roles = ROLES if root.kind == OrgKind.COUNTY else ROLES[:2]
        rows = [
            [button(role_label(context.language, r), ROLE.encode(draft.token, root_id, i))]
            for i, r in enumerate(roles)
        ]
        rows.append(_cancel_row(context, draft))
        text = _("Which officers in {org}?").format(org=root.name)
        await _edit(update, text, InlineKeyboardMarkup(rows))


def _pick_screen(
    context: BotContext, draft: Draft, root: OrgUnit, children: list[OrgUnit]
) -> tuple[str, InlineKeyboardMarkup]:
    rows = []
    for unit in children:
        assert unit.id is not None
        mark = "☑" if unit.id in draft.picked else "☐"
        rows.append([button(f"{mark} {unit.name}", PICK.encode(draft.token, unit.id))])
    done = context._("Done ({n} chosen)").format(n=len(draft.picked))
    rows.append([button(done, PICK.encode(draft.token, 0))])
    rows.append(_cancel_row(context, draft))
    text = context._("Choose the units of {org} that should get the notice:").format(org=root.name)
    return text, InlineKeyboardMarkup(rows)


async def on_pick(update: Update, context: BotContext) -> None:
    """Tick or untick one unit; "Done" moves on."""
    token, unit_id = callback_values(PICK, update)
    draft = _draft(context, str(token))
    if draft is None or draft.step != "audience" or not draft.root_id:
        await refuse(update, context, context._(STALE))
        return
    async with context.services.database.session_scope() as db:
        found = await _root_in_scope(db, update, draft.root_id)
        children = await orgs.child_units(db=db, org_id=draft.root_id) if found else []
    if found is None:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    if unit_id == 0:
        if not draft.picked:
            await refuse(update, context, context._("Please choose at least one unit."))
            return
        draft.audience = Audience(draft.root_id, tuple(draft.picked))
        await _ask_ack(update, context, draft)
        return
    if int(unit_id) not in {unit.id for unit in children}:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    if int(unit_id) in draft.picked:
        draft.picked.remove(int(unit_id))
    else:
        draft.picked.append(int(unit_id))
    await _edit(update, *_pick_screen(context, draft, found[1], children))


async def on_status(update: Update, context: BotContext) -> None:
    """Members of one status (e.g. only probationary members)."""
    await _narrowed(update, context, STATUS)


async def on_role(update: Update, context: BotContext) -> None:
    """Holders of one role (e.g. all secretaries)."""
    await _narrowed(update, context, ROLE)


async def _narrowed(update: Update, context: BotContext, codec: CallbackCodec) -> None:
    token, root_id, index = callback_values(codec, update)
    draft = _draft(context, str(token))
    choices: tuple[Any, ...] = STATUSES if codec is STATUS else ROLES
    if draft is None or draft.step != "audience" or int(index) >= len(choices):
        await refuse(update, context, context._(STALE))
        return
    async with context.services.database.session_scope() as db:
        found = await _root_in_scope(db, update, int(root_id))
    if found is None:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    choice = choices[int(index)]
    draft.root_id = int(root_id)
    draft.audience = Audience(
        draft.root_id,
        (draft.root_id,),
        status=choice if codec is STATUS else None,
        role=choice if codec is ROLE else None,
    )
    await _ask_ack(update, context, draft)


async def _ask_ack(update: Update, context: BotContext, draft: Draft) -> None:
    draft.step = "ack"
    _ = context._
    rows = [
        [button(_("Yes, ask them to tap “Mark as read”"), ASK_ACK.encode(draft.token, 1))],
        [button(_("No read receipt"), ASK_ACK.encode(draft.token, 0))],
        _cancel_row(context, draft),
    ]
    text = _("Should members confirm that they have read it (已阅)?")
    await _edit(update, text, InlineKeyboardMarkup(rows))


async def _describe(db: AsyncSession, context: BotContext, audience: Audience) -> str:
    units = [await orgs.get_org(db=db, org_id=org_id) for org_id in audience.org_ids]
    names = join_names(context.language, [unit.name for unit in units if unit is not None])
    if audience.status is not None:
        who = status_label(context.language, audience.status)
    elif audience.role is not None:
        who = role_label(context.language, audience.role)
    else:
        return context._("Everyone in {org}").format(org=names)
    return context._("every {who} in {org}").format(who=who, org=names)


async def on_ask_ack(update: Update, context: BotContext) -> None:
    """Ask for 已阅 (ack) or not; then show the notice as members will see it, and the count."""
    query = update.callback_query
    token, ask = callback_values(ASK_ACK, update)
    draft = _draft(context, str(token))
    if query is None or draft is None or draft.step != "ack" or draft.audience is None:
        await refuse(update, context, context._(STALE))
        return
    draft.requires_ack = bool(ask)
    async with context.services.database.session_scope() as db:
        found = await _root_in_scope(db, update, draft.root_id)
        ready = (
            (
                await preview(db=db, audience=draft.audience),
                await _describe(db, context, draft.audience),
            )
            if found is not None
            else None
        )
    if found is None or ready is None:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    seen, described = ready
    draft.step = "confirm"
    _ = context._
    await _edit(update, _("This is how the notice will look:"))
    body = notice_body(context.language, found[1].name, draft.text_html)
    chat = query.message.chat if query.message is not None else None
    if chat is None:
        return
    if draft.attachment_kind == AttachmentKind.PHOTO:
        await chat.send_photo(draft.file_id or "", caption=body, parse_mode=ParseMode.HTML)
    elif draft.attachment_kind == AttachmentKind.DOCUMENT:
        await chat.send_document(draft.file_id or "", caption=body, parse_mode=ParseMode.HTML)
    else:
        await chat.send_message(body, parse_mode=ParseMode.HTML)
    counts = seen.counts
    lines = [
        _("Audience: {audience}").format(audience=described),
        _("Read receipt: asked") if draft.requires_ack else _("Read receipt: not asked"),
        _("It will reach {n} people on Telegram.").format(n=counts.reachable),
    ]
    if counts.unreachable:
        lines.append(
            _(
                "{n} cannot be reached on Telegram (not registered: {none}, blocked the bot: "
                "{blocked}). Please tell them in person: {names}"
            ).format(
                n=counts.unreachable,
                none=counts.no_telegram,
                blocked=counts.blocked,
                names=names_line(context.language, seen.unreachable, counts.unreachable),
            )
        )
    rows = [_cancel_row(context, draft)]
    if counts.reachable:
        label = _("Send to {n} people").format(n=counts.reachable)
        rows.insert(0, [button(label, SEND.encode(draft.token))])
    else:
        lines.append(_("Nobody in this audience can get it on Telegram."))
    await chat.send_message(html_lines(lines), reply_markup=InlineKeyboardMarkup(rows))


async def on_send(update: Update, context: BotContext) -> None:
    """Send: the draft is taken first, so a second tap finds nothing to send."""
    query = update.callback_query
    user = update.effective_user
    (token,) = callback_values(SEND, update)
    draft = _draft(context, str(token))
    if query is None or user is None or query.message is None or context.user_data is None:
        return
    if draft is None or draft.step != "confirm" or draft.audience is None:
        sent_before = context.user_data.get(SENT_KEY) == token
        await refuse(
            update,
            context,
            context._("This notice has already been sent.") if sent_before else context._(STALE),
        )
        return
    context.user_data.pop(DRAFT_KEY, None)
    context.user_data[SENT_KEY] = token
    # Shown before the notice exists, so the relay's progress edits always come after it.
    await query.edit_message_text(context._("Sending the notice…"))
    settings = context.services.settings
    message = query.message
    audience = draft.audience

    async def act(db: AsyncSession, principal: Principal) -> SentNotice:
        return await send_notice(
            db=db,
            principal=principal,
            audience=audience,
            text_html=draft.text_html,
            attachment_kind=draft.attachment_kind,
            attachment_file_id=draft.file_id,
            requires_ack=draft.requires_ack,
            remind_after=timedelta(hours=settings.notice_reminder_hours),
            progress=(message.chat.id, message.message_id),
            now=context.services.clock.now(),
        )

    sent = await perform(update, context, act)
    if sent is None:
        await query.edit_message_text(context._("Nothing was sent."))
        return
    context.services.relay.wake()
    await query.answer(context._("Sending to {n} people.").format(n=sent.recipients))


async def on_cancel(update: Update, context: BotContext) -> None:
    """Drop the draft; nothing is sent."""
    (token,) = callback_values(CANCEL, update)
    if _draft(context, str(token)) is None:
        await refuse(update, context, context._(STALE))
        return
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)
    if awaiting.waiting(context, FLOW):
        awaiting.stop(context)
    await _edit(update, context._("Cancelled. Nothing was sent."))


CALLBACKS: Final = (
    (AUDIENCE, on_audience),
    (PICK, on_pick),
    (STATUS, on_status),
    (ROLE, on_role),
    (ASK_ACK, on_ask_ack),
    (SEND, on_send),
    (CANCEL, on_cancel),
)
