"""`partybot sandbox` as a whole: the page, the demo people, the picker, files, --reset."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bot.cli import main
from bot.i18n import gettext
from demo import app as sandbox_app
from demo.app import Sandbox
from demo.plan import VISITOR_ID_BASE, roster_telegram_id
from demo.time_control import Jump
from storage import members
from tests.support.sandbox import (
    START,
    copy_template,
    sandbox_at,
    sandbox_settings,
    seeded_template,
)

WELCOME = (
    "Welcome to partybot, the party-work assistant of our county.\n"
    "To join your branch, ask your branch secretary for an invitation link "
    "or scan the QR code at the village office."
)
WELCOME_BACK = "Welcome back, {name}. Send /help to see what you can do."


@pytest.fixture(scope="module")
def template() -> Path:
    return seeded_template()


@pytest.fixture
async def sandbox(template: Path, tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with sandbox_at(copy_template(template, tmp_path)) as running:
        yield running


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as client:
        yield client


async def _unlinked_member(sandbox: Sandbox) -> tuple[int, str, str | None]:
    async with sandbox.database.session_scope() as db:
        row = (
            await db.exec(
                sa.text(  # type: ignore[call-overload]
                    "SELECT id, name, phone FROM member WHERE telegram_user_id IS NULL"
                    " AND phone IS NOT NULL ORDER BY id LIMIT 1"
                )
            )
        ).one()
    return int(row[0]), str(row[1]), row[2]


async def test_the_page_and_the_demo_people_are_served(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    page = await http.get("/")
    assert page.status_code == 200
    assert '<script src="/static/sandbox.js"' in page.text
    for asset in ("/static/sandbox.js", "/static/sandbox.css"):
        assert (await http.get(asset)).status_code == 200
    state = (await http.get("/_sandbox/state")).json()
    assert state["timezone"] == "Asia/Shanghai"
    assert state["now"] == START.isoformat()
    assert state["bot_username"] == sandbox.world.bot_username
    assert [p["role"] for p in state["people"]] == [
        "county_staff",
        "township_organiser",
        "secretary",
        "secretary",
        None,
        None,
    ]
    assert [p["user_id"] for p in state["people"]] == [p.telegram_user_id for p in sandbox.cast]
    assert state["people"][2]["scope"] == "东风村党支部"
    assert state["people"][5]["branch"] == "红星村党支部"
    assert state["next_due"] is not None


async def test_every_account_has_an_emulator_user_with_its_phone(sandbox: Sandbox) -> None:
    async with sandbox.database.session_scope() as db:
        linked = (
            await db.exec(
                sa.text(  # type: ignore[call-overload]
                    "SELECT telegram_user_id, name, phone FROM member"
                    " WHERE telegram_user_id IS NOT NULL"
                )
            )
        ).all()
    assert len(linked) == len(sandbox.world.users)
    for telegram_id, name, phone in linked:
        user = sandbox.world.users[telegram_id]
        assert (user.first_name, user.phone) == (name, phone)


async def test_start_through_the_control_api_in_both_languages(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    secretary = sandbox.world.users[sandbox.cast[2].telegram_user_id]
    await http.post(f"/_control/users/{secretary.id}/send", json={"text": "/start"})
    assert (await secretary.wait_for_reply()).text == gettext("zh", WELCOME_BACK).format(
        name=sandbox.cast[2].name
    )
    visitor = (await http.post("/_sandbox/visitors", json={"language_code": "en"})).json()
    assert visitor["user_id"] == VISITOR_ID_BASE + 1
    assert visitor["role"] is visitor["branch"] is None
    guest = sandbox.world.users[visitor["user_id"]]
    await http.post(f"/_control/users/{guest.id}/send", json={"text": "/start"})
    assert (await guest.wait_for_reply()).text == WELCOME
    second = (await http.post("/_sandbox/visitors", json={})).json()
    assert second["user_id"] == VISITOR_ID_BASE + 2
    assert sandbox.world.users[second["user_id"]].language_code == "zh-hans"


async def test_the_picker_links_a_roster_member_once_and_audits_it(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    member_id, name, phone = await _unlinked_member(sandbox)
    roster = (await http.get("/_sandbox/roster")).json()
    assert len(roster) == 150
    entry = next(e for e in roster if e["member_id"] == member_id)
    assert entry["user_id"] is None
    assert entry["township"].endswith("党委")

    opened = (await http.post("/_sandbox/people", json={"member_id": member_id})).json()
    telegram_id = roster_telegram_id(member_id)
    assert opened["user_id"] == telegram_id
    assert (opened["name"], opened["member_id"], opened["role"]) == (name, member_id, None)
    user = sandbox.world.users[telegram_id]
    assert (user.first_name, user.phone, user.language_code) == (name, phone, "zh-hans")
    again = (await http.post("/_sandbox/people", json={"member_id": member_id})).json()
    assert again == opened
    async with sandbox.database.session_scope() as db:
        member = await members.get_member(db=db, member_id=member_id)
        audited = (
            await db.exec(
                sa.text(  # type: ignore[call-overload]
                    "SELECT count(*) FROM audit_log WHERE action = 'member.link'"
                    f" AND target_id = {member_id}"
                )
            )
        ).one()[0]
    assert member is not None
    assert member.telegram_user_id == telegram_id
    assert audited == 1
    described = (await http.get(f"/_sandbox/people/{telegram_id}")).json()
    assert described == opened


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/_sandbox/people", {"member_id": 999999}, 404, "no active member 999999"),
        ("/_sandbox/people", {"member_id": "3"}, 400, "member_id (a number) is required"),
        ("/_sandbox/people", {"member_id": 3, "language_code": "fr"}, 400, "language_code"),
        ("/_sandbox/visitors", [1], 400, "body must be a JSON object"),
        ("/_sandbox/clock", {"jump": "week"}, 400, "jump must be one of: hour, day, next"),
    ],
)
async def test_bad_requests_are_refused_and_change_nothing(
    sandbox: Sandbox,
    http: httpx.AsyncClient,
    path: str,
    body: object,
    status: int,
    error: str,
) -> None:
    users = dict(sandbox.world.users)
    answer = await http.post(path, json=body)
    assert answer.status_code == status
    assert error in answer.json()["error"]
    assert sandbox.world.users == users
    assert sandbox.clock.offset.total_seconds() == 0
    assert (await http.get("/_sandbox/people/12345")).status_code == 404
    assert (await http.get("/_sandbox/commands/12345")).status_code == 404


async def test_files_are_served_through_the_emulators_file_route(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    member = sandbox.cast[4]
    content = b"PK\x03\x04 not really a workbook"
    sent = await sandbox.application.bot.send_document(
        member.telegram_user_id, document=content, filename="花名册.xlsx"
    )
    assert sent.document is not None
    answer = await http.get(f"/_sandbox/files/{sent.document.file_id}")
    assert answer.status_code == 307
    assert answer.headers["location"].startswith(f"/file/bot{sandbox.world.token}/documents/")
    download = await http.get(answer.headers["location"])
    assert download.content == content
    assert (await http.get("/_sandbox/files/BQACnothing")).status_code == 404


async def test_the_command_menu_of_a_person(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    member = sandbox.cast[4]
    commands = (await http.get(f"/_sandbox/commands/{member.telegram_user_id}")).json()
    assert commands == sandbox.world.commands_for(member.telegram_user_id)
    assert {"command": "start", "description": gettext("zh", "Begin, or join your branch")} in (
        commands
    )


async def test_reset_starts_afresh_and_a_restart_keeps_links_and_time(
    template: Path, tmp_path: Path
) -> None:
    path = copy_template(template, tmp_path)
    async with sandbox_at(path) as first:
        member_id, _name, _phone = await _unlinked_member(first)
        await first.people.open_member(member_id, "zh-hans")
        await first.time.jump(Jump.DAY)
    assert sandbox_app.clock_file(path).exists()

    async with sandbox_at(path) as second:
        assert second.clock.offset.days == 1
        assert roster_telegram_id(member_id) in second.world.users
        async with second.database.session_scope() as db:
            member = await members.get_member(db=db, member_id=member_id)
        assert member is not None
        assert member.telegram_user_id == roster_telegram_id(member_id)

    async with sandbox_at(path, fresh=True) as third:
        assert third.clock.offset.total_seconds() == 0
        assert roster_telegram_id(member_id) not in third.world.users
        async with third.database.session_scope() as db:
            member = await members.get_member(db=db, member_id=member_id)
            seeded = (
                await db.exec(sa.text("SELECT count(*) FROM member"))  # type: ignore[call-overload]
            ).one()[0]
        assert member is not None
        assert member.telegram_user_id is None
        assert seeded == 150


async def test_serve_sandbox_announces_the_page_and_stops_on_sigterm(
    template: Path, tmp_path: Path
) -> None:
    path = copy_template(template, tmp_path)
    announced: list[str] = []
    ready = asyncio.Event()

    def announce(line: str) -> None:
        announced.append(line)
        ready.set()

    task = asyncio.create_task(
        sandbox_app.serve_sandbox(
            sandbox_settings(), database_path=path, port=0, announce=announce
        )
    )
    await asyncio.wait_for(ready.wait(), 30)
    url = announced[0].split("open ")[1].split(" ")[0]
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 200
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 30)
    assert announced[0].startswith("partybot sandbox: open http://127.0.0.1:")


def test_cli_sandbox_and_run_without_token_start_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    calls: list[dict[str, object]] = []

    async def fake_serve(settings: object, **options: object) -> None:
        calls.append(options)

    monkeypatch.setattr(sandbox_app, "serve_sandbox", fake_serve)
    assert main(["sandbox", "--reset", "--port", "8099"]) == 0
    assert main(["sandbox"]) == 0
    assert main(["run"]) == 0
    assert calls == [
        {"port": 8099, "fresh": True},
        {"port": 8080, "fresh": False},
        {"port": 8080, "fresh": False},
    ]
    assert "TELEGRAM_BOT_TOKEN is not set, so the sandbox starts" in capsys.readouterr().err


def test_a_port_in_use_is_one_clear_line(
    template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    (tmp_path / "data").mkdir()
    copy_template(template, tmp_path / "data")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sandbox", "--port", str(port)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"partybot: port {port} on 127.0.0.1 is taken (is another sandbox running?); "
        f"choose another with --port, e.g. partybot sandbox --port {port + 10} "
        f"(make sandbox ARGS='--port {port + 10}')"
    ]


def test_a_taken_port_is_found_before_the_demo_is_seeded(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sandbox", "--reset", "--port", str(port)]) == 1
    assert not (tmp_path / "data" / "sandbox.db").exists()  # nothing seeded, nothing waited
    assert "--port" in capsys.readouterr().err


async def test_chats_come_back_after_a_restart_with_their_files(
    template: Path, tmp_path: Path
) -> None:
    path = copy_template(template, tmp_path)
    async with sandbox_at(path) as first:
        member = first.world.users[first.cast[4].telegram_user_id]
        await member.send("/help")
        answer = await member.wait_for_reply()
        photo = first.world.files.add(b"\x89PNG fake", "photo", "x.png", "image/png")
        seen = [(m.message_id, m.text) for m in member.chat.messages]
    assert sandbox_app.history_file(path).exists()
    async with sandbox_at(path) as second:
        again = second.world.users[member.id]
        assert [(m.message_id, m.text) for m in again.chat.messages] == seen
        assert again.chat.message(answer.message_id) is not None
        assert second.world.file_bytes(photo.file_id) == b"\x89PNG fake"
        async with httpx.AsyncClient(base_url=second.url) as http:  # what the page reloads
            history = (await http.get(f"/_control/chats/{member.id}")).json()
        assert [m["message_id"] for m in history["messages"]] == [mid for mid, _ in seen]
        await again.send("/help")  # new messages follow the old ones
        newer = await again.wait_for_reply()
        assert newer.message_id > max(mid for mid, _ in seen)
    assert sandbox_app.reset(path)  # --reset forgets the chats too
    assert not sandbox_app.history_file(path).exists()
