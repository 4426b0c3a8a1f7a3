"""Plain data objects shared by the domain services, the storage layer and the handlers.

Nothing here knows about Telegram or SQL: repositories map rows to these, services take
and return these, handlers turn them into messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ArticleStatus(StrEnum):
    """Life cycle of an article; publishing is a persisted state machine.

    draft -> publishing -> published | failed;  a crash between "publishing" and the answer
    leaves the row in "publishing", which start-up turns into "uncertain" for an editor to
    settle by hand (never retried behind their back).
    """

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    # Published, then taken down by /delete; it stays in the archive.
    WITHDRAWN = "withdrawn"
    # A draft an editor turned down (a feed's item): it never comes back.
    REJECTED = "rejected"
    # Published on the outlet's site before the bot (an imported archive): readable,
    # searchable and counted, never posted to the channel.
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class ArticleContent:
    """What an editor submits: the text of an article and what is known about it.

    ``paragraphs`` are the body paragraphs in order, without the dateline, which is kept
    apart (``"НУР-СУЛТАН. 29 АПРЕЛЯ"``) and shown before the first paragraph.
    ``original_published_at`` and ``views`` come from the source page when it has them.
    """

    title: str
    paragraphs: tuple[str, ...]
    summary: str | None = None
    dateline: str | None = None
    source: str | None = None
    original_published_at: datetime | None = None
    views: int | None = None
    photo_credit: str | None = None
    tags: tuple[str, ...] = ()
    poll_question: str | None = None
    poll_intro: str | None = None


@dataclass(frozen=True, slots=True)
class ArchivedPage:
    """A page of the outlet's archive, ready to store as an archived article.

    ``keys`` tell the page again (its canonical address; its title and date): a page any
    of whose keys is known already is not imported twice. ``published_at`` is the page's
    own date as a moment (the import's when the page has none): archived articles are
    ordered by it.
    """

    content: ArticleContent
    keys: tuple[str, ...]
    published_at: datetime


@dataclass(frozen=True, slots=True)
class ImportedBatch:
    """What a batch of archived pages came to: new articles, and pages already there."""

    imported: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class Article:
    """An article as stored: its content plus the newsroom's bookkeeping."""

    id: int
    content: ArticleContent
    author_id: int
    status: ArticleStatus
    created_at: datetime
    updated_at: datetime
    photo_file_id: str | None = None
    channel_message_id: int | None = None
    channel_chat_id: str | None = None
    published_at: datetime | None = None
    scheduled_at: datetime | None = None
    failure_reason: str | None = None
    reads: int = 0
    # Bumped by every claim for publishing; each later step of that publication presents
    # it, so a stale step (another editor's, another process's) cannot win.
    publish_attempt: int = 0
    withdrawn_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.content.title

    @property
    def attempt(self) -> Attempt:
        """The publishing attempt the article is at: what a claim hands its publisher."""
        return Attempt(self.id, self.publish_attempt)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One publishing attempt at an article, as its publisher holds it: every step after
    the claim presents it, and counts only while the article is still at ``number``."""

    article_id: int
    number: int


@dataclass(frozen=True, slots=True)
class ChannelPost:
    """A message in a channel: the chat as stored and the message's id there."""

    chat_id: str
    message_id: int


class PollStatus(StrEnum):
    """pending: not yet in the channel; open: taking votes; closed: frozen results;
    uncertain: its channel send has an unknown outcome (the post may be there, and its
    buttons work if it is); failed: certainly not posted."""

    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class PollSpec:
    """A poll as an editor typed it, validated by the poll rules."""

    question: str
    options: tuple[str, ...]
    intro: str | None = None


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    question: str
    options: tuple[str, ...]
    counts: tuple[int, ...]
    status: PollStatus
    created_by: int
    intro: str | None = None
    article_id: int | None = None
    channel_chat_id: str | None = None
    channel_message_id: int | None = None
    counts_version: int = 0
    rendered_version: int = 0

    @property
    def voters(self) -> int:
        return sum(self.counts)

    @property
    def is_closed(self) -> bool:
        return self.status is PollStatus.CLOSED


class VoteOutcome(StrEnum):
    RECORDED = "recorded"  # a first vote, or a vote moved to another option
    UNCHANGED = "unchanged"  # the same option again
    CLOSED = "closed"
    UNKNOWN = "unknown"  # no such poll or option (forged or stale button)
    # Not under the poll's own post in the channel (a draft's poll, a forged button).
    NOT_HERE = "not_here"


@dataclass(frozen=True, slots=True)
class VoteResult:
    outcome: VoteOutcome
    poll: Poll | None
    position: int | None = None


# --- the editor's desk --------------------------------------------------------------------


class EditorSource(StrEnum):
    """Where an editor's right comes from: only database editors can be removed in chat."""

    ADMIN = "admin"
    SETTINGS = "settings"
    DATABASE = "database"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on the desk: an editor's id and the name Telegram gave them then."""

    user_id: int
    name: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEditor:
    """An editor added with /addeditor."""

    user_id: int
    added_by: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """What a line of the history says: the action, who did it (``editor_id`` None: the
    bot itself) and what it was done to."""

    action: str
    editor_id: int | None
    editor_name: str | None = None
    article_id: int | None = None
    poll_id: int | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EditorAction(ActionRecord):
    """One line of an article's history as stored."""

    id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class ArticleVersion:
    """An article's content as it was before a change the desk made: ``number`` counts
    from 1 per article; who made the change that replaced it, and when (``editor_id``
    None: the bot itself)."""

    article_id: int
    number: int
    content: ArticleContent
    saved_at: datetime
    editor_id: int | None = None
    editor_name: str | None = None


@dataclass(frozen=True, slots=True)
class PostReactions:
    """The latest reaction counts of a channel post, largest first."""

    chat: str
    message_id: int
    counts: tuple[tuple[str, int], ...]
    date: datetime

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


@dataclass(frozen=True, slots=True)
class TopArticle:
    article_id: int
    title: str
    readers: int


@dataclass(frozen=True, slots=True)
class PeriodStats:
    """Totals of a period: articles published, distinct readers, votes, the most read."""

    published: int
    readers: int
    votes: int
    top: tuple[TopArticle, ...] = ()


@dataclass(frozen=True, slots=True)
class Headline:
    """An article as a listing shows it (a button, a line of the digest, an inline result):
    no body, and ``count`` is what the listing counts (readers in a window), if anything."""

    id: int
    title: str
    lead: str | None = None
    published_at: datetime | None = None
    channel_chat_id: str | None = None
    channel_message_id: int | None = None
    count: int = 0

    @classmethod
    def of(cls, article: Article) -> Headline:
        content = article.content
        return cls(
            id=article.id,
            title=content.title,
            lead=content.summary or (content.paragraphs[0] if content.paragraphs else None),
            published_at=article.published_at,
            channel_chat_id=article.channel_chat_id,
            channel_message_id=article.channel_message_id,
            count=article.reads,
        )


# --- feeds ---------------------------------------------------------------------------------


class FeedMode(StrEnum):
    REVIEW = "review"  # each new item is a draft for an editor to publish or reject
    AUTO = "auto"  # each new item is published at once (as /publish would)


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    mode: FeedMode
    added_by: int
    next_check_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    last_checked_at: datetime | None = None
    last_new_item_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    failure_notified: bool = False


@dataclass(frozen=True, slots=True)
class ItemKeys:
    """What tells one feed item from another, in any feed: any key that matches one
    already seen makes it the same item."""

    guid: str | None
    link_key: str | None
    title_key: str | None
    content_hash: str
    link: str | None = None


# A check's items, each with the draft it makes when new (None: recorded as seen only).
CheckedItems = tuple[tuple[ItemKeys, ArticleContent | None], ...]


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """What one check of a feed found, recorded in one transaction: ``error`` None is a
    success (failures back to 0, the validators kept); each item with the draft it makes
    when new (None: recorded as seen only)."""

    error: str | None
    next_check_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    items: CheckedItems = ()
    author_id: int = 0


class ItemOutcome(StrEnum):
    NEW = "new"  # first seen now (a draft was made when one was asked for)
    SEEN = "seen"  # the same item as one seen before, unchanged (or another took it)
    CHANGED = "changed"  # seen before, and the site changed its title or text since


@dataclass(frozen=True, slots=True)
class RecordedItem:
    outcome: ItemOutcome
    article: Article | None = None  # the new draft, or the article a change concerns
