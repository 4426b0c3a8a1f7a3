"""A SQLite file and a PostgreSQL database created by the releases before Alembic (all nine
numbered scripts) open with today's code without loss: every article, vote, read, dialog
and editor is kept, the withdrawn article becomes status 'withdrawn', the counts kept by
the old triggers stay exact and move with new votes and reads, search finds what was
published, and ids continue after the old ones.

The old database is built by the old scripts themselves and filled with raw SQL, as the
old code wrote it (ISO text times on SQLite; a draft first, then claimed and published).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from pydantic import SecretStr

from bot.errors import StorageError
from bot.models import (
    ActionRecord,
    Article,
    ArticleContent,
    ArticleStatus,
    EditorAction,
    PollSpec,
    PollStatus,
    StoredEditor,
    VoteOutcome,
)
from storage import Stores, migrations, open_stores
from storage.stemming import stemmed
from tests.backends import StoreSettings, raw

LEGACY = Path(__file__).parents[1] / "data" / "legacy_schema"
ENGINES = ("sqlite", "postgres")
T0 = datetime(2026, 4, 28, 9, 0, tzinfo=UTC)
CHANNEL = "@news"
DIALOG = StorageKey(bot_id=1, chat_id=42, user_id=42)
# Every table of the old schema (the engines' own index tables aside).
TABLES = (
    "articles",
    "article_paragraphs",
    "article_tags",
    "article_reads",
    "draft_previews",
    "polls",
    "poll_options",
    "poll_votes",
    "dialog_states",
    "digests",
    "desk_editors",
    "editor_actions",
    "post_reactions",
)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def scripts(engine: str) -> list[tuple[int, str, str]]:
    """The numbered scripts of one engine, in order: (number, file name, SQL)."""
    folder = LEGACY / ("postgres" if engine == "postgres" else "sqlite")
    return sorted(
        (int(path.name[:4]), path.name, path.read_text(encoding="utf-8"))
        for path in folder.glob("*.sql")
    )


class Legacy:
    """A connection to the old database, taking SQL with ``?`` placeholders."""

    engine: str

    async def run(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def table(self, name: str) -> list[dict[str, Any]]:
        """Every row of a table as a dict, in a stable order."""
        raise NotImplementedError

    async def migrate(self, upto: int) -> None:
        """The old scripts not run yet, up to number ``upto``, as the old code ran them."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


def _sqlite_value(value: Any) -> Any:
    """What the old SQLite code stored: ISO text for times, UTC for our own moments."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class SqliteLegacy(Legacy):
    path: Path
    done: int = 0
    engine: str = "sqlite"
    conn: sqlite3.Connection = field(init=False)

    def __post_init__(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA foreign_keys = ON")

    async def run(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, [_sqlite_value(a) for a in args]).fetchall()

    async def table(self, name: str) -> list[dict[str, Any]]:
        cursor = self.conn.execute(f"SELECT * FROM {name}")
        names = [column[0] for column in cursor.description]
        return sorted((dict(zip(names, row, strict=True)) for row in cursor), key=repr)

    async def migrate(self, upto: int) -> None:
        for number, _, script in scripts(self.engine):
            if self.done < number <= upto:
                self.conn.executescript(script)  # each sets PRAGMA user_version
                self.done = number

    async def close(self) -> None:
        self.conn.close()


@dataclass
class PostgresLegacy(Legacy):
    conn: asyncpg.Connection[asyncpg.Record]
    done: int = 0
    engine: str = "postgres"

    async def run(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        numbers = iter(range(1, len(args) + 1))
        statement = "".join(
            f"{part}${next(numbers)}" if i < len(args) else part
            for i, part in enumerate(sql.split("?"))
        )
        return [tuple(row) for row in await self.conn.fetch(statement, *args)]

    async def table(self, name: str) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(f"SELECT * FROM {name}")
        return sorted((dict(row) for row in rows), key=repr)

    async def migrate(self, upto: int) -> None:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for number, name, script in scripts(self.engine):
            if self.done < number <= upto:
                async with self.conn.transaction():
                    await self.conn.execute(script)
                    await self.conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        number,
                        name,
                    )
                self.done = number

    async def close(self) -> None:
        await self.conn.close()


@pytest.fixture(params=ENGINES)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSettings:
    """Where the old database is made; synchronous, so that a PostgreSQL database of its
    own is created outside the test's event loop."""
    path = tmp_path / "news.sqlite3"
    if request.param == "postgres":
        url: str = request.getfixturevalue("empty_pg_database")
        return StoreSettings(database_path=path, database_url=SecretStr(url))
    return StoreSettings(database_path=path)


