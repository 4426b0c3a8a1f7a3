"""Reader polls: options, one current vote per reader, counts, what the post shows.

A vote is one ``BEGIN IMMEDIATE … COMMIT``: the UPSERT (guarded by the poll being
open and the option existing), the version bump that tells the refresher the post is
stale, and the counts read back for the reader's toast.  It is committed before the
caller answers the reader.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.models import Poll, PollStatus, VoteOutcome, VoteResult

from .db import Database, Transaction


def _now() -> str:
    return datetime.now(UTC).isoformat()


class PollRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        question: str,
        options: tuple[str, ...],
        created_by: int,
        *,
        intro: str | None = None,
        article_id: int | None = None,
    ) -> Poll:
        async with self._db.transaction() as tx:
            if article_id is not None:
                # An article has at most one poll: a new one replaces a pending one.
                await tx.execute(
                    "DELETE FROM polls WHERE article_id = ? AND status = 'pending'", (article_id,)
                )
            poll_id = await tx.insert(
                "INSERT INTO polls (question, intro, article_id, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (question, intro, article_id, created_by, _now()),
            )
            await tx.execute_many(
                "INSERT INTO poll_options (poll_id, position, label) VALUES (?, ?, ?)",
                [(poll_id, i, label) for i, label in enumerate(options)],
            )
            poll = await self._get(tx, poll_id)
        assert poll is not None
        return poll

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
            "SELECT o.label, COUNT(v.reader_id) AS votes "
            "FROM poll_options o LEFT JOIN poll_votes v "
            "ON v.poll_id = o.poll_id AND v.position = o.position "
            "WHERE o.poll_id = ? GROUP BY o.position ORDER BY o.position",
            (poll_id,),
        )
        return Poll(
            id=row["id"],
            question=row["question"],
            intro=row["intro"],
            options=tuple(o["label"] for o in options),
            counts=tuple(int(o["votes"]) for o in options),
            status=PollStatus(row["status"]),
            created_by=row["created_by"],
            article_id=row["article_id"],
            channel_chat_id=row["channel_chat_id"],
            channel_message_id=row["channel_message_id"],
            counts_version=row["counts_version"],
            rendered_version=row["rendered_version"],
        )

    async def vote(self, poll_id: int, reader_id: int, position: int) -> VoteResult:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                """
                INSERT INTO poll_votes (poll_id, reader_id, position, voted_at)
                SELECT ?, ?, ?, ?
                 WHERE EXISTS (SELECT 1 FROM polls WHERE id = ? AND status IN ('pending', 'open'))
                   AND EXISTS (SELECT 1 FROM poll_options WHERE poll_id = ? AND position = ?)
                ON CONFLICT (poll_id, reader_id) DO UPDATE
                   SET position = excluded.position, voted_at = excluded.voted_at
                 WHERE poll_votes.position <> excluded.position
                """,
                (poll_id, reader_id, position, _now(), poll_id, poll_id, position),
            )
            if changed:
                await tx.execute(
                    "UPDATE polls SET counts_version = counts_version + 1 WHERE id = ?",
                    (poll_id,),
                )
            poll = await self._get(tx, poll_id)
        if poll is None or not 0 <= position < len(poll.options):
            return VoteResult(VoteOutcome.UNKNOWN, poll)
        if poll.status in (PollStatus.CLOSED, PollStatus.FAILED):
            return VoteResult(VoteOutcome.CLOSED, poll)
        outcome = VoteOutcome.RECORDED if changed else VoteOutcome.UNCHANGED
        return VoteResult(outcome, poll, position)

    async def mark_posted(self, poll_id: int, chat_id: str, message_id: int) -> Poll | None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE polls SET status = 'open', channel_chat_id = ?, channel_message_id = ? "
                "WHERE id = ? AND status = 'pending'",
                (chat_id, message_id, poll_id),
            )
            return await self._get(tx, poll_id)

    async def mark_failed(self, poll_id: int) -> None:
        await self._db.execute(
            "UPDATE polls SET status = 'failed' WHERE id = ? AND status = 'pending'", (poll_id,)
        )

    async def close(self, poll_id: int) -> tuple[bool, Poll | None]:
        """Freeze the poll; (True, poll) when this call closed it."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE polls SET status = 'closed', closed_at = ?, "
                "counts_version = counts_version + 1 "
                "WHERE id = ? AND status IN ('pending', 'open')",
                (_now(), poll_id),
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
