"""How a roster import is told: the text report (bot and CLI alike) and the CLI command.

Staff decide from this report whether to go ahead, so it names every township, branch and
party group to be created, every person added or changed field by field, and every row
that cannot be taken with its spreadsheet row number and reason.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, TextIO

from bot.clock import Clock, SystemClock
from bot.i18n import N_, gettext
from bot.roster_file import MAX_FILE_BYTES, MSG_FILE_TOO_BIG, RosterFileError
from bot.roster_import import (
    PROGRESS_MIN_ROWS,
    ImportOutcome,
    NoCountyError,
    PersonUpdate,
    Verdict,
    import_roster,
)
from bot.settings import Settings
from storage import Database, current_revision
from storage.models import Gender, MemberStatus, OrgKind

__all__ = ["ProgressLine", "is_truncated", "report_lines", "run_cli"]

Translate = Callable[[str], str]

_NOTHING: Final = "—"
_FIELD_LABELS: Final = {
    "name": N_("Name"),
    "gender": N_("Gender"),
    "phone": N_("Phone"),
    "status": N_("Member category"),
    "joined_on": N_("Date joined"),
    "branch": N_("Branch"),
    "party_group": N_("Party group"),
}
_VALUE_LABELS: Final = {
    MemberStatus.FULL.value: N_("full member"),
    MemberStatus.PROBATIONARY.value: N_("probationary member"),
    MemberStatus.DEVELOPMENT_TARGET.value: N_("development target"),
    MemberStatus.ACTIVIST.value: N_("activist"),
    Gender.MALE.value: N_("male"),
    Gender.FEMALE.value: N_("female"),
    Gender.UNKNOWN.value: N_("not given"),
}

MSG_PREVIEW: Final = N_("Preview of {filename}: {rows} rows read. Nothing has been written yet.")
MSG_REFUSED: Final = N_(
    "Nothing was imported from {filename}: {count} rows have problems. "
    "Fix them and import the file again, or import only the correct rows."
)
MSG_IMPORTED: Final = N_(
    "Imported {filename}: {created} created, {updated} updated, {unchanged} unchanged."
)
MSG_NEW_TOWNSHIPS: Final = N_("New townships ({count}): {items}")
MSG_NEW_BRANCHES: Final = N_("New branches ({count}): {items}")
MSG_NEW_GROUPS: Final = N_("New party groups ({count}): {items}")
MSG_ORG_ITEM: Final = N_("{name} (code {code})")
MSG_TO_ADD: Final = N_("To add ({count}):")
MSG_ADDED: Final = N_("Added ({count}):")
MSG_TO_UPDATE: Final = N_("To update ({count}):")
MSG_UPDATED: Final = N_("Updated ({count}):")
MSG_UNCHANGED: Final = N_("Unchanged: {count}")
MSG_PERSON: Final = N_("row {row}: {name} ({branch})")
MSG_PERSON_CHANGES: Final = N_("row {row}: {name}: {changes}")
MSG_CHANGE: Final = N_("{field}: {old} → {new}")
MSG_PROBLEMS: Final = N_("Rows with problems ({count}):")
MSG_SKIPPED: Final = N_("Skipped rows ({count}):")
MSG_MORE: Final = N_("…and {count} more")
MSG_IGNORED_COLUMNS: Final = N_("Columns not read: {columns}")
MSG_DROPPED_COLUMNS: Final = N_("ID number columns were dropped and not stored: {columns}")
#: Between the items of a list inside one line (punctuation needs no translator).
LIST_SEPARATORS: Final = {"zh": "；", "en": "; "}

MSG_CANNOT_READ: Final = N_("Cannot read {path}: {reason}")
MSG_SKIP_BAD_HINT: Final = N_("Run again with --skip-bad to import only the correct rows.")
MSG_NEW_NAME_HINT: Final = N_(
    "If those names are really new, run again with {options}; else correct the file."
)
MSG_PHASE_CHECK: Final = N_("Checking rows")
MSG_PHASE_WRITE: Final = N_("Writing rows")


# --- The report ----------------------------------------------------------------------------


def report_lines(outcome: ImportOutcome, language: str, *, limit: int | None = None) -> list[str]:
    """The import report as plain text lines; lists are cut after `limit` entries."""
    plan, verdict = outcome.plan, outcome.verdict

    def _(message: str) -> str:
        return gettext(language, message)

    sep = LIST_SEPARATORS.get(language, LIST_SEPARATORS["zh"])
    bad = plan.bad_rows
    if verdict == Verdict.IMPORTED:
        lines = [
            _(MSG_IMPORTED).format(
                filename=plan.filename,
                created=len(plan.creates),
                updated=len(plan.updates),
                unchanged=plan.unchanged,
            )
        ]
    elif verdict == Verdict.REFUSED:
        lines = [_(MSG_REFUSED).format(filename=plan.filename, count=len(bad))]
    else:
        lines = [_(MSG_PREVIEW).format(filename=plan.filename, rows=plan.rows_read)]
    if verdict != Verdict.REFUSED:
        lines += _changes(outcome, _, sep, limit)
    if bad:
        heading = MSG_SKIPPED if verdict == Verdict.IMPORTED else MSG_PROBLEMS
        lines.append(_(heading).format(count=len(bad)))
        lines += _limited([problem.render(_) for problem in plan.problems], limit, _)
    if plan.ignored_columns:
        lines.append(_(MSG_IGNORED_COLUMNS).format(columns=sep.join(plan.ignored_columns)))
    if plan.dropped_sensitive_columns:
        columns = sep.join(plan.dropped_sensitive_columns)
        lines.append(_(MSG_DROPPED_COLUMNS).format(columns=columns))
    return lines


def is_truncated(outcome: ImportOutcome, limit: int) -> bool:
    """Would `report_lines(..., limit=limit)` leave anything out?"""
    plan = outcome.plan
    lists: Sequence[Sequence[object]] = (plan.creates, plan.updates, plan.problems)
    return any(len(items) > limit for items in lists)


def _changes(outcome: ImportOutcome, _: Translate, sep: str, limit: int | None) -> list[str]:
    """New org units, people added and people updated (and, in a preview, the rest)."""
    plan = outcome.plan
    preview = outcome.verdict == Verdict.PREVIEW
    lines: list[str] = []
    for kind, message in (
        (OrgKind.TOWNSHIP, MSG_NEW_TOWNSHIPS),
        (OrgKind.VILLAGE_BRANCH, MSG_NEW_BRANCHES),
        (OrgKind.PARTY_GROUP, MSG_NEW_GROUPS),
    ):
        items = [
            _(MSG_ORG_ITEM).format(name=org.name, code=org.code)
            for org in plan.new_orgs
            if org.kind == kind
        ]
        if items:
            lines.append(_(message).format(count=len(items), items=sep.join(items)))
    if plan.creates:
        lines.append(_(MSG_TO_ADD if preview else MSG_ADDED).format(count=len(plan.creates)))
        people = [
            _(MSG_PERSON).format(
                row=person.row.row_number,
                name=person.row.name,
                branch=plan.name_of(person.branch),
            )
            for person in plan.creates
        ]
        lines += _limited(people, limit, _)
    if plan.updates:
        lines.append(_(MSG_TO_UPDATE if preview else MSG_UPDATED).format(count=len(plan.updates)))
        lines += _limited([_update_line(update, _, sep) for update in plan.updates], limit, _)
    if preview:
        lines.append(_(MSG_UNCHANGED).format(count=plan.unchanged))
    return lines


def _update_line(update: PersonUpdate, _: Translate, sep: str) -> str:
    changes = sep.join(
        _(MSG_CHANGE).format(
            field=_(_FIELD_LABELS[change.field]),
            old=_value(change.field, change.old, _),
            new=_value(change.field, change.new, _),
        )
        for change in update.changes
    )
    return _(MSG_PERSON_CHANGES).format(
        row=update.row.row_number, name=update.row.name, changes=changes
    )


def _value(field_name: str, value: str, _: Translate) -> str:
    """A stored value as people read it: category and gender in words, "—" for nothing."""
    if not value:
        return _NOTHING
    if field_name in ("status", "gender"):
        return _(_VALUE_LABELS[value])
    return value


def _limited(items: list[str], limit: int | None, _: Translate) -> list[str]:
    """The first `limit` items, and a line saying how many more there are."""
    if limit is None or len(items) <= limit:
        return items
    return [*items[:limit], _(MSG_MORE).format(count=len(items) - limit)]


# --- The command line ----------------------------------------------------------------------


class ProgressLine:
    """A one-line progress display on a terminal stream, redrawn in place.

    Small files print nothing; a phase's line ends with a newline when it is complete.
    """

    def __init__(self, stream: TextIO, translate: Translate) -> None:
        self.stream = stream
        self.translate = translate

    def __call__(self, phase: str, done: int, total: int) -> None:
        if total <= PROGRESS_MIN_ROWS:
            return
        label = self.translate(MSG_PHASE_CHECK if phase == "check" else MSG_PHASE_WRITE)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r{label}: {done}/{total}{end}")
        self.stream.flush()


async def run_cli(
    settings: Settings,
    path: Path,
    *,
    dry_run: bool,
    skip_bad: bool,
    new_names: Sequence[str] = (),
    clock: Clock | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`partybot import roster FILE`: print the report in the default language; exit code.

    Exits 1 when the file cannot be used or when bad rows stop the import (a dry run too,
    so a script can check a file before importing it).
    """
    out, err = out or sys.stdout, err or sys.stderr

    def _(message: str) -> str:
        return gettext(settings.language, message)

    try:
        data = await _read(path)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        print(f"partybot: {_(MSG_CANNOT_READ).format(path=path, reason=reason)}", file=err)
        return 1
    except RosterFileError as error:
        print(f"partybot: {error.render(_)}", file=err)
        return 1
    now = (clock or SystemClock()).now()
    database = Database(settings.database_url)
    try:
        if await asyncio.to_thread(current_revision, settings.database_url) is None:
            raise NoCountyError  # a database never migrated has no county either
        outcome = await import_roster(
            database=database,
            data=data,
            filename=path.name,
            today=now.astimezone(settings.tz).date(),
            now=now,
            actor=None,
            via="cli",
            dry_run=dry_run,
            skip_bad=skip_bad,
            progress=ProgressLine(err, _),
            answers={name: name for name in new_names},
        )
    except RosterFileError as error:
        print(f"partybot: {error.render(_)}", file=err)
        return 1
    finally:
        await database.dispose()
    print("\n".join(report_lines(outcome, settings.language)), file=out)
    blocked = bool(outcome.plan.problems) and not skip_bad
    if blocked:
        print(_(MSG_SKIP_BAD_HINT), file=out)
    if outcome.plan.questions:
        names = " ".join(f"--new-name {name}" for name in outcome.plan.questions)
        print(_(MSG_NEW_NAME_HINT).format(options=names), file=out)
    return 1 if blocked else 0


async def _read(path: Path) -> bytes:
    """The file's bytes, read off the event loop; a file over the limit is not read at all."""

    def read() -> bytes:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise RosterFileError(
                MSG_FILE_TOO_BIG, filename=path.name, limit=str(MAX_FILE_BYTES >> 20)
            )
        return data

    return await asyncio.to_thread(read)
