"""What the bot posts: the channel post of an article and its full text for readers.

Everything is built from ``aiogram.utils.formatting`` nodes and sent as ``.as_html()``,
so article text is always escaped by aiogram and never spliced into markup here.
Lengths are UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, tzinfo
from itertools import groupby

from aiogram.utils.formatting import Bold, Italic, Text, as_list, sizeof

from bot.models import ArticleContent
from bot.telegram.limits import CAPTION_LIMIT, MESSAGE_LIMIT
from bot.telegram_text.splitting import last_sentence_end, plain_text, shorten, split_text
from bot.texts import RU, Texts

__all__ = [
    "channel_post",
    "full_text",
    "hashtag",
    "lead_summary",
    "preview_plain",
]

_BLOCK_SEP = "\n\n"
_PREVIEW_RULE = "\n" + "─" * 32 + "\n"
# Telegram highlights at most this many characters of a hashtag.
_HASHTAG_MAX = 256


def _is_tag_char(ch: str) -> bool:
    """Can ``ch`` be part of a Telegram hashtag? Letters and digits of any script, "_".

    Marks are kept too, or scripts like Devanagari would lose their vowel signs.
    """
    category = unicodedata.category(ch)
    return ch in "_\u200c" or category[0] in "LM" or category == "Nd"


def hashtag(tag: str) -> str | None:
    """``"цветная революция"`` -> ``"#цветная_революция"``; None if no hashtag is left.

    Anything that cannot be in a hashtag (spaces, hyphens, a leading "#") separates words,
    which are joined with "_". Telegram ignores hashtags without a letter, so those give
    None ("2022", "_").
    """
    words = ["".join(chars) for keep, chars in groupby(tag, _is_tag_char) if keep]
    body = "_".join(words)[:_HASHTAG_MAX]
    if not any(unicodedata.category(ch)[0] == "L" for ch in body):
        return None
    return "#" + body


def _lead_text(content: ArticleContent) -> str:
    """The editor's summary if set, else the first non-blank paragraph."""
    if content.summary and content.summary.strip():
        return content.summary.strip()
    return next((p.strip() for p in content.paragraphs if p.strip()), "")


def lead_summary(content: ArticleContent, budget: int, *, texts: Texts = RU) -> str:
    """The summary or lead paragraph, cut to ``budget`` UTF-16 units if longer.

    Cut after the last whole sentence that fits; when not even the first one does, at a
    word boundary with ``texts.ellipsis``. Never longer than ``budget``.
    """
    text = _lead_text(content)
    if sizeof(text) <= budget:
        return text
    end = last_sentence_end(text, budget)
    if end is not None:
        return text[:end]
    return shorten(text, budget, texts.ellipsis)


def _tags_line(tags: tuple[str, ...], room: int) -> str:
    """Hashtags separated by spaces, duplicates dropped, those that don't fit left out."""
    seen: set[str] = set()
    line = ""
    for tag in tags:
        word = hashtag(tag)
        if word is None or word.casefold() in seen:
            continue
        candidate = f"{line} {word}" if line else word
        if sizeof(candidate) <= room:
            seen.add(word.casefold())
            line = candidate
    return line


def _footer(content: ArticleContent, limit: int, texts: Texts) -> str:
    """Photo credit and hashtags lines; each kept to an eighth of the limit at most."""
    lines = []
    credit = (content.photo_credit or "").strip()
    if credit:
        lines.append(shorten(credit, limit // 8, texts.ellipsis))
    tags = _tags_line(content.tags, limit // 8)
    if tags:
        lines.append(tags)
    return "\n".join(line for line in lines if line)


def _block_size(text: str) -> int:
    """Room a block takes in the post, with its separator, or 0 if it is left out."""
    return sizeof(text) + len(_BLOCK_SEP) if text else 0


def channel_post(
    content: ArticleContent, *, with_photo: bool, texts: Texts = RU, reserve: int = 0
) -> Text:
    """The channel post: bold title, the summary, then photo credit and hashtags.

    Fits the caption limit with a photo and the message limit without. The title and
    the footer are laid out first (``reserve`` units are kept free for a block the caller
    appends, such as a poll's results); the summary gets the rest, cut at a sentence end. A
    title too long to leave the summary a quarter of the post is itself shortened.
    """
    limit = (CAPTION_LIMIT if with_photo else MESSAGE_LIMIT) - max(0, reserve)
    footer = _footer(content, limit, texts)
    lead = _lead_text(content)
    summary_reserve = min(sizeof(lead), limit // 4) + len(_BLOCK_SEP) if lead else 0
    title_room = limit - _block_size(footer) - summary_reserve
    title = shorten(content.title.strip(), title_room, texts.ellipsis)
    budget = limit - _block_size(title) - _block_size(footer)
    summary = lead_summary(content, budget, texts=texts) if lead else ""
    blocks: list[Text | str] = [Bold(title)] if title else []
    blocks += [block for block in (summary, footer) if block]
    return as_list(*blocks, sep=_BLOCK_SEP) if blocks else Text()


def _heading(
    content: ArticleContent, texts: Texts, published: datetime | None, tz: tzinfo | None
) -> Text | None:
    """Bold title and, on the next line, the date of publication if known."""
    title = content.title.strip()
    when = content.original_published_at or published
    lines: list[Text | str] = [Bold(title)] if title else []
    if when is not None:
        if tz is not None and when.tzinfo is not None:
            when = when.astimezone(tz)
        lines.append(when.strftime(texts.published_format))
    return as_list(*lines) if lines else None


def full_text(
    content: ArticleContent,
    *,
    texts: Texts = RU,
    published: datetime | None = None,
    tz: tzinfo | None = None,
) -> list[Text]:
    """The whole article for a reader, as messages of at most ``MESSAGE_LIMIT`` units.

    Title and date; every paragraph, the first one after the bold dateline; the photo
    credit in italics; the source. The date is ``original_published_at``, else
    ``published``; an aware one is shown in ``tz`` when given (as is otherwise).
    """
    blocks: list[Text | str] = []
    heading = _heading(content, texts, published, tz)
    if heading is not None:
        blocks.append(heading)
    paragraphs: list[Text | str] = [p.strip() for p in content.paragraphs if p.strip()]
    dateline = (content.dateline or "").strip()
    if dateline and paragraphs:
        paragraphs[0] = Text(Bold(dateline), texts.dateline_separator, paragraphs[0])
    elif dateline:
        paragraphs = [Bold(dateline)]
    blocks += paragraphs
    credit = (content.photo_credit or "").strip()
    if credit:
        blocks.append(Italic(credit))
    source = (content.source or "").strip()
    if source:
        blocks.append(texts.source_label.format(source=source))
    if not blocks:
        return []
    return split_text(as_list(*blocks, sep=_BLOCK_SEP), MESSAGE_LIMIT)


def preview_plain(parts: list[Text]) -> str:
    """Plain text of the parts with a rule between them, for a terminal preview."""
    return _PREVIEW_RULE.join(plain_text(part) for part in parts)