async def connect(target: StoreSettings) -> Legacy:
    if target.database_url is None:
        return SqliteLegacy(target.database_path)
    url = target.database_url.get_secret_value()
    return PostgresLegacy(await asyncpg.connect(url, timeout=10))


@pytest.fixture
async def legacy(target: StoreSettings) -> AsyncIterator[Legacy]:
    """A connection to the old database (the scripts not run yet)."""
    old = await connect(target)
    try:
        yield old
    finally:
        await old.close()


# --- the old database's contents ------------------------------------------------------------


PUBLISHED = ArticleContent(
    title="Бюджет Казахстана утверждён",
    paragraphs=tuple(f"Абзац {i} о бюджете и расходах." for i in range(11)),
    summary="Главное о бюджете.",
    dateline="АСТАНА. 27 АПРЕЛЯ",
    source="KAZAKHSTAN TODAY",
    original_published_at=datetime(2026, 4, 27, 18, 5),  # noqa: DTZ001 - local, zone-less
    views=27061,
    photo_credit="Фото: Акорда",
    tags=("Экономика", "Бюджет"),
    poll_question="Хватит ли денег?",
    poll_intro="Опрос.",
)
INDEXED = ArticleContent(
    title="Новый мост через Иртыш",
    paragraphs=("Строительство моста завершено.",),
    tags=("Павлодар",),
)
WITHDRAWN = ArticleContent(
    title="Снятая новость о погоде", paragraphs=("Ошибочный прогноз погоды.",)
)
DRAFT = ArticleContent(title="Черновик", paragraphs=("Первый.", "Второй."), tags=("А", "Б"))
UNCERTAIN = ArticleContent(title="Неясная судьба", paragraphs=("Текст.",))
SCHEDULED = ArticleContent(title="Завтрашняя новость", paragraphs=("Утром.",))


@dataclass
class Old:
    """What the old database holds, as the new code must show it."""

    articles: dict[str, Article] = field(default_factory=dict)
    poll: int = 0
    closed_poll: int = 0
    uncertain_poll: int = 0
    deleted_poll: int = 0
    actions: list[EditorAction] = field(default_factory=list)


async def new_article(old: Legacy, content: ArticleContent, minute: int) -> Article:
    """A draft as the old ``create`` wrote it."""
    [(article_id,)] = await old.run(
        "INSERT INTO articles (title, summary, dateline, source, original_published_at,"
        " views, photo_file_id, photo_credit, poll_question, poll_intro, author_id,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        content.title,
        content.summary,
        content.dateline,
        content.source,
        content.original_published_at,
        content.views,
        "photo-file" if content.photo_credit else None,
        content.photo_credit,
        content.poll_question,
        content.poll_intro,
        7,
        at(minute),
        at(minute),
    )
    for position, body in enumerate(content.paragraphs):
        await old.run(
            "INSERT INTO article_paragraphs (article_id, position, body) VALUES (?, ?, ?)",
            article_id,
            position,
            body,
        )
    for position, tag in enumerate(content.tags):
        await old.run(
            "INSERT INTO article_tags (article_id, position, tag) VALUES (?, ?, ?)",
            article_id,
            position,
            tag,
        )
    return Article(
        id=article_id,
        content=content,
        author_id=7,
        status=ArticleStatus.DRAFT,
        created_at=at(minute),
        updated_at=at(minute),
        photo_file_id="photo-file" if content.photo_credit else None,
    )


