"""The rules of an import: which org a row lands in, who it matches, what conflicts, that
a failure half-way through a batch writes nothing of it, and that a large import commits in
bounded batches and is resumed by importing the same file again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot import roster_import
from bot.roster_import import ImportOutcome, Verdict, import_roster
from bot.roster_report import report_lines
from storage import Database, leases, orgs
from storage import audit as audit_store
from storage import roster_import as roster_store
from storage.models import Member, MemberStatus, OrgKind, Role
from tests.support.audit import audit_log
from tests.support.builders import Tree, add_member, build_tree, grant
from tests.support.roles import grants_of
from tests.support.roster_import import (
    all_members,
    all_orgs,
    counts,
    csv_bytes,
    status_changes,
)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
HEADER = ["姓名", "所属乡镇", "所在党支部", "人员类别", "手机号码", "党小组"]


@pytest.fixture
async def tree(database: Database) -> Tree:
    return await build_tree(database)


async def run(
    database: Database,
    *rows: list[str],
    dry_run: bool = False,
    skip_bad: bool = False,
    answers: dict[str, str] | None = None,
    batch_size: int = roster_import.WRITE_BATCH,
) -> ImportOutcome:
    return await import_roster(
        database=database,
        data=csv_bytes([HEADER, *rows]),
        filename="r.csv",
        today=TODAY,
        now=NOW,
        actor=42,
        via="test",
        dry_run=dry_run,
        skip_bad=skip_bad,
        answers=answers,
        batch_size=batch_size,
    )


def problems(outcome: ImportOutcome) -> list[str]:
    return [problem.render(lambda text: text) for problem in outcome.plan.problems]


async def test_new_codes_follow_the_existing_ones_and_loose_names_match(
    database: Database, tree: Tree
) -> None:
    rows = (
        ["甲", "城关镇", "东关村党支部", "正式党员", "", ""],
        ["乙", "东风镇", "新风村党支部", "正式党员", "", ""],  # 东风镇党委 (T01)
        ["丙", "东风镇党委", "东风村", "正式党员", "", "第一党小组"],  # 东风村党支部
        ["丁", "", "柳树村", "正式党员", "", ""],  # no township: 柳树村党支部
    )
    asked = await run(database, *rows, dry_run=True)  # one character from 东风村党支部
    assert asked.plan.questions == {"新风村党支部": "东风村党支部"}
    assert problems(asked) == [
        "row 3: there is no 新风村党支部 yet, but there is 东风村党支部; is it the same? "
        "Choose below, or correct the file"
    ]
    outcome = await run(database, *rows, answers={"新风村党支部": "新风村党支部"})
    assert outcome.verdict == Verdict.IMPORTED
    assert [(org.code, org.name) for org in outcome.plan.new_orgs] == [
        ("T03", "城关镇"),
        ("T03-V01", "东关村党支部"),
        ("T01-V03", "新风村党支部"),
        ("T01-V01-G01", "第一党小组"),
    ]
    created = await all_orgs(database)
    assert created["T01-V03"].parent_id == tree.townships["T01"].id
    assert created["T01-V01-G01"].kind == OrgKind.PARTY_GROUP
    people = await all_members(database)
    assert people["丙"].org_id == tree.dongfeng.id
    assert people["丁"].org_id == tree.liushu.id


async def test_orgs_that_cannot_take_the_row(database: Database, tree: Tree) -> None:
    async with database.session_scope() as db:
        for township in (tree.townships["T01"], tree.townships["T02"]):
            await orgs.create_org(
                db=db,
                code=f"{township.code}-V09",
                name="新村党支部",
                kind=OrgKind.VILLAGE_BRANCH,
                parent_id=township.id,
            )
        await orgs.create_org(
            db=db,
            code="D01",
            name="组织部",
            kind=OrgKind.COUNTY_DEPARTMENT,
            parent_id=tree.county.id,
        )
        closed = await orgs.get_org(db=db, org_id=tree.qianjin.id or 0)
        assert closed is not None
        closed.active = False
        db.add(closed)
    before = await counts(database)
    outcome = await run(
        database,
        ["甲", "", "新村党支部", "正式党员", "", ""],
        ["乙", "组织部", "某村党支部", "正式党员", "", ""],
        ["丙", "前进乡党委", "前进村党支部", "正式党员", "", ""],
        ["丁", "", "北山村党支部", "正式党员", "", ""],
    )
    assert outcome.verdict == Verdict.REFUSED
    assert problems(outcome) == [
        "row 2: several branches are called 新村党支部; fill in the township to say which",
        "row 3: the name 组织部 is already used by another kind of unit",
        "row 4: 前进村党支部 is marked as closed",
        "row 5: there is no branch called 北山村党支部; fill in the township so it can be created",
    ]
    assert await counts(database) == before


async def test_people_conflicts_are_reported_by_row(database: Database, tree: Tree) -> None:
    await add_member(database, tree.dongfeng, "张三", phone="+8613800138000")
    await add_member(database, tree.dongfeng, "李四", phone="+8613900139000")
    await add_member(database, tree.liushu, "王五")
    await add_member(database, tree.liushu, "王五")  # two of them, no phones
    await add_member(database, tree.qianjin, "赵六", phone="+8613700137000")
    await add_member(database, tree.qianjin, "孙七", phone="+8613700137000")  # shared phone
    outcome = await run(
        database,
        # row 2: 李四's phone, but the name is 张三's, who is also in the branch
        ["张三", "东风镇党委", "东风村党支部", "正式党员", "13900139000", ""],
        ["王五", "东风镇党委", "柳树村党支部", "正式党员", "", ""],  # row 3: which 王五?
        ["周八", "前进乡党委", "前进村党支部", "正式党员", "13700137000", ""],  # row 4
        ["吴十", "东风镇党委", "柳树村党支部", "正式党员", "", ""],  # row 5: new
        ["吴十", "", "柳树村党支部", "预备党员", "", ""],  # row 6: the same new person
    )
    assert problems(outcome) == [
        "row 2: the phone number 13900139000 already belongs to 李四 of 东风村党支部",
        "row 3: several members of 柳树村党支部 are called 王五; add a phone number to say which",
        "row 4: the phone number 13700137000 belongs to several members already",
        "row 6: this is the same person as in row 5",
    ]
    assert [person.row.name for person in outcome.plan.creates] == ["吴十"]


async def test_one_member_is_matched_by_one_row_only(database: Database, tree: Tree) -> None:
    await add_member(database, tree.dongfeng, "张三", phone="+8613800138000")
    outcome = await run(
        database,
        ["张山", "东风镇党委", "东风村党支部", "正式党员", "13800138000", ""],  # renames 张三
        ["张三", "东风镇党委", "东风村党支部", "正式党员", "", ""],  # ... who is taken
    )
    assert problems(outcome) == ["row 3: this is the same person as in row 2"]


async def test_inactive_members_are_not_matched(database: Database, tree: Tree) -> None:
    gone = await add_member(database, tree.dongfeng, "张三", phone="+8613800138000")
    async with database.session_scope() as db:
        member = await db.get(Member, gone.id)
        assert member is not None
        member.active = False
        db.add(member)
    outcome = await run(
        database, ["张三", "东风镇党委", "东风村党支部", "正式党员", "13800138000", ""]
    )
    assert (len(outcome.plan.creates), len(outcome.plan.updates)) == (1, 0)


async def test_blank_cells_keep_what_is_known_and_groups_follow_the_branch(
    database: Database, tree: Tree
) -> None:
    await run(database, ["张三", "东风镇党委", "东风村党支部", "预备党员", "13800138000", "一组"])
    # a blank group keeps the group; a status change is recorded with today's date
    outcome = await run(database, ["张三", "东风镇党委", "东风村党支部", "正式党员", "", ""])
    assert report_lines(outcome, "en")[:3] == [
        "Imported r.csv: 0 created, 1 updated, 0 unchanged.",
        "Updated (1):",
        "row 2: 张三: Member category: probationary member → full member",
    ]
    (zhang,) = (await all_members(database)).values()
    group = (await all_orgs(database))["T01-V01-G01"]
    assert (zhang.phone, zhang.party_group_id) == ("+8613800138000", group.id)
    (change,) = await status_changes(database)
    assert (change.from_status, change.to_status, change.changed_on, change.recorded_by) == (
        MemberStatus.PROBATIONARY,
        MemberStatus.FULL,
        TODAY,
        42,
    )
    # a new group in the same branch is a change too
    outcome = await run(database, ["张三", "东风镇党委", "东风村党支部", "正式党员", "", "二组"])
    assert report_lines(outcome, "zh")[3] == "第 2 行：张三：党小组由 一组 改为 二组"


async def test_a_failure_half_way_writes_nothing(
    database: Database, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_member(database, tree.dongfeng, "张三", phone="+8613800138000")
    before = await counts(database)

    async def broken(**_: Any) -> None:
        raise RuntimeError("disk full")

    # the audit row is the last write: orgs, new people, updates and status changes are
    # already sent when it fails, and all of them must roll back
    monkeypatch.setattr(audit_store, "record", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        await run(
            database,
            ["张三", "东风镇党委", "东风村党支部", "预备党员", "13800138000", ""],
            ["李四", "城关镇", "东关村党支部", "正式党员", "", "一组"],
        )
    assert await counts(database) == before
    (zhang,) = (await all_members(database)).values()
    assert zhang.status == MemberStatus.FULL


async def test_dry_run_writes_nothing(database: Database, tree: Tree) -> None:
    before = await counts(database)
    outcome = await run(
        database, ["李四", "城关镇", "东关村党支部", "正式党员", "", "一组"], dry_run=True
    )
    assert outcome.verdict == Verdict.PREVIEW
    assert len(outcome.plan.new_orgs) == 3
    assert await counts(database) == before


@contextmanager
def selects(database: Database) -> Iterator[list[str]]:
    """The SELECT statements sent inside the block."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):
            sent.append(str(args[2]))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("rows", [600, 1800])
