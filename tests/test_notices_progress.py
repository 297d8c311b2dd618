"""The sender's confirmation message becomes a progress bar, then the final report."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from bot.app import PartyApplication
from bot.clock import ManualClock
from bot.notices import NoticeProgress
from sandbox import EmulatorServer, SimUser, World
from sandbox.models import Content
from storage import Database, notices
from storage.deliveries import Outgoing, enqueue_many
from storage.models import DeliveryKind, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.notices import compose
from tests.support.relay import make_relay, running

MEMBERS = 60


@pytest.fixture
def relay_chat_interval() -> float:
    """Telegram's real 1 s per chat: the emulator enforces its flood limits here."""
    return 1.0


async def test_progress_is_edited_every_two_seconds_then_final(
    database: Database,
    world: World,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    alice = person("Alice")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    for n in range(MEMBERS):
        who = person(f"M{n}")
        await add_member(database, tree.dongfeng, f"党员{n:02d}", telegram_user_id=who.id)
    world.set_rate_limits(enabled=True, global_per_second=30)  # Telegram's; the relay does 25
    await compose(alice, "全体党员注意", "东风村党支部全体", "要，请大家点“已阅”")
    for _ in range(3):
        summary = await alice.wait_for_reply()
    await alice.tap(f"发给 {MEMBERS} 人")

    def shown() -> list[str]:
        message = alice.chat.message(summary.message_id)
        assert message is not None
        return [version.text or "" for version in message.versions]

    await world.wait_for(lambda: shown()[-1].startswith("通知已发送完毕"), timeout=15)
    versions = shown()
    assert versions[1] == "正在发送通知…"
    progress = [text for text in versions if text.startswith("正在发送通知…\n")]
    # Only the quick replies in Alice's own chat may meet the 1/s rule (PTB retries them).
    refused = {int(call.params["chat_id"]) for call in world.calls if call.status == 429}
    assert refused <= {alice.id}
    assert progress  # at least one bar while sending (60 at 25/s take more than 2 s)
    lines = progress[0].splitlines()
    assert lines[1].endswith("%")
    assert lines[1][:10].strip("▓░") == ""
    assert lines[2].startswith("已发送 ")
    assert lines[2].endswith(f"/{MEMBERS} · 失败 0 · 联系不上 0")
    assert lines[3].startswith("预计还需约 ")
    assert versions[-1] == (
        f"通知已发送完毕。\n已送达：{MEMBERS}/{MEMBERS} 人\n发送 /notices 查看谁已阅读。"
    )
    edits = [
        call.at_monotonic
        for call in world.calls_of("editMessageText")
        if call.ok and int(call.params["message_id"]) == summary.message_id
    ]
    relay_edits = edits[1:]  # the first is the handler's "sending…"
    gaps = [b - a for a, b in itertools.pairwise(relay_edits)]
    assert len(gaps) >= 1
    assert min(gaps) >= 1.9


async def test_progress_resumes_after_a_restart_and_finishes_once(
    database: Database,
    world: World,
    emulator: EmulatorServer,
    clock: ManualClock,
    person: Callable[..., SimUser],
) -> None:
    """A new process finds the open progress message in the database and finishes it."""
    tree = await build_tree(database)
    alice = person("Alice")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    progress_message = world.store_message(world.chat(alice.id), Content(text="正在发送通知…"))
    people = [person(f"P{n}") for n in range(3)]
    assert tree.dongfeng.id is not None
    async with database.session_scope() as db:
        notice = await notices.create_notice(
            db=db,
            org_id=tree.dongfeng.id,
            sender_telegram_id=alice.id,
            text="通知",
            parse_mode="HTML",
            attachment_kind=None,
            attachment_file_id=None,
            audience={"unreachable": 0},
            requires_ack=False,
            ack_reminder_after_minutes=60,
            progress_chat_id=alice.id,
            progress_message_id=progress_message.message_id,
            now=clock.now(),
        )
        await enqueue_many(
            db=db,
            kind=DeliveryKind.NOTICE,
            items=[Outgoing(p.id, {"text": "通知"}, f"n:{p.id}") for p in people],
            due_at=clock.now(),
            notice_id=notice.id,
        )
    relay = make_relay(world, emulator, database, clock)
    progress = NoticeProgress(bot=relay.bot, database=database, rate=25.0)
    async with running(relay):
        await progress.report()
        assert (progress_message.shown_text or "").startswith(
            "正在发送通知…\n░░░░░░░░░░ 0%\n已发送 0/3"
        )
        relay.wake()
        await world.wait_for(lambda: all(p.messages for p in people), timeout=10)
        await relay.settled()
        await progress.report()
        final = progress_message.shown_text or ""
        assert final.startswith("通知已发送完毕。\n已送达：3/3 人")
        edits = len(world.calls_of("editMessageText"))
        await NoticeProgress(bot=relay.bot, database=database, rate=25.0).report()
        assert len(world.calls_of("editMessageText")) == edits  # closed: nothing more to do
