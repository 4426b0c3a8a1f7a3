"""The editor's report of what a command did to an article: one template filled the same
way for publishing and withdrawal, so the placeholders mean the same in every text."""

from __future__ import annotations

from typing import Protocol

from bot.failures import Failure
from bot.models import Article
from bot.telegram_text.html import escaped_html
from bot.texts import Texts


class Reported(Protocol):
    """What a service's result tells about the article it acted on."""

    @property
    def article(self) -> Article | None: ...

    @property
    def link(self) -> str | None: ...

    @property
    def reason(self) -> Failure | None: ...


def report(template: str, result: Reported, article_id: int, texts: Texts, **extra: str) -> str:
    """``template`` (HTML-escaped) with {id}, {link}, {reason}, {status} and ``extra``."""
    status = texts.status_name(result.article.status) if result.article else ""
    return escaped_html(
        template,
        id=article_id,
        link=result.link or "",
        reason=texts.failure(result.reason),
        status=status,
        **extra,
    )
