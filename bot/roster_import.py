"""Import a roster spreadsheet: plan every change first, then write it in one transaction.

The county sends its whole roster, thousands of rows, again and again as it changes. An
import therefore has to be safe to repeat (the same file changes nothing), explainable
before it happens (a dry run lists what would be created, updated and left alone), and
all-or-nothing: by default one bad row stops the whole file, so staff never have to work
out which half of a roster made it in. Matching happens in memory on members loaded a
batch at a time, and writes go out in bulk, so a 5,000-row file takes seconds, not minutes.

Every row is checked in the plan before anything is written. The writes then go out in
transactions of at most ``WRITE_BATCH`` rows, so an import beside the running bot holds
SQLite's one write lock for a fraction of a second at a time, never for the whole file. A
file that fits in one batch is one transaction; a larger import interrupted between
batches (a crash, a full disk) keeps the batches already committed, each whole, and is
resumed by importing the same file again: the rows already written match and are left
alone, the rest is written.

People are matched by phone number first, then by name within their branch. A blank cell
never erases what the database already knows (elders often have no phone on the sheet).

From the bot, county staff send the file and `import_as` is the one use case: the right
(IMPORT_ROSTER on the county) is checked in the transaction that plans, and the last
batch's transaction brings the coming study sessions in step with the new roster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.access import Action, allows, load_principal
from bot.i18n import N_
from bot.leader import process_identity
from bot.refusals import NOT_ALLOWED, Refused
from bot.roster import end_roles_on_leaving
from bot.roster_file import ParsedRoster, RosterFileError, RosterRow, RowProblem, read_roster
from bot.session_duties import follow_the_roster
from bot.settings import Settings
from storage import Database, audit, leases, members, orgs, roster_import
from storage.models import Gender, Member, MemberStatus, OrgKind, OrgUnit

__all__ = [
    "AUDIT_ACTION",
    "IMPORT_LEASE",
    "PLAN_BATCH",
    "PROGRESS_MIN_ROWS",
    "WRITE_BATCH",
    "FieldChange",
    "ImportBusyError",
    "ImportOutcome",
    "ImportPlan",
    "NewOrg",
    "NewPerson",
    "NoCountyError",
    "PersonUpdate",
    "Progress",
    "Verdict",
    "apply_plan",
    "display_phone",
    "import_as",
    "import_roster",
    "may_import",
    "org_key",
    "plan_import",
    "similar_name",
]

AUDIT_ACTION: Final = "roster.import"
#: Rows matched per batch: one query for their phones, one for their branches' members.
PLAN_BATCH: Final = 500
#: Rows (new org units, new people, changed people) written per transaction. SQLite has
#: one writer and the bot waits at most 5 s for the lock; a batch takes about a tenth of a
#: second (docs/benchmarks.md).
WRITE_BATCH: Final = 2000
#: One import writes at a time (see `_one_import_at_a_time`); a crashed one's lease lapses.
IMPORT_LEASE: Final = "roster-import"
IMPORT_LEASE_TTL: Final = timedelta(minutes=30)
#: Files with more rows than this get a progress line (CLI) or progress message (bot).
PROGRESS_MIN_ROWS: Final = 500
_CODE_MAX: Final = 32
_BRANCH_KINDS: Final = frozenset(
    {OrgKind.VILLAGE_BRANCH, OrgKind.COUNTY_DEPARTMENT, OrgKind.GRASSROOTS_STATION}
)
#: Endings people add or leave out ("东风镇" vs "东风镇党委"); stripped to match names.
_ORG_SUFFIXES: Final = ("党总支部", "党总支", "党支部", "党委", "党小组")
#: Looser endings: a name that differs from an existing one only by these (or by one
#: character) is asked about, never silently created ("东风村支部" vs "东风村党支部").
_SIMILAR_SUFFIXES: Final = (*_ORG_SUFFIXES, "总支部", "总支", "支部", "小组")

# --- Messages ------------------------------------------------------------------------------

MSG_NO_COUNTY: Final = N_(
    "There is no county in the database yet. Create it first: partybot init --county NAME"
)
MSG_BRANCH_UNKNOWN: Final = N_(
    "row {row}: there is no branch called {branch}; fill in the township so it can be created"
)
MSG_BRANCH_AMBIGUOUS: Final = N_(
    "row {row}: several branches are called {branch}; fill in the township to say which"
)
MSG_WRONG_KIND: Final = N_("row {row}: the name {name} is already used by another kind of unit")
MSG_ORG_CLOSED: Final = N_("row {row}: {name} is marked as closed")
MSG_SIMILAR_NAME: Final = N_(
    "row {row}: there is no {name} yet, but there is {match}; is it the same? "
    "Choose below, or correct the file"
)
MSG_PHONE_TAKEN: Final = N_(
    "row {row}: the phone number {value} already belongs to {other} of {branch}"
)
MSG_PHONE_SHARED: Final = N_(
    "row {row}: the phone number {value} belongs to several members already"
)
MSG_NAME_AMBIGUOUS: Final = N_(
    "row {row}: several members of {branch} are called {value}; add a phone number to say which"
)
MSG_SAME_PERSON: Final = N_("row {row}: this is the same person as in row {earlier}")
MSG_IMPORT_BUSY: Final = N_(
    "Another roster import is being written right now. Please try again when it has finished."
)


class NoCountyError(RosterFileError):
    """The database has no county yet, so there is nothing to import into."""

    def __init__(self) -> None:
        super().__init__(MSG_NO_COUNTY)


class ImportBusyError(RosterFileError):
    """Another import is between its plan and its last batch; nothing was written."""

    def __init__(self) -> None:
        super().__init__(MSG_IMPORT_BUSY)


# --- The plan ------------------------------------------------------------------------------


@dataclass(eq=False)
class NewOrg:
    """An org unit the import will create; compared by identity so it can key a dict."""

    code: str
    name: str
    kind: OrgKind
    parent: OrgSlot


#: An existing org unit's id, or one the import will create.
OrgSlot = int | NewOrg


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one person, before and after, as text for a report ("" for empty)."""

    field: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class NewPerson:
    """A row that adds someone to a branch roster."""

    row: RosterRow
    branch: OrgSlot
    party_group: OrgSlot | None


