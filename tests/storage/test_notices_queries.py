"""Notice aggregates on both databases: audiences, exact ack rates, reminders, birthdays."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from storage import Database, accounts, members, notices, orgs, roles
from storage.deliveries import Outcome, Outgoing, claim_due, enqueue_many, record_outcomes
from storage.models import DeliveryKind, DeliveryState, MemberStatus, Notice, Role
from tests.support.storage import build_tree

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def database(each_db: Database) -> Database:
    """Each test of this module runs on both databases (tests/storage/conftest.py)."""
    return each_db


async def _person(
    target: Database,
    org_id: int,
    name: str,
    *,
    user_id: int | None = None,
    blocked: bool = False,
    status: MemberStatus = MemberStatus.FULL,
    active: bool = True,
    joined_on: date | None = None,
) -> int:
    async with target.session_scope() as db:
        if user_id is not None:
            await accounts.ensure_account(db=db, telegram_user_id=user_id, first_name=name)
            if blocked:
                await accounts.mark_blocked(db=db, telegram_user_id=user_id, at=NOW)
        member = await members.create_member(
            db=db,
            name=name,
            org_id=org_id,
            status=status,
            telegram_user_id=user_id,
            joined_on=joined_on,
        )
        member.active = active
        db.add(member)
        await db.flush()
        assert member.id is not None
        return member.id


async def _paths(target: Database, *org_ids: int) -> list[str]:
    async with target.session_scope() as db:
        found = [await orgs.get_org(db=db, org_id=org_id) for org_id in org_ids]
        return [org.path for org in found if org is not None]


async def test_audiences_by_unit_status_and_role(database: Database) -> None:
    ids = await build_tree(database)
    m1 = await _person(database, ids["v1"], "甲", user_id=11)
    await _person(database, ids["v1"], "乙", user_id=12, blocked=True)
    await _person(database, ids["v1"], "丙")
    await _person(database, ids["v1"], "丁", user_id=14, active=False)
    m5 = await _person(database, ids["v2"], "戊", user_id=15, status=MemberStatus.PROBATIONARY)
    await _person(database, ids["v3"], "己", user_id=16)
    async with database.session_scope() as db:
        for user_id, org in ((11, "v1"), (21, "v3"), (22, "v1"), (22, "v2")):
            await accounts.ensure_account(db=db, telegram_user_id=user_id)
            await roles.grant_role(
                db=db,
                telegram_user_id=user_id,
                role=Role.SECRETARY,
                org_id=ids[org],
                granted_by=None,
            )
    v1, t1, county = (
        await _paths(database, ids["v1"]),
        await _paths(database, ids["t1"]),
        await _paths(database, ids["county"]),
    )
    async with database.session_scope() as db:
        assert await notices.audience_counts(db=db, paths=v1) == (1, 1, 1)
        unreachable = await notices.unreachable_in_audience(db=db, paths=v1)
        assert sorted(unreachable) == sorted(["乙", "丙"])
        found = await notices.recipients(db=db, paths=t1)
        assert [(r.chat_id, r.member_id) for r in found] == [(11, m1), (15, m5)]
        probationary = await notices.recipients(
            db=db, paths=county, status=MemberStatus.PROBATIONARY
        )
        assert [r.chat_id for r in probationary] == [15]
        secretaries = await notices.recipients(db=db, paths=county, role=Role.SECRETARY)
        assert [(r.chat_id, r.member_id) for r in secretaries] == [
            (11, m1),
            (21, None),
            (22, None),
        ]
        in_v2 = await notices.recipients(
            db=db, paths=await _paths(database, ids["v2"]), role=Role.SECRETARY
        )
        assert [r.chat_id for r in in_v2] == [22]
        both = await notices.recipients(db=db, paths=v1 + await _paths(database, ids["v3"]))
        assert [r.chat_id for r in both] == [11, 16]
        # No subtree is nobody, not everybody (an OR of nothing must not drop the filter).
        assert await notices.recipients(db=db, paths=[]) == []
        assert await notices.recipients(db=db, paths=[], role=Role.SECRETARY) == []
        assert await notices.audience_counts(db=db, paths=[]) == (0, 0, 0)


async def test_ack_rates_are_exact(database: Database) -> None:
    ids = await build_tree(database)
    pick = random.Random(5)
    branches = [ids["v1"], ids["v2"], ids["v3"]]
    people = [
        (await _person(database, branches[n % 3], f"p{n:03d}", user_id=1000 + n), 1000 + n)
        for n in range(120)
    ]
    async with database.session_scope() as db:
        notice = await notices.create_notice(
            db=db,
            org_id=ids["county"],
            sender_telegram_id=1,
            text="<b>通知</b>",
            parse_mode="HTML",
            attachment_kind=None,
            attachment_file_id=None,
            audience={},
            requires_ack=True,
            ack_reminder_after_minutes=60,
            progress_chat_id=None,
            progress_message_id=None,
            now=NOW,
        )
        assert notice.id is not None
        notice_id = notice.id
        await enqueue_many(
            db=db,
            kind=DeliveryKind.NOTICE,
            items=[Outgoing(chat, {"text": "x"}, f"n:{chat}", member) for member, chat in people],
            due_at=NOW,
            notice_id=notice_id,
        )
        claimed = await claim_due(db=db, worker="w", now=NOW, limit=200)
    fates = [pick.choice("SSSSSSPFDB") for _ in claimed]
    outcomes = []
    for row, fate in zip(claimed, fates, strict=True):
        if fate == "S":
            outcomes.append(Outcome(row.id, DeliveryState.SENT, 1, NOW, telegram_message_id=1))
        elif fate == "F":
            outcomes.append(Outcome(row.id, DeliveryState.FAILED, 1, NOW, error="5xx"))
        elif fate == "D":
            outcomes.append(Outcome(row.id, DeliveryState.DEAD, 1, NOW, error="BadRequest"))
        elif fate == "B":
            outcomes.append(Outcome(row.id, DeliveryState.DEAD, 1, NOW, error="blocked: 403"))
    sent_chats = [row.chat_id for row, fate in zip(claimed, fates, strict=True) if fate == "S"]
    ackers = set(pick.sample(sent_chats, 37))
    async with database.session_scope() as db:
        await record_outcomes(db=db, worker="w", outcomes=outcomes, now=NOW)
        for chat in sorted(ackers):
            result = await notices.acknowledge(db=db, notice_id=notice_id, chat_id=chat, now=NOW)
            assert result == notices.AckResult.ACKNOWLEDGED
        again = await notices.acknowledge(db=db, notice_id=notice_id, chat_id=min(ackers), now=NOW)
        assert again == notices.AckResult.ALREADY
        unknown = await notices.acknowledge(db=db, notice_id=notice_id, chat_id=7, now=NOW)
        assert unknown == notices.AckResult.UNKNOWN
        counts = (await notices.delivery_counts(db=db, notice_ids=[notice_id]))[notice_id]
        (summary,) = await notices.recent_notices(
            db=db, paths=await _paths(database, ids["county"])
        )
        groups = await notices.unacked_by_branch(db=db, notice_id=notice_id)
        names = await notices.unacked_names(db=db, notice_id=notice_id, limit=500)
        to_remind = await notices.unacked_recipients(db=db, notice_id=notice_id)
    assert counts == notices.DeliveryCounts(
        total=120,
        sent=fates.count("S"),
        waiting=fates.count("P") + fates.count("F"),
        failed=fates.count("D"),
        unreachable=fates.count("B"),
        acked=37,
    )
    assert not counts.finished
    assert (summary.total, summary.delivered, summary.acked) == (120, fates.count("S"), 37)
    assert sum(group.unacked for group in groups) == fates.count("S") - 37
    assert {group.branch for group in groups} <= {"一村", "二村"}
    assert len(names) == fates.count("S") - 37
    assert {reader.chat_id for reader in to_remind} == set(sent_chats) - ackers


async def test_automatic_reminders_are_claimed_once_when_due(database: Database) -> None:
    ids = await build_tree(database)

    async def notice(requires_ack: bool, minutes: int) -> int:
        async with database.session_scope() as db:
            created = await notices.create_notice(
                db=db,
                org_id=ids["v1"],
                sender_telegram_id=1,
                text="x",
                parse_mode=None,
                attachment_kind=None,
                attachment_file_id=None,
                audience={},
                requires_ack=requires_ack,
                ack_reminder_after_minutes=minutes,
                progress_chat_id=None,
                progress_message_id=None,
                now=NOW,
            )
            assert created.id is not None
            return created.id

    day, hour, no_ack = await notice(True, 1440), await notice(True, 60), await notice(False, 60)
    async with database.session_scope() as db:
        assert await notices.due_ack_reminders(db=db, now=NOW) == []
        due = await notices.due_ack_reminders(db=db, now=NOW + timedelta(hours=2))
        assert [n.id for n in due] == [hour]
        later = NOW + timedelta(days=1, minutes=1)
        assert [n.id for n in await notices.due_ack_reminders(db=db, now=later)] == [day]
        assert await notices.due_ack_reminders(db=db, now=later) == []
        stored = await db.get(Notice, no_ack)
        assert stored is not None
        assert stored.ack_reminded_at is None


async def test_political_birthdays(database: Database) -> None:
    ids = await build_tree(database)
    leap = await _person(database, ids["v1"], "闰", user_id=31, joined_on=date(2016, 2, 29))
    plain = await _person(database, ids["v1"], "平", user_id=32, joined_on=date(2016, 2, 28))
    await _person(database, ids["v2"], "关", user_id=33, joined_on=date(2016, 2, 28))
    new = await _person(database, ids["v1"], "新", user_id=34, joined_on=date(2027, 2, 28))
    await _person(database, ids["v1"], "堵", user_id=35, blocked=True, joined_on=date(2016, 2, 28))
    await _person(database, ids["v1"], "无", joined_on=date(2016, 2, 28))
    async with database.session_scope() as db:
        assert await notices.set_greetings(db=db, org_id=ids["v2"], enabled=False)
        assert not await notices.set_greetings(db=db, org_id=ids["v2"], enabled=False)
        assert await notices.greetings_enabled(db=db, org_id=ids["v2"]) is False
        assert await notices.greetings_enabled(db=db, org_id=999) is None
        non_leap = await notices.birthday_members(db=db, on=date(2027, 2, 28))
        leap_28 = await notices.birthday_members(db=db, on=date(2028, 2, 28))
        leap_29 = await notices.birthday_members(db=db, on=date(2028, 2, 29))
    assert [(m.member_id, m.branch) for m in non_leap] == [(leap, "一村"), (plain, "一村")]
    assert [m.member_id for m in leap_28] == [plain, new]  # a first birthday a year on
    assert [m.member_id for m in leap_29] == [leap]


async def test_progress_targets_close(database: Database) -> None:
    ids = await build_tree(database)
    async with database.session_scope() as db:
        await accounts.ensure_account(db=db, telegram_user_id=9)
        created = await notices.create_notice(
            db=db,
            org_id=ids["v1"],
            sender_telegram_id=9,
            text="x",
            parse_mode=None,
            attachment_kind=None,
            attachment_file_id=None,
            audience={},
            requires_ack=False,
            ack_reminder_after_minutes=60,
            progress_chat_id=9,
            progress_message_id=77,
            now=NOW,
        )
        assert created.id is not None
        targets = await notices.open_progress(db=db)
        assert [(t.notice_id, t.chat_id, t.message_id, t.language) for t in targets] == [
            (created.id, 9, 77, "zh")
        ]
        assert (await notices.delivery_counts(db=db, notice_ids=[created.id]))[created.id].finished
        await notices.close_progress(db=db, notice_id=created.id)
        assert await notices.open_progress(db=db) == []
        stored = await db.get(Notice, created.id, populate_existing=True)
        assert stored is not None
        assert (stored.progress_chat_id, stored.progress_message_id) == (9, None)
