"""Roster import by document: county staff send the spreadsheet, see a preview, confirm.

Nothing is kept between the preview and the confirmation but the file's Telegram id under
a short random token in the sender's user_data: the confirm tap downloads the file again
and plans afresh against the database as it is then, so a stale preview can never be
written. The token is taken out of user_data by the first tap, so a second tap (or a
forged one) imports nothing. Every step is one call of `bot.roster_import.import_as`, which
checks the right again in the transaction that plans.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Final, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.htmltext import Markup, as_html
from bot.i18n import N_
from bot.refusals import NOT_ALLOWED, Refused
from bot.roster_file import MAX_FILE_BYTES, MSG_UNSUPPORTED, RosterFileError
from bot.roster_import import PROGRESS_MIN_ROWS, ImportOutcome, Verdict, import_as, may_import
from bot.roster_report import is_truncated, report_lines
from handlers import awaiting
from handlers.guard import refuse

log = logging.getLogger(__name__)

#: What a roster may be called; old Excel files get read_roster's "save as .xlsx" advice.
ROSTER_SUFFIXES: Final = frozenset({".xlsx", ".xlsm", ".csv", ".xls", ".et", ".wps"})
PENDING_KEY: Final = awaiting.forget_on_cancel("roster_imports")
PENDING_TTL: Final = timedelta(minutes=30)
#: Entries per list in a chat report; longer reports come as an attached text file too.
SUMMARY_LIMIT: Final = 10
MESSAGE_LIMIT: Final = 4000
REPORT_FILENAME: Final = "roster-report.txt"

CHOICE: Final = CallbackCodec("rimp", (str, str))  # action, token
#: A name asked about: token, question index, 1 = the existing unit is meant, 0 = a new one.
NAME: Final = CallbackCodec("rimpn", (str, int, int))
GO, SKIP_BAD, CANCEL = "go", "skip", "no"
#: Name questions offered as buttons under one preview (more are answered in the file).
MAX_QUESTIONS: Final = 4

MSG_STAFF_ONLY: Final = N_(
    "Only county staff can import a roster file, so I have not used this file."
)
MSG_TOO_BIG: Final = N_(
    "The file {filename} is {size} MB; I can take files of up to {limit} MB. "
    "Please remove pictures from it or split the roster into several files."
)
MSG_RECEIVED: Final = N_("Received {filename}. Checking it…")
MSG_CHECKING: Final = N_("Checking {filename}: {done} of {total} rows…")
MSG_WRITING: Final = N_("Importing {filename}: {done} of {total} rows…")
MSG_IMPORTING: Final = N_("Importing {filename}…")
MSG_ASK: Final = N_("Import this file?")
MSG_FULL_LIST: Final = N_("The full list is in the attached file.")
MSG_CANCELLED: Final = N_("Cancelled. Nothing was imported.")
MSG_GONE: Final = N_(
    "This import was already done or cancelled, or it is too old. "
    "Send the file again to start over."
)
BUTTON_IMPORT: Final = N_("Import")
BUTTON_SKIP_BAD: Final = N_("Import only the correct rows")
BUTTON_CANCEL: Final = N_("Cancel")
BUTTON_SAME: Final = N_("{typed} is {match}")
BUTTON_NEW: Final = N_("{typed} is new")


@dataclass(frozen=True, slots=True)
class PendingImport:
    """A previewed file waiting for the staff member's decision."""

    file_id: str
    filename: str
    expires_at: datetime
    answers: tuple[tuple[str, str], ...] = ()  # names asked about: typed -> meant
    questions: tuple[tuple[str, str], ...] = ()  # the preview's open ones: typed, match


async def on_roster_document(update: Update, context: BotContext) -> None:
    """A document arrived: from county staff, preview importing it; else refuse."""
    message, user = update.effective_message, update.effective_user
    if message is None or message.document is None or user is None:
        return
    _ = context._
    if not await _may_import(context, user.id):
        await refuse(update, context, _(MSG_STAFF_ONLY))
        return
    document = message.document
    filename = document.file_name or ""
    if PurePath(filename).suffix.lower() not in ROSTER_SUFFIXES:
        await message.reply_text(_(MSG_UNSUPPORTED).format(filename=filename))
        return
    if (document.file_size or 0) > MAX_FILE_BYTES:
        size = f"{(document.file_size or 0) / 1024 / 1024:.1f}"
        text = _(MSG_TOO_BIG).format(filename=filename, size=size, limit=MAX_FILE_BYTES >> 20)
        await message.reply_text(text)
        return
    status = await message.reply_text(_(MSG_RECEIVED).format(filename=filename))
    outcome = await _run(context, status, document.file_id, filename, actor=user.id, dry_run=True)
    if outcome is None:
        return
    token = _remember(context, document.file_id, filename, outcome=outcome)
    await _show(context, status, outcome, _choices(context, outcome, token))