async def claimed(old: Legacy, article: Article, minute: int) -> Article:
    await old.run(
        "UPDATE articles SET status = 'publishing', publish_attempt = publish_attempt + 1,"
        " claimed_at = ?, updated_at = ? WHERE id = ?",
        at(minute),
        at(minute),
        article.id,
    )
    return replace(
        article,
        status=ArticleStatus.PUBLISHING,
        publish_attempt=article.publish_attempt + 1,
        updated_at=at(minute),
    )


async def published(old: Legacy, article: Article, message_id: int, minute: int) -> Article:
    article = await claimed(old, article, minute)
    await old.run(
        "UPDATE articles SET status = 'published', channel_chat_id = ?,"
        " channel_message_id = ?, published_at = ?, updated_at = ? WHERE id = ?",
        CHANNEL,
        message_id,
        at(minute),
        at(minute),
        article.id,
    )
    return replace(
        article,
        status=ArticleStatus.PUBLISHED,
        channel_chat_id=CHANNEL,
        channel_message_id=message_id,
        published_at=at(minute),
        updated_at=at(minute),
    )


async def indexed_as_before(old: Legacy, article: Article) -> None:
    """What the old indexer left for an article it had indexed: its stems in the index,
    the article out of the queue."""
    content = article.content
    title = stemmed(content.title)
    body = stemmed(
        "\n".join(
            [
                *([content.summary] if content.summary else []),
                "\n".join(content.paragraphs),
                "\n".join(content.tags),
            ]
        )
    )
    if old.engine == "sqlite":
        await old.run(
            "INSERT INTO article_search (rowid, title, body) VALUES (?, ?, ?)",
            article.id,
            title,
            body,
        )
    else:
        await old.run(
            "INSERT INTO article_search (article_id, title, body) VALUES (?, ?, ?)",
            article.id,
            title,
            body,
        )
        for term in sorted(set(title.split()) | set(body.split())):
            await old.run(
                "INSERT INTO search_terms (term, docs) VALUES (?, 1)"
                " ON CONFLICT (term) DO UPDATE SET docs = search_terms.docs + 1",
                term,
            )
    await old.run("DELETE FROM search_pending WHERE article_id = ?", article.id)


async def new_poll(
    old: Legacy, question: str, labels: Sequence[str], article_id: int | None, minute: int
) -> int:
    [(poll_id,)] = await old.run(
        "INSERT INTO polls (question, intro, article_id, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        question,
        "Вступление." if article_id else None,
        article_id,
        7,
        at(minute),
    )
    for position, label in enumerate(labels):
        await old.run(
            "INSERT INTO poll_options (poll_id, position, label) VALUES (?, ?, ?)",
            poll_id,
            position,
            label,
        )
    return int(poll_id)


async def vote(old: Legacy, poll_id: int, reader: int, position: int, minute: int) -> None:
    """As the old ``vote`` did: one row per reader, moved on a change, the version bumped."""
    rows = await old.run(
        "SELECT position FROM poll_votes WHERE poll_id = ? AND reader_id = ?", poll_id, reader
    )
    if rows:
        await old.run(
            "UPDATE poll_votes SET position = ?, voted_at = ? WHERE poll_id = ? AND reader_id = ?",
            position,
            at(minute),
            poll_id,
            reader,
        )
    else:
        await old.run(
            "INSERT INTO poll_votes (poll_id, reader_id, position, voted_at) VALUES (?, ?, ?, ?)",
            poll_id,
            reader,
            position,
            at(minute),
        )
    await old.run("UPDATE polls SET counts_version = counts_version + 1 WHERE id = ?", poll_id)


async def action(
    old: Legacy,
    name: str,
    minute: int,
    editor: int | None,
    *,
    article_id: int | None = None,
    poll_id: int | None = None,
    detail: str | None = None,
) -> EditorAction:
    [(action_id,)] = await old.run(
        "INSERT INTO editor_actions (article_id, poll_id, editor_id, editor_name, action,"
        " detail, at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        article_id,
        poll_id,
        editor,
        "Айгерим" if editor else None,
        name,
        detail,
        at(minute),
    )
    return EditorAction(
        id=action_id,
        action=name,
        at=at(minute),
        editor_id=editor,
        editor_name="Айгерим" if editor else None,
        article_id=article_id,
        poll_id=poll_id,
        detail=detail,
    )


