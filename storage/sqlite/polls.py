"""Reader polls: options, one current vote per reader, counts, what the post shows.

Votes are committed in groups (``VoteBatcher``): the presses that gather while one
``BEGIN IMMEDIATE … COMMIT`` is under way go into the next (a group takes about a
millisecond; it runs by ``Database.run_brief_transaction``).  Each press
is one UPSERT (guarded by the poll being open and under its own post, and the option
existing); then, once per poll of the group, the version bump that tells the refresher
the post is stale and the counts read back for the readers' toasts (kept per option by
triggers, see migration 0004).  Every vote is committed before its reader is answered.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from bot.models import ArticleStatus, Poll, PollSpec, VoteOutcome, VoteResult
from bot.repositories import POLL_ATTACHABLE
from storage.batching import GroupCommit
from storage.rows import iso_utc, poll_from_row, vote_result

from .db import Database, Transaction

# One current vote per (poll, reader): insert, or move it to another option; nothing
# when the poll is closed, the option does not exist, or it is the same option again.
_VOTE_SQL = """
    INSERT INTO poll_votes (poll_id, reader_id, position, voted_at)
    SELECT ?, ?, ?, ?
     WHERE EXISTS (SELECT 1 FROM polls
                    WHERE id = ? AND status = 'open' AND channel_message_id = ?)
       AND EXISTS (SELECT 1 FROM poll_options WHERE poll_id = ? AND position = ?)
    ON CONFLICT (poll_id, reader_id) DO UPDATE
       SET position = excluded.position, voted_at = excluded.voted_at
     WHERE poll_votes.position <> excluded.position
