"""Validation of what editors type: ids, titles, paragraphs, tags, credits, files.

Plain functions with no Telegram in them.  A failure is an ``InputError`` naming the
``Texts`` field that explains it, so the handler only has to show the message.
"""

from __future__ import annotations

import re

from bot.errors import InputError
from bot.telegram_text.cleaning import clean_line

MAX_TITLE_CHARS = 300
MAX_CREDIT_CHARS = 200
MAX_SUMMARY_CHARS = 900
MAX_TAGS = 10
MAX_TAG_CHARS = 40
MAX_ARTICLE_CHARS = 100_000
MAX_DOCUMENT_BYTES = 1_000_000

_TAG_RE = re.compile(r"^[\w]+$")


def clean_title(text: str | None) -> str:
    if text is None or not text.strip():
        raise InputError("new_title_empty")
    if "\n" in text.strip():
        raise InputError("new_title_multiline")
    title = clean_line(text)
    if not title:
        raise InputError("new_title_empty")
    if len(title) > MAX_TITLE_CHARS:
        raise InputError("new_title_too_long", length=len(title), limit=MAX_TITLE_CHARS)
    return title


def split_paragraphs(text: str) -> list[str]:
    """Every non-blank line is a paragraph (editors type one paragraph per line)."""
    return [line for line in (clean_line(raw) for raw in text.splitlines()) if line]


def clean_credit(text: str) -> str:
    credit = clean_line(text)
    if not credit:
        raise InputError("new_ask_credit")
    if len(credit) > MAX_CREDIT_CHARS:
        raise InputError("new_credit_too_long", limit=MAX_CREDIT_CHARS)
    return credit


def parse_tags(text: str) -> tuple[str, ...]:
    """``"Казахстан, #цветная революция"`` → ``("Казахстан", "цветная_революция")``."""
    tags: list[str] = []
    for raw in re.split(r"[,;\n]+", text):
        tag = "_".join(clean_line(raw).lstrip("#").split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS or not _TAG_RE.match(tag) or tag.isdigit():
            raise InputError("new_tags_invalid", tag=raw.strip()[:50], limit=MAX_TAGS)
        if tag.casefold() not in (t.casefold() for t in tags):
            tags.append(tag)
    if not tags or len(tags) > MAX_TAGS:
        raise InputError("new_tags_invalid", tag=text.strip()[:50], limit=MAX_TAGS)
    return tuple(tags)


def decode_document(data: bytes, file_name: str | None) -> str:
    """Text of an uploaded ``.txt``: UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    if file_name is not None and not file_name.lower().endswith((".txt", ".text")):
        raise InputError("import_not_text_file")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError("import_file_too_big", limit=MAX_DOCUMENT_BYTES // 1000)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError("import_bad_encoding") from exc
    if b"\x00" in data:
        raise InputError("import_not_text_file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("import_bad_encoding") from exc