async def fill(old: Legacy) -> Old:
    """A newsroom's database as the old code left it."""
    made = Old()
    arts = made.articles
    arts["published"] = await published(old, await new_article(old, PUBLISHED, 0), 501, 10)
    arts["indexed"] = await published(old, await new_article(old, INDEXED, 1), 502, 11)
    await indexed_as_before(old, arts["indexed"])
    withdrawn = await published(old, await new_article(old, WITHDRAWN, 2), 503, 12)
    await old.run(
        "UPDATE articles SET withdrawn_at = ?, updated_at = ? WHERE id = ?",
        at(30),
        at(30),
        withdrawn.id,
    )
    arts["withdrawn"] = replace(
        withdrawn, status=ArticleStatus.WITHDRAWN, withdrawn_at=at(30), updated_at=at(30)
    )
    arts["draft"] = await new_article(old, DRAFT, 3)
    await old.run(
        "INSERT INTO draft_previews (chat_id, message_id, article_id) VALUES (?, ?, ?)",
        42,
        9000,
        arts["draft"].id,
    )
    uncertain = await claimed(old, await new_article(old, UNCERTAIN, 4), 13)
    await old.run(
        "UPDATE articles SET status = 'uncertain', failure_reason = ?, updated_at = ?"
        " WHERE id = ?",
        "no answer",
        at(14),
        uncertain.id,
    )
    arts["uncertain"] = replace(
        uncertain, status=ArticleStatus.UNCERTAIN, failure_reason="no answer", updated_at=at(14)
    )
    scheduled = await new_article(old, SCHEDULED, 5)
    await old.run(
        "UPDATE articles SET status = 'scheduled', scheduled_at = ?, updated_at = ? WHERE id = ?",
        at(24 * 60),
        at(15),
        scheduled.id,
    )
    arts["scheduled"] = replace(
        scheduled, status=ArticleStatus.SCHEDULED, scheduled_at=at(24 * 60), updated_at=at(15)
    )

    # Reads, counted by the old trigger.
    for article, readers in ((arts["published"], (100, 101, 102)), (withdrawn, (100,))):
        for reader in readers:
            await old.run(
                "INSERT INTO article_reads (article_id, reader_id, first_read_at)"
                " VALUES (?, ?, ?)",
                article.id,
                reader,
                at(20 + reader - 100),
            )
    arts["published"] = replace(arts["published"], reads=3)
    arts["withdrawn"] = replace(arts["withdrawn"], reads=1)

    # A poll under the published article: five readers, one of them changed their mind.
    made.deleted_poll = await new_poll(old, "Заменённый?", ("Да", "Нет"), arts["draft"].id, 6)
    await old.run("DELETE FROM polls WHERE id = ?", made.deleted_poll)  # replaced, never sent
    made.poll = await new_poll(old, "Хватит ли денег?", ("Да", "Нет", "Не знаю"), None, 7)
    await old.run(
        "UPDATE polls SET article_id = ?, status = 'open', channel_chat_id = ?,"
        " channel_message_id = ? WHERE id = ?",
        arts["published"].id,
        CHANNEL,
        601,
        made.poll,
    )
    for minute, (reader, position) in enumerate(((11, 0), (12, 0), (13, 1), (14, 2), (15, 0))):
        await vote(old, made.poll, reader, position, 40 + minute)
    await vote(old, made.poll, 15, 2, 50)  # counts (2, 1, 2), version 6
    await old.run("UPDATE polls SET rendered_version = 5 WHERE id = ?", made.poll)
    made.closed_poll = await new_poll(old, "Закрытый?", ("А", "Б"), None, 8)
    await old.run(
        "UPDATE polls SET status = 'open', channel_chat_id = ?, channel_message_id = ?"
        " WHERE id = ?",
        CHANNEL,
        602,
        made.closed_poll,
    )
    await vote(old, made.closed_poll, 11, 1, 60)
    await old.run(
        "UPDATE polls SET status = 'closed', closed_at = ?, rendered_version = 1 WHERE id = ?",
        at(61),
        made.closed_poll,
    )
    made.uncertain_poll = await new_poll(old, "Дошёл ли?", ("Да", "Нет"), None, 9)
    await old.run("UPDATE polls SET send_uncertain = ? WHERE id = ?", True, made.uncertain_poll)

    # A half-built article in an editor's dialog.
    await old.run(
        "INSERT INTO dialog_states (key, state, data, updated_at) VALUES (?, ?, ?, ?)",
        DefaultKeyBuilder(with_destiny=True).build(DIALOG),
        "NewArticle:text",
        json.dumps({"title": "Черновик", "paragraphs": ["а", "б"]}, ensure_ascii=False),
        at(70),
    )
    # The desk: an added editor, the history, reactions, a digest.
    await old.run(
        "INSERT INTO desk_editors (user_id, added_by, added_at) VALUES (?, ?, ?)", 777, 7, at(71)
    )
    article_id = arts["published"].id
    made.actions = [
        await action(old, "created", 0, 7, article_id=article_id),
        await action(old, "poll_attached", 7, 7, article_id=article_id, poll_id=made.poll),
        await action(old, "published", 10, None, article_id=article_id, detail="@news/501"),
    ]
    await action(old, "withdrawn", 30, 7, article_id=withdrawn.id)
    await old.run(
        "INSERT INTO post_reactions (chat, message_id, reactions, total, date)"
        " VALUES (?, ?, ?, ?, ?)",
        CHANNEL,
        501,
        json.dumps([["👍", 5], ["🔥", 2]], ensure_ascii=False),
        7,
        at(80),
    )
    await old.run(
        "INSERT INTO digests (day, claimed_at, chat_id, message_id) VALUES (?, ?, ?, ?)",
        date(2026, 4, 28),
        at(600),
        CHANNEL,
        700,
    )
    return made