@dataclass(frozen=True, slots=True)
class PersonUpdate:
    """A row that changes someone already on the roster."""

    row: RosterRow
    member_id: int
    changes: tuple[FieldChange, ...]
    columns: dict[str, Any]  # scalar Member columns to set
    branch: OrgSlot | None  # new branch of a transfer
    party_group: OrgSlot | None
    sets_party_group: bool
    old_status: MemberStatus


@dataclass(slots=True)
class ImportPlan:
    """Everything an import of one file would do, and every row it cannot take."""

    filename: str
    county_id: int
    rows_read: int
    new_orgs: list[NewOrg] = field(default_factory=list)
    creates: list[NewPerson] = field(default_factory=list)
    updates: list[PersonUpdate] = field(default_factory=list)
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dropped_sensitive_columns: list[str] = field(default_factory=list)
    org_names: dict[int, str] = field(default_factory=dict)  # existing orgs, for reports
    #: New names too close to an existing unit's: typed name -> the likely match.
    questions: dict[str, str] = field(default_factory=dict)

    @property
    def bad_rows(self) -> list[int]:
        """Spreadsheet rows with at least one problem, in order."""
        return sorted({problem.row_number for problem in self.problems})

    def name_of(self, slot: OrgSlot | None) -> str:
        """Display name of an existing or planned org unit."""
        if slot is None:
            return ""
        return slot.name if isinstance(slot, NewOrg) else self.org_names.get(slot, "")


class Verdict(StrEnum):
    """What became of an import."""

    PREVIEW = "preview"  # dry run: nothing written
    REFUSED = "refused"  # bad rows and not told to skip them: nothing written
    IMPORTED = "imported"


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """The plan and what was done with it."""

    plan: ImportPlan
    verdict: Verdict


#: Called as rows are checked ("check") and written ("write"): phase, rows done, total.
Progress = Callable[[str, int, int], None]


# --- Entry points --------------------------------------------------------------------------


async def may_import(*, db: AsyncSession, actor: int) -> OrgUnit | None:
    """The county, if ``actor`` may import a roster into it (IMPORT_ROSTER there)."""
    county = await orgs.get_county(db=db)
    if county is None:
        return None
    principal = await load_principal(db=db, telegram_user_id=actor)
    return county if allows(principal, Action.IMPORT_ROSTER, county.path) else None


