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
            "REDIS_URL",
            "REDIS_PREFIX",
            "WEBHOOK_URL",
            "WEBHOOK_SECRET",
            "WEB_SERVER_HOST",
            "WEB_SERVER_PORT",
            "DATABASE_URL",
            "METRICS_PORT",
            "METRICS_HOST",
            "LOG_FORMAT",
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


def python(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter, as an operator starts the bot."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_process_exits_with_one_line_and_no_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k.upper() not in {"BOT_TOKEN", "CHANNEL_ID"}}
    env.update(BOT_TOKEN="123456:short", CHANNEL_ID="@news_channel", PYTHONPATH=str(ROOT))
    result = python(["-m", "bot"], env, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "Configuration error: BOT_TOKEN is invalid: does not look like a token "
        "from @BotFather (digits:letters)"
    ]
    assert "123456:short" not in result.stderr


def test_every_problem_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR_IDS", "1,abc")
    monkeypatch.setenv("WEBHOOK_SECRET", "has space")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.problems == [
        "BOT_TOKEN is not set (put it in the environment or in .env)",
        "CHANNEL_ID is not set (put it in the environment or in .env)",
        "EDITOR_IDS is invalid: Input should be a valid integer, "
        "unable to parse string as an integer",
        "WEBHOOK_SECRET is invalid: must be 32-256 characters of A-Z, a-z, 0-9, _ and -; "
        "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
    ]
    assert "has space" not in str(info.value)


def test_a_newcomer_without_env_reads_every_problem_one_line_each(tmp_path: Path) -> None:
    """No .env at all: both required settings are named, with a bad one, in one run."""
    unset = {"BOT_TOKEN", "CHANNEL_ID", "TIMEZONE"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in unset}
    env.update(TIMEZONE="Mars/Base", PYTHONPATH=str(ROOT))
    result = python(["-m", "bot"], env, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Configuration error: BOT_TOKEN is not set (put it in the environment or in .env)",
        "Configuration error: CHANNEL_ID is not set (put it in the environment or in .env)",
        "Configuration error: TIMEZONE is invalid: unknown time zone (expected e.g. Asia/Almaty)",
    ]
    assert "Traceback" not in result.stderr


def test_a_configuration_error_is_told_before_the_bot_is_loaded(tmp_path: Path) -> None:
    """Settings are checked before aiogram and the bot are imported (seconds on a small
    machine): an operator's typo is answered at once."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in {"BOT_TOKEN", "CHANNEL_ID"}}
    env.update(PYTHONPATH=str(ROOT))
    script = "import sys; from bot.cli import main; code = main([]); "
    script += "print(sorted({m.split('.')[0] for m in sys.modules} & {'aiogram', 'sqlalchemy'})); "
    script += "sys.exit(code)"
    result = python(["-c", script], env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout.strip() == "[]"
    assert "BOT_TOKEN is not set" in result.stderr


BASE = {"BOT_TOKEN": TOKEN, "CHANNEL_ID": "@news_channel"}
SECRET = "s3cret_webhook-token-0123456789abcdef"


def test_long_polling_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.webhook_url is None
    assert settings.redis_url is None
    assert (settings.web_server_host, settings.web_server_port) == ("127.0.0.1", 8080)


def test_webhook_mode_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        **BASE,
        "WEBHOOK_URL": "https://bot.example.org/telegram/hook",
        "WEBHOOK_SECRET": SECRET,
        "REDIS_URL": "redis://redis:6379/0",
        "DATABASE_URL": "postgresql://newsroom:pw@postgres:5432/newsroom",
        "WEB_SERVER_HOST": "0.0.0.0",
        "WEB_SERVER_PORT": "8081",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.webhook_path == "/telegram/hook"
    assert settings.web_server_port == 8081
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == SECRET
    assert SECRET not in repr(settings)


def test_plain_http_webhook_only_with_own_api_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("WEBHOOK_URL", "http://10.0.0.5:9000/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("WEBHOOK_URL is invalid: must be an https:// URL")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081")
    assert load_settings().webhook_path == "/hook"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WEBHOOK_URL": "https://bot.example.org/hook"}, "WEBHOOK_SECRET is not set"),
        (
            {"WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": "has space"},
            "WEBHOOK_SECRET is invalid",
        ),
        (
            {"WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": "x" * 257},
            "WEBHOOK_SECRET is invalid",
        ),
        ({"WEBHOOK_URL": "ftp://bot.example.org/hook", "WEBHOOK_SECRET": SECRET}, "WEBHOOK_URL"),
        (
            {
                "WEBHOOK_URL": "https://bot.example.org/hook",
                "WEBHOOK_SECRET": SECRET,
                "DATABASE_URL": "postgresql://u:pw@db:5432/n",
            },
            "REDIS_URL is not set",
        ),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL is invalid"),
        (
            {"WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": "short_secret"},
            "WEBHOOK_SECRET is invalid: must be 32-256 characters",
        ),
        ({"WEB_SERVER_PORT": "70000"}, "WEB_SERVER_PORT is invalid"),
    ],
)
def test_webhook_and_redis_settings_are_checked(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in {**BASE, **env}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message
    assert "has space" not in message
    assert "pw@" not in message


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


def test_every_secret_a_setting_holds_is_known_for_redaction() -> None:
    settings = load_settings(
        bot_token=TOKEN,
        channel_id="@news_channel",
        database_url="postgresql://bot:pg-Pa55word@db:5432/newsroom",
        redis_url="redis://:redis-Pa55word@cache:6379/0",
        webhook_url="https://news.example.com/tg",
        webhook_secret="hook_secret-1-0123456789abcdefghijkl",
        _env_file=None,
    )
    assert set(settings.secrets) >= {
        TOKEN,
        "pg-Pa55word",
        "redis-Pa55word",
        "hook_secret-1-0123456789abcdefghijkl",
    }
    for secret in settings.secrets:
        assert secret not in repr(settings)


def test_a_short_webhook_secret_says_how_to_make_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "x" * 31)
    with pytest.raises(SettingsError, match=r"secrets\.token_urlsafe"):
        load_settings()


def test_metrics_are_off_unless_a_port_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("METRICS_PORT", "")
    settings = load_settings()
    assert (settings.metrics_port, settings.metrics_host) == (None, "127.0.0.1")
    assert settings.log_format == "text"
    monkeypatch.setenv("METRICS_PORT", "9101")
    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = load_settings()
    assert (settings.metrics_port, settings.log_format) == (9101, "json")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"METRICS_PORT": "70000"}, "METRICS_PORT is invalid"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT is invalid"),
        (
            {
                "WEBHOOK_URL": "https://bot.example.org/hook",
                "WEBHOOK_SECRET": SECRET,
                "WEB_SERVER_PORT": "9101",
                "METRICS_PORT": "9101",
            },
            "METRICS_PORT must differ from WEB_SERVER_PORT",
        ),
    ],
)
def test_bad_monitoring_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in {**BASE, **env}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert expected in str(info.value)
