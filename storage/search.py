"""Full-text search and related articles, with Russian stems, on either engine.

The index stores stems, never the raw text: ``storage.stemming`` turns "проспекта" into
"проспект" for documents and queries alike, so both engines find the same articles.
SQLite keeps them in an FTS5 table (``bm25``, its vocabulary for term counts);
PostgreSQL in a ``tsvector`` under the 'simple' configuration with a GIN index
(``ts_rank``, ``search_terms`` for term counts).  A query's stems reach the database as
a parameter: on SQLite each is quoted as an FTS5 string, on PostgreSQL they become a
tsquery through ``plainto_tsquery`` (every word) or the ``search_any`` aggregate (any
word), so nothing a reader types (``"*:()^-``, ``NEAR``, ``OR``, ``&|!``) is ever syntax.

Ranking over every match of a word found in most articles costs tens of milliseconds at
100,000 articles, so only a bounded set of candidates is ranked, the newest matches
(the index's key runs down and stops), which for news is also the set worth reading.
Title matches weigh four times a body match.

The queue (``search_pending``, filled by triggers) is taken with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several instances index different articles at once, and an
article changed while it is being indexed is queued again (the trigger's insert waits
for the indexer's commit).  SQLite's write transaction is exclusive already.  A search
sees what is published now: every list of headlines also says whether articles wait in
the queue, and if they do they are indexed and the search runs again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnClause,
    Float,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    column,
    delete,
    exists,
    func,
    insert,
    select,
    table,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import Headline
from storage.database import Database
from storage.rows import headline
from storage.searching import (
    CANDIDATES,
    HEADLINE,
    RELATED_TERMS,
    SHOWN,
    article_words,
    most_first,
    query_terms,
)
from storage.stemming import stemmed
from storage.tables import article_paragraphs, article_tags, articles, search_pending

# --- the queue and the documents: the same statements on both engines ------------------

_TAKE = (
    delete(search_pending)
    .where(
        search_pending.c.article_id.in_(
            select(search_pending.c.article_id)
            .order_by(search_pending.c.article_id)
            .limit(bindparam("batch"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .returning(search_pending.c.article_id)
)
_DUE = select(search_pending.c.article_id).limit(1)
# Asked alongside every list of headlines, so that knowing whether the index is current
# costs a search no statement of its own.
_WAITING = exists(_DUE).label("due")
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_ARTICLES = select(articles.c.id, articles.c.title, articles.c.summary).where(
    articles.c.id.in_(_IDS), SHOWN
)
_PARAGRAPHS = (
    select(article_paragraphs.c.article_id, article_paragraphs.c.body)
    .where(article_paragraphs.c.article_id.in_(_IDS))
    .order_by(article_paragraphs.c.article_id, article_paragraphs.c.position)
)
_TAGS = (
    select(article_tags.c.article_id, article_tags.c.tag)
    .where(article_tags.c.article_id.in_(_IDS))
    .order_by(article_tags.c.article_id, article_tags.c.position)
)

# Related by tags: the most tags in common, then the newest.
_mine, _other = article_tags.alias("mine"), article_tags.alias("other")
_shared = (
    select(_other.c.article_id.label("id"), func.count().label("n"))
    .select_from(
        _mine.join(
            _other,
            and_(_other.c.tag == _mine.c.tag, _other.c.article_id != _mine.c.article_id),
        )
    )
    .where(_mine.c.article_id == bindparam("article_id"))
    .group_by(_other.c.article_id)
    .cte("shared")
    .prefix_with("MATERIALIZED")
)
_RELATED_BY_TAGS = most_first(_shared, _WAITING)

# --- what the engines do differently, each engine in one place -------------------------


class _Document(NamedTuple):
    """An article as the index stores it: stems separated by spaces."""

    id: int
    title: str
    body: str


def _rows(key: str, documents: list[_Document]) -> list[dict[str, object]]:
    """Index rows, the article's id under the engine's name for it."""
    return [{key: d.id, "title": d.title, "body": d.body} for d in documents]


def _ranked_statement(hits_sql: str) -> Select[Any]:
    """Published articles among the candidates (``hits_sql``: ``id``, ``score``, lower is
    better), best first."""
    hits = (
        text(hits_sql)
        .columns(column("id", Integer), column("score", Float))
        .cte("hits")
        .prefix_with("MATERIALIZED")
    )
    return (
        select(*HEADLINE, _WAITING)
        .select_from(hits.join(articles, articles.c.id == hits.c.id))
        .where(SHOWN)
        .order_by(hits.c.score, articles.c.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _term_counts(term: ColumnClause[Any], count: ColumnClause[int]) -> Select[Any]:
    return select(term.label("term"), count.label("docs")).where(
        term.in_(bindparam("words", expanding=True)), count > 1
    )


@dataclass(frozen=True)
class _Engine:
    """What the engines do differently, and nothing else."""

    # Ranked matches of ``:query``, by "any word?" (else every word).
    ranked: dict[bool, Select[Any]]
    # An indexed article's stems (``:id``).
    document: Select[Any]
    # How many indexed articles have each of ``:words`` (when more than one).
    term_counts: Select[Any]
    # The ``:query`` of ``ranked`` for some stems.
    query: Callable[[list[str], bool], object]
    # The articles ``ids`` leave the index and the documents enter it.
    replace: Callable[[AsyncConnection, list[int], list[_Document]], Awaitable[None]]


# SQLite: an FTS5 table (the article's id is its rowid) and its vocabulary (made by the
# engine's own DDL, as is PostgreSQL's index, so not among the shared tables).
_fts = table("article_search", column("rowid", Integer), column("title"), column("body"))
_fts_vocabulary = table("article_search_terms", column("term"), column("doc", Integer))
_fts_hits = _ranked_statement(
    f"""
    SELECT rowid AS id, bm25(article_search, 4.0, 1.0) AS score
      FROM article_search WHERE article_search MATCH :query
     ORDER BY rowid DESC LIMIT {CANDIDATES}
    """
)
_FTS_REMOVE = delete(_fts).where(_fts.c.rowid.in_(_IDS))
_FTS_ADD = insert(_fts)


def quoted(term: str) -> str:
    """An FTS5 string: whatever is inside is a token to find, never an operator."""
    return '"' + term.replace('"', '""') + '"'


def _fts_query(terms: list[str], any_word: bool) -> str:
    return (" OR " if any_word else " AND ").join(quoted(term) for term in terms)


async def _fts_replace(conn: AsyncConnection, ids: list[int], documents: list[_Document]) -> None:
    await conn.execute(_FTS_REMOVE, {"ids": ids})
    if documents:
        await conn.execute(_FTS_ADD, _rows("rowid", documents))


SQLITE = _Engine(
    ranked={False: _fts_hits, True: _fts_hits},
    document=select(_fts.c.title, _fts.c.body).where(_fts.c.rowid == bindparam("id")),
    term_counts=_term_counts(_fts_vocabulary.c.term, _fts_vocabulary.c.doc),
    query=_fts_query,
    replace=_fts_replace,
)

# PostgreSQL: a tsvector of the stems (a generated column) and a table of per-term
# document counts kept here.  The stems (``:query``) become a tsquery of every word, or of
# any word (the ``search_any`` aggregate).
_tsv = table("article_search", column("article_id", Integer), column("title"), column("body"))
_tsv_terms = table("search_terms", column("term", Text), column("docs", Integer))
_ALL_WORDS = "plainto_tsquery('simple', array_to_string(CAST(:query AS text[]), ' '))"
_ANY_WORD = (
    "(SELECT search_any(plainto_tsquery('simple', t)) FROM unnest(CAST(:query AS text[])) t)"
)
# ts_rank's weights for {D, C, B, A}: the body is D, the title A.
_TS_WEIGHTS = "{0.25, 0.1, 0.2, 1.0}"


def _tsv_hits(tsquery: str) -> Select[Any]:
    return _ranked_statement(
        f"""
        WITH q AS MATERIALIZED (SELECT {tsquery} AS query)
        SELECT s.article_id AS id, -ts_rank('{_TS_WEIGHTS}', s.document, q.query) AS score
          FROM (SELECT s.article_id, s.document FROM article_search s, q
                 WHERE s.document @@ q.query
                 ORDER BY s.article_id DESC LIMIT {CANDIDATES}) AS s, q
        """
    )


_TSV_REMOVE = delete(_tsv).where(_tsv.c.article_id.in_(_IDS)).returning(_tsv.c.title, _tsv.c.body)
_TSV_ADD = insert(_tsv)
_changes = (
    func.unnest(
        bindparam("terms", type_=postgresql.ARRAY(Text)),
        bindparam("counts", type_=postgresql.ARRAY(Integer)),
    )
    .table_valued("term", "n")
    .render_derived(name="d")
)
_tsv_upsert = postgresql.insert(_tsv_terms)
_TSV_COUNT = _tsv_upsert.from_select(
    ["term", "docs"], select(_changes.c.term, _changes.c.n)
).on_conflict_do_update(
    index_elements=[_tsv_terms.c.term],
    set_={"docs": _tsv_terms.c.docs + _tsv_upsert.excluded.docs},
)


def _terms(title: str, body: str) -> set[str]:
    return {*title.split(), *body.split()}


async def _tsv_replace(conn: AsyncConnection, ids: list[int], documents: list[_Document]) -> None:
    delta: Counter[str] = Counter()
    for old in await conn.execute(_TSV_REMOVE, {"ids": ids}):
        delta.subtract(_terms(old.title, old.body))
    if documents:
        await conn.execute(_TSV_ADD, _rows("article_id", documents))
    for document in documents:
        delta.update(_terms(document.title, document.body))
    # Sorted, so two indexers touching the same terms lock them in the same order.
    changes = sorted((term, n) for term, n in delta.items() if n)
    if changes:
        await conn.execute(
            _TSV_COUNT, {"terms": [t for t, _ in changes], "counts": [n for _, n in changes]}
        )


POSTGRES = _Engine(
    ranked={False: _tsv_hits(_ALL_WORDS), True: _tsv_hits(_ANY_WORD)},
    document=select(_tsv.c.title, _tsv.c.body).where(_tsv.c.article_id == bindparam("id")),
    term_counts=_term_counts(_tsv_terms.c.term, _tsv_terms.c.docs),
    query=lambda terms, _any_word: terms,
    replace=_tsv_replace,
)


async def _documents(conn: AsyncConnection, ids: list[int]) -> list[_Document]:
    """The published ones among ``ids``, as the index stores them: the title, and the
    summary, the paragraphs and the tags as the body."""
    parts: defaultdict[int, list[str]] = defaultdict(list)
    for statement in (_PARAGRAPHS, _TAGS):
        for article_id, part in await conn.execute(statement, {"ids": ids}):
            parts[article_id].append(part)
    return [
        _Document(
            row.id,
            stemmed(row.title),
            stemmed("\n".join([*filter(None, [row.summary]), *parts[row.id]])),
        )
        for row in await conn.execute(_ARTICLES, {"ids": ids})
    ]


class _Read:
    """One read of the index, which notes whether any answer saw articles waiting to be
    indexed."""

    def __init__(self, db: Database, engine: _Engine) -> None:
        self.db = db
        self.engine = engine
        self.due: bool | None = None

    async def stale(self) -> bool:
        """Are articles waiting to be indexed?  Asked only if no answer told already."""
        if self.due is None:
            self.due = await self.db.row(_DUE) is not None
        return self.due

    async def headlines(self, statement: Select[Any], params: dict[str, Any]) -> list[Headline]:
        rows = await self.db.rows(statement, params)
        if rows:
            self.due = bool(rows[0]["due"])
        return [headline(row) for row in rows]

    async def ranked(
        self,
        terms: list[str],
        limit: int,
        *,
        any_word: bool = False,
        offset: int = 0,
        exclude: Collection[int] = (),
    ) -> list[Headline]:
        # Those excluded are dropped here: a list of parameters would cost the statement
        # more than the few more rows it reads.
        found = await self.headlines(
            self.engine.ranked[any_word],
            {
                "query": self.engine.query(terms, any_word),
                "limit": limit + len(exclude),
                "offset": offset,
            },
        )
        return [h for h in found if h.id not in exclude][:limit]

    async def rarest_terms(self, article_id: int) -> list[str]:
        """The article's rarest indexed words that another article has too."""
        document = await self.db.row(self.engine.document, {"id": article_id})
        if document is None:
            return []
        words = article_words(document)
        if not words:
            return []
        counts = await self.db.rows(self.engine.term_counts, {"words": words})
        ranked = sorted(counts, key=lambda r: (r["docs"], r["term"]))
        return [r["term"] for r in ranked[:RELATED_TERMS]]


