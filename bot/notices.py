"""Notices (通知): who gets one, what they see, how its sending is reported, and reminders.

A notice and one delivery row per recipient are written in one transaction; the relay
does the sending. The 已阅 button is data in bot/notice_buttons.py, so every message about
a notice carries it without anyone passing a keyboard in.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.access import Action, Principal, allows
from bot.htmltext import Markup, bold, html_lines, payload_html
from bot.i18n import N_, gettext
from bot.notice_buttons import ack_markup
from bot.refusals import NOT_ALLOWED, STALE_BUTTON, Refused
from storage import Database, audit, deliveries, notices, orgs
from storage.deliveries import Outgoing
from storage.models import AttachmentKind, DeliveryKind, MemberStatus, Notice, Role
from storage.notices import AudienceCounts, DeliveryCounts, Reader

__all__ = [
    "MAX_CAPTION",
    "MAX_TEXT",
    "Audience",
    "NoticeProgress",
    "Preview",
    "SentNotice",
    "acknowledge",
    "final_text",
    "join_names",
    "names_line",
    "notice_body",
    "notice_in_scope",
    "notice_payload",
    "plain_text",
    "preview",
    "progress_text",
    "remind_as",
    "remind_unacked",
    "send_notice",
    "too_long",
]

log = logging.getLogger(__name__)


#: Room kept for the header ("📢 Notice · <org>") and a reminder's first line.
_ROOM: Final = 200
MAX_TEXT: Final = 4096 - _ROOM
MAX_CAPTION: Final = 1024 - _ROOM
#: How many names a report lists before "and N more".
NAMES_SHOWN: Final = 30

HEADER = N_("📢 Notice · {org}")
REMINDER = N_("⏰ Reminder: please read this notice and tap “Mark as read” below.")


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a notice is for: the chosen units (inside the sender's scope root ``root_id``),
    optionally only members of one status, or only holders of one role."""

    root_id: int
    org_ids: tuple[int, ...]
    status: MemberStatus | None = None
    role: Role | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root_id,
            "orgs": list(self.org_ids),
            "status": self.status.value if self.status else None,
            "role": self.role.value if self.role else None,
        }

    async def paths(self, db: AsyncSession) -> list[str]:
        """The materialised paths of the chosen units (unknown ids are left out)."""
        found = [await orgs.get_org(db=db, org_id=org_id) for org_id in self.org_ids]
        return [org.path for org in found if org is not None]


@dataclass(frozen=True, slots=True)
class Preview:
    """What the sender sees before confirming."""

    counts: AudienceCounts
    unreachable: list[str]


@dataclass(frozen=True, slots=True)
class SentNotice:
    notice_id: int
    recipients: int


