"""UPDATE_CONCURRENCY: how many updates run at once; UPDATE_BACKLOG: how many more are
taken in, waiting their turn (an editor's among them runs at once)."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ-secret"
REQUIRED = {"bot_token": TOKEN, "channel_id": "@news_channel", "_env_file": None}


@pytest.fixture(autouse=True)
def no_env_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPDATE_CONCURRENCY", raising=False)
    monkeypatch.delenv("UPDATE_BACKLOG", raising=False)


def test_a_bounded_default() -> None:
    """Bounded (polling stops fetching when full), yet above the handful of updates that
    wait on Telegram's send budget in a reading burst."""
    assert 16 <= load_settings(**REQUIRED).update_concurrency <= 1000


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDATE_CONCURRENCY", "8")
    assert load_settings(**REQUIRED).update_concurrency == 8


@pytest.mark.parametrize("value", ["0", "-3", "many", "100000"])
def test_nonsense_names_the_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("UPDATE_CONCURRENCY", value)
    with pytest.raises(SettingsError) as info:
        load_settings(**REQUIRED)
    assert str(info.value).startswith("UPDATE_CONCURRENCY is invalid")
    assert TOKEN not in str(info.value)


def test_polling_takes_in_the_running_and_the_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDATE_CONCURRENCY", "8")
    monkeypatch.setenv("UPDATE_BACKLOG", "0")
    assert load_settings(**REQUIRED).updates_in_hand == 8
    monkeypatch.setenv("UPDATE_BACKLOG", "100")
    assert load_settings(**REQUIRED).updates_in_hand == 108


@pytest.mark.parametrize("value", ["-1", "lots", "100001"])
def test_nonsense_backlog_names_the_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("UPDATE_BACKLOG", value)
    with pytest.raises(SettingsError) as info:
        load_settings(**REQUIRED)
    assert str(info.value).startswith("UPDATE_BACKLOG is invalid")
