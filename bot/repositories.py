"""What the domain services need from storage, as protocols.

The services depend on these and never on a database: the SQLite and PostgreSQL
backends implement them, the unit tests implement them in memory.  Every guarantee the
newsroom relies on (one post per article, one vote per reader, one scheduled publish) is
decided by the implementation in a single conditional statement, so it holds across
connections and processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Protocol

from bot.models import (
    ActionRecord,
    Actor,
    ArchivedPage,
    Article,
    ArticleContent,
    ArticleStatus,
    ArticleVersion,
    Attempt,
    ChannelPost,
    EditorAction,
    Feed,
    FeedCheck,
    FeedMode,
    Headline,
    ImportedBatch,
    ItemKeys,
    PeriodStats,
    Poll,
    PollSpec,
    PostReactions,
    RecordedItem,
    StoredEditor,
    VoteResult,
)

Change = Callable[[ArticleContent], ArticleContent]
Statuses = tuple[ArticleStatus, ...]


@dataclass(frozen=True, slots=True)
class Revision:
    """A change to an article's content and who makes it (``editor`` None: the bot
    itself); ``allow_published``: it may change a published article too."""

    change: Change
    editor: Actor | None = None
    allow_published: bool = False


@dataclass(frozen=True, slots=True)
class DraftExtras:
    """What a new draft may come with besides its text: a photo and a poll under its post."""

    photo_file_id: str | None = None
    poll: PollSpec | None = None


NO_EXTRAS = DraftExtras()


# States from which an article may be claimed for publishing by /publish or a schedule.
PUBLISHABLE = (ArticleStatus.DRAFT, ArticleStatus.SCHEDULED, ArticleStatus.FAILED)
# The state of an article while a publisher holds an attempt at it.
CLAIMED = (ArticleStatus.PUBLISHING,)
# An "uncertain" article may already be in the channel as it is: it is not edited
# until an editor settles it (/forcepublish or /markpublished).
EDITABLE = PUBLISHABLE
# What readers may read, find and count: the bot's own posts, and the outlet's archive.
READABLE = (ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED)
# A poll can be attached to an article only while its post is not (maybe) in the channel.
POLL_ATTACHABLE = PUBLISHABLE


class ArticleStore(Protocol):
    # --- reading ---------------------------------------------------------------------
    async def get(self, article_id: int) -> Article | None: ...

    async def list_unpublished(self, limit: int = 50) -> list[Article]:
        """Drafts and everything an editor still has to act on, newest first."""

    async def latest_published(self, limit: int = 5) -> list[Article]: ...

    async def list_scheduled(self) -> list[Article]:
        """Scheduled articles, soonest first."""

    async def due_scheduled(self, now: datetime) -> list[Article]: ...

    async def next_scheduled_at(self) -> datetime | None: ...

    async def article_for_preview(self, chat_id: int, message_id: int) -> int | None: ...

    # --- writing ---------------------------------------------------------------------
    async def create(
        self, content: ArticleContent, author_id: int, extras: DraftExtras = NO_EXTRAS
    ) -> Article:
        """A new draft, and its poll when given, in one transaction."""

    async def revise(self, article_id: int, revision: Revision) -> Article | None:
        """Apply the revision's change to the current content in one transaction; None
        when the article is missing or not in a state it may change.  The content it
        replaces, when it differs, becomes the article's next version, made by its
        editor."""

    async def versions(self, article_id: int) -> list[ArticleVersion]:
        """The article's earlier versions, oldest first."""

    async def version(self, article_id: int, number: int) -> ArticleVersion | None: ...

    async def set_photo(self, article_id: int, file_id: str) -> Article | None: ...

    async def reject(self, article_id: int) -> Article | None:
        """Draft (or failed, scheduled) -> rejected, in one conditional statement."""

    async def schedule(self, article_id: int, when: datetime) -> Article | None: ...

    async def unschedule(self, article_id: int) -> Article | None: ...

    async def record_read(self, article_id: int, reader_id: int) -> bool:
        """Count a reader once per article; True when this is their first read."""

    async def remember_preview(self, chat_id: int, message_id: int, article_id: int) -> None: ...

    # --- the publishing state machine -------------------------------------------------
    # Each claim moves the article to "publishing" and bumps ``publish_attempt``; every
    # later step presents the attempt it holds, so a step of an older attempt (or of
    # another editor, instance or process) can never overwrite a newer one.
    async def claim(self, article_id: int) -> Article | None:
        """Claim a ``PUBLISHABLE`` article for one publisher."""

    async def claim_uncertain(self, seen: Attempt) -> Article | None:
        """Only if still uncertain at the attempt an editor settling it saw."""

    async def claim_scheduled(self, article_id: int, due_by: datetime) -> Article | None:
        """Only if still scheduled for no later than ``due_by``."""

    async def mark_published(
        self, held: Attempt, post: ChannelPost, *, from_statuses: Statuses = CLAIMED
    ) -> Article | None:
        """Published at ``post``, if still at the attempt held, in ``from_statuses``;
        raises ``MessageTaken`` (nothing changed) when that message is recorded for
        another article or poll: a channel message belongs to one of them."""

    async def mark_failed(self, held: Attempt, reason: str) -> Article | None:
        """The channel refused the post: back to an editable state with the reason."""

    async def mark_uncertain(self, held: Attempt, reason: str) -> Article | None:
        """The post may be in the channel: an editor decides."""

    async def release(self, held: Attempt, to: ArticleStatus) -> Article | None:
        """Nothing was sent for this attempt: back to ``to`` (draft, scheduled, uncertain)."""

    async def settle_interrupted(self, reason: str, claimed_before: datetime) -> list[Article]:
        """Articles left "publishing" by a process that died become "uncertain"."""

    # --- withdrawal ----------------------------------------------------------------------
    async def withdraw(self, article_id: int) -> Article | None:
        """Published -> withdrawn, in one conditional statement; None when the article is
        missing, not published, or already withdrawn (so two /delete withdraw once)."""