def plain_text(text_html: str) -> str:
    """The notice as plain text (for lists and excerpts)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text_html))


def too_long(length: int, *, has_attachment: bool) -> int | None:
    """The limit a notice of ``length`` characters exceeds, or None if it fits."""
    limit = MAX_CAPTION if has_attachment else MAX_TEXT
    return limit if length > limit else None


def notice_body(language: str, org_name: str, text_html: str, *, reminder: bool = False) -> Markup:
    """The HTML a recipient reads: a header naming the sender's unit, then the notice.

    ``text_html`` is the notice as stored: the officer's message as HTML (Telegram's own
    rendering of its entities, so already escaped).
    """
    header = gettext(language, HEADER).format(org=org_name)
    lines = [bold(header), "", Markup(text_html)]
    if reminder:
        lines[:0] = [gettext(language, REMINDER), ""]
    return html_lines(lines)


def notice_payload(
    language: str,
    notice: Notice,
    org_name: str,
    *,
    reminder: bool = False,
) -> dict[str, Any]:
    """The delivery payload of a notice (or of a reminder about it) in one language."""
    assert notice.id is not None
    return {
        "text": payload_html(notice_body(language, org_name, notice.text, reminder=reminder)),
        "parse_mode": ParseMode.HTML.value,
        "reply_markup": ack_markup(notice.id, language) if notice.requires_ack else None,
        "photo": notice.attachment_file_id
        if notice.attachment_kind == AttachmentKind.PHOTO
        else None,
        "document": notice.attachment_file_id
        if notice.attachment_kind == AttachmentKind.DOCUMENT
        else None,
    }


def _queue_items(
    readers: Sequence[Reader], key: str, payload: Callable[[str], dict[str, Any]]
) -> list[Outgoing]:
    by_language: dict[str, dict[str, Any]] = {}
    return [
        Outgoing(
            reader.chat_id,
            by_language.setdefault(reader.language, payload(reader.language)),
            f"{key}:{reader.chat_id}",
            reader.member_id,
        )
        for reader in readers
    ]


async def preview(*, db: AsyncSession, audience: Audience) -> Preview:
    """How many the notice will reach, and who must be told in person instead."""
    paths = await audience.paths(db)
    counts = await notices.audience_counts(
        db=db, paths=paths, status=audience.status, role=audience.role
    )
    names = await notices.unreachable_in_audience(
        db=db,
        paths=paths,
        status=audience.status,
        role=audience.role,
        limit=NAMES_SHOWN,
    )
    return Preview(counts, names)


async def send_notice(
    *,
    db: AsyncSession,
    principal: Principal,
    audience: Audience,
    text_html: str,
    attachment_kind: AttachmentKind | None,
    attachment_file_id: str | None,
    requires_ack: bool,
    remind_after: timedelta,
    progress: tuple[int, int] | None,
    now: datetime,
) -> SentNotice:
    """Record the notice and queue one delivery per recipient, in the caller's transaction.

    The sender's right to send to the audience's root is checked here, in the same
    transaction (`Refused` otherwise). The audience is read here, once: after this, only
    the delivery rows say who is left.
    """
    sender = principal.telegram_user_id
    root = await orgs.get_org(db=db, org_id=audience.root_id)
    if root is None or root.id is None or not allows(principal, Action.SEND_NOTICE, root.path):
        raise Refused(NOT_ALLOWED)
    # The units were picked on earlier screens: only those still inside the root count,
    # and if none is left there is nobody to send to (never "no filter", i.e. everyone).
    paths = [path for path in await audience.paths(db) if path.startswith(root.path)]
    if not paths:
        raise Refused(NOT_ALLOWED)
    readers = await notices.recipients(
        db=db, paths=paths, status=audience.status, role=audience.role
    )
    counts = await notices.audience_counts(
        db=db, paths=paths, status=audience.status, role=audience.role
    )
    notice = await notices.create_notice(
        db=db,
        org_id=root.id,
        sender_telegram_id=sender,
        text=text_html,
        parse_mode=ParseMode.HTML.value,
        attachment_kind=attachment_kind,
        attachment_file_id=attachment_file_id,
        audience={**audience.to_json(), "unreachable": counts.unreachable},
        requires_ack=requires_ack,
        ack_reminder_after_minutes=round(remind_after.total_seconds() / 60),
        progress_chat_id=progress[0] if progress else None,
        progress_message_id=progress[1] if progress else None,
        now=now,
    )
    assert notice.id is not None
    items = _queue_items(
        readers,
        f"notice:{notice.id}",
        lambda language: notice_payload(language, notice, root.name),
    )
    await deliveries.enqueue_many(
        db=db, kind=DeliveryKind.NOTICE, items=items, due_at=now, notice_id=notice.id
    )
    await audit.record(
        db=db,
        actor=sender,
        action="notice.send",
        target_kind="notice",
        target_id=notice.id,
        org_id=root.id,
        detail={"recipients": len(items), "requires_ack": requires_ack, **audience.to_json()},
        at=now,
    )
    return SentNotice(notice.id, len(items))


async def acknowledge(
    *, db: AsyncSession, actor: Principal, notice_id: int, now: datetime
) -> bool:
    """已阅 (ack): the actor confirms they read a notice sent to them; True the first time.

    Only the first tap writes (a conditional update, so a double tap is harmless); a
    notice that never reached the actor is refused as a stale button.
    """
    result = await notices.acknowledge(
        db=db, notice_id=notice_id, chat_id=actor.telegram_user_id, now=now
    )
    if result == notices.AckResult.UNKNOWN:
        raise Refused(STALE_BUTTON)
    return result == notices.AckResult.ACKNOWLEDGED


async def notice_in_scope(*, db: AsyncSession, actor: Principal, notice_id: int) -> Notice | None:
    """The notice, if it exists and was sent from inside the actor's SEND_NOTICE scope."""
    notice = await notices.get_notice(db=db, notice_id=notice_id)
    if notice is None:
        return None
    org = await orgs.get_org(db=db, org_id=notice.org_id)
    if org is None or not allows(actor, Action.SEND_NOTICE, org.path):
        return None
    return notice


