"""Reader polls on PostgreSQL: the same contract as storage/sqlite/polls.py.

A vote is an ``INSERT … ON CONFLICT (poll_id, reader_id) DO UPDATE`` guarded by the poll
being open and the option existing; per-option counts move with the vote rows by the
trigger of migration 0004.  Every voting transaction first locks its polls' rows (in id
order), so votes on one poll, from any instance, take turns on it: the option rows the
triggers update are then never locked in opposite orders (no deadlocks), and the counts
a reader's toast shows are a state that really was committed.

Votes are group-committed: presses that arrive while a transaction is running go into
the next one.  If a batch fails, its votes are applied again one by one, so a bad vote
spoils no other.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.models import ArticleStatus, Poll, PollSpec, VoteOutcome, VoteResult
from bot.repositories import POLL_ATTACHABLE
from storage.batching import GroupCommit
from storage.rows import poll_from_row, utc_now, vote_result

from .db import Connection, Database, Record, changed

_LOCK_POLLS = "SELECT 1 FROM polls WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE"

# One current vote per (poll, reader); the version bump tells the refresher the post is
# stale.  Data-modifying CTEs always run to completion, referenced or not.
_VOTE_SQL = """
    WITH vote AS (
        INSERT INTO poll_votes (poll_id, reader_id, position, voted_at)
        SELECT $1::bigint, $2::bigint, $3::integer, $5::timestamptz
         WHERE EXISTS (SELECT 1 FROM polls
                        WHERE id = $1 AND status = 'open' AND channel_message_id = $4)
           AND EXISTS (SELECT 1 FROM poll_options WHERE poll_id = $1 AND position = $3)
        ON CONFLICT (poll_id, reader_id) DO UPDATE
           SET position = excluded.position, voted_at = excluded.voted_at
         WHERE poll_votes.position <> excluded.position
        RETURNING 1
    ), bump AS (
        UPDATE polls SET counts_version = counts_version + 1
         WHERE id = $1 AND EXISTS (SELECT 1 FROM vote)
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM vote)
"""

_POLL_SQL = """
    SELECT p.*,
           ARRAY(SELECT o.label FROM poll_options o
                  WHERE o.poll_id = p.id ORDER BY o.position) AS labels,
           ARRAY(SELECT o.votes FROM poll_options o
                  WHERE o.poll_id = p.id ORDER BY o.position) AS counts
      FROM polls p
"""

# poll, reader, option position, the channel message pressed under, time
VoteArgs = tuple[int, int, int, int, datetime]
VoteRow = tuple[bool, Record | None]  # changed, the poll with its counts after the vote


async def _apply_votes(db: Database, batch: list[VoteArgs]) -> list[VoteRow]:
    """The votes of ``batch`` in one transaction, in order."""
    async with db.transaction() as conn:
        await conn.execute(_LOCK_POLLS, sorted({args[0] for args in batch}))
        results: list[VoteRow] = []
        for args in batch:
            was_changed = bool(await conn.fetchval(_VOTE_SQL, *args))
            results.append(
                (was_changed, await conn.fetchrow(_POLL_SQL + " WHERE p.id = $1", args[0]))
            )
        return results


class VoteBatcher(GroupCommit[VoteArgs, VoteRow]):
    """Group commit: each vote is committed before its caller is answered, but votes
    that arrive together share one transaction."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._settle(batch)
            except BaseException as exc:
                failure = exc if isinstance(exc, Exception) else asyncio.CancelledError()
                for _, future in [*batch, *self._queue]:
                    if not future.done():
                        future.set_exception(failure)
                self._queue = []
                raise

    async def _settle(self, batch: list[tuple[VoteArgs, asyncio.Future[VoteRow]]]) -> None:
        try:
            results = await _apply_votes(self._db, [args for args, _ in batch])
        except Exception:
            if len(batch) == 1:
                raise
            # Nothing of the batch was committed: each vote again, alone.
            for args, future in batch:
                try:
                    [result] = await _apply_votes(self._db, [args])
                except Exception as exc:
                    if not future.done():
                        future.set_exception(exc)
                else:
                    if not future.done():
                        future.set_result(result)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