async def import_as(
    *,
    database: Database,
    actor: int,
    data: bytes,
    filename: str,
    today: date,
    now: datetime,
    settings: Settings,
    dry_run: bool,
    skip_bad: bool = False,
    progress: Progress | None = None,
    answers: Mapping[str, str] | None = None,
) -> ImportOutcome:
    """The bot's roster import, from the file to the roster: preview (``dry_run``) or write.

    Refused (NOT_ALLOWED) unless ``actor`` may import, checked in the transaction that
    plans; written, the last batch's transaction also invites newcomers and movers to
    their branch's coming sessions and takes leavers off (the caller wakes the relay).
    """
    return await import_roster(
        database=database,
        data=data,
        filename=filename,
        today=today,
        now=now,
        actor=actor,
        via="bot",
        dry_run=dry_run,
        skip_bad=skip_bad,
        progress=progress,
        answers=answers,
        authorise=True,
        settings=settings,
    )


async def import_roster(
    *,
    database: Database,
    data: bytes,
    filename: str,
    today: date,
    now: datetime,
    actor: int | None,
    via: str,
    dry_run: bool = False,
    skip_bad: bool = False,
    progress: Progress | None = None,
    answers: Mapping[str, str] | None = None,
    batch_size: int = WRITE_BATCH,
    authorise: bool = False,
    settings: Settings | None = None,
) -> ImportOutcome:
    """Read and plan the file, then (unless a dry run or refused) write it in batches.

    The plan only reads; the writes go out in transactions of at most ``batch_size`` rows
    (see the module docstring for what an interrupted import leaves), one import at a time.
    Raises RosterFileError when the file as a whole cannot be used (NoCountyError when
    there is no county yet, ImportBusyError while another import writes); nothing is
    written then. ``authorise``: ``actor`` must hold IMPORT_ROSTER on the county (the bot;
    the CLI is the server's operator), else Refused. ``settings``: coming sessions follow
    the roster in the last batch's transaction.
    """
    parsed = await asyncio.to_thread(read_roster, data, filename, today=today)
    authorised = actor if authorise else None
    if dry_run:
        plan = await _plan(database, parsed, filename, progress, answers, authorised)
        return ImportOutcome(plan, Verdict.PREVIEW)
    async with _one_import_at_a_time(database):
        plan = await _plan(database, parsed, filename, progress, answers, authorised)
        if plan.problems and not skip_bad:
            return ImportOutcome(plan, Verdict.REFUSED)
        await apply_plan(
            database=database,
            plan=plan,
            today=today,
            now=now,
            actor=actor,
            via=via,
            progress=progress,
            batch_size=batch_size,
            settings=settings,
        )
    return ImportOutcome(plan, Verdict.IMPORTED)


async def _plan(
    database: Database,
    parsed: ParsedRoster,
    filename: str,
    progress: Progress | None,
    answers: Mapping[str, str] | None,
    authorised: int | None,
) -> ImportPlan:
    """The plan, in one read-only transaction (which checks ``authorised``'s right first)."""
    async with database.session_scope() as db:
        county = await orgs.get_county(db=db)
        if county is None or county.id is None:
            raise NoCountyError
        if authorised is not None and await may_import(db=db, actor=authorised) is None:
            raise Refused(NOT_ALLOWED)
        return await plan_import(
            db=db,
            county=county,
            parsed=parsed,
            filename=filename,
            progress=progress,
            answers=answers,
        )


@asynccontextmanager
async def _one_import_at_a_time(database: Database) -> AsyncIterator[None]:
    """Hold the import lease from the plan to the last batch.

    Written in batches, two imports planned side by side would both create the people
    neither found; so a second import (the CLI beside the bot, two staff uploading) is
    refused until the first is done. Like the leader's lease, it is kept on the wall clock,
    the one clock processes share (the sandbox's clock jumps); a crashed import's lease
    lapses after IMPORT_LEASE_TTL.
    """
    holder = process_identity()
    async with database.session_scope() as db:
        taken = await leases.acquire(
            db=db,
            name=IMPORT_LEASE,
            holder=holder,
            now=datetime.now(UTC),
            ttl=IMPORT_LEASE_TTL,
        )
    if taken is None:
        raise ImportBusyError
    try:
        yield
    finally:
        async with database.session_scope() as db:
            await leases.release(db=db, name=IMPORT_LEASE, holder=holder, now=datetime.now(UTC))