"""


# poll, reader, option position, the channel message pressed under
VoteArgs = tuple[int, int, int, int]
VoteRow = tuple[bool, sqlite3.Row | None, tuple[int, ...]]  # changed, poll row, counts
_VOTE_ERRORS = (sqlite3.Error, OverflowError, ValueError)
T = TypeVar("T")


def _upsert(conn: sqlite3.Connection, args: VoteArgs, now: str) -> bool:
    poll_id, reader_id, position, message_id = args
    params = (poll_id, reader_id, position, now, poll_id, message_id, poll_id, position)
    return bool(conn.execute(_VOTE_SQL, params).rowcount)


def _savepoint(conn: sqlite3.Connection, name: str, apply: Callable[[], T]) -> T | Exception:
    """``apply()`` under a savepoint: undone and returned if it fails with a vote's error.
    An error that ended the whole transaction (I/O, a full disk) is raised as itself."""
    conn.execute(f"SAVEPOINT {name}")
    try:
        result: T | Exception = apply()
    except _VOTE_ERRORS as exc:
        if not conn.in_transaction:
            raise
        conn.execute(f"ROLLBACK TO {name}")
        result = exc
    conn.execute(f"RELEASE {name}")
    return result


def _apply_batch(conn: sqlite3.Connection, batch: list[VoteArgs]) -> list[VoteRow | Exception]:
    """A batch of votes, inside the writer's open transaction.

    The presses are applied in order, then each poll's row and counts are read once: every
    vote of the batch is answered from the counts the batch commits (a reader who pressed
    twice within one batch sees their second choice counted in both toasts).  One bad vote
    (an id out of SQLite's range) spoils no other: the batch is then applied again with a
    savepoint per vote.
    """
    now = iso_utc()
    together = _savepoint(conn, "votes", lambda: [_upsert(conn, args, now) for args in batch])
    outcomes: list[bool] | list[bool | Exception] = (
        [_savepoint(conn, "vote", partial(_upsert, conn, args, now)) for args in batch]
        if isinstance(together, Exception)
        else together
    )
    changed = Counter(
        args[0] for args, outcome in zip(batch, outcomes, strict=True) if outcome is True
    )
    polls: dict[int, tuple[sqlite3.Row | None, tuple[int, ...]]] = {}
    for (poll_id, *_), outcome in zip(batch, outcomes, strict=True):
        if poll_id in polls or isinstance(outcome, Exception):
            continue
        if changed[poll_id]:
            conn.execute(
                "UPDATE polls SET counts_version = counts_version + ? WHERE id = ?",
                (changed[poll_id], poll_id),
            )
        row = conn.execute("SELECT * FROM polls WHERE id = ?", (poll_id,)).fetchone()
        counts = conn.execute(
            "SELECT votes FROM poll_options WHERE poll_id = ? ORDER BY position", (poll_id,)
        ).fetchall()
        polls[poll_id] = row, tuple(int(c[0]) for c in counts)
    return [
        outcome if isinstance(outcome, Exception) else (outcome, *polls[args[0]])
        for args, outcome in zip(batch, outcomes, strict=True)
    ]


class VoteBatcher(GroupCommit[VoteArgs, VoteRow]):
    """Group commit: votes that arrive while a commit is running go into the next one.

    Each vote is still committed before its caller is answered; under a burst, hundreds
    of presses share one transaction (and, when the writer is busy, one hop to its thread)
    instead of paying for their own.  Votes are applied in arrival order.
    """

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []

            def work(
                conn: sqlite3.Connection,
                batch: list[tuple[VoteArgs, asyncio.Future[VoteRow]]] = batch,
            ) -> list[VoteRow | Exception]:
                return _apply_batch(conn, [args for args, _ in batch])

            try:
                results = await self._db.run_brief_transaction(work)
            except BaseException as exc:  # the whole batch was rolled back: nobody counted
                failure = exc if isinstance(exc, Exception) else asyncio.CancelledError()
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                if not isinstance(exc, Exception):
                    self._fail_queued(failure)
                    raise
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    def _fail_queued(self, failure: BaseException) -> None:
        queued, self._queue = self._queue, []
        for _, future in queued:
            if not future.done():
                future.set_exception(failure)


async def insert_poll(
    tx: Transaction,
    spec: PollSpec,
    created_by: int,
    *,
    article_id: int | None = None,
    only_if: tuple[ArticleStatus, ...] | None = None,
) -> int | None:
    """Insert a poll and its options; None when ``only_if`` is given and the article is
    not in one of those states at this moment (the check is part of the INSERT).

    An article has at most one poll: a new one replaces one not yet in the channel.
    """
    guard, guard_params = "", ()  # type: tuple[str, tuple[object, ...]]
    if only_if is not None:
        marks = ", ".join("?" for _ in only_if)
        guard = f" WHERE EXISTS (SELECT 1 FROM articles WHERE id = ? AND status IN ({marks}))"
        guard_params = (article_id, *(s.value for s in only_if))
    if article_id is not None:
        await tx.execute(
            "DELETE FROM polls WHERE article_id = ? AND channel_message_id IS NULL"
            + guard.replace("WHERE", "AND", 1),
            (article_id, *guard_params),
        )
    inserted = await tx.execute(
        "INSERT INTO polls (question, intro, article_id, created_by, created_at) "
        "SELECT ?, ?, ?, ?, ?" + guard,
        (spec.question, spec.intro, article_id, created_by, iso_utc(), *guard_params),
    )
    if not inserted:
        return None
    row = await tx.fetch_one("SELECT last_insert_rowid() AS id")
    assert row is not None
    poll_id = int(row["id"])
    await tx.execute_many(
        "INSERT INTO poll_options (poll_id, position, label) VALUES (?, ?, ?)",
        [(poll_id, i, label) for i, label in enumerate(spec.options)],
    )
    return poll_id


class PollRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._batcher = VoteBatcher(db)
        # Option labels never change once a poll exists: no need to read them per vote.
        self._labels: dict[int, tuple[str, ...]] = {}
        self._last_poll: tuple[sqlite3.Row | None, Poll | None] = (None, None)

    async def create_standalone(self, spec: PollSpec, created_by: int) -> Poll:
        async with self._db.transaction() as tx:
            poll_id = await insert_poll(tx, spec, created_by)
            assert poll_id is not None
            poll = await self._get(tx, poll_id)
        assert poll is not None
        return poll

    async def attach(self, spec: PollSpec, created_by: int, article_id: int) -> Poll | None:
        async with self._db.transaction() as tx:
            poll_id = await insert_poll(
                tx, spec, created_by, article_id=article_id, only_if=POLL_ATTACHABLE
            )
            return None if poll_id is None else await self._get(tx, poll_id)

    async def get(self, poll_id: int) -> Poll | None:
        async with self._db.transaction() as tx:
            return await self._get(tx, poll_id)

    async def for_article(self, article_id: int) -> Poll | None:
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("SELECT id FROM polls WHERE article_id = ?", (article_id,))
            return await self._get(tx, row["id"]) if row else None

    async def _get(self, tx: Transaction, poll_id: int) -> Poll | None:
        row = await tx.fetch_one("SELECT * FROM polls WHERE id = ?", (poll_id,))
        if row is None:
            return None
        options = await tx.fetch_all(
            "SELECT label, votes FROM poll_options WHERE poll_id = ? ORDER BY position",
            (poll_id,),
        )
        return poll_from_row(
            row, tuple(o["label"] for o in options), tuple(int(o["votes"]) for o in options)
        )

    async def vote(
        self, poll_id: int, reader_id: int, position: int, message_id: int
    ) -> VoteResult:
        """Record a press; returns once the vote is committed."""
        changed, row, counts = await self._batcher.submit(
            (poll_id, reader_id, position, message_id)
        )
        if row is None or not 0 <= position < len(counts):
            return VoteResult(VoteOutcome.UNKNOWN, None)
        labels = self._labels.get(poll_id)
        if labels is None:
            labels = await self._option_labels(poll_id)
            self._labels[poll_id] = labels
        # The votes of one batch share the poll's row: build the poll once for all of them.
        last_row, poll = self._last_poll
        if row is not last_row or poll is None:
            poll = poll_from_row(row, labels, counts)
            self._last_poll = row, poll
        return vote_result(changed, poll, position, message_id)

    async def _option_labels(self, poll_id: int) -> tuple[str, ...]:
        rows = await self._db.fetch_all(
            "SELECT label FROM poll_options WHERE poll_id = ? ORDER BY position", (poll_id,)
        )
        return tuple(str(r["label"]) for r in rows)

    async def mark_posted(self, poll_id: int, chat_id: str, message_id: int) -> Poll | None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE polls SET status = 'open', send_uncertain = 0, channel_chat_id = ?, "
                "channel_message_id = ? "
                "WHERE id = ? AND status = 'pending'",
                (chat_id, message_id, poll_id),
            )
            return await self._get(tx, poll_id)

    async def mark_failed(self, poll_id: int) -> None:
        await self._db.execute(
            "UPDATE polls SET status = 'failed' WHERE id = ? AND status = 'pending'", (poll_id,)
        )

    async def mark_uncertain(self, poll_id: int) -> None:
        await self._db.execute(
            "UPDATE polls SET send_uncertain = 1 WHERE id = ? AND status = 'pending'", (poll_id,)
        )

    async def close(self, poll_id: int) -> tuple[bool, Poll | None]:
        """Freeze the poll; (True, poll) when this call closed it."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE polls SET status = 'closed', closed_at = ?, "
                "counts_version = counts_version + 1 "
                "WHERE id = ? AND status IN ('pending', 'open')",
                (iso_utc(), poll_id),
            )
            return bool(changed), await self._get(tx, poll_id)

    async def mark_rendered(self, poll_id: int, version: int) -> None:
        await self._db.execute(
            "UPDATE polls SET rendered_version = MAX(rendered_version, ?) WHERE id = ?",
            (version, poll_id),
        )

    async def stale(self) -> list[int]:
        """Polls whose channel post lags behind their counts (e.g. after a restart)."""
        rows = await self._db.fetch_all(
            "SELECT id FROM polls WHERE channel_message_id IS NOT NULL "
            "AND counts_version > rendered_version ORDER BY id"
        )
        return [int(row["id"]) for row in rows]
