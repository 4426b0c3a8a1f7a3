"""``python -m bot migrate-to-postgres``, end to end: a SQLite newsroom with the seed
article published, votes, reads, previews, a schedule and a dialog is copied into an
empty PostgreSQL database by the real command; the counts it prints match, every article
and poll reads back equal from PostgreSQL, new rows get fresh ids, and a second copy
is refused by the now non-empty target.  A file made before Alembic is brought up to
date on the way: its withdrawn articles arrive withdrawn, and only what is still
published is queued for the search index."""

from __future__ import annotations

import dataclasses
import io
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey
from pydantic import SecretStr

from bot.articles.parsing import parse_article
from bot.cli import TableProgress, main
from bot.models import Actor, ArticleContent, ArticleStatus, ChannelPost, PollSpec
from bot.repositories import DraftExtras, Revision
from storage import Stores, open_stores
from storage.transfer import TransferError, copy_sqlite_to_postgres
from tests.backends import StoreSettings

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "fixtures" / "seed_article.txt"
LEGACY_SQLITE = ROOT / "tests" / "data" / "legacy_schema" / "sqlite"


def run_cli(*args: str, cwd: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


DIGEST_DAY = date(2026, 5, 1)


async def _fill(lite: Stores) -> tuple[list[int], list[int]]:
    """A small newsroom; returns the article and poll ids."""
    seed = parse_article(SEED.read_text(encoding="utf-8"))
    assert seed.poll_question is not None
    extras = DraftExtras("photo-1", PollSpec(seed.poll_question, ("Да", "Нет")))
    published = await lite.articles.create(seed, 1001, extras)
    claimed = await lite.articles.claim(published.id)
    assert claimed is not None
    await lite.articles.mark_published(claimed.attempt, ChannelPost("-1001", 501))
    poll = await lite.polls.for_article(published.id)
    assert poll is not None
    await lite.polls.mark_posted(poll.id, ChannelPost("-1001", 502))
    for reader in range(30):
        await lite.polls.vote(poll.id, 5000 + reader, reader % 3 % 2, 502)
        await lite.articles.record_read(published.id, 5000 + reader % 7)
    draft = await lite.articles.create(ArticleContent("Черновик", ("Один.", "Два.")), 1002)
    await lite.articles.remember_preview(1002, 77, draft.id)
    await lite.articles.revise(
        draft.id,
        Revision(lambda old: dataclasses.replace(old, title="Черновик, правка"), Actor(1002)),
    )
    later = await lite.articles.create(ArticleContent("Позже", ("Текст.",), tags=("А",)), 1001)
    await lite.articles.schedule(later.id, datetime.now(UTC) + timedelta(days=1))
    standalone = await lite.polls.create_standalone(PollSpec("Вопрос?", ("А", "Б", "В")), 1003)
    await lite.polls.mark_posted(standalone.id, ChannelPost("-1001", 600))
    await lite.polls.vote(standalone.id, 42, 2, 600)
    await lite.polls.close(standalone.id)
    await lite.dialogs.set_state(StorageKey(bot_id=1, chat_id=1002, user_id=1002), "New:text")
    assert await lite.readership.claim_digest(DIGEST_DAY)
    await lite.readership.digest_posted(DIGEST_DAY, "-1001", 700)
    return [published.id, draft.id, later.id], [poll.id, standalone.id]


async def test_sqlite_newsroom_moves_to_postgres(tmp_path: Path, empty_pg_database: str) -> None:
    path = tmp_path / "newsroom.sqlite3"
    lite = await open_stores(StoreSettings(database_path=path))
    try:
        article_ids, poll_ids = await _fill(lite)
        articles = [await lite.articles.get(i) for i in article_ids]
        polls = [await lite.polls.get(i) for i in poll_ids]
    finally:
        await lite.close()

    result = run_cli(
        "migrate-to-postgres", "--sqlite", str(path), cwd=tmp_path, database_url=empty_pg_database
    )
    assert result.returncode == 0, result.stderr
    printed = {line.split()[0]: line.split()[-2:] for line in result.stdout.splitlines()[1:-1]}
    assert printed["articles"] == ["3", "3"]
    assert printed["poll_votes"] == ["31", "31"]
    assert printed["article_reads"] == ["7", "7"]
    assert printed["poll_options"] == ["5", "5"]
    assert printed["draft_previews"] == ["1", "1"]
    assert printed["dialog_states"] == ["1", "1"]
    assert printed["digests"] == ["1", "1"]
    assert printed["channel_messages"] == ["3", "3"]
    assert printed["article_versions"] == ["1", "1"]
    assert "every count matches" in result.stdout
    # Not a terminal here: the progress is plain lines on stderr, the last of each table
    # its whole count.
    progress = result.stderr.splitlines()
    assert "poll_votes: 31/31 rows" in progress
    assert "articles: 3/3 rows" in progress
    assert "\r" not in result.stderr

    pg = await open_stores(
        StoreSettings(database_path=path, database_url=SecretStr(empty_pg_database))
    )
    try:
        assert [await pg.articles.get(i) for i in article_ids] == articles
        assert [await pg.polls.get(i) for i in poll_ids] == polls
        assert await pg.articles.article_for_preview(1002, 77) == article_ids[1]
        [version] = await pg.articles.versions(article_ids[1])
        assert version.content == ArticleContent("Черновик", ("Один.", "Два."))
        assert version.editor_id == 1002
        key = StorageKey(bot_id=1, chat_id=1002, user_id=1002)
        assert await pg.dialogs.get_state(key) == "New:text"
        # The day's digest stays claimed; the published article is indexed for search.
        assert await pg.readership.claim_digest(DIGEST_DAY) is False
        assert articles[0] is not None
        found = await pg.search.search(articles[0].content.title)
        assert [h.id for h in found] == [article_ids[0]]
        # Identity sequences continue after the copied ids.
        fresh = await pg.articles.create(ArticleContent("Новая", ("Текст.",)), 1)
        assert fresh.id == max(article_ids) + 1
        fresh_poll = await pg.polls.create_standalone(PollSpec("Ещё?", ("Да", "Нет")), 1)
        assert fresh_poll.id == max(poll_ids) + 1
        # The counters rebuilt by the triggers go on counting.
        assert await pg.articles.record_read(article_ids[0], 9999) is True
        reread = await pg.articles.get(article_ids[0])
        assert reread is not None and articles[0] is not None
        assert reread.reads == articles[0].reads + 1
    finally:
        await pg.close()

    with pytest.raises(TransferError, match="not empty"):
        await copy_sqlite_to_postgres(path, empty_pg_database)


def test_missing_sqlite_file_or_url_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("DATABASE_PATH", raising=False)

    def run(database_url: str, *args: str) -> tuple[int, str]:
        monkeypatch.setenv("DATABASE_URL", database_url)
        code = main(["migrate-to-postgres", *args])
        return code, capsys.readouterr().err

    code, err = run("postgresql://postgres:secret-pw@127.0.0.1:1/x", "--sqlite", "nope.sqlite3")
    assert code == 2 and err.count("\n") == 1 and "no SQLite database" in err
    code, err = run("")
    assert code == 2 and "DATABASE_URL is not set" in err
    code, err = run("mysql://u:secret-pw@h/db")
    assert code == 2 and "DATABASE_URL is invalid" in err and "secret-pw" not in err


def _legacy_newsroom(path: Path) -> None:
    """A file as the release before Alembic left it (its nine scripts): a published
    article, a withdrawn one (still 'published', with withdrawn_at) and a draft."""
    conn = sqlite3.connect(path)
    try:
        for script in sorted(LEGACY_SQLITE.glob("*.sql")):
            conn.executescript(script.read_text(encoding="utf-8"))
        at = "2026-03-03T10:00:00+00:00"
        conn.executemany(
            "INSERT INTO articles (id, title, author_id, status, channel_chat_id, "
            "channel_message_id, published_at, withdrawn_at, created_at, updated_at) "
            "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
            [
                (1, "Уголь подорожал", "published", "-1001", 11, at, None, at, at),
                (2, "Снятая статья", "published", "-1001", 12, at, at, at, at),
                (4, "Черновик", "draft", None, None, None, None, at, at),
            ],
        )
        conn.executemany(
            "INSERT INTO article_paragraphs (article_id, position, body) VALUES (?, 0, ?)",
            [(1, "Цены на уголь выросли."), (2, "Текст снят."), (4, "Пока пусто.")],
        )
        conn.executemany(
            "INSERT INTO article_reads (article_id, reader_id, first_read_at) VALUES (?, ?, ?)",
            [(1, 7, at), (1, 8, at), (2, 7, at)],
        )
        conn.execute("UPDATE articles SET reads = 2 WHERE id = 1")
        conn.execute("UPDATE articles SET reads = 1 WHERE id = 2")
        conn.commit()
    finally:
        conn.close()


async def test_a_file_made_before_alembic_moves_too(
    tmp_path: Path, empty_pg_database: str
) -> None:
    path = tmp_path / "old.sqlite3"
    _legacy_newsroom(path)

    counts = await copy_sqlite_to_postgres(path, empty_pg_database)
    assert all(count.equal for count in counts), counts
    by_table = {count.table: count.target for count in counts}
    assert (by_table["articles"], by_table["article_reads"]) == (3, 3)
    assert by_table["articles.reads (sum)"] == 3

    pg = await open_stores(
        StoreSettings(database_path=path, database_url=SecretStr(empty_pg_database))
    )
    try:
        statuses = {i: a.status for i in (1, 2, 4) if (a := await pg.articles.get(i))}
        assert statuses == {
            1: ArticleStatus.PUBLISHED,
            2: ArticleStatus.WITHDRAWN,
            4: ArticleStatus.DRAFT,
        }
        withdrawn = await pg.articles.get(2)
        assert withdrawn is not None and withdrawn.reads == 1
        assert withdrawn.withdrawn_at == datetime(2026, 3, 3, 10, tzinfo=UTC)
        assert [h.id for h in await pg.search.search("уголь")] == [1]
        assert await pg.search.search("снятая") == []
        fresh = await pg.articles.create(ArticleContent("Новая", ("Текст.",)), 1)
        assert fresh.id == 5
    finally:
        await pg.close()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_per_table_on_a_terminal_and_plain_lines_elsewhere() -> None:
    def feed(progress: TableProgress) -> None:
        for table, done, total in [
            ("articles", 0, 12000),
            ("articles", 5000, 12000),
            ("articles", 10000, 12000),
            ("articles", 12000, 12000),
            ("digests", 0, 0),
            ("poll_votes", 0, 7),
            ("poll_votes", 7, 7),
        ]:
            progress(table, done, total)
        progress.close()

    log = io.StringIO()
    feed(TableProgress(log))
    assert log.getvalue().splitlines() == [
        "articles: 5000/12000 rows",
        "articles: 10000/12000 rows",
        "articles: 12000/12000 rows",
        "digests: 0/0 rows",
        "poll_votes: 7/7 rows",
    ]

    terminal = Terminal()
    feed(TableProgress(terminal))
    drawn = terminal.getvalue()
    assert "\r" in drawn  # redrawn in place
    finished = [line.rsplit("\r", 1)[-1] for line in drawn.split("\n") if line]
    assert len(finished) == 3  # one bar per table, left on screen
    assert finished[0].startswith("articles") and "12000/12000" in finished[0]
    assert "100%" in finished[0] and "7/7" in finished[2]
