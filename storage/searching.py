"""Search logic both engines share: the bounds, the headline columns, which stems of a
query count and which words of an article stand for it in "related"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, ColumnElement, Label, Select, bindparam, select

from bot.repositories import READABLE
from storage.rows import RowLike
from storage.stemming import stems
from storage.tables import article_paragraphs, articles

# How many of the newest matches are ranked by relevance.
CANDIDATES = 1000
# Words of a query beyond this are ignored: nobody types more, and each one costs a lookup.
MAX_QUERY_TERMS = 8
# Related by text: the article's rarest terms (found in at least one other article), from
# its title and the start of its body.
RELATED_TERMS = 8
RELATED_BODY_TERMS = 300

# What a reader may be shown: published by the bot, or archived from the outlet's site.
SHOWN: ColumnElement[bool] = articles.c.status.in_([status.value for status in READABLE])

_first_paragraph: Label[Any] = (
    select(article_paragraphs.c.body)
    .where(article_paragraphs.c.article_id == articles.c.id, article_paragraphs.c.position == 0)
    .scalar_subquery()
    .label("first_paragraph")
)

# The columns storage.rows.headline reads; the statement selects from ``articles``.
HEADLINE: tuple[ColumnElement[Any], ...] = (
    articles.c.id,
    articles.c.title,
    articles.c.summary,
    articles.c.published_at,
    articles.c.channel_chat_id,
    articles.c.channel_message_id,
    _first_paragraph,
)


def most_first(counted: CTE, *extra: ColumnElement[Any]) -> Select[Any]:
    """Headlines of the readable articles of ``counted`` (``id``, ``n``): the largest
    ``n`` first, then the newest; ``:limit`` of them."""
    return (
        select(*HEADLINE, *extra)
        .select_from(counted.join(articles, articles.c.id == counted.c.id))
        .where(SHOWN)
        .order_by(counted.c.n.desc(), articles.c.published_at.desc(), articles.c.id.desc())
        .limit(bindparam("limit"))
    )


def query_terms(query: str) -> list[str]:
    """The distinct stems of what a reader typed, at most MAX_QUERY_TERMS of them."""
    return list(dict.fromkeys(stems(query)))[:MAX_QUERY_TERMS]


def article_words(row: RowLike) -> list[str]:
    """The distinct indexed words of an article's title and the start of its body."""
    return list(dict.fromkeys([*row["title"].split(), *row["body"].split()[:RELATED_BODY_TERMS]]))
