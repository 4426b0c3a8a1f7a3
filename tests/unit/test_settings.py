"""Settings: parsing of ids, validation messages, and the token never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ-secret"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper() in {
            "BOT_TOKEN",
            "CHANNEL_ID",
            "EDITOR_IDS",
            "ADMIN_IDS",
            "DATABASE_PATH",
            "TELEGRAM_API_URL",
            "TIMEZONE",
            "LOG_LEVEL",
        }:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_comma_separated_and_json_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("CHANNEL_ID", "-1001234567890")
    monkeypatch.setenv("EDITOR_IDS", "111, 222")
    monkeypatch.setenv("ADMIN_IDS", "[333]")
    settings = load_settings()
    assert settings.editor_ids == [111, 222]
    assert settings.admin_ids == [333]
    assert settings.all_editor_ids == {111, 222, 333}
    assert settings.channel_chat_id == -1001234567890
    assert settings.timezone == "Asia/Almaty"
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CHANNEL_ID": "@news_channel"}, "BOT_TOKEN is not set"),
        ({"BOT_TOKEN": TOKEN}, "CHANNEL_ID is not set"),
        ({"BOT_TOKEN": "nonsense", "CHANNEL_ID": "@news_channel"}, "BOT_TOKEN is invalid"),
        ({"BOT_TOKEN": TOKEN, "CHANNEL_ID": "news"}, "CHANNEL_ID is invalid"),
        (
            {"BOT_TOKEN": TOKEN, "CHANNEL_ID": "@news_channel", "EDITOR_IDS": "1,abc"},
            "EDITOR_IDS is invalid",
        ),
        (
            {"BOT_TOKEN": TOKEN, "CHANNEL_ID": "@news_channel", "TIMEZONE": "Mars/Base"},
            "TIMEZONE is invalid",
        ),
    ],
)
def test_invalid_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
    assert TOKEN not in str(info.value)


def test_process_exits_with_one_line_and_no_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k.upper() not in {"BOT_TOKEN", "CHANNEL_ID"}}
    env.update(BOT_TOKEN="123456:short", CHANNEL_ID="@news_channel", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "Configuration error: BOT_TOKEN is invalid: does not look like a token "
        "from @BotFather (digits:letters)"
    ]
    assert "123456:short" not in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"), [("21:00", "21:00"), (" 7:05 ", "07:05"), ("", None)]
)
def test_digest_time(monkeypatch: pytest.MonkeyPatch, value: str, expected: str | None) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("CHANNEL_ID", "-1001234567890")
    monkeypatch.setenv("DIGEST_TIME", value)
    at = load_settings().digest_time
    assert (at.strftime("%H:%M") if at else None) == expected


@pytest.mark.parametrize("value", ["25:00", "9", "21:60", "evening"])
def test_bad_digest_time_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("CHANNEL_ID", "-1001234567890")
    monkeypatch.setenv("DIGEST_TIME", value)
    with pytest.raises(SettingsError, match="DIGEST_TIME is invalid: must be a time of day"):
        load_settings()
