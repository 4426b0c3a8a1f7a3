"""Cleaning what people type or paste: control characters, spacing, sentence ends, ids."""

from __future__ import annotations

import re
import unicodedata

# Punctuation that ends a sentence, and the closing quotes and brackets that may follow
# it: «…сказал он.» Далее…
SENTENCE_PUNCT = ".!?…"
CLOSERS = "\"'»”“’)]"
# C0/C1 controls (but "\n" and "\t"), zero-width space, BOM, Unicode line separators and
# lone surrogates: invisible garbage from copy-paste that would also break UTF-8 encoding
# when the text goes to Telegram or the database.
CONTROL_CHARS_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff\ud800-\udfff]")

_ID_RE = re.compile(r"^\s*(?:№|#)?\s*([0-9]{1,9})\s*$")
# Only ASCII digits: "²".isdigit() is True, and int("²") raises.
_OFFSET_RE = re.compile(r"[0-9]{1,9}")


def clean_line(text: str) -> str:
    """One line of text as it will be stored: no control characters, single spaces."""
    text = CONTROL_CHARS_RE.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def parse_id(args: str | None) -> int | None:
    """``"12"``, ``"№12"`` → 12; anything else (missing, words, negative, huge) → None."""
    if not args:
        return None
    match = _ID_RE.match(args)
    return int(match.group(1)) if match else None


def parse_offset(text: str) -> int:
    """An inline query's offset as the bot set it; anything a client forged reads as 0."""
    return int(text) if _OFFSET_RE.fullmatch(text) else 0