async def contents(old: Legacy) -> dict[str, list[dict[str, Any]]]:
    return {name: await old.table(name) for name in TABLES}


# --- the tests -----------------------------------------------------------------------------


async def test_an_old_database_opens_without_loss(legacy: Legacy, target: StoreSettings) -> None:
    await legacy.migrate(upto=9)
    made = await fill(legacy)
    before = await contents(legacy)

    stores = await open_stores(target)
    try:
        await check_upgraded(stores, made)
        await check_still_working(stores, made)
    finally:
        await stores.close()

    # Row for row, what the old code wrote is still there: only the withdrawn article's
    # status changed, and what the new code did above.
    after = await contents(legacy)
    for name in TABLES:
        columns = list(before[name][0])
        kept = [{c: row[c] for c in columns} for row in after[name] if not is_new(name, row, made)]
        assert sorted(kept, key=repr) == expected_after(name, before[name], made), name


def is_new(name: str, row: dict[str, Any], made: Old) -> bool:
    """Written by ``check_still_working``."""
    last_article = max(a.id for a in made.articles.values())
    if name == "articles":
        return bool(row["id"] > last_article)
    if name in ("article_paragraphs", "article_tags"):
        return bool(row["article_id"] > last_article)
    if name == "article_reads":
        return bool(row["reader_id"] == 103)
    if name == "polls":
        return bool(row["id"] > made.uncertain_poll)
    if name == "poll_options":
        return bool(row["poll_id"] > made.uncertain_poll)
    if name == "poll_votes":  # one new vote, one moved
        return row["poll_id"] == made.poll and row["reader_id"] in (11, 16)
    if name == "editor_actions":
        return bool(row["action"] == "after the upgrade")
    return False