# --- Planning ------------------------------------------------------------------------------


async def plan_import(
    *,
    db: AsyncSession,
    county: OrgUnit,
    parsed: ParsedRoster,
    filename: str,
    progress: Progress | None = None,
    answers: Mapping[str, str] | None = None,
) -> ImportPlan:
    """Work out every org and person change the file asks for, writing nothing.

    ``answers`` settle the names asked about (``plan.questions``): typed name -> the
    existing unit's name to use, or the typed name itself to create it as new.
    """
    assert county.id is not None
    units = await roster_import.org_units_under(db=db, path=county.path)
    planner = _OrgPlanner(county, units, await roster_import.org_codes(db=db), answers or {})
    plan = ImportPlan(
        filename=filename,
        county_id=county.id,
        rows_read=len({row.row_number for row in parsed.rows} | parsed.bad_row_numbers),
        problems=list(parsed.problems),
        ignored_columns=list(parsed.ignored_columns),
        dropped_sensitive_columns=list(parsed.dropped_sensitive_columns),
        org_names={unit.id: unit.name for unit in units if unit.id is not None},
    )
    placed: list[tuple[RosterRow, OrgSlot, OrgSlot | None]] = []
    # Rows naming their township first, so a row without one can find a branch created
    # by another row of the same file.
    ordered = sorted(parsed.good_rows, key=lambda row: row.township is None)
    for row in ordered:
        where = planner.place(row)
        if isinstance(where, RowProblem):
            plan.problems.append(where)
        else:
            placed.append((row, where[0], where[1]))
    placed.sort(key=lambda item: item[0].row_number)
    plan.questions = dict(planner.questions)
    matcher = _PersonMatcher(plan)
    for start in range(0, len(placed), PLAN_BATCH):
        batch = placed[start : start + PLAN_BATCH]
        await matcher.load(db, batch)
        for row, branch, party_group in batch:
            matcher.match(row, branch, party_group)
        if progress is not None:
            progress("check", start + len(batch), len(placed))
    plan.new_orgs = _needed(planner.new_orgs, plan)
    plan.problems.sort(key=lambda problem: problem.row_number)
    return plan


def org_key(name: str) -> str:
    """Comparable form of an org name: "东风镇党委" and "东风镇" are the same township."""
    for suffix in _ORG_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _stem(name: str) -> str:
    for suffix in _SIMILAR_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


#: Numerals tell units apart on purpose (东风一村 / 东风二村, 第一党小组 / 第二党小组).
_NUMERALS: Final = frozenset("0123456789一二三四五六七八九十百零〇")


