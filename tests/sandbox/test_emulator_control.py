"""The HTTP control API: people, chats, calls, misbehaviour and the event stream."""

from __future__ import annotations

import asyncio

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import World


async def test_users_send_tap_and_chat(http: httpx.AsyncClient, bot: Bot, world: World) -> None:
    created = await http.post(
        "/_control/users", json={"first_name": "Carol", "phone": "+8613900000003"}
    )
    assert created.status_code == 200
    carol = created.json()
    assert carol["language_code"] == "zh-hans"
    listed = (await http.get("/_control/users")).json()
    assert [u["id"] for u in listed] == [carol["id"]]

    sent = await http.post(f"/_control/users/{carol['id']}/send", json={"text": "/start"})
    assert sent.json()["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok")]])
    reply = await bot.send_message(carol["id"], "hi", reply_markup=keyboard)

    tapped = await http.post(f"/_control/users/{carol['id']}/tap", json={"label": "好"})
    query_id = tapped.json()["callback_query_id"]
    assert world.callback_queries[query_id].data == "ok"
    missing = await http.post(f"/_control/users/{carol['id']}/tap", json={"label": "坏"})
    assert missing.status_code == 404

    forged = await http.post(
        f"/_control/users/{carol['id']}/tap_data",
        json={"data": "forged", "message_id": reply.message_id},
    )
    assert forged.status_code == 200

    chat = (await http.get(f"/_control/chats/{carol['id']}")).json()
    assert [(m["from_bot"], m["text"]) for m in chat["messages"]] == [
        (False, "/start"),
        (True, "hi"),
    ]
    assert chat["messages"][1]["buttons"] == [["好"]]
    assert (await http.get("/_control/chats/42")).status_code == 404
    assert (await http.post("/_control/users/42/send", json={"text": "x"})).status_code == 404


async def test_contact_document_block(http: httpx.AsyncClient, bot: Bot, world: World) -> None:
    dave = world.add_user("Dave", phone="+8613700000004")
    own = await http.post(f"/_control/users/{dave.id}/contact", json={})
    assert own.json()["contact"]["user_id"] == dave.id
    other = await http.post(
        f"/_control/users/{dave.id}/contact", json={"phone": "+8613600000005", "own": False}
    )
    assert "user_id" not in other.json()["contact"]
    upload = await http.post(
        f"/_control/users/{dave.id}/document",
        files={"document": ("名单.xlsx", b"bytes!", "application/octet-stream")},
        data={"caption": "名单"},
    )
    document = upload.json()["document"]
    assert document["file_name"] == "名单.xlsx"
    assert world.file_bytes(document["file_id"]) == b"bytes!"
    assert (await http.post(f"/_control/users/{dave.id}/block")).json()["blocked"] is True
    assert (await http.post(f"/_control/users/{dave.id}/unblock")).json()["blocked"] is False
    kinds = [next(k for k in u if k != "update_id") for u in world.pending_updates]
    assert kinds == ["message", "message", "message", "my_chat_member", "my_chat_member"]


async def test_calls_faults_and_limits(http: httpx.AsyncClient, bot: Bot, world: World) -> None:
    erin = world.add_user("Erin")
    armed = await http.post(
        "/_control/faults", json={"kind": "5xx", "count": 1, "methods": ["sendMessage"]}
    )
    assert armed.json()["faults"][0]["methods"] == ["sendmessage"]
    failed = await http.post(
        f"/bot{world.token}/sendMessage", data={"chat_id": erin.id, "text": "x"}
    )
    assert failed.status_code == 502
    assert failed.json() == {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    limits = await http.post("/_control/rate_limits", json={"enabled": True})
    assert limits.json()["per_chat_per_second"] == 1
    await bot.send_message(erin.id, "once")
    calls = (await http.get("/_control/calls", params={"method": "sendMessage"})).json()
    assert [(c["status"], c["fault"]) for c in calls] == [(502, "5xx"), (200, None)]
    assert calls[1]["params"] == {"chat_id": str(erin.id), "text": "once"}
    since = calls[0]["seq"]
    later = (await http.get("/_control/calls", params={"since": since})).json()
    assert [c["seq"] for c in later if c["method"] == "sendMessage"] == [calls[1]["seq"]]
    assert min(c["seq"] for c in later) == since + 1
    assert (await http.post("/_control/faults", json={"kind": "nope"})).status_code == 400
    assert (await http.delete("/_control/faults")).json() == {"faults": []}


async def test_events_long_poll(http: httpx.AsyncClient, bot: Bot, world: World) -> None:
    frank = world.add_user("Frank")
    mark = world.mark()
    waiting = asyncio.create_task(
        http.get("/_control/events", params={"since": mark, "timeout": 10})
    )
    # whether the request is already waiting or arrives later, it must see the message
    await bot.send_message(frank.id, "news")
    body = (await asyncio.wait_for(waiting, 5)).json()
    assert body["events"][0]["kind"] == "message"
    assert body["events"][0]["message"]["text"] == "news"
    assert body["last"] >= body["events"][-1]["seq"]
    empty = await http.get("/_control/events", params={"since": body["last"], "timeout": 0})
    assert empty.json()["events"] == []
