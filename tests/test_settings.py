"""Settings: defaults, validation, and one clear line naming the bad variable."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings
from tests.support.constants import TOKEN


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_BASE_URL",
        "PARTYBOT_DATABASE_URL",
        "PARTYBOT_TIMEZONE",
        "PARTYBOT_LANGUAGE",
        "PARTYBOT_OPS_CHAT_ID",
        "PARTYBOT_LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_chinese_shanghai_sqlite() -> None:
    settings = load_settings(env_file=None)
    assert settings.token is None
    assert settings.language == "zh"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.bot_api_url == "https://api.telegram.org/bot"
    assert settings.bot_file_url == "https://api.telegram.org/file/bot"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("PARTYBOT_LANGUAGE", "en")
    settings = load_settings(env_file=None)
    assert settings.token == TOKEN
    assert settings.bot_api_url == "http://127.0.0.1:8081/bot"
    assert settings.language == "en"
    assert TOKEN not in repr(settings)


def test_dotenv_file_is_read(tmp_path: pytest.TempPathFactory) -> None:
    env_file = tmp_path / ".env"  # type: ignore[operator]
    env_file.write_text("PARTYBOT_TIMEZONE=Asia/Urumqi\n", encoding="utf-8")
    assert load_settings(env_file=env_file).timezone == "Asia/Urumqi"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "PARTYBOT_TIMEZONE",
            "Mars/Olympus",
            "invalid setting PARTYBOT_TIMEZONE: unknown time zone",
        ),
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "invalid setting TELEGRAM_BOT_TOKEN: does not look"),
        ("PARTYBOT_LANGUAGE", "fr", "invalid setting PARTYBOT_LANGUAGE:"),
        ("PARTYBOT_DATABASE_URL", "mysql://x", "invalid setting PARTYBOT_DATABASE_URL: must be"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org", "invalid setting TELEGRAM_API_BASE_URL:"),
        ("PARTYBOT_OPS_CHAT_ID", "abc", "invalid setting PARTYBOT_OPS_CHAT_ID:"),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message
    if variable == "TELEGRAM_BOT_TOKEN":
        assert value not in message
