"""Reader polls: options, one current vote per reader, counts, what the post shows.

A vote is an ``INSERT … ON CONFLICT (poll_id, reader_id) DO UPDATE`` guarded by the poll
being open under the very post that was pressed and the option existing; the per-option
counts move with the vote rows by triggers, inside the voting transaction.  Every vote
that changes a count bumps its poll's ``counts_version`` once: the refresher's cue that
the post is stale (``rendered_version`` is what the post shows).

Votes are group-committed: the presses that gather while one transaction runs share the
next, and each press is committed before its caller is answered.  A batch costs a fixed
handful of statements, however many presses it holds: one upsert of all its presses
(taken from one JSON parameter; a reader who pressed twice within the batch has the
second press in a second upsert, so that each ``RETURNING`` row names the press that
changed something), one version bump for all its polls, one read-back of its polls with
their counts.  Every press of a batch is answered from the counts the batch commits.
On PostgreSQL the batch first locks its polls' rows in id order (``FOR NO KEY UPDATE``):
votes on one poll, from any instance, take turns, so the option rows the triggers update
are never locked in opposite orders (no deadlocks), and a toast shows a state that was
really committed.  If a batch fails, its presses are applied again one by one, so that a
bad press spoils no other; ids beyond 64 bits are refused before they reach a batch.

SQLite's fast path
    Through SQLAlchemy and aiosqlite every statement is a hop to the connection's
    thread and back, and under a storm of presses a hop costs milliseconds: the thread
    needs the interpreter lock after each statement, and the busy event loop lets go of
    it only every few milliseconds (the switch interval).  A batch of a millisecond then
    took tens, and the presses waiting for it held their update slots that long.  So on
    SQLite the repository keeps a plain ``sqlite3`` connection of its own on the same
    file, used on the event loop's thread only, for this one statement group: it runs the
    same statements (compiled once from the same Core constructs, values through the
    columns' types, as the one-hop reads of ``storage.direct`` are) in one synchronous
    stretch, after ``BEGIN IMMEDIATE`` with ``busy_timeout`` 0.  It never waits for the
    write lock on the loop's thread (the transaction holding it may be one this very loop
    has to serve): when the lock is taken, or this process's own writer connection is
    out of its pool (its holder goes first, in its turn), the batch goes the normal way,
    through ``Database.transaction()``.  The loop is blocked for the batch itself and no longer
    (and, about once per 1,000 pages of log, for SQLite's automatic checkpoint).
    Measured with ``bench.votes`` (500 readers × 4 presses, medians of 3 rounds, on a
    shared 2-CPU machine, runs alternated with the code this replaced): the bot's clicks
    per second as a share of the bare aiogram floor's were 0.61-0.66 with every batch
    through SQLAlchemy, 0.86-0.94 with this path, 0.86-0.90 for the old code.  Alone, a
    batch of one press took 2.6 ms of CPU through SQLAlchemy and 0.4 ms here.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    BigInteger,
    Executable,
    Subquery,
    Text,
    bindparam,
    cast,
    event,
    exc,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import QueuePool

from bot.errors import StorageError
from bot.models import ArticleStatus, ChannelPost, Poll, PollSpec, VoteOutcome, VoteResult
from bot.repositories import POLL_ATTACHABLE
from storage import direct
from storage.batching import GroupCommit
from storage.database import Database, Dialect
from storage.ownership import claim_message
from storage.rows import RowLike, poll_from_row, utc_now, vote_result
from storage.tables import articles, poll_options, poll_votes, polls

T = TypeVar("T")

# What both engines store in an integer column.
INT64 = range(-(2**63), 2**63)

# --- reading polls ----------------------------------------------------------------------------

# A poll with its options in position order, one row per option.
_WITH_OPTIONS = (
    select(polls, poll_options.c.label, poll_options.c.votes)
    .select_from(polls.outerjoin(poll_options, poll_options.c.poll_id == polls.c.id))
    .order_by(polls.c.id, poll_options.c.position)
)
_BY_ID = _WITH_OPTIONS.where(polls.c.id == bindparam("poll_id"))
_BY_ARTICLE = _WITH_OPTIONS.where(polls.c.article_id == bindparam("article_id"))
_STALE = (
    select(polls.c.id)
    .where(
        polls.c.channel_message_id.is_not(None),
        polls.c.counts_version > polls.c.rendered_version,
    )
    .order_by(polls.c.id)
)


def _polls_from(rows: Sequence[RowLike]) -> dict[int, Poll]:
    """Rows of ``_WITH_OPTIONS`` (any number of polls) as polls, by id."""
    grouped: dict[int, tuple[RowLike, list[str], list[int]]] = {}
    for row in rows:
        _, labels, counts = grouped.setdefault(int(row["id"]), (row, [], []))
        if row["label"] is not None:
            labels.append(row["label"])
            counts.append(int(row["votes"]))
    return {
        poll_id: poll_from_row(row, tuple(labels), tuple(counts))
        for poll_id, (row, labels, counts) in grouped.items()
    }


# --- changing a poll ----------------------------------------------------------------------

_PENDING = polls.c.status == "pending"
_MARK_POSTED = (
    update(polls)
    .where(polls.c.id == bindparam("poll_id"), _PENDING)
    .values(
        status="open",
        send_uncertain=False,
        channel_chat_id=bindparam("chat_id"),
        channel_message_id=bindparam("message_id"),
    )
    .returning(polls.c.article_id)
)
_MARK_FAILED = (
    update(polls).where(polls.c.id == bindparam("poll_id"), _PENDING).values(status="failed")
)
_MARK_UNCERTAIN = (
    update(polls).where(polls.c.id == bindparam("poll_id"), _PENDING).values(send_uncertain=True)
)
_CLOSE = (
    update(polls)
    .where(polls.c.id == bindparam("poll_id"), polls.c.status.in_(("pending", "open")))
    .values(
        status="closed",
        closed_at=bindparam("now"),
        counts_version=polls.c.counts_version + 1,
    )
)
# The post shows the newest version any renderer got through (they may finish out of order).
_MARK_RENDERED = (
    update(polls)
    .where(polls.c.id == bindparam("poll_id"), polls.c.rendered_version < bindparam("version"))
    .values(rendered_version=bindparam("version"))
)

# --- creating a poll ----------------------------------------------------------------------

# The article is in one of the given states; on PostgreSQL its row stays locked against a
# claim until commit (SQLite's write transaction excludes every other writer anyway).
_ARTICLE_IN_STATE = exists(
    select(articles.c.id)
    .where(
        articles.c.id == bindparam("article_id"),
        articles.c.status.in_(bindparam("statuses", expanding=True)),
    )
    .with_for_update(key_share=True)
)
# An article has at most one poll: a new one replaces one not yet in the channel.
_DROP_UNPOSTED = polls.delete().where(
    polls.c.article_id == bindparam("article_id"), polls.c.channel_message_id.is_(None)
)
_NEW_POLL = select(
    bindparam("question", type_=Text),
    bindparam("intro", type_=Text),
    bindparam("article_id", type_=BigInteger),
    bindparam("created_by", type_=BigInteger),
    bindparam("created_at", type_=polls.c.created_at.type),
)
_POLL_COLUMNS = ("question", "intro", "article_id", "created_by", "created_at")
_INSERT_POLL = insert(polls).from_select(_POLL_COLUMNS, _NEW_POLL).returning(polls.c.id)
_DROP_UNPOSTED_IF = _DROP_UNPOSTED.where(_ARTICLE_IN_STATE)
_INSERT_POLL_IF = (
    insert(polls)
    .from_select(_POLL_COLUMNS, _NEW_POLL.where(_ARTICLE_IN_STATE))
    .returning(polls.c.id)
)
_INSERT_OPTIONS = insert(poll_options)


async def insert_poll(
    conn: AsyncConnection,
    db: Database,
    spec: PollSpec,
    created_by: int,
    *,
    article_id: int | None = None,
    only_if: tuple[ArticleStatus, ...] | None = None,
) -> int | None:
    """Insert a poll and its options inside the caller's transaction on ``db``; None when
    ``only_if`` is given and the article is not in one of those states at this moment
    (checked by the statements themselves).

    An article has at most one poll: a new one replaces one not yet in the channel.
    """
    del db  # one statement serves both engines
    guard: dict[str, Any] = {}
    if only_if is not None:
        guard = {"statuses": [status.value for status in only_if]}
    if article_id is not None:
        drop = _DROP_UNPOSTED_IF if guard else _DROP_UNPOSTED
        await conn.execute(drop, {"article_id": article_id, **guard})
    values = {
        "question": spec.question,
        "intro": spec.intro,
        "article_id": article_id,
        "created_by": created_by,
        "created_at": utc_now(),
    }
    poll_id = (
        await conn.execute(_INSERT_POLL_IF if guard else _INSERT_POLL, {**values, **guard})
    ).scalar()
    if poll_id is None:
        return None
    await conn.execute(
        _INSERT_OPTIONS,
        [
            {"poll_id": poll_id, "position": position, "label": label}
            for position, label in enumerate(spec.options)
        ],
    )
    return int(poll_id)


# --- voting -----------------------------------------------------------------------------------

# poll, reader, option position, the channel message pressed under
VoteArgs = tuple[int, int, int, int]
VoteRow = tuple[bool, Poll | None]  # changed, the poll with its counts after the batch
_FIELDS = ("poll_id", "reader_id", "position", "message_id")


def _presses(dialect: Dialect, name: str) -> Subquery:
    """The presses of a batch, from the JSON text ``[[poll, reader, position, message],
    …]`` bound as ``batch``: the one place where the engines spell a statement apart."""
    batch = bindparam("batch", type_=Text)
    elements = (
        func.jsonb_array_elements(cast(batch, JSONB))
        if dialect == "postgresql"
        else func.json_each(batch)
    ).table_valued("value")
    fields = [
        cast(elements.c.value.op("->>")(literal_column(str(index))), BigInteger).label(field)
        for index, field in enumerate(_FIELDS)
    ]
    return select(*fields).select_from(elements).subquery(name)


@dataclass(frozen=True)
class _VoteStatements:
    lock: Executable
    upsert: Executable
    bump: Executable
    read_back: Executable

    @classmethod
    def build(cls, dialect: Dialect) -> _VoteStatements:
        presses = _presses(dialect, "presses")
        lock = (
            select(polls.c.id)
            .where(polls.c.id.in_(select(presses.c.poll_id)))
            .order_by(polls.c.id)
            .with_for_update(key_share=True)  # SQLAlchemy spells FOR NO KEY UPDATE so
        )
        # One current vote per (poll, reader): insert, or move it to another option;
        # nothing when the poll is closed, the option does not exist, the press came from
        # another message, or it is the same option again.
        chosen = select(
            presses.c.poll_id,
            presses.c.reader_id,
            presses.c.position,
            bindparam("now", type_=poll_votes.c.voted_at.type),
        ).where(
            exists().where(
                polls.c.id == presses.c.poll_id,
                polls.c.status == "open",
                polls.c.channel_message_id == presses.c.message_id,
            ),
            exists().where(
                poll_options.c.poll_id == presses.c.poll_id,
                poll_options.c.position == presses.c.position,
            ),
        )
        new = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
            poll_votes
        ).from_select(["poll_id", "reader_id", "position", "voted_at"], chosen)
        upsert = new.on_conflict_do_update(
            index_elements=[poll_votes.c.poll_id, poll_votes.c.reader_id],
            set_={"position": new.excluded.position, "voted_at": new.excluded.voted_at},
            where=poll_votes.c.position != new.excluded.position,
        ).returning(poll_votes.c.poll_id, poll_votes.c.reader_id)
        # One bump per press that changed a count (the presses bound are those).
        changed = _presses(dialect, "changed")
        bump = (
            update(polls)
            .where(polls.c.id.in_(select(presses.c.poll_id)))
            .values(
                counts_version=polls.c.counts_version
                + select(func.count()).where(changed.c.poll_id == polls.c.id).scalar_subquery()
            )
        )
        read_back = _WITH_OPTIONS.where(polls.c.id.in_(select(presses.c.poll_id)))
        return cls(lock, upsert, bump, read_back)


_VOTES = {dialect: _VoteStatements.build(dialect) for dialect in ("sqlite", "postgresql")}


class _Run(Protocol):
    """Run one statement in the batch's transaction; its rows (none for a plain write)."""

    async def __call__(
        self, statement: Executable, params: dict[str, Any]
    ) -> Sequence[RowLike]: ...