def expected_after(name: str, rows: list[dict[str, Any]], made: Old) -> list[dict[str, Any]]:
    """The old rows as they must be after the upgrade and ``check_still_working``."""
    arts = made.articles
    changes: dict[tuple[str, Any], dict[str, Any]] = {
        ("articles", arts["withdrawn"].id): {"status": "withdrawn"},
        ("articles", arts["published"].id): {"reads": 4},
        ("polls", made.poll): {"counts_version": 8},
        **{
            ("poll_options", (made.poll, position)): {"votes": votes}
            for position, votes in enumerate((1, 2, 3))
        },
    }
    result = []
    for row in rows:
        key: Any = (row["poll_id"], row["position"]) if name == "poll_options" else row.get("id")
        if name == "poll_votes" and row["poll_id"] == made.poll and row["reader_id"] == 11:
            continue
        result.append({**row, **changes.get((name, key), {})})
    return sorted(result, key=repr)


async def check_upgraded(stores: Stores, made: Old) -> None:
    arts = made.articles
    async with stores.db.read() as conn:
        stamped = (
            (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalars().all()
        )
    assert stamped == [migrations.newest_revision()]

    # Every article, field for field; the withdrawn one with its own status.
    for name, expected in arts.items():
        assert await stores.articles.get(expected.id) == expected, name
    assert [a.id for a in await stores.articles.latest_published(10)] == [
        arts["indexed"].id,
        arts["published"].id,
    ]
    unpublished = {a.id for a in await stores.articles.list_unpublished()}
    assert {arts["draft"].id, arts["uncertain"].id} <= unpublished
    assert arts["withdrawn"].id not in unpublished
    assert await stores.articles.list_scheduled() == [arts["scheduled"]]
    assert await stores.articles.next_scheduled_at() == at(24 * 60)
    assert await stores.articles.article_for_preview(42, 9000) == arts["draft"].id
    rows = await raw_rows(stores, "SELECT status FROM articles WHERE id = ?", arts["withdrawn"].id)
    assert rows == [("withdrawn",)]

    # Polls: counts kept by the old triggers, versions, statuses.
    poll = await stores.polls.get(made.poll)
    assert poll is not None
    assert (poll.options, poll.counts) == (("Да", "Нет", "Не знаю"), (2, 1, 2))
    assert (poll.counts_version, poll.rendered_version) == (6, 5)
    assert poll.status is PollStatus.OPEN and poll.article_id == arts["published"].id
    assert (poll.channel_chat_id, poll.channel_message_id) == (CHANNEL, 601)
    assert await stores.polls.for_article(arts["published"].id) == poll
    closed = await stores.polls.get(made.closed_poll)
    assert closed is not None and closed.status is PollStatus.CLOSED and closed.counts == (0, 1)
    pending = await stores.polls.get(made.uncertain_poll)
    assert pending is not None and pending.status is PollStatus.UNCERTAIN
    assert await stores.polls.get(made.deleted_poll) is None
    assert await stores.polls.stale() == [made.poll]  # version 6 shown as 5

    # The editor's dialog, the desk, the statistics.
    assert await stores.dialogs.get_state(DIALOG) == "NewArticle:text"
    assert await stores.dialogs.get_data(DIALOG) == {"title": "Черновик", "paragraphs": ["а", "б"]}
    assert await stores.desk.list_editors() == [StoredEditor(777, 7, at(71))]
    assert await stores.desk.editor_ids() == frozenset({777})
    assert await stores.desk.article_history(arts["published"].id) == made.actions
    reactions = await stores.desk.reactions(CHANNEL, 501)
    assert reactions is not None
    assert (reactions.counts, reactions.date) == ((("👍", 5), ("🔥", 2)), at(80))
    assert not await stores.readership.claim_digest(date(2026, 4, 28))  # posted already
    most_read = await stores.readership.most_read(T0, at(60))
    assert [(h.id, h.count) for h in most_read] == [(arts["published"].id, 3)]


async def check_still_working(stores: Stores, made: Old) -> None:
    arts = made.articles
    # New votes and reads move the counts: the triggers came through.
    one = await stores.polls.vote(made.poll, 16, 1, 601)
    assert one.outcome is VoteOutcome.RECORDED
    moved = await stores.polls.vote(made.poll, 11, 2, 601)
    assert moved.outcome is VoteOutcome.RECORDED
    poll = await stores.polls.get(made.poll)
    assert poll is not None and poll.counts == (1, 2, 3) and poll.counts_version == 8
    assert await stores.articles.record_read(arts["published"].id, 103)
    assert not await stores.articles.record_read(arts["published"].id, 100)
    article = await stores.articles.get(arts["published"].id)
    assert article is not None and article.reads == 4

    # Search: the article indexed by the old code is found as it was, the one still
    # queued once the index has caught up; the withdrawn one never.
    await stores.search.sync()
    assert [h.id for h in await stores.search.search("мост Иртыш")] == [arts["indexed"].id]
    assert [h.id for h in await stores.search.search("бюджет")] == [arts["published"].id]
    assert await stores.search.search("погода") == []
    related = await stores.search.related(arts["published"].id)
    assert arts["withdrawn"].id not in [h.id for h in related]

    # Ids continue after the old ones (a deleted poll's id is not given again).
    created = await stores.articles.create(DRAFT, 7)
    assert created.id > max(a.id for a in arts.values())
    fresh = await stores.polls.create_standalone(PollSpec("Новый?", ("Да", "Нет")), created_by=7)
    assert fresh.id > max(made.poll, made.closed_poll, made.uncertain_poll, made.deleted_poll)
    await stores.desk.record_action(
        ActionRecord("after the upgrade", 7, article_id=arts["published"].id)
    )
    history = await stores.desk.article_history(arts["published"].id)
    assert history[:-1] == made.actions
    assert history[-1].id > max(a.id for a in made.actions) + 1  # the withdrawal's too


async def raw_rows(stores: Stores, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    statement, params = raw(sql, args)
    async with stores.db.read() as conn:
        return [tuple(row) for row in (await conn.execute(statement, params)).all()]


async def test_reads_from_before_the_counter_are_counted(
    legacy: Legacy, target: StoreSettings
) -> None:
    """Reads recorded before script 6 added the counter: counted by it, kept by the
    upgrade, and the counter moves on."""
    await legacy.migrate(upto=5)
    first = await new_article(legacy, DRAFT, 0)
    second = await new_article(legacy, UNCERTAIN, 1)
    for article_id, reader in ((first.id, 10), (first.id, 11), (first.id, 12), (second.id, 10)):
        await legacy.run(
            "INSERT INTO article_reads (article_id, reader_id, first_read_at) VALUES (?, ?, ?)",
            article_id,
            reader,
            at(5),
        )
    await legacy.migrate(upto=9)
    stores = await open_stores(target)
    try:
        rows = await raw_rows(stores, "SELECT id, reads FROM articles ORDER BY id")
        assert rows == [(first.id, 3), (second.id, 1)]
        assert await stores.articles.record_read(second.id, 11)
        loaded = await stores.articles.get(second.id)
        assert loaded is not None and loaded.reads == 2
    finally:
        await stores.close()


async def test_an_old_articles_id_is_never_given_again(
    legacy: Legacy, target: StoreSettings
) -> None:
    """An article removed by hand from the old database: its id stays used (the history
    and the search index may still name it)."""
    await legacy.migrate(upto=9)
    kept = await new_article(legacy, DRAFT, 0)
    removed = await new_article(legacy, UNCERTAIN, 1)
    await legacy.run("DELETE FROM articles WHERE id = ?", removed.id)
    stores = await open_stores(target)
    try:
        created = await stores.articles.create(DRAFT, 7)
        assert created.id > removed.id > kept.id
    finally:
        await stores.close()


async def test_a_database_stopped_halfway_is_refused(
    legacy: Legacy, target: StoreSettings
) -> None:
    """Only the last old schema (9) is adopted: anything older is not guessed at."""
    await legacy.migrate(upto=8)
    with pytest.raises(StorageError) as raised:
        await open_stores(target)
    message = str(raised.value)
    assert "\n" not in message and "schema 8" in message