async def remind_as(
    *,
    db: AsyncSession,
    actor: Principal,
    notice_id: int,
    key: str,
    now: datetime,
) -> int:
    """/notices' remind button: an officer reminds whoever has not acked a notice in scope.

    Refused unless the notice was sent inside the actor's scope and asks for 已阅; ``key``
    (the tapped message) makes a second tap queue nothing. Returns how many were queued.
    """
    notice = await notice_in_scope(db=db, actor=actor, notice_id=notice_id)
    if notice is None or not notice.requires_ack:
        raise Refused(NOT_ALLOWED)
    return await remind_unacked(
        db=db,
        notice=notice,
        key=key,
        now=now,
        actor=actor.telegram_user_id,
    )


async def remind_unacked(
    *,
    db: AsyncSession,
    notice: Notice,
    key: str,
    now: datetime,
    actor: int | None,
) -> int:
    """Queue a reminder to everyone who got the notice and has not tapped 已阅.

    ``key`` makes the batch idempotent: a second call with it queues nothing (and writes
    no audit row). Returns how many reminders were queued.
    """
    assert notice.id is not None
    org = await orgs.get_org(db=db, org_id=notice.org_id)
    org_name = org.name if org is not None else ""
    unacked = await notices.unacked_recipients(db=db, notice_id=notice.id)
    items = _queue_items(
        unacked,
        f"notice:{notice.id}:{key}",
        lambda language: notice_payload(language, notice, org_name, reminder=True),
    )
    queued = await deliveries.enqueue_many(
        db=db, kind=DeliveryKind.NOTICE, items=items, due_at=now
    )
    if not queued:
        return 0
    await audit.record(
        db=db,
        actor=actor,
        action="notice.remind",
        target_kind="notice",
        target_id=notice.id,
        org_id=notice.org_id,
        detail={"reminded": queued, "key": key},
        at=now,
    )
    return queued


# --- progress ----------------------------------------------------------------------------------


def _bar(done: int, total: int, cells: int = 10) -> str:
    filled = cells * done // total if total else cells
    return "▓" * filled + "░" * (cells - filled)


def _duration(language: str, seconds: float) -> str:
    if seconds < 60:
        return gettext(language, "{n} s").format(n=max(1, round(seconds)))
    return gettext(language, "{n} min").format(n=round(seconds / 60))


def progress_text(language: str, counts: DeliveryCounts, rate: float) -> str:
    """The sender's message while sending: a bar, the counts and the time left."""
    done = counts.total - counts.waiting
    percent = 100 * done // counts.total if counts.total else 100
    _ = partial(gettext, language)
    return html_lines(
        [
            _("Sending the notice…"),
            f"{_bar(done, counts.total)} {percent}%",
            _("Sent {sent} of {total} · failed {failed} · unreachable {unreachable}").format(
                sent=counts.sent,
                total=counts.total,
                failed=counts.failed,
                unreachable=counts.unreachable,
            ),
            _("About {time} left").format(time=_duration(language, counts.waiting / rate)),
        ]
    )


