"""Full-text search and related articles on PostgreSQL: the contract of
storage/sqlite/search.py, with a tsvector and a GIN index instead of FTS5.

Documents and queries are stemmed in Python (``storage/stemming.py``) exactly as on
SQLite, and the index keeps the stems under the 'simple' configuration, so both backends
find the same articles.  A query's stems reach PostgreSQL as parameters and become a
tsquery through ``plainto_tsquery`` (every word) or the ``search_any`` aggregate of
migration 0008 (any word): nothing a reader types is ever tsquery syntax or SQL.

Ranking: ``ts_rank`` reads each match's tsvector, so only a bounded set of candidates is
ranked, the newest matches (as on SQLite), title matches four times a body match.

The queue (search_pending, filled by triggers) is taken with ``FOR UPDATE SKIP LOCKED``,
so several instances index different articles at once, and an article changed while it
is being indexed is queued again (the trigger's insert waits for the indexer's commit).
"""

from __future__ import annotations

from collections import Counter

from bot.models import Headline
from storage.rows import headline
from storage.searching import (
    CANDIDATES,
    HEADLINE_COLUMNS,
    RELATED_TERMS,
    article_words,
    query_terms,
)
from storage.stemming import stemmed

from .db import Connection, Database

# ts_rank's weights for {D, C, B, A}: the body is D, the title A (4:1, as bm25's on SQLite).
_WEIGHTS = "{0.25, 0.1, 0.2, 1.0}"
# The two ways a list of stems ($1, text[]) becomes a tsquery.
ALL_WORDS = "plainto_tsquery('simple', array_to_string($1::text[], ' '))"
ANY_WORD = "(SELECT search_any(plainto_tsquery('simple', t)) FROM unnest($1::text[]) AS t)"

# Published and not withdrawn: what a reader may be shown.
VISIBLE = "a.status = 'published' AND a.withdrawn_at IS NULL"


def _terms(title: str, body: str) -> set[str]:
    return {*title.split(), *body.split()}


async def index_pending(conn: Connection, batch: int) -> int:
    """(Re)index up to ``batch`` queued articles; call inside a transaction.  An article
    that is no longer visible only leaves the index.  Returns how many were taken."""
    ids: list[int] = [
        row["article_id"]
        for row in await conn.fetch(
            """
            DELETE FROM search_pending WHERE article_id = ANY(ARRAY(
                SELECT article_id FROM search_pending ORDER BY article_id
                 LIMIT $1 FOR UPDATE SKIP LOCKED))
            RETURNING article_id
            """,
            batch,
        )
    ]
    if not ids:
        return 0
    delta: Counter[str] = Counter()
    for old in await conn.fetch(
        "DELETE FROM article_search WHERE article_id = ANY($1::bigint[]) RETURNING title, body",
        ids,
    ):
        delta.subtract(_terms(old["title"], old["body"]))
    rows = await conn.fetch(
        f"""
        SELECT a.id, a.title, a.summary,
               array_to_string(ARRAY(SELECT p.body FROM article_paragraphs p
                                      WHERE p.article_id = a.id ORDER BY p.position),
                               E'\\n') AS body,
               array_to_string(ARRAY(SELECT t.tag FROM article_tags t
                                      WHERE t.article_id = a.id ORDER BY t.position),
                               E'\\n') AS tags
          FROM articles a
         WHERE a.id = ANY($1::bigint[]) AND {VISIBLE}
        """,
        ids,
    )
    documents = [
        (
            row["id"],
            stemmed(row["title"]),
            stemmed("\n".join(p for p in (row["summary"], row["body"], row["tags"]) if p)),
        )
        for row in rows
    ]
    if documents:
        await conn.executemany(
            "INSERT INTO article_search (article_id, title, body) VALUES ($1, $2, $3)",
            documents,
        )
    for _, title, body in documents:
        delta.update(_terms(title, body))
    # Sorted, so two indexers touching the same terms lock them in the same order.
    changes = sorted((term, n) for term, n in delta.items() if n)
    if changes:
        await conn.execute(
            """
            INSERT INTO search_terms AS s (term, docs)
            SELECT term, n FROM unnest($1::text[], $2::int[]) AS d (term, n)
            ON CONFLICT (term) DO UPDATE SET docs = s.docs + excluded.docs
            """,
            [t for t, _ in changes],
            [n for _, n in changes],
        )
    return len(ids)