class PollStore(Protocol):
    async def get(self, poll_id: int) -> Poll | None: ...

    async def for_article(self, article_id: int) -> Poll | None: ...

    async def create_standalone(self, spec: PollSpec, created_by: int) -> Poll: ...

    async def attach(self, spec: PollSpec, created_by: int, article_id: int) -> Poll | None:
        """A poll under an article's post; None unless the article is still in one of
        ``POLL_ATTACHABLE`` (checked in the statement that creates the poll).  It
        replaces a poll of the article that is not in the channel yet."""

    async def vote(
        self, poll_id: int, reader_id: int, position: int, message_id: int
    ) -> VoteResult:
        """Record a press under channel message ``message_id``; counted only when that is
        the poll's own post and the poll is open.  Returns once the vote is committed."""

    async def mark_posted(self, poll_id: int, post: ChannelPost) -> Poll | None:
        """Open a pending poll at its post; an article's poll shares the article's post,
        any other message must be nobody else's (``MessageTaken``, nothing changed)."""

    async def mark_failed(self, poll_id: int) -> None: ...

    async def mark_uncertain(self, poll_id: int) -> None: ...

    async def close(self, poll_id: int) -> tuple[bool, Poll | None]:
        """Freeze the poll; (True, poll) when this call closed it."""

    async def mark_rendered(self, poll_id: int, version: int) -> None: ...

    async def stale(self) -> list[int]:
        """Polls whose channel post lags behind their counts (e.g. after a restart)."""


# --- the editor's desk ---------------------------------------------------------------------


class EditorStore(Protocol):
    """Editors added from the chat; each change and its history line in one transaction."""

    async def list_editors(self) -> list[StoredEditor]: ...

    async def editor_ids(self) -> frozenset[int]:
        """The cheap query other instances repeat to see additions and removals."""

    async def add_editor(
        self, user_id: int, added_by: int, added_by_name: str | None = None
    ) -> bool:
        """True when this call added them (False: already there)."""

    async def remove_editor(
        self, user_id: int, removed_by: int, removed_by_name: str | None = None
    ) -> bool:
        """True when this call removed them (False: not a stored editor)."""


class HistoryStore(Protocol):
    async def record_action(self, record: ActionRecord) -> None: ...

    async def article_history(self, article_id: int) -> list[EditorAction]:
        """Every action on the article and on its poll, oldest first."""


class StatsStore(Protocol):
    async def save_reactions(
        self, chat: str, message_id: int, counts: tuple[tuple[str, int], ...], date: datetime
    ) -> bool:
        """Keep the counts unless newer ones are stored already; True when kept."""

    async def reactions(self, chat: str, message_id: int) -> PostReactions | None: ...

    async def period_stats(self, since: datetime, until: datetime, top: int) -> PeriodStats:
        """Articles published, distinct readers who first opened an article, votes cast
        or changed, and the ``top`` articles by new readers, in [since, until)."""


class ArchiveStore(Protocol):
    async def import_archived(
        self, batch: Sequence[ArchivedPage], author_id: int
    ) -> ImportedBatch:
        """Store the pages as archived articles, searchable at once, in one transaction;
        a page whose key is known already (or repeated in the batch) is skipped. The
        keys' uniqueness decides, so two imports at once never store a page twice."""