def _one_edit_apart(a: str, b: str) -> bool:
    """One character changed, added or left out ("东风村" / "东峰村" / "东风新村"), unless
    that character is a numeral."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        pairs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        return len(pairs) == 1 and not (set(pairs[0]) & _NUMERALS)
    short, long = sorted((a, b), key=len)
    return any(
        long[:i] + long[i + 1 :] == short and long[i] not in _NUMERALS for i in range(len(long))
    )


def similar_name(name: str, candidates: Iterable[str]) -> str | None:
    """The existing name ``name`` most likely means, if it differs only by an ending or by
    one character; None if none is that close (or it matches one exactly)."""
    stem = _stem(name)
    close = sorted(
        {
            other
            for other in candidates
            if other != name
            and (_stem(other) == stem or (len(stem) >= 2 and _one_edit_apart(_stem(other), stem)))
        }
    )
    return close[0] if close else None


@dataclass(slots=True)
class _Children:
    """Org units (existing and planned) under one parent, by exact and by loose name."""

    exact: dict[str, list[OrgSlot]] = field(default_factory=dict)
    loose: dict[str, list[OrgSlot]] = field(default_factory=dict)

    def add(self, name: str, slot: OrgSlot) -> None:
        self.exact.setdefault(name, []).append(slot)
        self.loose.setdefault(org_key(name), []).append(slot)

    def matches(self, name: str) -> list[OrgSlot]:
        """Units with exactly this name, else units with the same loose name."""
        return self.exact.get(name) or self.loose.get(org_key(name), [])


class _OrgPlanner:
    """Finds each row's township, branch and party group, planning the missing ones."""

    def __init__(
        self,
        county: OrgUnit,
        units: Sequence[OrgUnit],
        codes: set[str],
        answers: Mapping[str, str],
    ) -> None:
        assert county.id is not None
        self.county_id = county.id
        self.answers = answers
        self.questions: dict[str, str] = {}
        self.units = {unit.id: unit for unit in units if unit.id is not None}
        self.codes = codes
        self.children: dict[OrgSlot, _Children] = {}
        self.branches = _Children()  # every branch of the county, for rows without township
        self.new_orgs: list[NewOrg] = []
        self._next_number: dict[str, int] = {}
        for unit in units:
            if unit.id is None or unit.parent_id is None:
                continue
            self.children.setdefault(unit.parent_id, _Children()).add(unit.name, unit.id)
            if unit.kind in _BRANCH_KINDS:
                self.branches.add(unit.name, unit.id)

    def place(self, row: RosterRow) -> tuple[OrgSlot, OrgSlot | None] | RowProblem:
        """The row's branch and party group, or why they cannot be found or made."""
        if row.township is not None:
            township = self._child_or_new(row, self.county_id, row.township, OrgKind.TOWNSHIP)
            if isinstance(township, RowProblem):
                return township
            branch = self._child_or_new(row, township, row.branch, OrgKind.VILLAGE_BRANCH)
        else:
            branch = self._branch_anywhere(row)
        if isinstance(branch, RowProblem):
            return branch
        if row.party_group is None:
            return branch, None
        group = self._child_or_new(row, branch, row.party_group, OrgKind.PARTY_GROUP)
        if isinstance(group, RowProblem):
            return group
        return branch, group

    def _child_or_new(
        self, row: RosterRow, parent: OrgSlot, name: str, kind: OrgKind
    ) -> OrgSlot | RowProblem:
        """The unit called `name` under `parent`, planned if there is none yet."""
        kinds = _BRANCH_KINDS if kind == OrgKind.VILLAGE_BRANCH else frozenset({kind})
        children = self.children.setdefault(parent, _Children())
        exact = children.exact.get(name)
        if exact:  # names are unique under a parent: this one must fit
            return self._usable(row, exact[0], kinds)
        loose = [
            slot for slot in children.loose.get(org_key(name), []) if self._kind(slot) in kinds
        ]
        if len(loose) == 1:
            return self._usable(row, loose[0], kinds)
        chosen = self.answers.get(name)
        if chosen is not None and chosen != name and children.exact.get(chosen):
            return self._usable(row, children.exact[chosen][0], kinds)
        if chosen is None:
            siblings = [n for n, slots in children.exact.items() if self._kind(slots[0]) in kinds]
            match = similar_name(name, siblings)
            if match is not None:
                return self._ask(row, kinds, name, match)
        return self._plan(parent, name, kind)

    def _ask(self, row: RosterRow, kinds: frozenset[OrgKind], name: str, match: str) -> RowProblem:
        """A new name close to an existing one: a question, not a new unit."""
        self.questions.setdefault(name, match)
        field_name = "township" if OrgKind.TOWNSHIP in kinds else "branch"
        return _problem(row, field_name, "similar_name", MSG_SIMILAR_NAME, name=name, match=match)

    def _branch_anywhere(self, row: RosterRow) -> OrgSlot | RowProblem:
        """A row without township: its branch must exist (or be planned) under one name."""
        chosen = self.answers.get(row.branch, row.branch)
        found = self.branches.matches(chosen)
        if not found and row.branch not in self.answers:
            match = similar_name(row.branch, self.branches.exact)
            if match is not None:
                return self._ask(row, _BRANCH_KINDS, row.branch, match)
        if not found:
            return _problem(row, "branch", "unknown_branch", MSG_BRANCH_UNKNOWN, branch=row.branch)
        if len(found) > 1:
            return _problem(
                row, "branch", "ambiguous_branch", MSG_BRANCH_AMBIGUOUS, branch=row.branch
            )
        return self._usable(row, found[0], _BRANCH_KINDS)

    def _usable(
        self, row: RosterRow, slot: OrgSlot, kinds: frozenset[OrgKind]
    ) -> OrgSlot | RowProblem:
        """The unit if it is of the right kind and open."""
        if isinstance(slot, NewOrg):
            return slot
        unit = self.units[slot]
        field_name = "township" if OrgKind.TOWNSHIP in kinds else "branch"
        if unit.kind not in kinds:
            return _problem(row, field_name, "wrong_kind", MSG_WRONG_KIND, name=unit.name)
        if not unit.active:
            return _problem(row, field_name, "closed", MSG_ORG_CLOSED, name=unit.name)
        return slot

    def _plan(self, parent: OrgSlot, name: str, kind: OrgKind) -> NewOrg:
        """A new unit with the next free code: T01, T01-V01, T01-V01-G01..."""
        if kind == OrgKind.TOWNSHIP:
            prefix = "T"
        else:
            letter = "V" if kind == OrgKind.VILLAGE_BRANCH else "G"
            prefix = f"{self._code(parent)[: _CODE_MAX - 6]}-{letter}"
        new = NewOrg(code=self._free_code(prefix), name=name, kind=kind, parent=parent)
        self.new_orgs.append(new)
        self.children.setdefault(parent, _Children()).add(name, new)
        if kind == OrgKind.VILLAGE_BRANCH:
            self.branches.add(name, new)
        return new

    def _free_code(self, prefix: str) -> str:
        number = self._next_number.get(prefix, 1)
        while f"{prefix}{number:02d}" in self.codes:
            number += 1
        code = f"{prefix}{number:02d}"
        self.codes.add(code)
        self._next_number[prefix] = number + 1
        return code

    def _code(self, slot: OrgSlot) -> str:
        return slot.code if isinstance(slot, NewOrg) else self.units[slot].code

    def _kind(self, slot: OrgSlot) -> OrgKind:
        return slot.kind if isinstance(slot, NewOrg) else self.units[slot].kind


