"""Search logic both backends share: the bounds, the headline columns, which stems of a
query count and which words of an article stand for it in "related"."""

from __future__ import annotations

from storage.rows import RowLike
from storage.stemming import stems

# How many of the newest matches are ranked by relevance.
CANDIDATES = 1000
# Words of a query beyond this are ignored: nobody types more, and each one costs a lookup.
MAX_QUERY_TERMS = 8
# Related by text: the article's rarest terms (found in at least one other article), from
# its title and the start of its body.
RELATED_TERMS = 8
RELATED_BODY_TERMS = 300

# The columns storage.rows.headline reads (``a`` is the article).
HEADLINE_COLUMNS = """
    a.id, a.title, a.summary, a.published_at, a.channel_chat_id, a.channel_message_id,
    (SELECT p.body FROM article_paragraphs p
      WHERE p.article_id = a.id AND p.position = 0) AS first_paragraph
"""


def query_terms(query: str) -> list[str]:
    """The distinct stems of what a reader typed, at most MAX_QUERY_TERMS of them."""
    return list(dict.fromkeys(stems(query)))[:MAX_QUERY_TERMS]


def article_words(row: RowLike) -> list[str]:
    """The distinct indexed words of an article's title and the start of its body."""
    return list(dict.fromkeys([*row["title"].split(), *row["body"].split()[:RELATED_BODY_TERMS]]))
