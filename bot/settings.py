"""Settings from the environment or `.env` (pydantic-settings).

Missing or invalid settings end the process with one clear line per problem, every
problem at once, each naming its setting; the token must never be printed, so inputs
are hidden from validation errors and the token is a ``SecretStr``.
"""

from __future__ import annotations

import json
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.logs import TOKEN_PATTERN, LogFormat

_TOKEN_RE = re.compile(rf"^{TOKEN_PATTERN.pattern}$")
_CHANNEL_RE = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,20})$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Telegram's rule for setWebhook's secret_token.
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Anything shorter can be guessed by someone who knows the webhook's URL.
WEBHOOK_SECRET_MIN_CHARS = 32
_REDIS_URL_RE = re.compile(r"^(redis|rediss|unix)://\S+$")


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


def _database_url(value: Any) -> Any:
    """``postgresql://user:password@host:5432/dbname``, or None when empty."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        raise ValueError("must be a URL such as postgresql://user:password@host:5432/dbname")
    raw = raw.strip()
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(
            "is not a valid URL (expected postgresql://user:password@host:5432/dbname)"
        ) from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("must start with postgresql:// (only PostgreSQL is supported)")
    if not parts.hostname or not parts.path.strip("/"):
        raise ValueError("must name a host and a database: postgresql://user@host:5432/dbname")
    return SecretStr(raw)


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
    # postgresql://user:password@host:5432/dbname: when set, PostgreSQL instead of
    # DATABASE_PATH.  A secret (it holds a password): never logged or echoed in errors.
    database_url: SecretStr | None = None
    telegram_api_url: str | None = None
    # A self-hosted telegram-bot-api started with --local serves files from its disk.
    telegram_api_local: bool = False
    timezone: str = "Asia/Almaty"
    log_level: str = "INFO"
    # "json": one JSON object per log line (for a log collector); "text": for people.
    log_format: LogFormat = "text"
    language: str = "ru"
    poll_refresh_seconds: float = Field(default=3.0, gt=0, le=600)
    # Telegram's limits, kept as settings so a newsroom with a raised limit can use it.
    rate_global_per_second: float = Field(default=25.0, gt=0)
    rate_chat_per_second: float = Field(default=1.0, gt=0)
    rate_group_per_minute: float = Field(default=20.0, gt=0)
    request_retries: int = Field(default=5, ge=0, le=20)
    # Readers' updates handled at once (in the readers' update lane).  Under a storm of presses
    # aiogram otherwise starts every fetched update at once and the oldest press waits for
    # the whole backlog; a bound keeps answers in arrival order.  Measured before the
    # backlog existed (the latency bench, presses at half the floor's capacity, all updates
    # bounded alike): p95 0.12 s with 32, 0.73 s with 64, 2.4 s with 256 running at once;
    # handlers in flight only contend with each other.
    update_concurrency: int = Field(default=32, ge=1, le=1000)
    # Updates taken in beyond those running, waiting for a slot in arrival order
    # (the update lanes): an editor's update among them runs at once, in the desk's
    # own line, instead of after every reader's.  Polling stops fetching past the sum.
    # Polling confirms to Telegram only what it handled (bot/telegram/polling.py): at
    # shutdown, updates not finished within SHUTDOWN_GRACE_SECONDS are delivered again to
    # the next start, with those handled after them; so keep the backlog within what the
    # bot gets through in that time (a reader's full text takes its parts /
    # RATE_GLOBAL_PER_SECOND: 160 two-part texts at 25/s take 13 s; one account has at
    # most 6 in hand, bot/telegram/lanes.py).
    update_backlog: int = Field(default=128, ge=0, le=10_000)
    request_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    database_busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    # How long shutdown waits for the updates in hand before cancelling them; at least
    # one request's timeout, so an answer already on its way can arrive.
    shutdown_grace_seconds: float = Field(default=35.0, gt=0, le=600)
    # How readers get a full text: one rich message (Bot API 10.1), or split HTML
    # messages ("classic"); rich falls back to classic on a server without it.
    full_text_form: Literal["rich", "classic"] = "rich"

    # --- several instances: webhook and Redis ---------------------------------------------
    # Shared dialogs, event isolation, Telegram's limits and live-count gates.
    # A secret like the others: it may hold a password.
    redis_url: SecretStr | None = None
    # Keys in Redis start with this, so several bots (or tests) can share one server.
    redis_prefix: str = Field(default="newsroom", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    # Set: the bot receives updates at this URL (webhook mode); unset: long polling.
    webhook_url: str | None = None
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token; required in webhook mode.
    webhook_secret: SecretStr | None = None
    web_server_host: str = "127.0.0.1"
    web_server_port: int = Field(default=8080, ge=1, le=65535)
    # How long a handled update's id is remembered so a redelivery is not handled twice.
    webhook_dedupe_seconds: int = Field(default=86_400, ge=60, le=7 * 86_400)
    # The evening digest of the day's most read articles: HH:MM in TIMEZONE; off if unset.
    digest_time: time | None = None

    # --- monitoring ------------------------------------------------------------------------
    # Set: GET /metrics (Prometheus) and GET /healthz on METRICS_HOST:METRICS_PORT, in
    # polling and webhook mode alike; unset: no metrics are kept.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"

    # --- feeds: the site's RSS / Atom / JSON Feed becomes the desk's queue -----------------
    # Each feed is checked this often (at least 1 second, for tests).
    feed_interval_seconds: float = Field(default=300.0, ge=1, le=7 * 86_400)
    # Feeds on the newsroom's own network (loopback, private, link-local addresses) are
    # refused unless this is on: a feed URL must not reach into the bot's machine.
    feed_allow_private: bool = False
    # A feed, page or photo larger than this is cut (never read whole into memory).
    feed_max_bytes: int = Field(default=5_000_000, ge=1_000, le=100_000_000)
    # The newsroom's group: feed cards go there once instead of to every editor.
    desk_chat_id: int | None = None

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

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _blank_port_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("desk_chat_id", mode="before")
    @classmethod
    def _blank_desk_chat(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _check_redis_url(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or not str(raw).strip():
            return None
        if not _REDIS_URL_RE.match(str(raw).strip()):
            raise ValueError("must be a Redis URL such as redis://host:6379/0")
        return SecretStr(str(raw).strip())

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        secret = value.get_secret_value().strip()
        if not _WEBHOOK_SECRET_RE.match(secret) or len(secret) < WEBHOOK_SECRET_MIN_CHARS:
            raise ValueError(
                f"must be {WEBHOOK_SECRET_MIN_CHARS}-256 characters of A-Z, a-z, 0-9, _ and -; "
                "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return SecretStr(secret)

    @model_validator(mode="after")
    def _check_metrics_port(self) -> Settings:
        """Webhook mode serves on WEB_SERVER_PORT already: the metrics need a port of
        their own."""
        if self.webhook_url is not None and self.metrics_port == self.web_server_port:
            raise _setting_error(
                "metrics_port", "must differ from WEB_SERVER_PORT (the webhook listens there)"
            )
        return self

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        """The webhook URL is checked against TELEGRAM_API_URL: Telegram itself only
        delivers to HTTPS, a self-hosted Bot API server may deliver to plain HTTP."""
        if self.webhook_url is None:
            return self
        parsed = urlsplit(self.webhook_url)
        allowed = ("https", "http") if self.telegram_api_url else ("https",)
        if parsed.scheme not in allowed or not parsed.hostname or " " in self.webhook_url:
            raise _setting_error(
                "webhook_url",
                "is invalid: must be an https:// URL with a path, "
                "e.g. https://bot.example.org/telegram",
            )
        if self.webhook_secret is None:
            raise _setting_error("webhook_secret", "is not set (required when WEBHOOK_URL is set)")
        if self.database_url is not None and self.redis_url is None:
            raise _setting_error(
                "redis_url", "is not set (required when WEBHOOK_URL and DATABASE_URL are set)"
            )
        return self

    @property
    def webhook_path(self) -> str:
        """The path the web server answers Telegram on (that of WEBHOOK_URL)."""
        return urlsplit(self.webhook_url or "").path or "/"

    @field_validator("database_url", mode="before")
    @classmethod
    def _check_database_url(cls, value: Any) -> Any:
        return _database_url(value)

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
    def updates_in_hand(self) -> int:
        """How many updates polling takes in before it stops fetching."""
        return self.update_concurrency + self.update_backlog

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def secrets(self) -> list[str]:
        """Every secret value a setting holds (the token, passwords in URLs, the webhook
        secret): kept out of logs and admin reports."""
        found = [self.bot_token.get_secret_value()]
        if self.webhook_secret is not None:
            found.append(self.webhook_secret.get_secret_value())
        urls = [self.redis_url.get_secret_value() if self.redis_url else ""]
        if self.database_url is not None:
            urls.append(self.database_url.get_secret_value())
        found += [password for url in urls if (password := urlsplit(url).password)]
        return found

    @property
    def all_editor_ids(self) -> frozenset[int]:
        """Admins are editors too."""
        return frozenset(self.editor_ids) | frozenset(self.admin_ids)

    @property
    def channel_chat_id(self) -> int | str:
        return int(self.channel_id) if self.channel_id.lstrip("-").isdigit() else self.channel_id


class DatabaseSettings(BaseSettings):
    """Only the database settings, for commands that need no token
    (``python -m bot migrate-to-postgres``)."""

    model_config = Settings.model_config

    database_path: Path = Path("data/newsroom.sqlite3")
    database_url: SecretStr | None = None
    # The same settings as the bot's (``import-archive`` opens the stores as it does).
    database_busy_timeout_ms: int = Settings.model_fields["database_busy_timeout_ms"].default
    timezone: str = Settings.model_fields["timezone"].default

    @field_validator("database_url", mode="before")
    @classmethod
    def _check_database_url(cls, value: Any) -> Any:
        return _database_url(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        return Settings._check_timezone(value)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_S = TypeVar("_S", bound=BaseSettings)


class SettingsError(Exception):
    """Settings are missing or invalid: one line per problem, each naming its setting,
    all of them at once, so a newcomer fixes the whole ``.env`` in one go."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _CrossCheckError(ValueError):
    """A setting that is wrong only given another one: names the one to fix."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.name = name
        self.reason = reason


def _setting_error(name: str, reason: str) -> _CrossCheckError:
    return _CrossCheckError(name, reason)


def load_settings(**overrides: Any) -> Settings:
    return _load(Settings, overrides)


def load_database_settings(**overrides: Any) -> DatabaseSettings:
    return _load(DatabaseSettings, overrides)


def _load(kind: type[_S], overrides: dict[str, Any]) -> _S:
    try:
        return kind(**overrides)
    except ValidationError as exc:
        raise SettingsError([_problem(error) for error in exc.errors()]) from None


def _problem(error: ErrorDetails) -> str:
    """One line naming the setting and what is wrong with it (never its value)."""
    name = str(error["loc"][0]).upper() if error["loc"] else "settings"
    cross = (error.get("ctx") or {}).get("error")
    if isinstance(cross, _CrossCheckError):
        return f"{cross.name.upper()} {cross.reason}"
    if error["type"] == "missing":
        return f"{name} is not set (put it in the environment or in .env)"
    reason = str(error["msg"]).removeprefix("Value error, ")
    return f"{name} is invalid: {reason}"
