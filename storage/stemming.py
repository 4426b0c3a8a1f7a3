"""Russian word forms for full-text search: documents and queries are stemmed alike.

SQLite's FTS5 has no Russian stemmer (``unicode61`` only folds case), so the storage layer
stems in Python with Snowball before text reaches the index, and stems every query the
same way: "проспекта" and "проспект" both become "проспект".  Tokens are runs of letters
and digits only, which is exactly how FTS5's ``unicode61`` tokenizer splits them too, so a
stem always stays one FTS5 token (never a phrase).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_WORD_RE = re.compile(r"[^\W_]+")
_russian = snowballstemmer.stemmer("russian")
# Longer tokens are noise (hashes, glued URLs); they are cut so the index stays small.
MAX_TOKEN_CHARS = 40


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    """One lower-case token → its stem (Cyrillic through Snowball, others as they are)."""
    if word.isascii():
        return word
    stem: str = _russian.stemWord(word)
    return stem or word


def tokens(text: str) -> list[str]:
    """Lower-case words of ``text`` (ё folded to е), in order."""
    normal = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    return [word[:MAX_TOKEN_CHARS] for word in _WORD_RE.findall(normal)]


def stems(text: str) -> list[str]:
    """The stems of every word of ``text``, in order (duplicates kept: they weigh)."""
    return [stem_word(word) for word in tokens(text)]


def stemmed(text: str) -> str:
    """``text`` as the index stores it: stems separated by spaces."""
    return " ".join(stems(text))
