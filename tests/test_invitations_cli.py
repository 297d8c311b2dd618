"""`partybot invite create`: a first invitation without Telegram, whose link then works."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from sandbox import EmulatorServer
from storage import Database
from storage.models import AuditLog, Role
from tests.support.builders import add_member, build_tree
from tests.support.constants import TOKEN
from tests.support.invitations import (
    ZH_DONGFENG,
    ZH_SHARE,
    Person,
    code_in,
    invitation_of,
    member,
    open_invitation,
    rows,
)


@pytest.fixture
def cli_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str, emulator: EmulatorServer
) -> None:
    """The CLI reads its settings from the environment: point it at this test's world."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", emulator.url)
    monkeypatch.setenv("PARTYBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("PARTYBOT_TIMEZONE", "Asia/Shanghai")


async def _cli(*argv: str) -> int:
    # main() runs its own event loop; the emulator keeps serving on this one meanwhile.
    return await asyncio.to_thread(main, list(argv))


@pytest.mark.usefixtures("cli_env")
async def test_cli_prints_a_link_that_registers_a_member(
    person: Person, database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tree = await build_tree(database)
    roster_entry = await add_member(database, tree.dongfeng, "张三", phone="+8613800000001")
    qr = tmp_path / "invite.png"

    argv = ["invite", "create", "--org", "T01-V01", "--uses", "2", "--qr", str(qr)]
    assert await _cli(*argv) == 0
    out = capsys.readouterr().out.splitlines()
    code = code_in(out[0])
    assert out[0] == f"https://t.me/partybot_test_bot?start={code}"  # asked getMe for the name
    assert out[1].startswith(f"{ZH_DONGFENG}: member, 2 use(s), valid until 20")
    assert qr.read_bytes().startswith(b"\x89PNG")
    entries = await rows(database, AuditLog)
    assert [(e.action, e.actor_telegram_id, e.detail["via"]) for e in entries] == [
        ("invitation.create", None, "cli")
    ]

    zhang = person("张三", phone="13800000001")
    text = await open_invitation(zhang, code)
    assert text.startswith(f"欢迎！这是加入{ZH_DONGFENG}的邀请。")
    await zhang.press(ZH_SHARE)
    welcome = await zhang.wait_for_reply()
    assert welcome.text == f"欢迎您，张三！您已加入{ZH_DONGFENG}。\n发送 /help 看看我能做什么。"
    assert (await member(database, roster_entry.id)).telegram_user_id == zhang.id
    assert (await invitation_of(database, code)).uses == 1


@pytest.mark.usefixtures("cli_env")
async def test_cli_with_a_given_username_and_a_higher_role(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_tree(database)
    argv = ["invite", "create", "--org", "T02-V01", "--role", "secretary", "--days", "30"]
    assert await _cli(*argv, "--bot-username", "another_bot") == 0
    link = capsys.readouterr().out.splitlines()[0]
    assert link.startswith("https://t.me/another_bot?start=")
    code = link.rsplit("=", 1)[1]
    invitation = await invitation_of(database, code)
    assert (invitation.role, invitation.max_uses) == (Role.SECRETARY, 1)


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--org", "NOPE"], "no org with code 'NOPE'"),
        (["--org", "T01"], "东风镇党委 (T01) is a township, not a branch"),
        (["--org", "T01-V01", "--role", "county_staff"], "an invitation's role is one of"),
        (["--org", "T01-V01", "--uses", "0"], "--uses must be between 1 and 1000"),
        (["--org", "T01-V01", "--days", "400"], "--days must be between 1 and 365"),
    ],
)
async def test_cli_refusals_are_one_line_and_write_nothing(
    database: Database, capsys: pytest.CaptureFixture[str], extra: list[str], fragment: str
) -> None:
    await build_tree(database)
    assert await _cli("invite", "create", *extra) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert fragment in err[0]
    assert await rows(database, AuditLog) == []
