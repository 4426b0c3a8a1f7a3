"""A fetched feed as items: RSS 2.0 and Atom through ``feedparser`` (given bytes, never a
URL: it would fetch without a cap), JSON Feed 1.x with ``json``.

Nothing here raises on bad input but ``FeedFormatError`` (not a feed at all); an item
that cannot become a draft is skipped with its reason.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.articles.intake import MAX_ARTICLE_CHARS, MAX_TAG_CHARS, MAX_TAGS, MAX_TITLE_CHARS
from bot.feeds.links import content_hash, normalise_link, title_key
from bot.feeds.text import html_paragraphs
from bot.models import ArticleContent, ItemKeys
from bot.telegram_text.cleaning import clean_line

_TAG_RE = re.compile(r"^\w+$")
JSON_FEED_VERSION = "https://jsonfeed.org/version/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FeedFormatError(ValueError):
    """Not a feed: ``code`` is ``not_a_feed`` (an HTML page, JSON of another kind) or
    ``malformed`` (XML or JSON broken before any item)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item as the feed says it, and the keys that tell the same item elsewhere."""

    title: str
    # The item's text as the feed gives it (HTML or plain); made into paragraphs only
    # for a draft, since most items of a feed were seen before.
    body: str
    keys: ItemKeys
    published: datetime | None = None
    tags: tuple[str, ...] = ()
    image_url: str | None = None

    @property
    def guid(self) -> str | None:
        return self.keys.guid

    @property
    def link(self) -> str | None:
        return self.keys.link

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return _cut(html_paragraphs(self.body))

    def content(self) -> ArticleContent:
        """The draft the item makes by itself (when its page gives nothing better)."""
        return ArticleContent(
            title=self.title,
            paragraphs=self.paragraphs,
            source=self.link,
            original_published_at=self.published,
            tags=self.tags,
        )


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    items: tuple[FeedItem, ...]
    # Items left out, each with its reason (a ``Texts`` key suffix).
    skipped: tuple[str, ...] = ()


def _tags(raw: list[str]) -> tuple[str, ...]:
    """Site categories as hashtags; what cannot be one is left out."""
    tags: list[str] = []
    for value in raw:
        tag = "_".join(clean_line(value).lstrip("#").split())
        if (
            tag
            and len(tag) <= MAX_TAG_CHARS
            and _TAG_RE.match(tag)
            and not tag.isdigit()
            and tag.casefold() not in (t.casefold() for t in tags)
        ):
            tags.append(tag)
    return tuple(tags[:MAX_TAGS])


def _cut(paragraphs: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    total = 0
    for paragraph in paragraphs:
        total += len(paragraph)
        if total > MAX_ARTICLE_CHARS:
            break
        kept.append(paragraph)
    return tuple(kept)


def _item(
    *,
    title: str | None,
    body: str | None,
    guid: str | None,
    link: str | None,
    published: datetime | None,
    tags: list[str],
    image: str | None,
) -> FeedItem | str:
    """An item, or why it is skipped."""
    clean_title = clean_line(" ".join(html_paragraphs(title or "")))
    if not clean_title:
        return "no_title"
    if len(clean_title) > MAX_TITLE_CHARS:
        clean_title = clean_title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    link_key = normalise_link(link) if link else None
    if link_key is None:
        link = None  # a javascript: or relative link is no source
    if not (body or "").strip() and not link:
        return "no_text"
    keys = ItemKeys(
        guid=(guid or "").strip()[:500] or None,
        link_key=link_key,
        title_key=title_key(clean_title, published),
        content_hash=content_hash(clean_title, body or ""),
        link=link,
    )
    return FeedItem(
        title=clean_title,
        body=body or "",
        keys=keys,
        published=published,
        tags=_tags(tags),
        image_url=image,
    )


def _struct_time(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _entry_image(entry: Any) -> str | None:
    for media in entry.get("media_content", []) or []:
        if str(media.get("medium", "image")) == "image" and media.get("url"):
            return str(media["url"])
    for enclosure in entry.get("enclosures", []) or []:
        if str(enclosure.get("type", "")).startswith("image/") and enclosure.get("href"):
            return str(enclosure["href"])
    for thumb in entry.get("media_thumbnail", []) or []:
        if thumb.get("url"):
            return str(thumb["url"])
    return None


def _from_feedparser(body: bytes, content_type: str | None) -> list[FeedItem | str]:
    headers = {"content-type": content_type} if content_type else {}
    # Links inside the text are not kept (the text becomes plain paragraphs): resolving
    # them would double the parse time.
    parsed = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    if not parsed.get("version") and not parsed.entries:
        # Broken XML that says it is a feed, or something else entirely (an HTML page).
        head = body[:2000].lower()
        raise FeedFormatError("malformed" if b"<rss" in head or b"<feed" in head else "not_a_feed")
    found: list[FeedItem | str] = []
    for entry in parsed.entries:
        contents = entry.get("content") or []
        text = contents[0].get("value") if contents else None
        found.append(
            _item(
                title=entry.get("title"),
                body=text or entry.get("summary") or entry.get("description"),
                guid=entry.get("id"),
                link=entry.get("link"),
                published=_struct_time(
                    entry.get("published_parsed") or entry.get("updated_parsed")
                ),
                tags=[str(t.get("term", "")) for t in entry.get("tags", []) or []],
                image=_entry_image(entry),
            )
        )
    if parsed.get("bozo") and not any(isinstance(item, FeedItem) for item in found):
        raise FeedFormatError("malformed")  # broken XML that yields nothing usable
    return found


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _from_json_feed(body: bytes, charset: str | None) -> list[FeedItem | str]:
    try:
        document = json.loads(body.decode(charset or "utf-8", errors="replace"))
    except (json.JSONDecodeError, LookupError):
        raise FeedFormatError("malformed") from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        JSON_FEED_VERSION
    ):
        raise FeedFormatError("not_a_feed")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedFormatError("malformed")
    found: list[FeedItem | str] = []
    for raw in items:
        if not isinstance(raw, dict):
            found.append("malformed_item")
            continue
        tags = raw.get("tags")
        found.append(
            _item(
                title=_text(raw.get("title")),
                body=_text(raw.get("content_html"))
                or _text(raw.get("content_text"))
                or _text(raw.get("summary")),
                guid=str(raw["id"]) if raw.get("id") is not None else None,
                link=_text(raw.get("url")),
                published=_iso(raw.get("date_published")) or _iso(raw.get("date_modified")),
                tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
                image=_text(raw.get("image")) or _text(raw.get("banner_image")),
            )
        )
    return found


def is_json(body: bytes, content_type: str | None) -> bool:
    return (content_type is not None and "json" in content_type) or body.lstrip()[:1] == b"{"


def parse_feed(
    body: bytes, content_type: str | None = None, charset: str | None = None
) -> ParsedFeed:
    """The feed's items, newest first, each once (a GUID repeated within the feed is
    skipped), with the reasons of those left out; ``FeedFormatError`` if not a feed."""
    found = (
        _from_json_feed(body, charset)
        if is_json(body, content_type)
        else _from_feedparser(body, content_type)
    )
    items: list[FeedItem] = []
    skipped: list[str] = []
    guids: set[str] = set()
    for item in found:
        if isinstance(item, str):
            skipped.append(item)
        elif item.guid is not None and item.guid in guids:
            skipped.append("duplicate_guid")
        else:
            if item.guid is not None:
                guids.add(item.guid)
            items.append(item)
    if all(item.published is not None for item in items):
        items.sort(key=lambda item: item.published or EPOCH, reverse=True)
    return ParsedFeed(tuple(items), tuple(skipped))
