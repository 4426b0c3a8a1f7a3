"""Rows to models, for both backends: what does not depend on the database.

A row is anything indexed by column name: ``sqlite3.Row`` and ``asyncpg.Record`` both
are.  SQLite keeps times as ISO strings and PostgreSQL as ``datetime``; ``parse_time``
takes either, so one mapping serves both and the backends cannot drift apart.  The SQL
stays in each backend: the placeholders differ.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot.models import (
    Article,
    ArticleContent,
    ArticleStatus,
    ArticleVersion,
    EditorAction,
    Headline,
    Poll,
    PollStatus,
    PostReactions,
    StoredEditor,
    TopArticle,
    VoteOutcome,
    VoteResult,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ModelT = TypeVar("ModelT", bound="DataclassInstance")


class RowLike(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


def from_row(model: type[ModelT], row: RowLike, **converted: Any) -> ModelT:
    """A model whose fields are read from the row's columns of the same names, but for
    ``converted``: the fields whose value is not a column as it is stored."""
    stored = {name: row[name] for name in _field_names(model) if name not in converted}
    return model(**stored, **converted)


@functools.cache
def _field_names(model: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(model))


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_time(value: str | datetime | None) -> datetime | None:
    """A stored time: an ISO string (SQLite) or a ``datetime`` (PostgreSQL)."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if value else None


def _required_time(value: str | datetime) -> datetime:
    parsed = parse_time(value)
    assert parsed is not None
    return parsed


def content_from_row(
    row: RowLike, paragraphs: Iterable[str], tags: Iterable[str]
) -> ArticleContent:
    """An article's content from anything holding its fields by name: an article row
    (with its paragraphs and tags, each backend gathers them its way) or a stored
    version (``content_json``)."""
    original = parse_time(row["original_published_at"])
    return from_row(
        ArticleContent,
        row,
        paragraphs=tuple(paragraphs),
        original_published_at=original.replace(tzinfo=None) if original else None,
        tags=tuple(tags),
    )


def content_json(content: ArticleContent) -> dict[str, Any]:
    """An article's content as the JSON of a stored version (times as ISO text)."""
    fields = {f.name: getattr(content, f.name) for f in dataclasses.fields(content)}
    original = content.original_published_at
    fields["original_published_at"] = original.isoformat() if original else None
    fields["paragraphs"], fields["tags"] = list(content.paragraphs), list(content.tags)
    return fields


def version_from_row(row: RowLike) -> ArticleVersion:
    stored = row["content"]
    return from_row(
        ArticleVersion,
        row,
        number=row["version"],
        content=content_from_row(stored, stored["paragraphs"], stored["tags"]),
        saved_at=_required_time(row["saved_at"]),
    )


def article_from_row(row: RowLike, paragraphs: tuple[str, ...], tags: tuple[str, ...]) -> Article:
    """An article row with its paragraphs and tags (each backend gathers them its way)."""
    return from_row(
        Article,
        row,
        content=content_from_row(row, paragraphs, tags),
        status=ArticleStatus(row["status"]),
        created_at=_required_time(row["created_at"]),
        updated_at=_required_time(row["updated_at"]),
        published_at=parse_time(row["published_at"]),
        scheduled_at=parse_time(row["scheduled_at"]),
        withdrawn_at=parse_time(row["withdrawn_at"]),
    )


def poll_from_row(row: RowLike, options: tuple[str, ...], counts: tuple[int, ...]) -> Poll:
    """A poll row with its option labels and counts in position order."""
    uncertain = row["status"] == "pending" and row["send_uncertain"]
    status = PollStatus.UNCERTAIN if uncertain else PollStatus(row["status"])
    return from_row(Poll, row, options=options, counts=counts, status=status)


def vote_result(changed: bool, poll: Poll, position: int, message_id: int) -> VoteResult:
    """What a committed press meant, from the poll as it stands after it."""
    if not 0 <= position < len(poll.counts):
        return VoteResult(VoteOutcome.UNKNOWN, None)
    if poll.status in (PollStatus.CLOSED, PollStatus.FAILED):
        return VoteResult(VoteOutcome.CLOSED, poll)
    if poll.status is not PollStatus.OPEN or poll.channel_message_id != message_id:
        return VoteResult(VoteOutcome.NOT_HERE, poll)
    outcome = VoteOutcome.RECORDED if changed else VoteOutcome.UNCHANGED
    return VoteResult(outcome, poll, position)


def editor_from_row(row: RowLike) -> StoredEditor:
    return StoredEditor(row["user_id"], row["added_by"], _required_time(row["added_at"]))


def editor_action_from_row(row: RowLike) -> EditorAction:
    return from_row(EditorAction, row, at=_required_time(row["at"]))


def reactions_from_row(chat: str, message_id: int, row: RowLike) -> PostReactions:
    """``reactions`` is the JSON text of [[label, count], …]."""
    counts = tuple((str(label), int(count)) for label, count in json.loads(row["reactions"]))
    return PostReactions(chat, message_id, counts, _required_time(row["date"]))


def top_articles(rows: Iterable[RowLike]) -> tuple[TopArticle, ...]:
    return tuple(TopArticle(int(r["id"]), str(r["title"]), int(r["n"])) for r in rows)


def headline(row: RowLike, count: int = 0) -> Headline:
    """A row of the backend's HEADLINE_COLUMNS."""
    return from_row(
        Headline,
        row,
        lead=row["summary"] or row["first_paragraph"],
        published_at=parse_time(row["published_at"]),
        count=count,
    )