class PostgresSearchIndex:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def sync(self, batch: int = 500) -> int:
        total = 0
        while True:
            async with self._db.transaction() as conn:
                done = await index_pending(conn, batch)
            total += done
            if done < batch:
                return total

    async def _fresh(self) -> None:
        """Index whatever changed since the last look (one cheap read when nothing did)."""
        if await self._db.fetch_value("SELECT EXISTS (SELECT 1 FROM search_pending)"):
            await self.sync()

    async def _ranked(
        self,
        query: str,
        terms: list[str],
        limit: int,
        offset: int = 0,
        exclude: tuple[int, ...] = (),
    ) -> list[Headline]:
        """``query`` is ALL_WORDS or ANY_WORD, never user text; the terms are $1."""
        rows = await self._db.fetch_all(
            f"""
            WITH q AS MATERIALIZED (SELECT {query} AS query),
            hits AS MATERIALIZED (
                SELECT s.article_id AS id, ts_rank('{_WEIGHTS}', s.document, q.query) AS score
                  FROM (SELECT s.article_id, s.document FROM article_search s, q
                         WHERE s.document @@ q.query
                         ORDER BY s.article_id DESC LIMIT $2) AS s, q)
            SELECT {HEADLINE_COLUMNS}
              FROM hits JOIN articles a ON a.id = hits.id
             WHERE {VISIBLE} AND NOT (a.id = ANY($3::bigint[]))
             ORDER BY hits.score DESC, a.id DESC
             LIMIT $4 OFFSET $5
            """,
            terms,
            CANDIDATES,
            list(exclude),
            limit,
            offset,
        )
        return [headline(row) for row in rows]

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[Headline]:
        terms = query_terms(query)
        if not terms or limit <= 0:
            return []
        await self._fresh()
        found = await self._ranked(ALL_WORDS, terms, limit, offset)
        if not found and len(terms) > 1 and offset == 0:
            # No article has every word: the ones with the most of them, best first.
            found = await self._ranked(ANY_WORD, terms, limit)
        return found

    async def related(self, article_id: int, limit: int = 3) -> list[Headline]:
        if limit <= 0:
            return []
        await self._fresh()
        rows = await self._db.fetch_all(
            f"""
            WITH shared AS MATERIALIZED (
                SELECT other.article_id AS id, count(*) AS n
                  FROM article_tags mine
                  JOIN article_tags other
                    ON other.tag = mine.tag AND other.article_id <> mine.article_id
                 WHERE mine.article_id = $1
                 GROUP BY other.article_id)
            SELECT {HEADLINE_COLUMNS}
              FROM shared JOIN articles a ON a.id = shared.id
             WHERE {VISIBLE}
             ORDER BY shared.n DESC, a.published_at DESC, a.id DESC
             LIMIT $2
            """,
            article_id,
            limit,
        )
        found = [headline(row) for row in rows]
        if len(found) < limit:
            terms = await self._rarest_terms(article_id)
            if terms:
                exclude = (article_id, *(h.id for h in found))
                found += await self._ranked(ANY_WORD, terms, limit - len(found), exclude=exclude)
        return found

    async def _rarest_terms(self, article_id: int) -> list[str]:
        row = await self._db.fetch_one(
            "SELECT title, body FROM article_search WHERE article_id = $1", article_id
        )
        if row is None:
            return []
        words = article_words(row)
        if not words:
            return []
        counts = await self._db.fetch_all(
            "SELECT term, docs FROM search_terms WHERE term = ANY($1::text[]) AND docs > 1",
            words,
        )
        ranked = sorted(counts, key=lambda r: (r["docs"], r["term"]))
        return [r["term"] for r in ranked[:RELATED_TERMS]]
