"""Full-text search and related articles on SQLite FTS5, with Russian stems.

The index (migration 0008) stores stems, never the raw text: ``storage/stemming.py`` turns
"проспекта" into "проспект" for documents and queries alike.  A query is a list of stems,
each quoted as an FTS5 string, so nothing a reader types (``"*:()^-``, ``NEAR``, ``OR``) is
ever FTS5 syntax.

Ranking: ``bm25`` over every match of a word found in most articles costs tens of
milliseconds at 100,000 articles, so only a bounded set of candidates is ranked, the
newest matches (``ORDER BY rowid DESC LIMIT n`` runs down the index and stops), which
for news is also the set worth reading.
"""

from __future__ import annotations

import sqlite3

from bot.models import ArticleStatus, Headline
from storage.rows import headline
from storage.searching import (
    CANDIDATES,
    HEADLINE_COLUMNS,
    RELATED_TERMS,
    article_words,
    query_terms,
)
from storage.stemming import stemmed

from .db import Database

# Title matches weigh more than body matches.
_WEIGHTS = "4.0, 1.0"


def quoted(term: str) -> str:
    """An FTS5 string: whatever is inside is a token to find, never an operator."""
    return '"' + term.replace('"', '""') + '"'


def match_expression(terms: list[str], operator: str = "AND") -> str:
    return f" {operator} ".join(quoted(term) for term in terms)


def index_pending(conn: sqlite3.Connection, batch: int) -> int:
    """(Re)index up to ``batch`` queued articles in one write transaction; an article that
    is no longer published only leaves the index."""
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT article_id FROM search_pending ORDER BY article_id LIMIT ?", (batch,)
        )
    ]
    if not ids:
        return 0
    marks = ", ".join("?" for _ in ids)
    conn.execute(f"DELETE FROM article_search WHERE rowid IN ({marks})", ids)
    rows = conn.execute(
        f"""
        SELECT a.id, a.title, a.summary,
               (SELECT group_concat(body, char(10)) FROM
                  (SELECT p.body FROM article_paragraphs p
                    WHERE p.article_id = a.id ORDER BY p.position)) AS body,
               (SELECT group_concat(t.tag, char(10)) FROM article_tags t
                 WHERE t.article_id = a.id) AS tags
          FROM articles a
         WHERE a.id IN ({marks}) AND a.status = ? AND a.withdrawn_at IS NULL
        """,
        (*ids, ArticleStatus.PUBLISHED.value),
    ).fetchall()
    conn.executemany(
        "INSERT INTO article_search (rowid, title, body) VALUES (?, ?, ?)",
        [
            (
                row[0],
                stemmed(row[1]),
                stemmed("\n".join(part for part in (row[2], row[3], row[4]) if part)),
            )
            for row in rows
        ],
    )
    conn.execute(f"DELETE FROM search_pending WHERE article_id IN ({marks})", ids)
    return len(ids)


class SqliteSearchIndex:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def sync(self, batch: int = 500) -> int:
        total = 0
        while True:
            done = await self._db.run_transaction(lambda conn: index_pending(conn, batch))
            total += done
            if done < batch:
                return total

    async def _fresh(self) -> None:
        """Index whatever changed since the last look (one cheap read when nothing did)."""
        row = await self._db.fetch_one("SELECT EXISTS (SELECT 1 FROM search_pending) AS due")
        if row is not None and row["due"]:
            await self.sync()

    async def _ranked(
        self, match: str, limit: int, offset: int = 0, exclude: tuple[int, ...] = ()
    ) -> list[Headline]:
        skip = f"AND a.id NOT IN ({', '.join('?' for _ in exclude)})" if exclude else ""
        rows = await self._db.fetch_all(
            f"""
            WITH hits AS MATERIALIZED (
                SELECT rowid AS id, bm25(article_search, {_WEIGHTS}) AS score
                  FROM article_search WHERE article_search MATCH ?
                 ORDER BY rowid DESC LIMIT ?)
            SELECT {HEADLINE_COLUMNS}
              FROM hits JOIN articles a ON a.id = hits.id
             WHERE a.status = ? AND a.withdrawn_at IS NULL {skip}
             ORDER BY hits.score, a.id DESC
             LIMIT ? OFFSET ?
            """,
            (match, CANDIDATES, ArticleStatus.PUBLISHED.value, *exclude, limit, offset),
        )
        return [headline(row) for row in rows]

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[Headline]:
        terms = query_terms(query)
        if not terms or limit <= 0:
            return []
        await self._fresh()
        found = await self._ranked(match_expression(terms), limit, offset)
        if not found and len(terms) > 1 and offset == 0:
            # No article has every word: the ones with the most of them, best first.
            found = await self._ranked(match_expression(terms, "OR"), limit)
        return found

    async def related(self, article_id: int, limit: int = 3) -> list[Headline]:
        if limit <= 0:
            return []
        await self._fresh()
        rows = await self._db.fetch_all(
            f"""
            WITH shared AS MATERIALIZED (
                SELECT other.article_id AS id, COUNT(*) AS n
                  FROM article_tags mine
                  JOIN article_tags other
                    ON other.tag = mine.tag AND other.article_id <> mine.article_id
                 WHERE mine.article_id = ?
                 GROUP BY other.article_id)
            SELECT {HEADLINE_COLUMNS}
              FROM shared JOIN articles a ON a.id = shared.id
             WHERE a.status = ? AND a.withdrawn_at IS NULL
             ORDER BY shared.n DESC, a.published_at DESC, a.id DESC
             LIMIT ?
            """,
            (article_id, ArticleStatus.PUBLISHED.value, limit),
        )
        found = [headline(row) for row in rows]
        if len(found) < limit:
            terms = await self._rarest_terms(article_id)
            if terms:
                exclude = (article_id, *(h.id for h in found))
                found += await self._ranked(
                    match_expression(terms, "OR"), limit - len(found), exclude=exclude
                )
        return found

    async def _rarest_terms(self, article_id: int) -> list[str]:
        row = await self._db.fetch_one(
            "SELECT title, body FROM article_search WHERE rowid = ?", (article_id,)
        )
        if row is None:
            return []
        words = article_words(row)
        if not words:
            return []
        counts = await self._db.fetch_all(
            f"SELECT term, doc FROM article_search_terms WHERE term IN "
            f"({', '.join('?' for _ in words)}) AND doc > 1",
            words,
        )
        ranked = sorted(counts, key=lambda r: (r["doc"], r["term"]))
        return [r["term"] for r in ranked[:RELATED_TERMS]]