async def test_matching_loads_people_per_batch_not_per_row(
    database: Database, tree: Tree, rows: int
) -> None:
    people = [
        ["某" + str(n), "东风镇党委", ["东风村党支部", "柳树村党支部"][n % 2], "正式党员",
         f"1390000{n:04d}", ""]
        for n in range(rows)
    ]  # fmt: skip
    await run(database, *people)
    with selects(database) as sent:
        outcome = await run(database, *people)
    assert outcome.plan.unchanged == rows
    batches = -(-rows // roster_import.PLAN_BATCH)
    # county, org tree, org codes, then per batch: phones, and (first batch) branches
    assert len(sent) == 3 + batches + 1


@contextmanager
def transactions(database: Database) -> Iterator[list[list[str]]]:
    """Per committed transaction that wrote something: one entry per row it wrote, as
    "<verb> <table>" ("INSERT member", "UPDATE member", ...)."""
    committed: list[list[str]] = []
    current: list[str] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        words = statement.split()
        verb = words[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"}:
            table = (words[2] if verb in {"INSERT", "DELETE"} else words[1]).strip('"')
            current.extend([f"{verb} {table}"] * (len(parameters) if many else 1))

    def commit(_conn: Any) -> None:
        if current:
            committed.append(list(current))
            current.clear()

    def rollback(_conn: Any) -> None:
        current.clear()

    engine = database.engine.sync_engine
    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", record),
        ("commit", commit),
        ("rollback", rollback),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield committed
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


def people(count: int, *, first: int = 0) -> list[list[str]]:
    """New people for 东风村 (no township needed: the branch exists), one phone each."""
    return [
        [f"新{n:02d}", "东风镇党委", "东风村党支部", "正式党员", f"1370000{n:04d}", ""]
        for n in range(first, first + count)
    ]


async def test_a_large_import_commits_in_bounded_batches(database: Database, tree: Tree) -> None:
    for n in range(5):
        await add_member(
            database, tree.liushu, f"老{n}", phone=f"+8613600000{n:03d}",
            status=MemberStatus.PROBATIONARY,
        )  # fmt: skip
    changed = [  # five promoted to full members: an update and a status change each
        [f"老{n}", "东风镇党委", "柳树村党支部", "正式党员", f"13600000{n:03d}", ""]
        for n in range(5)
    ]
    with transactions(database) as everything:
        outcome = await run(database, *people(27), *changed, batch_size=10)
    # the import lease is taken before the plan and let go after the last batch
    assert everything[0] == ["INSERT leader_lease"]
    assert everything[-1] == ["UPDATE leader_lease"]
    committed = everything[1:-1]
    assert outcome.verdict == Verdict.IMPORTED
    assert (len(outcome.plan.creates), len(outcome.plan.updates)) == (27, 5)
    member_rows = [sum(1 for write in writes if write.endswith(" member")) for writes in committed]
    # 32 people in batches of at most 10; the audit row goes with the first batch, the
    # status changes with the updates they belong to
    assert member_rows == [10, 10, 10, 2]
    assert committed[0].count("INSERT audit_log") == 1
    assert [writes.count("INSERT audit_log") for writes in committed[1:]] == [0, 0, 0]
    assert committed[3].count("UPDATE member") == 2
    assert committed[2].count("UPDATE member") == 3
    assert committed[2].count("INSERT member_status_change") == 3
    assert committed[3].count("INSERT member_status_change") == 2
    assert (await counts(database)).members == 5 + 27

    with transactions(database) as committed:  # the default batch: one transaction
        again = await run(database, *people(27), *changed)
    assert again.plan.unchanged == 32
    assert committed == [["INSERT leader_lease"], ["INSERT audit_log"], ["UPDATE leader_lease"]]


async def test_an_import_stopped_between_batches_is_resumed_by_importing_again(
    database: Database, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        await add_member(
            database, tree.liushu, f"老{n}", phone=f"+8613600000{n:03d}",
            status=MemberStatus.PROBATIONARY,
        )  # fmt: skip
    rows = [
        *people(25),
        *([f"老{n}", "东风镇党委", "柳树村党支部", "正式党员", f"13600000{n:03d}", ""]
          for n in range(5)),
    ]  # fmt: skip
    before = await counts(database)
    real = roster_store.record_status_changes
    calls = 0

    async def full_disk(**kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # the third batch: its 5 new people and 5 updates are already sent
            raise RuntimeError("disk full")
        await real(**kwargs)

    monkeypatch.setattr(roster_store, "record_status_changes", full_disk)
    with pytest.raises(RuntimeError, match="disk full"):
        await run(database, *rows, batch_size=10)
    monkeypatch.undo()
    stopped = await counts(database)
    # the first two batches are in, whole; nothing of the third
    assert stopped.members == before.members + 20
    assert stopped.status_changes == 0
    assert stopped.audits == before.audits + 1
    stored = await all_members(database)
    assert [name for name in stored if name.startswith("新")] == [f"新{n:02d}" for n in range(20)]
    assert [stored[f"老{n}"].status for n in range(5)] == [MemberStatus.PROBATIONARY] * 5
    assert stored["新07"].phone == "+8613700000007"
    assert stored["新07"].org_id == tree.dongfeng.id

    resumed = await run(database, *rows, batch_size=10)
    assert (len(resumed.plan.creates), len(resumed.plan.updates)) == (5, 5)
    assert resumed.plan.unchanged == 20
    stored = await all_members(database)
    assert len(stored) == 30
    assert [stored[f"老{n}"].status for n in range(5)] == [MemberStatus.FULL] * 5
    assert len(await status_changes(database)) == 5

    settled = await run(database, *rows, batch_size=10)
    assert (len(settled.plan.creates), len(settled.plan.updates)) == (0, 0)
    assert settled.plan.unchanged == 30


async def test_one_import_writes_at_a_time(database: Database, tree: Tree) -> None:
    before = await counts(database)
    now = datetime.now(UTC)  # the lease is on the wall clock, which processes share
    async with database.session_scope() as db:  # another process is importing
        assert await leases.acquire(
            db=db,
            name=roster_import.IMPORT_LEASE,
            holder="other",
            now=now,
            ttl=timedelta(minutes=5),
        )
    with pytest.raises(roster_import.ImportBusyError) as busy:
        await run(database, *people(3))
    assert busy.value.render(lambda text: text) == (
        "Another roster import is being written right now. Please try again when it has finished."
    )
    assert await counts(database) == before
    preview = await run(database, *people(3), dry_run=True)  # a dry run writes nothing
    assert len(preview.plan.creates) == 3

    async with database.session_scope() as db:
        assert await leases.release(
            db=db, name=roster_import.IMPORT_LEASE, holder="other", now=now
        )
    imported = await run(database, *people(3))
    assert len(imported.plan.creates) == 3
    async with database.session_scope() as db:  # and the import let the lease go
        assert await leases.acquire(
            db=db,
            name=roster_import.IMPORT_LEASE,
            holder="other",
            now=datetime.now(UTC),
            ttl=timedelta(minutes=5),
        )


async def test_a_secretary_moved_by_an_import_loses_the_role_on_the_old_branch(
    database: Database, tree: Tree
) -> None:
    """A transfer by spreadsheet ends the branch roles like a transfer from the card
    (bot.members.transfer): nobody leads a branch they are no longer on."""
    await add_member(
        database, tree.dongfeng, "刘书记", phone="+8613800138000", telegram_user_id=777
    )
    await grant(database, 777, Role.SECRETARY, tree.dongfeng)
    await grant(database, 777, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    outcome = await run(
        database, ["刘书记", "东风镇党委", "柳树村党支部", "正式党员", "13800138000", ""]
    )
    assert outcome.verdict == Verdict.IMPORTED
    (moved,) = (await all_members(database)).values()
    assert moved.org_id == tree.liushu.id
    # the township role was not bound inside the old branch: it stays
    assert await grants_of(database, 777) == {("township_organiser", tree.townships["T01"].id)}
    (revoked,) = await audit_log(database, "role.revoke")
    assert (revoked.target_id, revoked.org_id, revoked.actor_telegram_id) == (
        777,
        tree.dongfeng.id,
        42,
    )
    assert revoked.detail["role"] == "secretary"
