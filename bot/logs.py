"""Logging set-up with a filter that keeps the bot token out of every record."""

from __future__ import annotations

import logging
import re
import sys

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


def setup_logging(level: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every plugin it loads at INFO; its warnings and errors still show.
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