#: How a list of names is written (Chinese uses the enumeration comma).
_SEPARATORS: Final = {"zh": "、", "en": ", "}


def join_names(language: str, names: Sequence[str]) -> str:
    """ "张三、李四" / "Zhang, Li"."""
    return _SEPARATORS.get(language, "、").join(names)


def names_line(language: str, names: Sequence[str], total: int) -> str:
    """ "张三、李四 and 3 more" in the reader's language."""
    shown = join_names(language, names)
    if total > len(names):
        return gettext(language, "{names} and {n} more").format(names=shown, n=total - len(names))
    return shown


def final_text(
    language: str, counts: DeliveryCounts, unreachable: Sequence[str], before: int
) -> str:
    """The sender's message once every delivery has an outcome."""
    _ = partial(gettext, language)
    lines = [
        _("The notice has been sent."),
        _("Delivered: {sent} of {total}").format(sent=counts.sent, total=counts.total),
    ]
    if counts.failed:
        lines.append(_("Could not be sent: {n}").format(n=counts.failed))
    if counts.unreachable:
        lines.append(
            _("Blocked the bot, please tell them in person ({n}): {names}").format(
                n=counts.unreachable, names=names_line(language, unreachable, counts.unreachable)
            )
        )
    if before:
        lines.append(_("Not reachable on Telegram before sending: {n}").format(n=before))
    lines.append(_("Send /notices to see who has read it."))
    return html_lines(lines)


class NoticeProgress:
    """Edits each sender's confirmation message into a progress bar, then a final report.

    The relay calls ``report`` every couple of seconds; everything it needs is in the
    database, so it picks up again after a restart.
    """

    def __init__(self, *, bot: Bot, database: Database, rate: float) -> None:
        self.bot = bot
        self.database = database
        self.rate = rate
        self._shown: dict[int, str] = {}

    async def report(self) -> None:
        """Update every open progress message whose text has changed."""
        async with self.database.session_scope() as db:
            targets = await notices.open_progress(db=db)
            ids = [target.notice_id for target in targets]
            counts = await notices.delivery_counts(db=db, notice_ids=ids)
            texts: dict[int, str] = {}
            for target in targets:
                found = counts[target.notice_id]
                if found.finished:
                    notice = await notices.get_notice(db=db, notice_id=target.notice_id)
                    names = await notices.unreachable_names(
                        db=db, notice_id=target.notice_id, limit=NAMES_SHOWN
                    )
                    before = int((notice.audience if notice else {}).get("unreachable", 0))
                    texts[target.notice_id] = final_text(target.language, found, names, before)
                else:
                    texts[target.notice_id] = progress_text(target.language, found, self.rate)
        for target in targets:
            text = texts[target.notice_id]
            finished = counts[target.notice_id].finished
            if self._shown.get(target.notice_id) != text and not await self._edit(
                target.chat_id, target.message_id, text
            ):
                continue
            self._shown[target.notice_id] = text
            if finished:
                async with self.database.session_scope() as db:
                    await notices.close_progress(db=db, notice_id=target.notice_id)
                self._shown.pop(target.notice_id, None)

    async def _edit(self, chat_id: int, message_id: int, text: str) -> bool:
        """Show ``text``; False if Telegram could not take it now (try again next time)."""
        try:
            await self.bot.edit_message_text(
                payload_html(text),
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
            )
        except BadRequest as exc:
            if "not modified" in exc.message or "not found" in exc.message:
                return True  # already shown, or the sender deleted it: nothing more to do
            log.warning("progress message %s/%s: %s", chat_id, message_id, exc)
            return True
        except TelegramError as exc:
            log.info("progress message %s/%s not updated now: %s", chat_id, message_id, exc)
            return False
        return True