class ImportLedger(ArchiveStore, Protocol):
    """The archive imports running, known to every instance."""

    async def begin_import(
        self, editor_id: int, chat_id: int, now: datetime, stale_before: datetime
    ) -> bool:
        """Take the editor's one running import, in any instance (``now`` names it from
        then on); an import whose instance stopped reporting before ``stale_before`` is
        taken over. False: another of theirs runs."""

    async def import_alive(self, editor_id: int, started_at: datetime, now: datetime) -> bool:
        """The running import reports in; False once it was stopped (from any instance)
        or taken over."""

    async def cancel_import(self, editor_id: int, chat_id: int) -> bool:
        """Ask the editor's import started in ``chat_id`` to stop; False if none runs."""

    async def end_import(self, editor_id: int, started_at: datetime) -> None: ...


class SearchIndex(Protocol):
    """Full-text search over published articles (titles and bodies, Russian word forms)."""

    async def sync(self, batch: int = 500) -> int:
        """Bring the index in line with what is published now (after a publish, an edit, a
        withdrawal, or at start-up for articles published before the index existed);
        returns how many articles were looked at."""

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[Headline]:
        """Published articles matching every word of ``query`` (or, when none does, any
        word), best match first.  Any text is a valid query: nothing in it is syntax."""

    async def related(self, article_id: int, limit: int = 3) -> list[Headline]:
        """Other published articles: those sharing tags first, then similar text."""


class Readership(Protocol):
    """Readers' counts over time, and the record of evening digests."""

    async def most_read(self, since: datetime, until: datetime, limit: int = 10) -> list[Headline]:
        """Published articles by distinct readers whose first read is in [since, until);
        ``Headline.count`` is that number."""

    async def readers_per_period(
        self, bounds: Sequence[datetime], article_id: int | None = None
    ) -> list[int]:
        """Distinct readers whose first read (of the article, or of any) falls in each
        period [bounds[i], bounds[i + 1]); one count per period."""

    async def claim_digest(self, day: date) -> bool:
        """True for exactly one caller per day, across instances and restarts."""

    async def digest_posted(self, day: date, chat_id: str, message_id: int) -> None: ...


# --- feeds -----------------------------------------------------------------------------------


class FeedStore(Protocol):
    """Feeds, the items they showed and the cards of their drafts.  "The same item" is
    decided by the UNIQUE keys of the items (any feed, any instance); a feed's check is
    claimed by one conditional UPDATE of its next-check time."""

    async def add_feed(
        self, url: str, mode: FeedMode, added_by: int, next_check_at: datetime
    ) -> Feed | None:
        """None when the feed is there already."""

    async def get_feed(self, feed_id: int) -> Feed | None: ...

    async def list_feeds(self) -> list[Feed]: ...

    async def remove_feed(self, feed_id: int) -> bool: ...

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> list[Feed]:
        """Take up to ``limit`` due feeds' checks for this instance (their next check
        moves to ``until``); a feed another instance took is not due any more."""

    async def finish_check(
        self, feed_id: int, check: FeedCheck
    ) -> tuple[Feed | None, list[RecordedItem]]:
        """Record a check and the items it found: each is recorded as seen; a new one
        with a draft becomes that draft in the same transaction; a changed one (its
        ``content_hash`` differs) is reported once, to one caller, with its article."""

    async def unsettled(self, feed_id: int, entries: Sequence[ItemKeys]) -> list[int]:
        """The positions of the items that may be new or changed in this feed (a read: the
        items a feed showed before, unchanged, need no write and no draft; an item another
        feed recorded is that feed's to follow)."""

    async def flag_failure(self, feed_id: int, notified: bool, min_failures: int) -> bool:
        """Flip the feed's "editors were told it fails" flag; True for the one caller
        that flipped it (so editors get one notice, and one when it recovers)."""

    async def save_card(self, article_id: int, chat_id: int, message_id: int) -> None: ...

    async def cards(self, article_id: int) -> list[tuple[int, int]]: ...

    async def set_correction(self, article_id: int, content: ArticleContent | None) -> None:
        """Keep (or, with None, drop) a published article's correction for /apply."""

    async def correction(self, article_id: int) -> ArticleContent | None: ...


# --- several instances: updates already handled by the webhook ----------------------------


class Claim(Enum):
    NEW = "new"  # nobody has handled it: handle it now
    DONE = "done"  # handled already: acknowledge
    BUSY = "busy"  # being handled right now (a redelivery overtook it): ask again later


class UpdateLedger(Protocol):
    """Which webhook updates were handled, so a redelivery is not handled twice (in
    memory, or in Redis for several instances)."""

    async def claim(self, update_id: int) -> Claim: ...

    async def done(self, update_id: int) -> None: ...

    async def release(self, update_id: int) -> None: ...

    def renewing(self, update_id: int) -> AbstractAsyncContextManager[None]:
        """Still working on it: keep the claim while the block runs (another instance
        must not take it)."""
        ...

    async def webhook_fingerprint(self) -> str | None: ...

    async def remember_webhook(self, fingerprint: str) -> None: ...
