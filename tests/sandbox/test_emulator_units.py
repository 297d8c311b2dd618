"""Pieces tested without HTTP: HTML and MarkdownV2 parsing, the limiter, waiting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox import World
from sandbox.errors import ApiError
from sandbox.html_check import parse_html
from sandbox.limits import LimitSettings, RateLimiter
from sandbox.markdown import parse_markdown_v2
from sandbox.text import command_entities


def test_html_entities_and_offsets_in_utf16() -> None:
    text, entities = parse_html('😀 <b>粗<i>斜</i></b> &lt;x&gt; <a href="https://e.org">链接</a>')
    assert text == "😀 粗斜 <x> 链接"
    assert {"offset": 3, "length": 2, "type": "bold"} in entities
    assert {"offset": 4, "length": 1, "type": "italic"} in entities
    assert {"offset": 10, "length": 2, "type": "text_link", "url": "https://e.org"} in entities


def test_html_pre_with_language_and_spoiler() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
    )
    assert text == "x = 1st"
    assert entities[0] == {"offset": 0, "length": 5, "type": "pre", "language": "python"}
    assert [e["type"] for e in entities[1:]] == ["spoiler", "spoiler"]


@pytest.mark.parametrize(
    "bad",
    ["<br>", "<b>", "</b>", "<b>x</i>", "<span>x</span>", "<b x", "张<华", "a < b", "<script>"],
)
def test_html_refusals(bad: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(bad)
    assert caught.value.error_code == 400
    assert caught.value.description.startswith("Bad Request: can't parse entities: ")


def test_markdown_v2() -> None:
    text, entities = parse_markdown_v2(
        r"*粗* _斜_ __下__ ~删~ ||藏|| `c` [链](https://e.org) 1\.5"
    )
    assert text == "粗 斜 下 删 藏 c 链 1.5"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    with pytest.raises(ApiError, match="Can't find end of Bold entity"):
        parse_markdown_v2("*open")


def test_command_entities() -> None:
    assert command_entities("/start payload") == [
        {"offset": 0, "length": 6, "type": "bot_command"}
    ]
    assert command_entities("/start@partybot_test_bot") == [
        {"offset": 0, "length": 24, "type": "bot_command"}
    ]
    assert command_entities("hello /start") == []


def test_limiter_windows_with_fake_clock() -> None:
    now = [100.0]
    limiter = RateLimiter(lambda: now[0])
    limiter.configure(LimitSettings(enabled=True, global_per_second=2, per_group_per_minute=3))
    assert limiter.check(1) is None
    limiter.record(1)
    assert limiter.check(1) == 1  # 1 per second per chat
    assert limiter.check(2) is None
    limiter.record(2)
    assert limiter.check(3) == 1  # 2 per second overall
    now[0] += 1.0
    assert limiter.check(1) is None
    for _ in range(3):
        limiter.record(-5)
        now[0] += 1.0
    assert limiter.check(-5) == 57  # the oldest of 3 group sends expires 60 s after it
    now[0] += 57.0
    assert limiter.check(-5) is None


def test_limiter_off_records_nothing() -> None:
    limiter = RateLimiter(lambda: 0.0)
    limiter.record(1)
    limiter.record(1)
    assert limiter.check(1) is None


async def test_wait_for_reports_recent_messages() -> None:
    world = World("1:x", clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    bob = world.add_user("Bob")
    await bob.send("你好")
    assert bob.chat.messages[0].date == int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    with pytest.raises(TimeoutError, match=r"(?s)a bot message to Bob.*Bob: '你好'"):
        await bob.wait_for_reply(timeout=0.01)
    assert await world.wait_for(lambda: len(world.pending_updates), timeout=0.01) == 1


def test_token_must_look_like_a_token() -> None:
    with pytest.raises(ValueError, match="bot token"):
        World("not-a-token")


def test_html_numeric_and_named_entities() -> None:
    assert parse_html("&#x5F20;&amp;&lt;&gt;&quot;&#39;")[0] == "张&<>\"'"


@pytest.mark.parametrize(
    ("source", "offset"),
    [("&#99999999;", 0), ("x &#xD800;", 2), ("&#0;", 0), ("a & b", 2), ("张&nbsp;", 3)],
)
def test_html_ampersand_that_starts_no_entity_is_refused(source: str, offset: int) -> None:
    """tdlib would keep it as text; the Bot API says it must be escaped as &amp;."""
    with pytest.raises(ApiError) as caught:
        parse_html(source)
    assert caught.value.description == (
        "Bad Request: can't parse entities: "
        f'Character "&" at byte offset {offset} must be escaped as "&amp;"'
    )
