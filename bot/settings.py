"""Settings from the environment or `.env` (pydantic-settings).

A missing or invalid setting must end the process with one clear line naming it; the
token must never be printed, so inputs are hidden from validation errors and the token
is a ``SecretStr``.
"""

from __future__ import annotations

import json
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
_CHANNEL_RE = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,20})$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _parse_id_list(value: Any) -> Any:
    """Accept ``111,222``, ``111 222``, a JSON list or an actual list."""
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return []
        if stripped.startswith("["):
            return json.loads(stripped)
        return [part for part in re.split(r"[,\s;]+", stripped) if part]
    if isinstance(value, int):
        return [value]
    return value


IdList = Annotated[list[int], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
        case_sensitive=False,
    )

    bot_token: SecretStr
    channel_id: str
    editor_ids: IdList = Field(default_factory=list)
    admin_ids: IdList = Field(default_factory=list)
    database_path: Path = Path("data/newsroom.sqlite3")
    telegram_api_url: str | None = None
    # A self-hosted telegram-bot-api started with --local serves files from its disk.
    telegram_api_local: bool = False
    timezone: str = "Asia/Almaty"
    log_level: str = "INFO"
    language: str = "ru"
    poll_refresh_seconds: float = Field(default=3.0, gt=0, le=600)
    # Telegram's limits, kept as settings so a newsroom with a raised limit can use it.
    rate_global_per_second: float = Field(default=25.0, gt=0)
    rate_chat_per_second: float = Field(default=1.0, gt=0)
    rate_group_per_minute: float = Field(default=20.0, gt=0)
    request_retries: int = Field(default=5, ge=0, le=20)
    # Updates handled at once by the polling loop (``start_polling(tasks_concurrency_limit=)``).
    # Under a storm of presses aiogram otherwise starts every fetched update at once and
    # the oldest press waits for the whole backlog; a bound keeps answers in arrival order.
    # Large enough that an editor's /publish is not stuck behind readers whose replies
    # wait for Telegram's send budget (bench/burst.py).
    update_concurrency: int = Field(default=256, ge=1, le=1000)
    request_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    database_busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    # How long shutdown waits for the updates in hand before cancelling them; at least
    # one request's timeout, so an answer already on its way can arrive.
    shutdown_grace_seconds: float = Field(default=35.0, gt=0, le=600)
    # The evening digest of the day's most read articles: HH:MM in TIMEZONE; off if unset.
    digest_time: time | None = None

    @field_validator("bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_RE.match(value.get_secret_value().strip()):
            raise ValueError("does not look like a token from @BotFather (digits:letters)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("channel_id")
    @classmethod
    def _check_channel(cls, value: str) -> str:
        value = value.strip()
        if not _CHANNEL_RE.match(value):
            raise ValueError("must be @channel_username or a numeric id starting with -100")
        return value

    @field_validator("editor_ids", "admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        try:
            return _parse_id_list(value)
        except json.JSONDecodeError as exc:
            raise ValueError("must be user ids separated by commas, e.g. 111,222") from exc

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone (expected e.g. Asia/Almaty)") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        upper = value.strip().upper()
        if upper not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return upper

    @field_validator("telegram_api_url")
    @classmethod
    def _check_api_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8081")
        return value

    @field_validator("digest_time", mode="before")
    @classmethod
    def _check_digest_time(cls, value: Any) -> Any:
        if value is None or isinstance(value, time):
            return value
        text = str(value).strip()
        if not text:
            return None
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
        if match is None:
            raise ValueError("must be a time of day as HH:MM, e.g. 21:00")
        return time(int(match[1]), int(match[2]))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def all_editor_ids(self) -> frozenset[int]:
        """Admins are editors too."""
        return frozenset(self.editor_ids) | frozenset(self.admin_ids)

    @property
    def channel_chat_id(self) -> int | str:
        return int(self.channel_id) if self.channel_id.lstrip("-").isdigit() else self.channel_id


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming it."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        if first["type"] == "missing":
            message = f"{name} is not set (put it in the environment or in .env)"
        else:
            reason = str(first["msg"]).removeprefix("Value error, ")
            message = f"{name} is invalid: {reason}"
        more = len(exc.errors()) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise SettingsError(message) from None
