"""Validation of what editors type: ids, titles, paragraphs, tags, credits, files.

Plain functions with no Telegram in them.  A failure is an ``InputError`` naming the
``Texts`` field that explains it, so the handler only has to show the message.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

MAX_TITLE_CHARS = 256
MAX_CREDIT_CHARS = 200
MAX_TAGS = 10
MAX_TAG_CHARS = 40
MAX_ARTICLE_CHARS = 100_000
MAX_DOCUMENT_BYTES = 1_000_000

_ID_RE = re.compile(r"^\s*(?:№|#)?\s*([0-9]{1,9})\s*$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u2028\u2029\ufeff]")
_TAG_RE = re.compile(r"^[\w]+$")


class InputError(ValueError):
    """Bad editor input; ``key`` is the ``Texts`` field with the explanation."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def parse_id(args: str | None) -> int | None:
    """``"12"``, ``"№12"`` → 12; anything else (missing, words, negative, huge) → None."""
    if not args:
        return None
    match = _ID_RE.match(args)
    return int(match.group(1)) if match else None


def clean_line(text: str) -> str:
    """One line of text as it will be stored: no control characters, single spaces."""
    text = _CONTROL_RE.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


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