def _through(conn: AsyncConnection) -> _Run:
    async def run(statement: Executable, params: dict[str, Any]) -> Sequence[RowLike]:
        result = await conn.execute(statement, params)
        return result.mappings().all() if result.returns_rows else ()

    return run


def _rounds(batch: Sequence[VoteArgs]) -> list[list[int]]:
    """The batch's presses (by index) in rounds where each reader of a poll appears at
    most once: a reader's n-th press of the batch is in round n, so their presses keep
    their order, and each row an upsert returns names one press."""
    seen: Counter[tuple[int, int]] = Counter()
    rounds: list[list[int]] = []
    for index, (poll_id, reader_id, _, _) in enumerate(batch):
        turn = seen[poll_id, reader_id]
        seen[poll_id, reader_id] += 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append(index)
    return rounds


async def _apply(
    run: _Run, dialect: Dialect, batch: Sequence[VoteArgs], now: datetime
) -> list[VoteRow]:
    """The presses of ``batch``, in order, inside an open write transaction."""
    statements = _VOTES[dialect]
    every = json.dumps(batch)
    if dialect == "postgresql":
        await run(statements.lock, {"batch": every})
    changed = [False] * len(batch)
    for indexes in _rounds(batch):
        presses = [batch[index] for index in indexes]
        rows = await run(statements.upsert, {"batch": json.dumps(presses), "now": now})
        moved = {(int(row["poll_id"]), int(row["reader_id"])) for row in rows}
        for index, (poll_id, reader_id, _, _) in zip(indexes, presses, strict=True):
            changed[index] = (poll_id, reader_id) in moved
    if any(changed):
        counted = [args for args, was in zip(batch, changed, strict=True) if was]
        await run(statements.bump, {"batch": json.dumps(counted)})
    found = _polls_from(await run(statements.read_back, {"batch": every}))
    return [(was, found.get(args[0])) for args, was in zip(batch, changed, strict=True)]