def _problem(
    row: RosterRow, field_name: str, code: str, message_id: str, **params: str
) -> RowProblem:
    return RowProblem(row.row_number, field_name, code, message_id, params)


def display_phone(phone: str | None) -> str:
    """A phone as people write it: "+8613800138000" becomes "13800138000"."""
    return (phone or "").removeprefix("+86")


class _PersonMatcher:
    """Matches rows to roster people loaded a batch at a time, and records the outcome."""

    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        self.by_phone: dict[str, list[Member]] = {}
        self.by_name: dict[tuple[int, str], list[Member]] = {}
        self.loaded_branches: set[int] = set()
        self.claimed: dict[int, int] = {}  # member id -> row that matched it
        self.new_people: dict[tuple[OrgSlot, str], int] = {}  # (branch, name) -> row

    async def load(
        self, db: AsyncSession, batch: Sequence[tuple[RosterRow, OrgSlot, OrgSlot | None]]
    ) -> None:
        """Two queries: people with the batch's phones, and people of its new branches."""
        phones = sorted({row.phone for row, _, _ in batch if row.phone} - set(self.by_phone))
        for phone in phones:
            self.by_phone[phone] = []
        for member in await members.members_with_phones(db=db, phones=phones):
            if member.phone is not None:
                self.by_phone[member.phone].append(member)
        branches = sorted(
            {branch for _, branch, _ in batch if isinstance(branch, int)} - self.loaded_branches
        )
        self.loaded_branches.update(branches)
        if branches:
            for member in await members.list_members(db=db, org_ids=branches):
                self.by_name.setdefault((member.org_id, member.name), []).append(member)

    def match(self, row: RosterRow, branch: OrgSlot, party_group: OrgSlot | None) -> None:
        """Plan a create or an update for the row, or record why it cannot be done."""
        found = self._find(row, branch)
        if isinstance(found, RowProblem):
            self.plan.problems.append(found)
        elif found is None:
            earlier = self.new_people.setdefault((branch, row.name), row.row_number)
            if earlier != row.row_number:
                self.plan.problems.append(
                    _problem(row, "name", "same_person", MSG_SAME_PERSON, earlier=str(earlier))
                )
            else:
                self.plan.creates.append(NewPerson(row, branch, party_group))
        else:
            update = _diff(self.plan, row, found, branch, party_group)
            if update is None:
                self.plan.unchanged += 1
            else:
                self.plan.updates.append(update)

    def _find(self, row: RosterRow, branch: OrgSlot) -> Member | RowProblem | None:
        """By phone anywhere in the county, else by name within the branch."""
        same_name = self.by_name.get((branch, row.name), []) if isinstance(branch, int) else []
        member: Member | RowProblem | None
        if row.phone is not None and self.by_phone.get(row.phone):
            member = self._by_phone(row, branch, self.by_phone[row.phone], same_name)
        elif len(same_name) > 1:
            member = _problem(
                row,
                "name",
                "ambiguous_name",
                MSG_NAME_AMBIGUOUS,
                value=row.name,
                branch=self.plan.name_of(branch),
            )
        else:
            member = same_name[0] if same_name else None
        if isinstance(member, Member):
            assert member.id is not None
            earlier = self.claimed.setdefault(member.id, row.row_number)
            if earlier != row.row_number:
                return _problem(row, "name", "same_person", MSG_SAME_PERSON, earlier=str(earlier))
        return member

    def _by_phone(
        self, row: RosterRow, branch: OrgSlot, holders: list[Member], same_name: list[Member]
    ) -> Member | RowProblem:
        """The holder of the row's phone, if the row can be that person.

        Another name in another branch is someone else: a conflict. Another name in the
        same branch is a corrected name, unless that name is already someone else's there.
        """
        assert row.phone is not None
        if len(holders) > 1:
            named = [member for member in holders if member.name == row.name]
            if len(named) != 1:
                return _problem(
                    row, "phone", "shared_phone", MSG_PHONE_SHARED, value=display_phone(row.phone)
                )
            holders = named
        member = holders[0]
        if member.name == row.name:
            return member
        if member.org_id == branch and not same_name:
            return member
        return _problem(
            row,
            "phone",
            "phone_taken",
            MSG_PHONE_TAKEN,
            value=display_phone(row.phone),
            other=member.name,
            branch=self.plan.name_of(member.org_id),
        )


