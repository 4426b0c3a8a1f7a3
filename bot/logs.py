"""Logging set-up with a filter that keeps the bot token out of every record; lines as
text (the default) or one JSON object each (``LOG_FORMAT=json``, for a log collector)."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["text", "json"]
# The update being handled by this task, if any: set by the dispatcher for the update's
# whole run, so every line logged while handling it (the errors router's too) names it.
current_update_id: ContextVar[int | None] = ContextVar("current_update_id", default=None)

REDACTED = "<token>"
# What a bot token looks like (digits:letters from @BotFather): the settings check it, and
# texts that may quote a request's address (an exception's message) lose any.
TOKEN_PATTERN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{20,}")


def redact_tokens(text: str) -> str:
    """``text`` with anything shaped like a bot token replaced."""
    return TOKEN_PATTERN.sub(REDACTED, text)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (and the secret half of a bot token) replaced."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, REDACTED)
        _, _, tail = secret.partition(":")
        if len(tail) >= 20:
            text = text.replace(tail, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Replace secrets in the rendered message (and traceback) of every record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def _clean(self, text: str) -> str:
        return redact(text, self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and
    ``update_id`` and ``exception`` when there are any.  It formats what ``RedactSecrets``
    left (that filter runs first, on the handler), so secrets are redacted alike."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        update_id = current_update_id.get()
        if update_id is not None:
            line["update_id"] = update_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def log_handler(
    secrets: list[str], log_format: LogFormat = "text", stream: TextIO | None = None
) -> logging.Handler:
    """A handler to ``stream`` (stderr) in ``log_format``, secrets redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    return handler


def setup_logging(level: str, secrets: list[str], log_format: LogFormat = "text") -> None:
    handler = log_handler(secrets, log_format)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every plugin it loads at INFO; its warnings and errors still show.
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