# --- SQLite's fast path ---------------------------------------------------------------------

# The vote statements as the fast path runs them, compiled once.
_COMPILED = direct.Statements()


def _finish_now(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends to its end, here and now."""
    try:
        work.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    work.close()
    raise RuntimeError("the fast path must not wait for anything")


def _one_vote_may_be_at_fault(error: Exception) -> bool:
    """A statement's error that one press's values may have caused, so the others are
    worth trying alone; not the database being away, locked or closed (then every press
    fails alike, and trying each alone only makes them all wait)."""
    away = (
        StorageError,
        exc.OperationalError,
        exc.InterfaceError,
        exc.InternalError,
        sqlite3.OperationalError,
        OSError,
        TimeoutError,
    )
    return not isinstance(error, away)


class _FastPath:
    """A plain ``sqlite3`` connection of the repository's own on the database file, used
    on the event loop's thread only, for vote batches, while nobody holds the write lock.
    """

    def __init__(self, path: str, synchronous: int) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        # Never wait for the write lock here: the loop may have to serve its holder.
        self._conn.execute("PRAGMA busy_timeout = 0")
        self._conn.execute(f"PRAGMA synchronous = {int(synchronous)}")
        self._conn.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        self._conn.close()

    async def _run(self, statement: Executable, params: dict[str, Any]) -> Sequence[RowLike]:
        prepared = _COMPILED.get(statement)
        assert prepared is not None, "a vote statement the one-hop path cannot take"
        return prepared.rows(self._conn.execute(prepared.sql, prepared.values(params)).fetchall())

    def apply(self, batch: Sequence[VoteArgs], now: datetime) -> list[VoteRow] | None:
        """The batch in one transaction, or None (nothing done) when the write lock is
        taken."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
                return None
            raise
        try:
            results = _finish_now(_apply(self._run, "sqlite", batch, now))
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return results


# --- the group commit -------------------------------------------------------------------------


class _VoteBatcher(GroupCommit[VoteArgs, VoteRow]):
    """Votes that arrive while a batch is being committed go into the next one; each is
    committed before its caller is answered, in arrival order."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db
        self._fast: _FastPath | None = None
        self._fast_ready = db.dialect == "sqlite" and db.where != ":memory:"

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._settle(batch)
            except BaseException:  # cancelled (a failed vote is its caller's exception)
                queued, self._queue = [*batch, *self._queue], []
                for _, future in queued:
                    future.cancel()
                raise

    async def _settle(self, batch: list[tuple[VoteArgs, asyncio.Future[VoteRow]]]) -> None:
        results: Sequence[VoteRow | Exception]
        try:
            results = await self._commit([args for args, _ in batch])
        except Exception as error:
            if len(batch) == 1 or not _one_vote_may_be_at_fault(error):
                # The database itself is away or locked: every press fails alike, at once.
                results = [error] * len(batch)
            else:
                # Nothing of the batch was committed: each press again, alone.
                results = [
                    error if future.done() else await self._alone(args) for args, future in batch
                ]
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller gave up
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _alone(self, args: VoteArgs) -> VoteRow | Exception:
        try:
            [result] = await self._commit([args])
        except Exception as error:
            return error
        return result

    async def _commit(self, batch: list[VoteArgs]) -> list[VoteRow]:
        now = utc_now()
        fast = await self._fast_path()
        if fast is None:
            async with self._db.transaction() as conn:
                return await _apply(_through(conn), self._db.dialect, batch, now)
        # While this process's writer connection is in its pool, nobody here can take it
        # before the batch is done: the batch does not let go of the loop.
        if not self._writer_taken():
            results = fast.apply(batch, now)
            if results is not None:
                return results
        # Its holder goes first, in its turn (a write of ours never waits in SQLite's busy
        # handler for a batch); holding it, only another process can have the lock.
        async with self._db.writer.connect() as held:
            results = fast.apply(batch, now)
            if results is not None:
                return results
            async with held.begin():  # waits for that process on the writer's thread
                return await _apply(_through(held), "sqlite", batch, now)

    def _writer_taken(self) -> bool:
        pool = self._db.writer.sync_engine.pool
        return not isinstance(pool, QueuePool) or pool.checkedout() > 0

    async def _fast_path(self) -> _FastPath | None:
        """Opened at the first vote, with the writer's own ``synchronous`` setting; closed
        with the database."""
        if self._fast is None and self._fast_ready:
            self._fast_ready = False
            async with self._db.transaction() as conn:
                synchronous = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one()
            self._fast = _FastPath(self._db.where, int(synchronous))
            event.listen(self._db.writer.sync_engine, "engine_disposed", self._close_fast)
        return self._fast

    def _close_fast(self, _: Engine) -> None:
        fast, self._fast = self._fast, None
        if fast is not None:
            fast.close()


# --- the repository ---------------------------------------------------------------------------


class PollRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._batcher = _VoteBatcher(db)

    async def get(self, poll_id: int) -> Poll | None:
        async with self._db.read() as conn:
            return await _get(conn, poll_id)

    async def for_article(self, article_id: int) -> Poll | None:
        async with self._db.read() as conn:
            rows = (await conn.execute(_BY_ARTICLE, {"article_id": article_id})).mappings()
            return next(iter(_polls_from(rows.all()).values()), None)

    async def create_standalone(self, spec: PollSpec, created_by: int) -> Poll:
        async with self._db.transaction() as conn:
            poll_id = await insert_poll(conn, self._db, spec, created_by)
            assert poll_id is not None
            poll = await _get(conn, poll_id)
        assert poll is not None
        return poll

    async def attach(self, spec: PollSpec, created_by: int, article_id: int) -> Poll | None:
        """A poll under an article's post; None unless the article is still in one of
        ``POLL_ATTACHABLE`` (checked in the statement that creates the poll)."""
        async with self._db.transaction() as conn:
            poll_id = await insert_poll(
                conn, self._db, spec, created_by, article_id=article_id, only_if=POLL_ATTACHABLE
            )
            return None if poll_id is None else await _get(conn, poll_id)

    async def vote(
        self, poll_id: int, reader_id: int, position: int, message_id: int
    ) -> VoteResult:
        """Record a press; returns once the vote is committed."""
        args = (poll_id, reader_id, position, message_id)
        if not all(value in INT64 for value in args):
            raise OverflowError("a vote's id is out of the database's integer range")
        changed, poll = await self._batcher.submit(args)
        if poll is None:
            return VoteResult(VoteOutcome.UNKNOWN, None)
        return vote_result(changed, poll, position, message_id)

    async def mark_posted(self, poll_id: int, post: ChannelPost) -> Poll | None:
        """Only a pending poll, with the message's claim in the same transaction: an
        article's poll shares its article's post, a poll of its own needs a message
        nobody else has (``MessageTaken`` otherwise, and nothing changed)."""
        async with self._db.transaction() as conn:
            posted = await conn.execute(
                _MARK_POSTED,
                {"poll_id": poll_id, "chat_id": post.chat_id, "message_id": post.message_id},
            )
            row = posted.first()
            if row is not None:
                article_id = row.article_id
                await claim_message(
                    conn,
                    self._db,
                    post.chat_id,
                    post.message_id,
                    article_id=article_id,
                    poll_id=None if article_id is not None else poll_id,
                )
            return await _get(conn, poll_id)

    async def mark_failed(self, poll_id: int) -> None:
        await self._write(_MARK_FAILED, {"poll_id": poll_id})

    async def mark_uncertain(self, poll_id: int) -> None:
        await self._write(_MARK_UNCERTAIN, {"poll_id": poll_id})

    async def close(self, poll_id: int) -> tuple[bool, Poll | None]:
        """Freeze the poll; (True, poll) when this call closed it."""
        async with self._db.transaction() as conn:
            closed = await conn.execute(_CLOSE, {"poll_id": poll_id, "now": utc_now()})
            return closed.rowcount > 0, await _get(conn, poll_id)

    async def mark_rendered(self, poll_id: int, version: int) -> None:
        await self._write(_MARK_RENDERED, {"poll_id": poll_id, "version": version})

    async def stale(self) -> list[int]:
        """Polls whose channel post lags behind their counts (e.g. after a restart)."""
        async with self._db.read() as conn:
            return [int(poll_id) for poll_id in (await conn.execute(_STALE)).scalars()]

    async def _write(self, statement: Executable, params: dict[str, Any]) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(statement, params)


async def _get(conn: AsyncConnection, poll_id: int) -> Poll | None:
    rows = (await conn.execute(_BY_ID, {"poll_id": poll_id})).mappings().all()
    return _polls_from(rows).get(poll_id)
