"""The schema as it stands, written once for both engines (SQLAlchemy Core).

Every statement of the repositories is built from these tables.  What the engines do
differently (triggers, the full-text index) is in ``storage.ddl``; how an existing
database reaches this schema is in ``storage.migrations``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.schema import SchemaItem

from bot.models import ArticleStatus
from storage.types import Day, Id, Json, LocalTime, UtcTime

metadata = MetaData()


def numbered(name: str, *items: SchemaItem) -> Table:
    """A table whose rows are numbered by the database: ids never reused, even after a
    delete (AUTOINCREMENT on SQLite, an identity on PostgreSQL)."""
    return Table(
        name,
        metadata,
        Column("id", Id, Identity(), primary_key=True),
        *items,
        sqlite_autoincrement=True,
    )


STATUSES = ", ".join(f"'{status.value}'" for status in ArticleStatus)

articles = numbered(
    "articles",
    Column("title", Text, nullable=False),
    Column("summary", Text),
    Column("dateline", Text),
    Column("source", Text),
    Column("original_published_at", LocalTime),
    Column("views", BigInteger),
    Column("photo_file_id", Text),
    Column("photo_credit", Text),
    Column("poll_question", Text),
    Column("poll_intro", Text),
    Column("author_id", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default=ArticleStatus.DRAFT.value),
    Column("channel_chat_id", Text),
    Column("channel_message_id", BigInteger),
    Column("published_at", UtcTime),
    Column("scheduled_at", UtcTime),
    Column("failure_reason", Text),
    Column("created_at", UtcTime, nullable=False),
    Column("updated_at", UtcTime, nullable=False),
    # Bumped by every claim for publishing; each later step names the attempt it belongs to.
    Column("publish_attempt", Integer, nullable=False, server_default="0"),
    Column("claimed_at", UtcTime),
    # Distinct readers, kept by a trigger on article_reads.
    Column("reads", Integer, nullable=False, server_default="0"),
    Column("withdrawn_at", UtcTime),
    CheckConstraint("length(title) > 0", name="articles_title_check"),
    CheckConstraint("views IS NULL OR views >= 0", name="articles_views_check"),
    CheckConstraint(f"status IN ({STATUSES})", name="articles_status_check"),
    CheckConstraint(
        "status NOT IN ('published', 'withdrawn') OR channel_message_id IS NOT NULL",
        name="articles_posted_check",
    ),
    CheckConstraint("reads >= 0", name="articles_reads_check"),
    CheckConstraint(
        "(withdrawn_at IS NULL) = (status <> 'withdrawn')", name="articles_withdrawn_at_check"
    ),
    Index("articles_by_status", "status", "updated_at"),
    Index("articles_by_publication", "status", "published_at", "id"),
)


def article_ref(*, ondelete_set_null: bool = False, **options: Any) -> Column[int]:
    """The article a row belongs to: deleting the article deletes the row (or, with
    ``ondelete_set_null``, forgets the article and keeps the row)."""
    options.setdefault("nullable", False)
    ondelete = "SET NULL" if ondelete_set_null else "CASCADE"
    return Column("article_id", Id, ForeignKey("articles.id", ondelete=ondelete), **options)


def article_rows(name: str, key: Column[Any], *items: SchemaItem) -> Table:
    """Rows an article holds, one per value of ``key`` (the primary key is the article and
    the key): deleting the article deletes them."""
    return Table(
        name,
        metadata,
        article_ref(),
        key,
        *items,
        PrimaryKeyConstraint("article_id", key.name),
    )


def article_list(name: str, item: str, *extra: SchemaItem) -> Table:
    """A list of texts an article holds in order (its paragraphs, its tags)."""
    return article_rows(
        name,
        Column("position", Integer, nullable=False),
        Column(item, Text, nullable=False),
        *extra,
    )


def per_user(name: str, key: str, *items: SchemaItem) -> Table:
    """One row per Telegram user, keyed by their id: Telegram's number, never one the
    database makes up."""
    return Table(
        name,
        metadata,
        Column(key, BigInteger, primary_key=True, autoincrement=False),
        *items,
    )


def chat_messages(name: str, *extra: SchemaItem) -> Table:
    """Messages in a Telegram chat that each show one article, keyed as Telegram keys a
    message: by its chat and its number there."""
    return Table(
        name,
        metadata,
        Column("chat_id", BigInteger, nullable=False),
        Column("message_id", BigInteger, nullable=False),
        article_ref(),
        PrimaryKeyConstraint("chat_id", "message_id"),
        *extra,
    )


article_paragraphs = article_list("article_paragraphs", "body")
article_tags = article_list(
    "article_tags", "tag", Index("article_tags_by_tag", "tag", "article_id")
)

# One row per distinct reader: the primary key is what makes a reader count once.
article_reads = article_rows(
    "article_reads",
    Column("reader_id", BigInteger, nullable=False),
    Column("first_read_at", UtcTime, nullable=False),
    Index("article_reads_by_time", "first_read_at", "article_id"),
)

# What an article's content was before each change the desk made to it (/edit,
# /summary, /tags, /credit, /restore): numbered from 1 per article, by primary key.
# ``content`` holds every field an editor writes (storage.rows.content_json); the title
# has a column of its own for the listing.  editor_id is NULL for what the bot did itself.
article_versions = article_rows(
    "article_versions",
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("content", Json, nullable=False),
    Column("editor_id", BigInteger),
    Column("editor_name", Text),
    Column("saved_at", UtcTime, nullable=False),
    CheckConstraint("version > 0", name="article_versions_version_check"),
)

# Pages of the outlet's archive already imported, under each key that tells a page again
# (its canonical address; its title and date): the primary key makes a page come in once.
archive_pages = Table(
    "archive_pages",
    metadata,
    Column("key", Text, primary_key=True),
    article_ref(),
    Index("archive_pages_by_article", "article_id"),
)

# The archive imports running, one per editor, in whichever instance downloaded the zip:
# a second /import is refused and the stop button works from any instance.  An instance
# that died leaves a row whose ``alive_at`` stops moving; it is taken over after a while.
archive_imports = per_user(
    "archive_imports",
    "editor_id",
    Column("chat_id", BigInteger, nullable=False),
    Column("started_at", UtcTime, nullable=False),
    Column("alive_at", UtcTime, nullable=False),
    Column(
        "cancelled",
        Boolean(create_constraint=False),
        nullable=False,
        server_default=text("false"),
    ),
)

# Which message in an editor's chat previews which draft (a photo sent as a reply to it
# is attached to that draft).
draft_previews = chat_messages("draft_previews")

polls = numbered(
    "polls",
    Column("question", Text, nullable=False),
    Column("intro", Text),
    article_ref(nullable=True, unique=True),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("channel_chat_id", Text),
    Column("channel_message_id", BigInteger),
    # Bumped by every vote that changes a count; the channel post shows rendered_version.
    Column("counts_version", BigInteger, nullable=False, server_default="0"),
    Column("rendered_version", BigInteger, nullable=False, server_default="0"),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UtcTime, nullable=False),
    Column("closed_at", UtcTime),
    # Its channel send has an unknown outcome (status stays 'pending').
    Column(
        "send_uncertain",
        Boolean(create_constraint=False),
        nullable=False,
        server_default=text("false"),
    ),
    CheckConstraint("length(question) > 0", name="polls_question_check"),
    CheckConstraint(
        "status IN ('pending', 'open', 'closed', 'failed')", name="polls_status_check"
    ),
    Index("polls_to_render", "status", "counts_version", "rendered_version"),
)

# Which article or poll each channel message belongs to: the primary key makes a message
# belong to one of them, whoever records it (a publish, /markpublished, a poll's post).
# An article's own poll is shown on the article's post, so such a message names the
# article only (its poll is allowed there); a poll of its own names the poll.
channel_messages = Table(
    "channel_messages",
    metadata,
    Column("chat", Text, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    article_ref(nullable=True),
    Column("poll_id", Id, ForeignKey("polls.id", ondelete="CASCADE")),
    PrimaryKeyConstraint("chat", "message_id"),
    CheckConstraint(
        "(article_id IS NULL) <> (poll_id IS NULL)", name="channel_messages_owner_check"
    ),
)

poll_options = Table(
    "poll_options",
    metadata,
    Column("poll_id", Id, ForeignKey("polls.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("label", Text, nullable=False),
    # Kept by triggers on poll_votes, inside the voting transaction.
    Column("votes", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("poll_id", "position"),
    UniqueConstraint("poll_id", "label"),
    CheckConstraint("position >= 0 AND position < 10", name="poll_options_position_check"),
    CheckConstraint("length(label) > 0", name="poll_options_label_check"),
    CheckConstraint("votes >= 0", name="poll_options_votes_check"),
)

# One current vote per (poll, reader), by primary key.
poll_votes = Table(
    "poll_votes",
    metadata,
    Column("poll_id", Id, nullable=False),
    Column("reader_id", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("voted_at", UtcTime, nullable=False),
    PrimaryKeyConstraint("poll_id", "reader_id"),
    ForeignKeyConstraint(
        ["poll_id", "position"],
        ["poll_options.poll_id", "poll_options.position"],
        ondelete="CASCADE",
    ),
    Index("poll_votes_by_option", "poll_id", "position"),
    Index("poll_votes_by_time", "voted_at"),
)

# Editors' dialog state (aiogram FSM); the key is aiogram's StorageKey as its
# DefaultKeyBuilder renders it.
dialog_states = Table(
    "dialog_states",
    metadata,
    Column("key", Text, primary_key=True),
    Column("state", Text),
    Column("data", Json, nullable=False, server_default="{}"),
    Column("updated_at", UtcTime, nullable=False),
)

# Articles whose search entry is due: filled by triggers, emptied by the indexer.
search_pending = Table(
    "search_pending",
    metadata,
    Column("article_id", Id, primary_key=True, autoincrement=False),
)

# One evening digest per day: the primary key is the claim.
digests = Table(
    "digests",
    metadata,
    Column("day", Day, primary_key=True),
    Column("claimed_at", UtcTime, nullable=False),
    Column("chat_id", Text),
    Column("message_id", BigInteger),
)

# Editors added by an admin in chat (those in the settings are not stored).
desk_editors = per_user(
    "desk_editors",
    "user_id",
    Column("added_by", BigInteger, nullable=False),
    Column("added_at", UtcTime, nullable=False),
    CheckConstraint("user_id > 0", name="desk_editors_user_id_check"),
)

# Who did what, when; no foreign keys: the history outlives what it talks about.
# editor_id is NULL for what the bot did by itself (a scheduled publication).
editor_actions = numbered(
    "editor_actions",
    Column("article_id", BigInteger),
    Column("poll_id", BigInteger),
    Column("editor_id", BigInteger),
    Column("editor_name", Text),
    Column("action", Text, nullable=False),
    Column("detail", Text),
    Column("at", UtcTime, nullable=False),
    CheckConstraint("length(action) > 0", name="editor_actions_action_check"),
    Index(
        "editor_actions_by_article",
        "article_id",
        "id",
        sqlite_where=text("article_id IS NOT NULL"),
        postgresql_where=text("article_id IS NOT NULL"),
    ),
)

# The latest reaction counts Telegram reported for a channel post; ``date`` is the
# update's own time, so an older update arriving late never overwrites a newer one.
post_reactions = Table(
    "post_reactions",
    metadata,
    Column("chat", Text, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("reactions", Json, nullable=False),  # [[label, count], …], largest first
    Column("total", Integer, nullable=False),
    Column("date", UtcTime, nullable=False),
    PrimaryKeyConstraint("chat", "message_id"),
    CheckConstraint("total >= 0", name="post_reactions_total_check"),
)

# --- feeds: the site's RSS / Atom / JSON Feed as the desk's queue ---------------------------

FEED_MODES = "'review', 'auto'"

# A feed the bot checks.  ``next_check_at`` is also the claim on a check: an instance
# takes a feed by moving it forward in one conditional UPDATE, so two instances never
# check one feed in the same interval.
feeds = numbered(
    "feeds",
    Column("url", Text, nullable=False, unique=True),
    Column("mode", Text, nullable=False, server_default="review"),
    Column("added_by", BigInteger, nullable=False),
    Column("added_at", UtcTime, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("next_check_at", UtcTime, nullable=False),
    Column("claimed_by", Text),
    Column("last_checked_at", UtcTime),
    Column("last_new_item_at", UtcTime),
    Column("last_error", Text),
    # Failed checks in a row; the editors are told once at 3, and once when it recovers.
    Column("failures", Integer, nullable=False, server_default="0"),
    Column(
        "failure_notified",
        Boolean(create_constraint=False),
        nullable=False,
        server_default=text("false"),
    ),
    CheckConstraint(f"mode IN ({FEED_MODES})", name="feeds_mode_check"),
    CheckConstraint("failures >= 0", name="feeds_failures_check"),
    Index("feeds_due", "next_check_at"),
)

# Every item a feed ever showed.  "The same item" is decided by these UNIQUE keys, in any
# feed, across restarts and instances: its GUID, its normalised link, or its title and
# date.  ``content_hash`` tells a correction (the site changed the title or text).
feed_items = numbered(
    "feed_items",
    Column("feed_id", Id, ForeignKey("feeds.id", ondelete="SET NULL")),
    Column("guid", Text, unique=True),
    Column("link_key", Text, unique=True),
    Column("title_key", Text, unique=True),
    Column("link", Text),
    Column("content_hash", Text, nullable=False),
    article_ref(nullable=True, ondelete_set_null=True),
    Column("seen_at", UtcTime, nullable=False),
    Index("feed_items_by_article", "article_id"),
)

# The cards a feed's draft was sent as (an editor's chat or the desk group), so that a
# card is edited in place once the article is published or rejected.
feed_cards = chat_messages("feed_cards", Index("feed_cards_by_article", "article_id"))

# A published article's correction from its feed, kept until an editor applies it (/apply).
feed_corrections = Table(
    "feed_corrections",
    metadata,
    article_ref(primary_key=True),
    Column("title", Text, nullable=False),
    Column("paragraphs", Json, nullable=False),
    Column("created_at", UtcTime, nullable=False),
)
