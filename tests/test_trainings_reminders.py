"""Deadline reminders: to those not done, REMIND_DAYS before the deadline, once each, even
when the bot restarts in between (a new Application on the same database)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlmodel import select

from bot.app import build_application, polling
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.settings import Settings
from sandbox import SimUser, World
from schedules.trainings import job_training_reminders
from storage import Database
from storage.models import Role, TrainingAssignee
from tests.support.audit import audit_log
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import shown
from tests.support.trainings import publish_training, training_deliveries

REMINDER = "⏰ 提醒：这项培训快到完成期限了。"


def reminders_seen(user: SimUser) -> list[str]:
    return [shown(m) for m in user.messages if (m.text or "").startswith(REMINDER)]


async def test_reminders_go_once_to_those_not_done_across_a_restart(
    database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    tree = await build_tree(database)
    secretary = world.add_user("Sec")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    bob, carol, dan = (world.add_user(name) for name in ("Bob", "Carol", "Dan"))
    for name, user in (("李明", bob), ("张华", carol), ("刘强", dan)):
        await add_member(database, tree.dongfeng, name, telegram_user_id=user.id)
    await add_member(database, tree.dongfeng, "赵六")  # not on Telegram: nobody to remind

    async def up(work: Callable[[Services], Awaitable[None]], check: Callable[[], object]) -> None:
        """One lifetime of the bot: start, do ``work``, wait for ``check``, stop."""
        application = build_application(settings, database=database, clock=clock)
        async with polling(application, poll_timeout=5):
            await work(application.bot_data[SERVICES_KEY])
            await world.wait_for(check, what="the relay to deliver")

    async def idle(_services: Services) -> None:
        return None

    async def publish_it(services: Services) -> None:
        await publish_training(database, clock, actor=secretary.id, org=tree.dongfeng)
        services.relay.wake()

    await up(publish_it, lambda: all(len(u.messages) == 1 for u in (bob, carol, dan)))
    await dan.tap("已完成学习")
    await up(idle, lambda: not dan.messages[0].buttons)

    # Three days before the deadline (10 March): nothing yet.
    clock.set(datetime(2026, 3, 7, 1, 0, tzinfo=UTC))
    queued: list[int] = []

    async def run(services: Services) -> None:
        queued.append(await job_training_reminders(services))
        queued.append(await job_training_reminders(services))

    await up(run, lambda: True)
    assert queued == [0, 0]

    # Two days before: Bob and Carol are reminded; the bot stops right after the job ran.
    clock.set(datetime(2026, 3, 8, 1, 0, tzinfo=UTC))
    queued.clear()
    await up(run, lambda: True)
    assert queued == [2, 0]
    # Restarted: the job finds nothing more to do; the relay delivers what is left, once.
    queued.clear()
    await up(run, lambda: len(reminders_seen(bob)) == 1 and len(reminders_seen(carol)) == 1)
    assert queued == [0, 0]
    assert [len(reminders_seen(u)) for u in (bob, carol, dan)] == [1, 1, 0]
    reminder = next(m for m in bob.messages if (m.text or "").startswith(REMINDER))
    assert reminder.buttons == [["已完成学习"]]
    keys = [d.dedupe_key for d in await training_deliveries(database)]
    assert len([k for k in keys if ":remind:" in k]) == 2
    async with database.session_scope() as db:
        reminded = [a.reminded_at for a in (await db.exec(select(TrainingAssignee))).all()]
    assert sum(r is not None for r in reminded) == 2
    (row,) = await audit_log(database, prefix="training.remind")
    assert row.detail == {"reminded": 2}

    # After the deadline nobody is reminded any more.
    clock.set(datetime(2026, 3, 11, 1, 0, tzinfo=UTC))
    queued.clear()
    await up(run, lambda: True)
    assert queued == [0, 0]