def _diff(
    plan: ImportPlan,
    row: RosterRow,
    member: Member,
    branch: OrgSlot,
    party_group: OrgSlot | None,
) -> PersonUpdate | None:
    """What the row changes about a member; None if nothing."""
    assert member.id is not None
    changes: list[FieldChange] = []
    columns: dict[str, Any] = {}

    def change(name: str, old: object, new: object, column: str | None = None) -> None:
        changes.append(FieldChange(name, _shown(name, old), _shown(name, new)))
        if column is not None:
            columns[column] = new

    if row.name != member.name:
        change("name", member.name, row.name, "name")
    if row.gender != Gender.UNKNOWN and row.gender != member.gender:
        change("gender", member.gender, row.gender, "gender")
    if row.phone is not None and row.phone != member.phone:
        change("phone", member.phone, row.phone, "phone")
    if row.status != member.status:
        change("status", member.status, row.status, "status")
    if row.joined_on is not None and row.joined_on != member.joined_on:
        change("joined_on", member.joined_on, row.joined_on, "joined_on")
    transfer = branch != member.org_id
    if transfer:
        change("branch", plan.name_of(member.org_id), plan.name_of(branch))
    if party_group is not None:
        sets_group = party_group != member.party_group_id
    else:  # a blank cell keeps the group, unless the person leaves the branch it is in
        sets_group = transfer and member.party_group_id is not None
    if sets_group:
        change("party_group", plan.name_of(member.party_group_id), plan.name_of(party_group))
    if not changes:
        return None
    return PersonUpdate(
        row=row,
        member_id=member.id,
        changes=tuple(changes),
        columns=columns,
        branch=branch if transfer else None,
        party_group=party_group,
        sets_party_group=sets_group,
        old_status=MemberStatus(member.status),
    )