async def insert_poll(
    conn: Connection,
    spec: PollSpec,
    created_by: int,
    *,
    article_id: int | None = None,
    only_if: tuple[ArticleStatus, ...] | None = None,
) -> int | None:
    """Insert a poll and its options; None when ``only_if`` is given and the article is
    not in one of those states (checked, and the article row locked against a claim
    until commit, by the statements themselves).

    An article has at most one poll: a new one replaces one not yet in the channel.
    """
    guard, guard_args = "", ()  # type: tuple[str, tuple[object, ...]]
    if only_if is not None:
        guard = (
            " AND EXISTS (SELECT 1 FROM articles WHERE id = {a} "
            "AND status = ANY({s}::text[]) FOR NO KEY UPDATE)"
        )
        guard_args = ([s.value for s in only_if],)
    if article_id is not None:
        await conn.execute(
            "DELETE FROM polls WHERE article_id = $1 AND channel_message_id IS NULL"
            + guard.format(a="$1", s="$2"),
            article_id,
            *guard_args,
        )
    poll_id = await conn.fetchval(
        "INSERT INTO polls (question, intro, article_id, created_by, created_at) "
        "SELECT $1::text, $2::text, $3::bigint, $4::bigint, $5::timestamptz WHERE true"
        + guard.format(a="$3::bigint", s="$6")
        + " RETURNING id",
        spec.question,
        spec.intro,
        article_id,
        created_by,
        utc_now(),
        *guard_args,
    )
    if poll_id is None:
        return None
    await conn.execute(
        "INSERT INTO poll_options (poll_id, position, label) "
        "SELECT $1, n - 1, label FROM unnest($2::text[]) WITH ORDINALITY AS u(label, n)",
        poll_id,
        list(spec.options),
    )
    return int(poll_id)


def _poll_from(row: Record) -> Poll:
    return poll_from_row(row, tuple(row["labels"]), tuple(int(c) for c in row["counts"]))


class PollRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._batcher = VoteBatcher(db)

    @staticmethod
    async def _get(conn: Connection, poll_id: int) -> Poll | None:
        row = await conn.fetchrow(_POLL_SQL + " WHERE p.id = $1", poll_id)
        return _poll_from(row) if row is not None else None

    async def get(self, poll_id: int) -> Poll | None:
        row = await self._db.fetch_one(_POLL_SQL + " WHERE p.id = $1", poll_id)
        return _poll_from(row) if row is not None else None

    async def for_article(self, article_id: int) -> Poll | None:
        row = await self._db.fetch_one(_POLL_SQL + " WHERE p.article_id = $1", article_id)
        return _poll_from(row) if row is not None else None

    async def create_standalone(self, spec: PollSpec, created_by: int) -> Poll:
        async with self._db.transaction() as conn:
            poll_id = await insert_poll(conn, spec, created_by)
            assert poll_id is not None
            poll = await self._get(conn, poll_id)
        assert poll is not None
        return poll

    async def attach(self, spec: PollSpec, created_by: int, article_id: int) -> Poll | None:
        """A poll under an article's post; None unless the article is still in one of
        ``POLL_ATTACHABLE`` (checked in the statement that creates the poll)."""
        async with self._db.transaction() as conn:
            poll_id = await insert_poll(
                conn, spec, created_by, article_id=article_id, only_if=POLL_ATTACHABLE
            )
            return None if poll_id is None else await self._get(conn, poll_id)

    async def vote(
        self, poll_id: int, reader_id: int, position: int, message_id: int
    ) -> VoteResult:
        """Record a press; returns once the vote is committed."""
        was_changed, row = await self._batcher.submit(
            (poll_id, reader_id, position, message_id, utc_now())
        )
        if row is None:
            return VoteResult(VoteOutcome.UNKNOWN, None)
        return vote_result(was_changed, _poll_from(row), position, message_id)

    async def mark_posted(self, poll_id: int, chat_id: str, message_id: int) -> Poll | None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE polls SET status = 'open', send_uncertain = false, "
                "channel_chat_id = $1, channel_message_id = $2 "
                "WHERE id = $3 AND status = 'pending'",
                chat_id,
                message_id,
                poll_id,
            )
            return await self._get(conn, poll_id)

    async def mark_failed(self, poll_id: int) -> None:
        await self._db.execute(
            "UPDATE polls SET status = 'failed' WHERE id = $1 AND status = 'pending'", poll_id
        )

    async def mark_uncertain(self, poll_id: int) -> None:
        await self._db.execute(
            "UPDATE polls SET send_uncertain = true WHERE id = $1 AND status = 'pending'",
            poll_id,
        )

    async def close(self, poll_id: int) -> tuple[bool, Poll | None]:
        """Freeze the poll; (True, poll) when this call closed it."""
        async with self._db.transaction() as conn:
            status = await conn.execute(
                "UPDATE polls SET status = 'closed', closed_at = $1, "
                "counts_version = counts_version + 1 "
                "WHERE id = $2 AND status IN ('pending', 'open')",
                utc_now(),
                poll_id,
            )
            return changed(status) > 0, await self._get(conn, poll_id)

    async def mark_rendered(self, poll_id: int, version: int) -> None:
        await self._db.execute(
            "UPDATE polls SET rendered_version = greatest(rendered_version, $1) WHERE id = $2",
            version,
            poll_id,
        )

    async def stale(self) -> list[int]:
        """Polls whose channel post lags behind their counts (e.g. after a restart)."""
        rows = await self._db.fetch_all(
            "SELECT id FROM polls WHERE channel_message_id IS NOT NULL "
            "AND counts_version > rendered_version ORDER BY id"
        )
        return [int(row["id"]) for row in rows]
