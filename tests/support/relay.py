"""Helpers for the relay and notice tests: queue rows, build a relay against the emulator.

Not a test module (no ``test_`` prefix): plain functions the relay tests share.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.clock import Clock, ManualClock
from bot.relay import Relay, RelayConfig, relay_bot
from sandbox import EmulatorServer, World
from storage import Database
from storage.deliveries import Outgoing, enqueue_many
from storage.models import Delivery, DeliveryKind, DeliveryState

FAST = RelayConfig(
    rate=1000.0,
    poll_interval=0.05,
    backoff_base=1.0,
    request_timeout=0.5,
    progress_interval=0.2,
    lease=timedelta(seconds=60),
)


def config(**changes: Any) -> RelayConfig:
    """FAST with some fields changed."""
    return RelayConfig(**{**{f: getattr(FAST, f) for f in FAST.__dataclass_fields__}, **changes})


def make_relay(
    world: World,
    emulator: EmulatorServer,
    database: Database,
    clock: Clock,
    relay_config: RelayConfig = FAST,
    **kwargs: Any,
) -> Relay:
    """A relay that sends to the emulator through its own bot."""
    bot = relay_bot(
        world.token,
        base_url=f"{emulator.url}/bot",
        base_file_url=f"{emulator.url}/file/bot",
        config=relay_config,
    )
    return Relay(bot=bot, database=database, clock=clock, config=relay_config, **kwargs)


@asynccontextmanager
async def running(relay: Relay) -> AsyncIterator[Relay]:
    """Start the relay, stop it gracefully afterwards."""
    await relay.start()
    try:
        yield relay
    finally:
        await relay.stop()


def add_people(world: World, count: int, prefix: str = "p") -> list[int]:
    """``count`` simulated people who have started the bot; their chat ids."""
    return [world.add_user(f"{prefix}{n}").id for n in range(count)]


async def queue_texts(
    database: Database,
    clock: Clock,
    chat_ids: Iterable[int],
    *,
    key: str = "t",
    kind: DeliveryKind = DeliveryKind.OTHER,
) -> None:
    """One text message per chat id (repeat an id to queue several for that chat)."""
    items = [
        Outgoing(chat_id, {"text": f"message {n} to {chat_id}"}, f"{key}:{n}")
        for n, chat_id in enumerate(chat_ids)
    ]
    async with database.session_scope() as db:
        await enqueue_many(db=db, kind=kind, items=items, due_at=clock.now())


async def states(database: Database) -> Counter[DeliveryState]:
    """How many delivery rows are in each state."""
    async with database.session_scope() as db:
        found = (await db.exec(select(Delivery.state))).all()
    return Counter(DeliveryState(state) for state in found)


async def rows(database: Database) -> Sequence[Delivery]:
    """Every delivery row, by id."""
    async with database.session_scope() as db:
        result = await db.exec(select(Delivery).order_by(col(Delivery.id)))
        return list(result.all())


def sends(world: World) -> list[Any]:
    """Successful sendMessage/sendPhoto/sendDocument calls, in arrival order."""
    names = {"sendmessage", "sendphoto", "senddocument"}
    return [call for call in world.calls if call.method.lower() in names and call.ok]


async def serve_relay(database_url: str, api_url: str, token: str, now: str, rate: float) -> None:
    """Run a relay until the process is killed (the crash test's separate process)."""
    database = Database(database_url)
    relay_config = config(rate=rate)
    bot = relay_bot(
        token, base_url=f"{api_url}/bot", base_file_url=f"{api_url}/file/bot", config=relay_config
    )
    relay = Relay(
        bot=bot,
        database=database,
        clock=ManualClock(datetime.fromisoformat(now)),
        config=relay_config,
        worker="doomed-process",
    )
    await bot.initialize()
    relay.wake()
    await relay.run()


if __name__ == "__main__":
    database_url, api_url, token, now, rate = sys.argv[1:6]
    asyncio.run(serve_relay(database_url, api_url, token, now, float(rate)))
