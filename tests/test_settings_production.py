"""Production settings: the webhook URL and secret as the Bot API requires them, the
listen address, and `run --webhook` refusing a URL Telegram would refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings
from tests.support.constants import TOKEN


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "PARTYBOT_WEBHOOK_URL",
        "PARTYBOT_WEBHOOK_SECRET",
        "PARTYBOT_LISTEN",
        "PARTYBOT_METRICS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_polling_by_default_with_no_http_server() -> None:
    settings = load_settings(env_file=None, TELEGRAM_BOT_TOKEN=TOKEN)
    assert settings.webhook_url is None
    assert not settings.serves_http
    assert settings.listen_address == ("127.0.0.1", 8000)


def test_the_derived_webhook_secret_follows_the_bot_api_rule_and_the_token() -> None:
    secret = load_settings(env_file=None, TELEGRAM_BOT_TOKEN=TOKEN).webhook_token
    other = load_settings(
        env_file=None, TELEGRAM_BOT_TOKEN=TOKEN.replace("TEST", "PROD")
    ).webhook_token
    assert 1 <= len(secret) <= 256
    assert secret.isalnum()
    assert secret != other
    assert TOKEN not in secret


def test_a_set_webhook_secret_is_used_as_is() -> None:
    settings = load_settings(
        env_file=None, TELEGRAM_BOT_TOKEN=TOKEN, PARTYBOT_WEBHOOK_SECRET="county_Secret-1"
    )
    assert settings.webhook_token == "county_Secret-1"
    assert "county_Secret-1" not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("PARTYBOT_WEBHOOK_SECRET", "has space", "1-256 characters"),
        ("PARTYBOT_WEBHOOK_SECRET", "x" * 257, "1-256 characters"),
        ("PARTYBOT_WEBHOOK_SECRET", "秘密", "1-256 characters"),
        ("PARTYBOT_WEBHOOK_URL", "http://bot.example.org/hook", "must be https://"),
        ("PARTYBOT_WEBHOOK_URL", "bot.example.org/hook", "must be a URL"),
        ("PARTYBOT_LISTEN", "8000", "must be host:port"),
        ("PARTYBOT_LISTEN", "0.0.0.0:99999", "must be host:port"),
    ],
)
def test_invalid_production_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert str(caught.value).startswith(f"invalid setting {variable}:")
    assert fragment in str(caught.value)


def test_webhook_mode_serves_http_on_the_listen_address() -> None:
    settings = load_settings(
        env_file=None,
        TELEGRAM_BOT_TOKEN=TOKEN,
        PARTYBOT_WEBHOOK_URL="https://bot.example.org/telegram/updates",
        PARTYBOT_LISTEN="[::1]:8443",
    )
    assert settings.serves_http
    assert settings.listen_address == ("::1", 8443)


def test_run_refuses_a_plain_http_webhook_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--webhook", "http://bot.example.org/hook"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "must be https://" in err[0]