async def on_roster_choice(update: Update, context: BotContext) -> None:
    """导入 / 只导入正确的行 / 取消 under a preview: act once, for county staff only."""
    query, user = update.callback_query, update.effective_user
    decoded = CHOICE.decode(query.data if query is not None else None)
    if query is None or user is None or decoded is None:
        return
    _ = context._
    action, token = str(decoded[0]), str(decoded[1])
    # Taken out before anything is awaited, so of two taps only the first finds it.
    pending = _pending(context).pop(token, None) if action in (GO, SKIP_BAD, CANCEL) else None
    if pending is None or pending.expires_at <= context.services.clock.now():
        await query.answer(_(MSG_GONE), show_alert=True)
        return
    if not await _may_import(context, user.id):
        await refuse(update, context, _(NOT_ALLOWED))
        return
    await query.answer()
    if action == CANCEL:
        await query.edit_message_text(_(MSG_CANCELLED))
        return
    status = query.message
    if not isinstance(status, Message):
        return
    await status.edit_text(_(MSG_IMPORTING).format(filename=pending.filename))
    outcome = await _run(
        context,
        status,
        pending.file_id,
        pending.filename,
        actor=user.id,
        dry_run=False,
        skip_bad=action == SKIP_BAD,
        answers=dict(pending.answers),
    )
    if outcome is None:
        return
    if outcome.verdict == Verdict.REFUSED:  # "…or import only the correct rows": a button
        token = _remember(
            context, pending.file_id, pending.filename, outcome=outcome, answers=pending.answers
        )
        await _show(context, status, outcome, _choices(context, outcome, token))
        return
    context.services.relay.wake()  # invitations for newcomers and movers
    await _show(context, status, outcome, None)


async def on_name_answer(update: Update, context: BotContext) -> None:
    """ "东风村支部 is 东风村党支部" / "… is new": settle a name and preview again."""
    query, user = update.callback_query, update.effective_user
    decoded = NAME.decode(query.data if query is not None else None)
    if query is None or user is None or decoded is None:
        return
    token, index, same = str(decoded[0]), int(decoded[1]), int(decoded[2])
    pending = _pending(context).pop(token, None)
    if (
        pending is None
        or pending.expires_at <= context.services.clock.now()
        or not 0 <= index < len(pending.questions)
    ):
        await query.answer(context._(MSG_GONE), show_alert=True)
        return
    if not await _may_import(context, user.id):
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    await query.answer()
    typed, match = pending.questions[index]
    answers = (*pending.answers, (typed, match if same else typed))
    status = query.message
    if not isinstance(status, Message):
        return
    outcome = await _run(
        context,
        status,
        pending.file_id,
        pending.filename,
        actor=user.id,
        dry_run=True,
        answers=dict(answers),
    )
    if outcome is None:
        return
    token = _remember(context, pending.file_id, pending.filename, outcome=outcome, answers=answers)
    await _show(context, status, outcome, _choices(context, outcome, token))


async def _may_import(context: BotContext, telegram_user_id: int) -> bool:
    """Show the import's screens only to county staff (`import_as` checks again)."""
    async with context.services.database.session_scope() as db:
        return await may_import(db=db, actor=telegram_user_id) is not None


async def _run(
    context: BotContext,
    status: Message,
    file_id: str,
    filename: str,
    *,
    actor: int,
    dry_run: bool,
    skip_bad: bool = False,
    answers: dict[str, str] | None = None,
) -> ImportOutcome | None:
    """Download and import (or preview) the file; None once a file-level problem (or a
    refusal) is shown."""
    _ = context._
    file = await context.bot.get_file(file_id)
    data = bytes(await file.download_as_bytearray())
    now = context.services.clock.now()
    try:
        async with _ProgressMessage(status, _(MSG_CHECKING), _(MSG_WRITING), filename) as shown:
            return await import_as(
                database=context.services.database,
                actor=actor,
                data=data,
                filename=filename,
                today=now.astimezone(context.services.settings.tz).date(),
                now=now,
                settings=context.services.settings,
                dry_run=dry_run,
                skip_bad=skip_bad,
                progress=shown,
                answers=answers,
            )
    except RosterFileError as error:
        await status.edit_text(error.render(_))
        return None
    except Refused as refused:  # the right was taken away since the screen was drawn
        await status.edit_text(refused.text(context.language))
        return None


