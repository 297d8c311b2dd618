"""Invitation codes at /start: uses, expiry, revocation, unknown codes and throttling."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from bot import invitations as rules
from bot.clock import ManualClock
from storage import Database
from tests.support.builders import add_member, build_tree
from tests.support.conversation import shown
from tests.support.invitations import (
    ZH_SHARE,
    Person,
    attempts,
    invitation_of,
    issue_code,
    member,
    open_invitation,
)

WELCOME_PROMPT = "欢迎！这是加入东风镇党委 / 东风村党支部的邀请。"
UNKNOWN = "这个邀请码不对。请检查链接，或向支部书记要一个新的邀请。"
USED_UP = "这个邀请的次数已用完。请向支部书记要一个新的邀请。"
EXPIRED = "这个邀请已过期。请向支部书记要一个新的邀请。"


async def test_an_invitation_serves_until_max_uses_then_is_used_up(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    code = await issue_code(database, clock, tree.dongfeng, uses=2)
    for n in (1, 2):
        await add_member(database, tree.dongfeng, f"党员{n}", phone=f"+861380000000{n}")
        newcomer = person(f"党员{n}", phone=f"+861380000000{n}")
        assert (await open_invitation(newcomer, code)).startswith(WELCOME_PROMPT)
        await newcomer.press(ZH_SHARE)
        assert shown(await newcomer.wait_for_reply()).startswith(f"欢迎您，党员{n}！")
    assert (await invitation_of(database, code)).uses == 2

    late = person("迟到的人", phone="+8613800000009")
    assert await open_invitation(late, code) == USED_UP
    assert (await invitation_of(database, code)).uses == 2
    assert await attempts(database, late) == [False]


async def test_the_last_use_goes_to_whoever_shares_first(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    first_entry = await add_member(database, tree.dongfeng, "甲", phone="+8613800000001")
    second_entry = await add_member(database, tree.dongfeng, "乙", phone="+8613800000002")
    code = await issue_code(database, clock, tree.dongfeng, uses=1)
    first, second = person("甲", phone="+8613800000001"), person("乙", phone="+8613800000002")
    await open_invitation(first, code)
    await open_invitation(second, code)  # both opened the link while one use was left

    await first.press(ZH_SHARE)
    assert shown(await first.wait_for_reply()).startswith("欢迎您，甲！")
    await second.press(ZH_SHARE)
    assert (await second.wait_for_reply()).text == USED_UP
    assert (await member(database, first_entry.id)).telegram_user_id == first.id
    assert (await member(database, second_entry.id)).telegram_user_id is None
    assert (await invitation_of(database, code)).uses == 1


async def test_expiry_follows_the_clock(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    code = await issue_code(database, clock, tree.dongfeng, days=1)
    early = person("早到")
    assert (await open_invitation(early, code)).startswith(WELCOME_PROMPT)
    clock.advance(timedelta(days=1))
    late = person("晚到")
    assert await open_invitation(late, code) == EXPIRED


async def test_unknown_and_malformed_codes(person: Person, database: Database) -> None:
    await build_tree(database)
    guesser = person("乱试")
    assert await open_invitation(guesser, "AAAAAAAAAAA") == UNKNOWN
    assert await open_invitation(guesser, "bad!code") == UNKNOWN
    assert await attempts(database, guesser) == [False, False]


async def test_english_code_messages(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    code = await issue_code(database, clock, tree.dongfeng, days=1)
    clock.advance(timedelta(days=2))
    bob = person("Bob", language="en")
    text = await open_invitation(bob, code)
    assert text == "This invitation has expired. Please ask your branch secretary for a new one."


async def test_too_many_wrong_codes_lock_even_a_valid_code_for_a_while(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    code = await issue_code(database, clock, tree.dongfeng)
    guesser = person("乱试")
    for n in range(rules.MAX_FAILED_ATTEMPTS):
        assert await open_invitation(guesser, f"wrong{n}") == UNKNOWN
        clock.advance(timedelta(minutes=1))

    # Sixth attempt, four minutes after the last failure: refused, valid code or not.
    clock.advance(timedelta(minutes=3))
    assert await open_invitation(guesser, code) == "邀请码错的次数太多了。请 7 分钟后再试。"
    assert (await invitation_of(database, code)).uses == 0
    assert await attempts(database, guesser) == [False] * 5  # refusals are not counted

    clock.advance(timedelta(minutes=7))  # the first failure has left the 15-minute window
    assert (await open_invitation(guesser, code)).startswith(WELCOME_PROMPT)
    assert await attempts(database, guesser) == [False] * 5 + [True]


async def test_an_invitation_code_starting_with_ci_is_an_invitation(
    person: Person, database: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deep-link kinds are told apart by shape: only a whole check-in payload is check-in."""
    tree = await build_tree(database)
    monkeypatch.setattr(secrets, "token_urlsafe", lambda _n: "ci_Xy-7kQ2a")
    code = await issue_code(database, clock, tree.dongfeng)
    assert code == "ci_Xy-7kQ2a"
    assert (await open_invitation(person("新人"), code)).startswith(WELCOME_PROMPT)


def test_no_invitation_code_reads_as_a_check_in_link(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["ci_1_123456", "ci_12_34567", "abcDEF_-123"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda _n: next(drawn))
    assert rules.new_code() == "ci_12_34567"  # not a check-in payload: 5 digits after the id
    assert rules.new_code() == "abcDEF_-123"
