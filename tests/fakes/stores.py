"""In-memory implementations of the repository protocols, for unit tests of the services
with neither a database nor Telegram.  Each method applies its condition and its change
in one step, as the real statement does."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime

from bot.models import (
    ActionRecord,
    Article,
    ArticleContent,
    ArticleStatus,
    ArticleVersion,
    Attempt,
    ChannelPost,
    EditorAction,
    Headline,
    PeriodStats,
    Poll,
    PollSpec,
    PollStatus,
    PostReactions,
    StoredEditor,
    VoteOutcome,
    VoteResult,
)
from bot.repositories import (
    CLAIMED,
    EDITABLE,
    NO_EXTRAS,
    POLL_ATTACHABLE,
    PUBLISHABLE,
    DraftExtras,
    Revision,
    Statuses,
)


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryPolls:
    def __init__(self, articles: MemoryArticles | None = None) -> None:
        self.polls: dict[int, Poll] = {}
        self.votes: dict[tuple[int, int], int] = {}
        self.articles = articles

    def _new(self, spec: PollSpec, created_by: int, article_id: int | None) -> Poll:
        poll = Poll(
            id=len(self.polls) + 1,
            question=spec.question,
            options=spec.options,
            counts=tuple(0 for _ in spec.options),
            status=PollStatus.PENDING,
            created_by=created_by,
            intro=spec.intro,
            article_id=article_id,
        )
        if article_id is not None:
            for old in list(self.polls.values()):
                if old.article_id == article_id and old.channel_message_id is None:
                    del self.polls[old.id]
        self.polls[poll.id] = poll
        return poll

    async def get(self, poll_id: int) -> Poll | None:
        return self.polls.get(poll_id)

    async def for_article(self, article_id: int) -> Poll | None:
        return next((p for p in self.polls.values() if p.article_id == article_id), None)

    async def create_standalone(self, spec: PollSpec, created_by: int) -> Poll:
        return self._new(spec, created_by, None)

    async def attach(self, spec: PollSpec, created_by: int, article_id: int) -> Poll | None:
        assert self.articles is not None
        article = self.articles.rows.get(article_id)
        if article is None or article.status not in POLL_ATTACHABLE:
            return None
        return self._new(spec, created_by, article_id)

    async def vote(
        self, poll_id: int, reader_id: int, position: int, message_id: int
    ) -> VoteResult:
        poll = self.polls.get(poll_id)
        if poll is None or not 0 <= position < len(poll.options):
            return VoteResult(VoteOutcome.UNKNOWN, None)
        if poll.status in (PollStatus.CLOSED, PollStatus.FAILED):
            return VoteResult(VoteOutcome.CLOSED, poll)
        if poll.status is not PollStatus.OPEN or poll.channel_message_id != message_id:
            return VoteResult(VoteOutcome.NOT_HERE, poll)
        previous = self.votes.get((poll_id, reader_id))
        if previous == position:
            return VoteResult(VoteOutcome.UNCHANGED, poll, position)
        counts = list(poll.counts)
        if previous is not None:
            counts[previous] -= 1
        counts[position] += 1
        self.votes[(poll_id, reader_id)] = position
        poll = dataclasses.replace(
            poll, counts=tuple(counts), counts_version=poll.counts_version + 1
        )
        self.polls[poll_id] = poll
        return VoteResult(VoteOutcome.RECORDED, poll, position)

    async def mark_posted(self, poll_id: int, post: ChannelPost) -> Poll | None:
        poll = self.polls[poll_id]
        if poll.status in (PollStatus.PENDING, PollStatus.UNCERTAIN):
            poll = dataclasses.replace(
                poll,
                status=PollStatus.OPEN,
                channel_chat_id=post.chat_id,
                channel_message_id=post.message_id,
            )
            self.polls[poll_id] = poll
        return poll

    async def _set_status(self, poll_id: int, status: PollStatus) -> None:
        poll = self.polls[poll_id]
        if poll.status is PollStatus.PENDING:
            self.polls[poll_id] = dataclasses.replace(poll, status=status)

    async def mark_failed(self, poll_id: int) -> None:
        await self._set_status(poll_id, PollStatus.FAILED)

    async def mark_uncertain(self, poll_id: int) -> None:
        await self._set_status(poll_id, PollStatus.UNCERTAIN)

    async def close(self, poll_id: int) -> tuple[bool, Poll | None]:
        poll = self.polls.get(poll_id)
        if poll is None or poll.status is PollStatus.CLOSED:
            return False, poll
        poll = dataclasses.replace(
            poll, status=PollStatus.CLOSED, counts_version=poll.counts_version + 1
        )
        self.polls[poll_id] = poll
        return True, poll

    async def mark_rendered(self, poll_id: int, version: int) -> None:
        poll = self.polls[poll_id]
        self.polls[poll_id] = dataclasses.replace(
            poll, rendered_version=max(poll.rendered_version, version)
        )

    async def stale(self) -> list[int]:
        return [
            p.id
            for p in self.polls.values()
            if p.channel_message_id is not None and p.counts_version > p.rendered_version
        ]


class MemoryArticles:
    def __init__(self, polls: MemoryPolls | None = None) -> None:
        self.rows: dict[int, Article] = {}
        self.previews: dict[tuple[int, int], int] = {}
        self.reads: set[tuple[int, int]] = set()
        self.read_times: dict[tuple[int, int], datetime] = {}
        self.claimed_at: dict[int, datetime] = {}
        self.versions_of: dict[int, list[ArticleVersion]] = {}
        self.polls = polls

    # --- reading ---------------------------------------------------------------------
    async def get(self, article_id: int) -> Article | None:
        article = self.rows.get(article_id)
        if article is None:
            return None
        reads = sum(1 for a, _ in self.reads if a == article_id)
        return dataclasses.replace(article, reads=reads)

    async def list_unpublished(self, limit: int = 50) -> list[Article]:
        wanted = (*EDITABLE, ArticleStatus.UNCERTAIN, ArticleStatus.PUBLISHING)
        found = [a for a in self.rows.values() if a.status in wanted]
        return sorted(found, key=lambda a: (a.updated_at, a.id), reverse=True)[:limit]

    async def latest_published(self, limit: int = 5) -> list[Article]:
        found = [a for a in self.rows.values() if a.status is ArticleStatus.PUBLISHED]
        return sorted(found, key=lambda a: (a.published_at or _now(), a.id), reverse=True)[:limit]

    async def list_scheduled(self) -> list[Article]:
        found = [a for a in self.rows.values() if a.status is ArticleStatus.SCHEDULED]
        return sorted(found, key=lambda a: (a.scheduled_at or _now(), a.id))

    async def due_scheduled(self, now: datetime) -> list[Article]:
        return [a for a in await self.list_scheduled() if a.scheduled_at and a.scheduled_at <= now]

    async def next_scheduled_at(self) -> datetime | None:
        upcoming = [a.scheduled_at for a in await self.list_scheduled() if a.scheduled_at]
        return min(upcoming, default=None)

    async def article_for_preview(self, chat_id: int, message_id: int) -> int | None:
        return self.previews.get((chat_id, message_id))

    # --- writing ---------------------------------------------------------------------
    async def create(
        self, content: ArticleContent, author_id: int, extras: DraftExtras = NO_EXTRAS
    ) -> Article:
        now = _now()
        article = Article(
            id=len(self.rows) + 1,
            content=content,
            author_id=author_id,
            status=ArticleStatus.DRAFT,
            created_at=now,
            updated_at=now,
            photo_file_id=extras.photo_file_id,
        )
        self.rows[article.id] = article
        if extras.poll is not None:
            assert self.polls is not None
            self.polls._new(extras.poll, author_id, article.id)
        return article

    def _update(
        self,
        article_id: int,
        allowed: tuple[ArticleStatus, ...],
        attempt: int | None = None,
        **changes: object,
    ) -> Article | None:
        article = self.rows.get(article_id)
        if article is None or article.status not in allowed:
            return None
        if attempt is not None and article.publish_attempt != attempt:
            return None
        article = dataclasses.replace(article, updated_at=_now(), **changes)  # type: ignore[arg-type]
        self.rows[article_id] = article
        return article

    async def revise(self, article_id: int, revision: Revision) -> Article | None:
        allowed = (*EDITABLE, ArticleStatus.PUBLISHED) if revision.allow_published else EDITABLE
        current = self.rows.get(article_id)
        if current is None:
            return None
        content = revision.change(current.content)
        editor = revision.editor
        updated = self._update(article_id, allowed, content=content)
        if updated is not None and content != current.content:
            versions = self.versions_of.setdefault(article_id, [])
            versions.append(
                ArticleVersion(
                    article_id,
                    len(versions) + 1,
                    current.content,
                    _now(),
                    editor.user_id if editor else None,
                    editor.name if editor else None,
                )
            )
        return updated

    async def versions(self, article_id: int) -> list[ArticleVersion]:
        return list(self.versions_of.get(article_id, []))

    async def version(self, article_id: int, number: int) -> ArticleVersion | None:
        versions = self.versions_of.get(article_id, [])
        return versions[number - 1] if 0 < number <= len(versions) else None

    async def set_photo(self, article_id: int, file_id: str) -> Article | None:
        return self._update(article_id, EDITABLE, photo_file_id=file_id)

    async def reject(self, article_id: int) -> Article | None:
        return self._update(article_id, EDITABLE, status=ArticleStatus.REJECTED, scheduled_at=None)

    async def schedule(self, article_id: int, when: datetime) -> Article | None:
        return self._update(
            article_id,
            (ArticleStatus.DRAFT, ArticleStatus.SCHEDULED, ArticleStatus.FAILED),
            status=ArticleStatus.SCHEDULED,
            scheduled_at=when,
        )

    async def unschedule(self, article_id: int) -> Article | None:
        return self._update(
            article_id, (ArticleStatus.SCHEDULED,), status=ArticleStatus.DRAFT, scheduled_at=None
        )

    async def record_read(self, article_id: int, reader_id: int) -> bool:
        first = (article_id, reader_id) not in self.reads
        self.reads.add((article_id, reader_id))
        self.read_times.setdefault((article_id, reader_id), _now())
        return first

    async def remember_preview(self, chat_id: int, message_id: int, article_id: int) -> None:
        self.previews[(chat_id, message_id)] = article_id

    # --- publishing ------------------------------------------------------------------
    async def claim(self, article_id: int) -> Article | None:
        return self._claim(article_id, PUBLISHABLE)

    async def claim_uncertain(self, seen: Attempt) -> Article | None:
        return self._claim(seen.article_id, (ArticleStatus.UNCERTAIN,), seen.number)

    def _claim(
        self, article_id: int, from_statuses: Statuses, attempt: int | None = None
    ) -> Article | None:
        current = self.rows.get(article_id)
        if current is None:
            return None
        claimed = self._update(
            article_id,
            from_statuses,
            attempt,
            status=ArticleStatus.PUBLISHING,
            failure_reason=None,
            publish_attempt=current.publish_attempt + 1,
        )
        if claimed is not None:
            self.claimed_at[article_id] = _now()
        return claimed

    async def claim_scheduled(self, article_id: int, due_by: datetime) -> Article | None:
        current = self.rows.get(article_id)
        if current is None or current.scheduled_at is None or current.scheduled_at > due_by:
            return None
        return self._claim(article_id, (ArticleStatus.SCHEDULED,))

    async def mark_published(
        self, held: Attempt, post: ChannelPost, *, from_statuses: Statuses = CLAIMED
    ) -> Article | None:
        return self._update(
            held.article_id,
            from_statuses,
            held.number,
            status=ArticleStatus.PUBLISHED,
            channel_chat_id=post.chat_id,
            channel_message_id=post.message_id,
            published_at=_now(),
            scheduled_at=None,
            failure_reason=None,
        )

    async def mark_failed(self, held: Attempt, reason: str) -> Article | None:
        return self._end_attempt(held, status=ArticleStatus.FAILED, failure_reason=reason)

    async def mark_uncertain(self, held: Attempt, reason: str) -> Article | None:
        return self._end_attempt(held, status=ArticleStatus.UNCERTAIN, failure_reason=reason)

    async def release(self, held: Attempt, to: ArticleStatus) -> Article | None:
        return self._end_attempt(held, status=to)

    def _end_attempt(self, held: Attempt, **changes: object) -> Article | None:
        return self._update(held.article_id, CLAIMED, held.number, **changes)

    async def settle_interrupted(self, reason: str, claimed_before: datetime) -> list[Article]:
        settled = []
        for article in list(self.rows.values()):
            claimed = self.claimed_at.get(article.id)
            if article.status is ArticleStatus.PUBLISHING and (
                claimed is None or claimed < claimed_before
            ):
                done = await self.mark_uncertain(article.attempt, reason)
                if done is not None:
                    settled.append(done)
        return settled

    async def withdraw(self, article_id: int) -> Article | None:
        return self._update(
            article_id,
            (ArticleStatus.PUBLISHED,),
            status=ArticleStatus.WITHDRAWN,
            withdrawn_at=_now(),
        )


def stores() -> tuple[MemoryArticles, MemoryPolls]:
    """An article store and a poll store that know each other (polls under articles)."""
    polls = MemoryPolls()
    articles = MemoryArticles(polls)
    polls.articles = articles
    return articles, polls


class MemoryDesk:
    """EditorStore, HistoryStore and StatsStore in memory.  Period statistics are given
    by the test (``period``): the SQL behind them is tested against SQLite."""

    def __init__(self) -> None:
        self.editors: dict[int, StoredEditor] = {}
        self.actions: list[EditorAction] = []
        self.post_reactions: dict[tuple[str, int], PostReactions] = {}
        self.period = PeriodStats(published=0, readers=0, votes=0)
        self.periods_asked: list[tuple[datetime, datetime, int]] = []
        self.id_queries = 0

    async def list_editors(self) -> list[StoredEditor]:
        return sorted(self.editors.values(), key=lambda e: (e.added_at, e.user_id))

    async def editor_ids(self) -> frozenset[int]:
        self.id_queries += 1
        return frozenset(self.editors)

    async def add_editor(
        self, user_id: int, added_by: int, added_by_name: str | None = None
    ) -> bool:
        if user_id in self.editors:
            return False
        self.editors[user_id] = StoredEditor(user_id, added_by, _now())
        await self.record_action(
            ActionRecord("addeditor", added_by, added_by_name, detail=str(user_id))
        )
        return True

    async def remove_editor(
        self, user_id: int, removed_by: int, removed_by_name: str | None = None
    ) -> bool:
        if self.editors.pop(user_id, None) is None:
            return False
        await self.record_action(
            ActionRecord("removeeditor", removed_by, removed_by_name, detail=str(user_id))
        )
        return True

    async def record_action(self, record: ActionRecord) -> None:
        self.actions.append(
            EditorAction(id=len(self.actions) + 1, at=_now(), **dataclasses.asdict(record))
        )

    async def article_history(self, article_id: int) -> list[EditorAction]:
        return [a for a in self.actions if a.article_id == article_id]

    async def save_reactions(
        self, chat: str, message_id: int, counts: tuple[tuple[str, int], ...], date: datetime
    ) -> bool:
        stored = self.post_reactions.get((chat, message_id))
        if stored is not None and stored.date > date:
            return False
        self.post_reactions[chat, message_id] = PostReactions(chat, message_id, counts, date)
        return True

    async def reactions(self, chat: str, message_id: int) -> PostReactions | None:
        return self.post_reactions.get((chat, message_id))

    async def period_stats(self, since: datetime, until: datetime, top: int) -> PeriodStats:
        self.periods_asked.append((since, until, top))
        return self.period


class MemoryReadership:
    """Readership in memory: reads are (article, reader, first read) given by the test."""

    def __init__(self) -> None:
        self.reads: list[tuple[int, int, datetime]] = []
        self.digests: dict[date, tuple[str, int] | None] = {}

    async def most_read(self, since: datetime, until: datetime, limit: int = 10) -> list[Headline]:
        raise NotImplementedError("the SQL behind it is tested on both backends")

    async def readers_per_period(
        self, bounds: Sequence[datetime], article_id: int | None = None
    ) -> list[int]:
        return [
            len(
                {
                    reader
                    for article, reader, at in self.reads
                    if start <= at < end and article_id in (None, article)
                }
            )
            for start, end in itertools.pairwise(bounds)
        ]

    async def claim_digest(self, day: date) -> bool:
        if day in self.digests:
            return False
        self.digests[day] = None
        return True

    async def digest_posted(self, day: date, chat_id: str, message_id: int) -> None:
        self.digests[day] = (chat_id, message_id)