class FullTextSearch:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._engine = POSTGRES if db.dialect == "postgresql" else SQLITE

    async def sync(self, batch: int = 500) -> int:
        total = 0
        while True:
            async with self._db.transaction() as conn:
                done = await self._index_pending(conn, batch)
            total += done
            if done < batch:
                return total

    async def _index_pending(self, conn: AsyncConnection, batch: int) -> int:
        """(Re)index up to ``batch`` queued articles; one no longer published only leaves
        the index.  Returns how many were taken."""
        ids = sorted((await conn.execute(_TAKE, {"batch": batch})).scalars())
        if ids:
            await self._engine.replace(conn, ids, await _documents(conn, ids))
        return len(ids)

    async def _fresh(self, work: Callable[[_Read], Awaitable[list[Headline]]]) -> list[Headline]:
        """``work``'s answer from an index that is current: when articles were waiting to
        be indexed, they are, and the work is done again."""
        read = _Read(self._db, self._engine)
        found = await work(read)
        if not await read.stale():
            return found
        await self.sync()
        return await work(_Read(self._db, self._engine))

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[Headline]:
        terms = query_terms(query)
        if not terms or limit <= 0:
            return []

        async def matching(read: _Read) -> list[Headline]:
            found = await read.ranked(terms, limit, offset=offset)
            if not found and len(terms) > 1 and offset == 0:
                # No article has every word: the ones with the most of them, best first.
                found = await read.ranked(terms, limit, any_word=True)
            return found

        return await self._fresh(matching)

    async def related(self, article_id: int, limit: int = 3) -> list[Headline]:
        if limit <= 0:
            return []

        async def others(read: _Read) -> list[Headline]:
            params = {"article_id": article_id, "limit": limit}
            found = await read.headlines(_RELATED_BY_TAGS, params)
            if len(found) < limit:
                terms = await read.rarest_terms(article_id)
                if terms:
                    exclude = {article_id, *(h.id for h in found)}
                    found += await read.ranked(
                        terms, limit - len(found), any_word=True, exclude=exclude
                    )
            return found

        return await self._fresh(others)