def _shown(field_name: str, value: object) -> str:
    """A stored value as text for a report ("" for empty)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if field_name == "phone":
        return display_phone(str(value))
    return str(value)


def _needed(new_orgs: Sequence[NewOrg], plan: ImportPlan) -> list[NewOrg]:
    """The planned units some create or update uses (and their planned parents)."""
    used: set[NewOrg] = set()

    def use(slot: OrgSlot | None) -> None:
        while isinstance(slot, NewOrg) and slot not in used:
            used.add(slot)
            slot = slot.parent

    for person in plan.creates:
        use(person.branch)
        use(person.party_group)
    for update in plan.updates:
        use(update.branch)
        use(update.party_group if update.sets_party_group else None)
    return [org for org in new_orgs if org in used]


# --- Applying ------------------------------------------------------------------------------


async def apply_plan(
    *,
    database: Database,
    plan: ImportPlan,
    today: date,
    now: datetime,
    actor: int | None,
    via: str,
    progress: Progress | None = None,
    batch_size: int = WRITE_BATCH,
    settings: Settings | None = None,
) -> int:
    """Write the plan's good rows in transactions of at most ``batch_size`` rows each.

    Org units go first (parents before children), then new people, then changed people
    with their status changes, so a batch only refers to units of its own or an earlier
    batch. The audit row goes with the first batch: every write of an import is
    accounted for even if a later batch never comes. With ``settings``, the last batch
    brings coming sessions in step with the roster (`follow_the_roster`). Returns the
    number of transactions.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    ids: dict[NewOrg, int] = {}
    work: list[NewOrg | NewPerson | PersonUpdate] = [*plan.new_orgs, *plan.creates, *plan.updates]
    people = len(plan.creates) + len(plan.updates)
    written = 0
    starts = range(0, len(work), batch_size) if work else range(1)
    for number, start in enumerate(starts):
        batch = work[start : start + batch_size]
        async with database.session_scope() as db:
            await _write_batch(db=db, batch=batch, ids=ids, today=today, now=now, actor=actor)
            if number == 0:
                await _audit(db=db, plan=plan, now=now, actor=actor, via=via)
            if settings is not None and number == len(starts) - 1:
                await follow_the_roster(db=db, settings=settings, now=now)
        written += sum(not isinstance(item, NewOrg) for item in batch)
        if progress is not None:
            progress("write", written, people)
    return len(starts)


async def _write_batch(
    *,
    db: AsyncSession,
    batch: Sequence[NewOrg | NewPerson | PersonUpdate],
    ids: dict[NewOrg, int],
    today: date,
    now: datetime,
    actor: int | None,
) -> None:
    """One batch of the plan, in the caller's transaction; new units' ids go into ``ids``."""

    def resolve(slot: OrgSlot | None) -> int | None:
        return ids[slot] if isinstance(slot, NewOrg) else slot

    for new in batch:
        if isinstance(new, NewOrg):
            unit = await orgs.create_org(
                db=db,
                code=new.code,
                name=new.name,
                kind=new.kind,
                parent_id=resolve(new.parent),
            )
            assert unit.id is not None
            ids[new] = unit.id
    await roster_import.insert_members(
        db=db,
        rows=[
            {
                "name": person.row.name,
                "gender": person.row.gender,
                "phone": person.row.phone,
                "status": person.row.status,
                "joined_on": person.row.joined_on,
                "org_id": resolve(person.branch),
                "party_group_id": resolve(person.party_group),
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for person in batch
            if isinstance(person, NewPerson)
        ],
    )
    updates = [update for update in batch if isinstance(update, PersonUpdate)]
    # Someone moved to another branch stops leading the old one, as on a transfer from
    # the member card: the roles bound inside it end before the move.
    await end_roles_on_leaving(
        db=db,
        actor=actor,
        member_ids=[update.member_id for update in updates if update.branch is not None],
        now=now,
    )
    rows: list[dict[str, Any]] = []
    for update in updates:
        values = {"id": update.member_id, **update.columns, "updated_at": now}
        if update.branch is not None:
            values["org_id"] = resolve(update.branch)
        if update.sets_party_group:
            values["party_group_id"] = resolve(update.party_group)
        rows.append(values)
    await roster_import.update_members(db=db, rows=rows)
    await roster_import.record_status_changes(
        db=db,
        rows=[
            {
                "member_id": update.member_id,
                "from_status": update.old_status,
                "to_status": update.row.status,
                "changed_on": today,
                "recorded_by": actor,
                "created_at": now,
            }
            for update in updates
            if "status" in update.columns
        ],
    )


async def _audit(
    *, db: AsyncSession, plan: ImportPlan, now: datetime, actor: int | None, via: str
) -> None:
    """The import's one audit row: what the plan writes."""
    await audit.record(
        db=db,
        actor=actor,
        action=AUDIT_ACTION,
        target_kind="org_unit",
        target_id=plan.county_id,
        org_id=plan.county_id,
        detail={
            "file": plan.filename,
            "via": via,
            "created": len(plan.creates),
            "updated": len(plan.updates),
            "unchanged": plan.unchanged,
            "skipped_rows": len(plan.bad_rows),
            "orgs_created": len(plan.new_orgs),
        },
        at=now,
    )