async def _show(
    context: BotContext,
    status: Message,
    outcome: ImportOutcome,
    keyboard: InlineKeyboardMarkup | None,
) -> None:
    """Put the report into the status message; a long one also comes as a text file."""
    _ = context._
    lines = report_lines(outcome, context.language, limit=SUMMARY_LIMIT)
    if is_truncated(outcome, SUMMARY_LIMIT):
        full = "\n".join(report_lines(outcome, context.language)) + "\n"
        await status.reply_document(full.encode(), filename=REPORT_FILENAME)
        lines.append(_(MSG_FULL_LIST))
    if keyboard is not None:
        lines.append(_(MSG_ASK))
    await status.edit_text(_fit(lines), reply_markup=keyboard)


def _fit(lines: list[str]) -> Markup:
    """HTML-escaped lines joined, cut to fit one Telegram message."""
    text = Markup()
    for line in lines:
        escaped = as_html(line)
        if len(text) + len(escaped) + 2 > MESSAGE_LIMIT:
            return text + Markup("\n…")
        text = text + Markup("\n") + escaped if text else escaped
    return text


def _choices(context: BotContext, outcome: ImportOutcome, token: str) -> InlineKeyboardMarkup:
    """导入, 只导入正确的行 (when some rows are bad and some good), 取消."""
    _ = context._
    plan = outcome.plan
    rows = [[InlineKeyboardButton(_(BUTTON_IMPORT), callback_data=CHOICE.encode(GO, token))]]
    has_good = bool(plan.creates or plan.updates or plan.unchanged)
    pending = _pending(context).get(token)
    questions = pending.questions if pending is not None else ()
    for index, (typed, match) in enumerate(questions):
        rows.append(
            [
                InlineKeyboardButton(
                    _(BUTTON_SAME).format(typed=typed, match=match)[:60],
                    callback_data=NAME.encode(token, index, 1),
                ),
                InlineKeyboardButton(
                    _(BUTTON_NEW).format(typed=typed)[:60],
                    callback_data=NAME.encode(token, index, 0),
                ),
            ]
        )
    if outcome.verdict != Verdict.IMPORTED and plan.problems and has_good:
        label = _(BUTTON_SKIP_BAD)
        rows.append([InlineKeyboardButton(label, callback_data=CHOICE.encode(SKIP_BAD, token))])
    rows.append(
        [InlineKeyboardButton(_(BUTTON_CANCEL), callback_data=CHOICE.encode(CANCEL, token))]
    )
    return InlineKeyboardMarkup(rows)


def _pending(context: BotContext) -> dict[str, PendingImport]:
    """This user's previews awaiting a decision (the dict lives in user_data)."""
    if context.user_data is None:  # updates without a user cannot have anything pending
        return {}
    return cast(dict[str, PendingImport], context.user_data.setdefault(PENDING_KEY, {}))


def _remember(
    context: BotContext,
    file_id: str,
    filename: str,
    *,
    outcome: ImportOutcome,
    answers: tuple[tuple[str, str], ...] = (),
) -> str:
    """Keep the file id (and the names settled so far, and the ones the preview asks
    about) under a fresh token, forgetting previews that have expired."""
    now = context.services.clock.now()
    pending = _pending(context)
    for token in [token for token, item in pending.items() if item.expires_at <= now]:
        del pending[token]
    token = secrets.token_hex(4)
    questions = tuple(list(outcome.plan.questions.items())[:MAX_QUESTIONS])
    pending[token] = PendingImport(file_id, filename, now + PENDING_TTL, answers, questions)
    return token


class _ProgressMessage:
    """Edits the status message as a large file's rows are checked and written.

    The import calls it synchronously from inside its transaction; the edits happen in a
    task of their own, so the transaction never waits on Telegram.
    """

    def __init__(self, status: Message, checking: str, writing: str, filename: str) -> None:
        self._status = status
        self._texts = {"check": checking, "write": writing}
        self._filename = filename
        self._latest: tuple[str, int, int] | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _ProgressMessage:
        self._task = asyncio.create_task(self._edit_loop())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop editing (after any edit under way) before the final text goes out."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await self._task

    def __call__(self, phase: str, done: int, total: int) -> None:
        if total > PROGRESS_MIN_ROWS:
            self._latest = (phase, done, total)
            self._wake.set()

    async def _edit_loop(self) -> None:
        shown: tuple[str, int, int] | None = None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            if self._latest is None or self._latest == shown:
                continue
            shown = self._latest
            phase, done, total = shown
            text = self._texts[phase].format(filename=self._filename, done=done, total=total)
            try:
                await self._status.edit_text(text)
            except TelegramError as error:  # progress is a courtesy; the import goes on
                log.warning("could not show import progress: %s", error)
