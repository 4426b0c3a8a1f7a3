"""The whole article for a reader as one rich message (Bot API ``sendRichMessage``).

Built from aiogram's block objects: every piece of article text is a plain-text leaf of
the block tree, which Telegram never parses as markup, so no text of an article can
become a tag.  ``None`` when the article does not fit the limits of a rich message: the
caller then sends the classic form (``formatting.full_text``, split HTML messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from aiogram.types import (
    InputMedia,
    InputMediaPhoto,
    InputRichBlock,
    InputRichBlockFooter,
    InputRichBlockListItem,
    InputRichBlockParagraph,
    InputRichBlockPhoto,
    InputRichBlockSectionHeading,
    InputRichBlockTable,
    InputRichBlockUnion,
    InputRichMessage,
    RichBlockCaption,
    RichTextBold,
    RichTextItalic,
    RichTextUnion,
)
from aiogram.utils.formatting import sizeof
from pydantic import BaseModel

from bot.models import ArticleContent
from bot.telegram.limits import RICH_BLOCKS, RICH_CHARACTERS, RICH_DEPTH, RICH_MEDIA
from bot.texts import RU, Texts

__all__ = ["RichSize", "fits", "rich_full_text", "rich_size"]

# Fields whose strings a reader sees as text (a link's url or a media id is not text).
_TEXT_FIELDS = frozenset({"text", "credit"})


@dataclass(frozen=True, slots=True)
class RichSize:
    """What the limits of a rich message count."""

    characters: int  # UTF-16 code units of all text
    blocks: int  # blocks, nested ones, list items and table rows
    depth: int  # deepest nesting of blocks (a top-level block is depth 1)
    media: int


def rich_size(message: InputRichMessage) -> RichSize:
    """Count a rich message as Telegram's limits do, by walking aiogram's models."""
    counts = {"characters": 0, "blocks": 0, "depth": 0, "media": 0}

    def walk(value: object, is_text: bool, depth: int) -> None:
        if isinstance(value, str):
            if is_text:
                counts["characters"] += sizeof(value)
            return
        if isinstance(value, list | tuple):
            for item in value:
                walk(item, is_text, depth)
            return
        if not isinstance(value, BaseModel):
            return
        if isinstance(value, InputRichBlock | InputRichBlockListItem):
            depth += 1
            counts["blocks"] += 1
            counts["depth"] = max(counts["depth"], depth)
        if isinstance(value, InputRichBlockTable):
            counts["blocks"] += len(value.cells)  # every row counts
        if isinstance(value, InputMedia):
            counts["media"] += 1
        for name in type(value).model_fields:
            walk(getattr(value, name), name in _TEXT_FIELDS, depth)

    walk(message.blocks or [], False, 0)
    walk(message.media or [], False, 0)
    if message.html is not None:
        counts["characters"] += sizeof(message.html)
    if message.markdown is not None:
        counts["characters"] += sizeof(message.markdown)
    return RichSize(**counts)


def fits(size: RichSize) -> bool:
    return (
        size.characters <= RICH_CHARACTERS
        and size.blocks <= RICH_BLOCKS
        and size.depth <= RICH_DEPTH
        and size.media <= RICH_MEDIA
    )


def _date_line(
    content: ArticleContent, texts: Texts, published: datetime | None, tz: tzinfo | None
) -> str | None:
    when = content.original_published_at or published
    if when is None:
        return None
    if tz is not None and when.tzinfo is not None:
        when = when.astimezone(tz)
    return when.strftime(texts.published_format)


def rich_full_text(
    content: ArticleContent,
    *,
    texts: Texts = RU,
    published: datetime | None = None,
    tz: tzinfo | None = None,
    photo_file_id: str | None = None,
) -> InputRichMessage | None:
    """Title as a heading; the date; the photo with its credit; the dateline (bold) and
    every paragraph in order; the source in a footer.  None when over the limits.

    The date is ``original_published_at``, else ``published`` (shown in ``tz``).  A credit
    without a photo is an italic paragraph after the text, as in the classic form.
    """
    blocks: list[InputRichBlockUnion] = []
    title = content.title.strip()
    if title:
        blocks.append(InputRichBlockSectionHeading(text=title, size=1))
    date = _date_line(content, texts, published, tz)
    if date is not None:
        blocks.append(InputRichBlockParagraph(text=RichTextItalic(text=date)))
    credit = (content.photo_credit or "").strip()
    if photo_file_id is not None:
        caption = RichBlockCaption(text=credit) if credit else None
        blocks.append(
            InputRichBlockPhoto(
                # The block's caption is the one shown; the media's own would be ignored.
                photo=InputMediaPhoto(
                    media=photo_file_id, parse_mode=None, show_caption_above_media=None
                ),
                caption=caption,
            )
        )
    paragraphs = [p.strip() for p in content.paragraphs if p.strip()]
    dateline = (content.dateline or "").strip()
    for index, paragraph in enumerate(paragraphs):
        if index == 0 and dateline:
            text: RichTextUnion = [
                RichTextBold(text=dateline),
                texts.dateline_separator,
                paragraph,
            ]
        else:
            text = paragraph
        blocks.append(InputRichBlockParagraph(text=text))
    if dateline and not paragraphs:
        blocks.append(InputRichBlockParagraph(text=RichTextBold(text=dateline)))
    if credit and photo_file_id is None:
        blocks.append(InputRichBlockParagraph(text=RichTextItalic(text=credit)))
    source = (content.source or "").strip()
    if source:
        blocks.append(InputRichBlockFooter(text=texts.source_label.format(source=source)))
    if not blocks:
        return None
    message = InputRichMessage(blocks=blocks)
    return message if fits(rich_size(message)) else None
