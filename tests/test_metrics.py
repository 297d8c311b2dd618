"""/metrics after a notice broadcast: updates handled, sends, a 429, a dead letter, and the
outbox by state, as Prometheus reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import PartyApplication
from bot.settings import Settings, load_settings
from bot.web import WebServer
from sandbox import EmulatorServer, SimUser, World
from storage import Database
from storage.models import Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.constants import TOKEN
from tests.support.notices import compose
from tests.support.process import free_port


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(emulator: EmulatorServer, database_url: str, port: int) -> Settings:
    return load_settings(
        env_file=None,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=emulator.url,
        PARTYBOT_DATABASE_URL=database_url,
        PARTYBOT_METRICS="true",
        PARTYBOT_LISTEN=f"127.0.0.1:{port}",
    )


@pytest.fixture
async def metrics_page(bot_app: PartyApplication, port: int) -> AsyncIterator[httpx.AsyncClient]:
    server = WebServer(bot_app)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        await server.stop()


async def _scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[str, ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.values()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _offers(user: SimUser, label: str) -> bool:
    message = user.last_message
    return message is not None and any(label in row for row in message.buttons)


async def test_metrics_after_a_broadcast(
    database: Database,
    world: World,
    person: Callable[..., SimUser],
    metrics_page: httpx.AsyncClient,
) -> None:
    tree = await build_tree(database)
    alice = person("Alice")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "王书记", telegram_user_id=alice.id)
    members = [person(f"m{n}") for n in range(5)]
    for n, member in enumerate(members):
        await add_member(database, tree.dongfeng, f"党员{n}", telegram_user_id=member.id)
    members[0].blocked = True  # will answer 403: a dead letter

    before = await _scrape(metrics_page)
    assert before[("partybot_leader", ())] == 1
    await compose(alice, "村里周五开会", "东风村党支部全体", "不需要回执")
    await world.wait_for(lambda: _offers(alice, "发给 6 人"), timeout=10)
    world.faults.add("429", count=1, methods=["sendMessage"], retry_after=1)
    await alice.tap("发给 6 人")
    await world.wait_for(lambda: (alice.last_text or "").startswith("通知已发送完毕"), timeout=20)
    after = await _scrape(metrics_page)

    assert after[("partybot_relay_sends_total", ("sent",))] == 5  # alice and four members
    assert after[("partybot_relay_sends_total", ("dead",))] == 1
    assert after[("partybot_relay_dead_letters_total", ())] == 1
    assert after[("partybot_relay_rate_limited_total", ())] == 1
    assert after[("partybot_outbox_rows", ("sent",))] == 5
    assert after[("partybot_outbox_rows", ("dead",))] == 1
    assert after[("partybot_outbox_rows", ("pending",))] == 0
    assert after[("partybot_outbox_rows", ("sending",))] == 0
    handled = after[("partybot_updates_total", ())] - before[("partybot_updates_total", ())]
    assert handled == 5  # /notice, the text, two taps for audience and 已阅, send
    assert after[("partybot_handler_seconds_count", ())] == after[("partybot_updates_total", ())]
