"""Cut formatted text into pieces that fit Telegram's limits, keeping the formatting.

Telegram measures messages and captions in UTF-16 code units, so every length here is
in those units (an emoji such as 🎉 counts 2). The cut points are chosen on the plain text
(paragraph break, then line break, then sentence end, then any space, and only as a last
resort inside a word, never inside a character or, where possible, a grapheme cluster);
the formatted tree is then sliced once per part.

Why not ``Text[a:b]``: aiogram measures its string nodes in code points rather than
UTF-16 units, so any astral character before the cut shifts it. And ``as_html()`` sorts
entities by offset only, so a part starting with ``Bold(Italic("a"), "b")`` would render
the text twice; :func:`_Slicer.wrap` rebuilds such nodes in a shape aiogram renders
correctly (``Bold(Italic("a")), Bold("b")``).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from aiogram.utils.formatting import (
    BotCommand,
    CashTag,
    CustomEmoji,
    DateTime,
    Email,
    HashTag,
    PhoneNumber,
    Text,
    Url,
    sizeof,
)

from bot.telegram.limits import MESSAGE_LIMIT
from bot.telegram_text.cleaning import CLOSERS, SENTENCE_PUNCT

__all__ = [
    "fit_prefix",
    "last_sentence_end",
    "plain_text",
    "shorten",
    "split_text",
]

_SENTENCE_END_RE = re.compile(rf"[{re.escape(SENTENCE_PUNCT)}]+[{re.escape(CLOSERS)}]*(?=\s|$)")
_WS_RUN_RE = re.compile(r"\s+")
# Whitespace that must not be broken: "5\u00a0000", "т.\u00a0е.". A run made of these only
# is never a cut point (it is still stripped at a cut made next to it).
_NO_BREAK = frozenset("\u00a0\u2007\u202f")
# Entities that mean something only whole: half a hashtag or a custom emoji is not one.
_ATOMIC = (HashTag, CashTag, BotCommand, Url, Email, PhoneNumber, CustomEmoji, DateTime)
_ZWJ = "\u200d"
# Punctuation that would dangle before an ellipsis: "сказал, …" -> "сказал…".
_DANGLING = ",;:—–-"
# A heading is a block no longer than this (and a quarter of the limit) that doesn't end
# a sentence: a title with its date line fits, a paragraph that lost its period rarely.
_HEADING_MAX = 320


def plain_text(node: object) -> str:
    """The text of a node without formatting (what ``Text.render()`` yields as text)."""
    if isinstance(node, Text):
        return "".join(plain_text(child) for child in node)
    return str(node)


def _is_extender(ch: str) -> bool:
    """Does ``ch`` attach to the character before it (combining mark, emoji modifier…)?"""
    code = ord(ch)
    return (
        ch == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences (flags of regions)
        or unicodedata.category(ch) in ("Mn", "Mc", "Me")
    )


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _inside_cluster(text: str, pos: int) -> bool:
    """Would cutting ``text`` before index ``pos`` split a user-perceived character?

    A light approximation of grapheme clusters (no tables): combining marks, ZWJ emoji
    sequences, skin tones, variation selectors and flag pairs. Code point indices never
    split a surrogate pair, so that case cannot arise here at all.
    """
    if pos <= 0 or pos >= len(text):
        return False
    before, after = text[pos - 1], text[pos]
    if _is_extender(after) or before == _ZWJ:
        return True
    if _is_regional(before) and _is_regional(after):
        run = 0
        while pos - run - 1 >= 0 and _is_regional(text[pos - run - 1]):
            run += 1
        return run % 2 == 1
    return False


def _safe_cut(text: str, pos: int, floor: int) -> int:
    """Move a cut at ``pos`` back so it doesn't split a cluster, but not to ``floor``."""
    cut = pos
    while cut > floor + 1 and _inside_cluster(text, cut):
        cut -= 1
    return pos if _inside_cluster(text, cut) else cut


def fit_prefix(text: str, limit: int) -> int:
    """Number of code points of the longest prefix of ``text`` within ``limit`` units.

    Moves back to a cluster boundary when it can (keeps a flag or 👍🏽 whole).
    """
    if limit <= 0:
        return 0
    prefix = _Utf16Prefix(text)
    end = prefix.fit(0, limit)
    if end >= len(text):
        return len(text)
    return _safe_cut(text, end, 0) if end > 0 else 0


def last_sentence_end(text: str, limit: int) -> int | None:
    """Index just past the last sentence end that fits in ``limit`` units, if any.

    A sentence ends with ``.``, ``!``, ``?`` or ``…`` (closing quotes or brackets after it
    belong to it) followed by whitespace or the end of the text.
    """
    room = fit_prefix(text, limit)
    best: int | None = None
    for match in _SENTENCE_END_RE.finditer(text):
        if match.end() > room:
            break
        if text[: match.start()].strip():
            best = match.end()
    return best


def shorten(text: str, limit: int, ellipsis: str) -> str:
    """``text`` if it fits, else cut at a word boundary with ``ellipsis`` appended.

    Falls back to a cut inside the word when the first word alone doesn't fit. Never
    returns more than ``limit`` units; returns "" if not even the ellipsis fits.
    """
    if sizeof(text) <= limit:
        return text
    room = limit - sizeof(ellipsis)
    if room <= 0:
        return ""
    end = fit_prefix(text, room)
    head = text[:end]
    if end < len(text) and _continues_word(text[end]):
        # The last word is incomplete: drop it, unless it is the only one.
        words = head.rsplit(maxsplit=1)
        if len(words) == 2:
            head = words[0]
    trimmed = head.rstrip().rstrip(_DANGLING).rstrip()
    return (trimmed or head) + ellipsis


def _continues_word(ch: str) -> bool:
    """Is a cut before ``ch`` inside a word (not before a space or punctuation)?"""
    return not ch.isspace() and not unicodedata.category(ch).startswith("P")


class _Utf16Prefix:
    """UTF-16 offsets of code point positions, without a table when all are BMP."""

    __slots__ = ("_offsets",)

    def __init__(self, text: str) -> None:
        self._offsets: Sequence[int]
        if len(text) == sizeof(text):
            self._offsets = range(len(text) + 1)
        else:
            sizes = (2 if ord(ch) > 0xFFFF else 1 for ch in text)
            self._offsets = list(accumulate(sizes, initial=0))

    def __getitem__(self, index: int) -> int:
        return self._offsets[index]

    def fit(self, start: int, limit: int) -> int:
        """Largest end such that ``text[start:end]`` is at most ``limit`` units."""
        return bisect_right(self._offsets, self._offsets[start] + limit, lo=start) - 1


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _ends_sentence(text: str, pos: int, floor: int) -> bool:
    """Does the text just before ``pos`` end a sentence (punctuation, maybe closers)?"""
    while pos > floor and text[pos - 1] in CLOSERS:
        pos -= 1
    return pos > floor and text[pos - 1] in SENTENCE_PUNCT


def _line_breaks(run: str) -> int:
    return len((run + "x").splitlines()) - 1


class _Cutter:
    """Chooses the cut points of one plain text; see :func:`split_text` for the rules."""

    def __init__(self, text: str, limit: int) -> None:
        self.text = text
        self.limit = limit
        self.prefix = _Utf16Prefix(text)
        self.heading_max = min(limit // 4, _HEADING_MAX)

    def spans(self) -> list[tuple[int, int]]:
        """Code point spans ``[start, end)`` of the parts, whitespace at cuts excluded."""
        text, result = self.text, []
        start = _skip_space(text, 0)
        while start < len(text):
            end_max = self.prefix.fit(start, self.limit)
            if end_max >= len(text):
                result.append((start, len(text.rstrip())))
                break
            end, resume = self._cut(start, end_max)
            result.append((start, end))
            start = _skip_space(text, resume)
        return result

    def _is_heading(self, start: int, end: int) -> bool:
        return self.prefix[end] - self.prefix[start] <= self.heading_max and not (
            _ends_sentence(self.text, end, start)
        )

    def _cut(self, start: int, end_max: int) -> tuple[int, int]:
        """The best cut for a part starting at ``start``: (part end, next part start)."""
        text = self.text
        paragraphs: list[tuple[int, int]] = []
        lines: list[tuple[int, int]] = []
        sentence = space = None
        # Runs are searched up to end_max + 1 only: a run must start by end_max to be a
        # cut (the part before it fits); one cut short by the bound is re-matched whole.
        for match in _WS_RUN_RE.finditer(text, start, end_max + 1):
            run_start = match.start()
            if match.end() == end_max + 1:
                match = _WS_RUN_RE.match(text, run_start) or match
            run = match.group()
            if all(ch in _NO_BREAK for ch in run):
                continue
            cut = (run_start, match.end())
            breaks = _line_breaks(run)
            if breaks >= 2:
                paragraphs.append(cut)
            if breaks >= 1:
                lines.append(cut)
            if breaks >= 1 or _ends_sentence(text, run_start, start):
                sentence = cut
            space = cut
        if paragraphs:
            return self._block_cut(start, paragraphs, (sentence, space))
        if lines:
            return self._block_cut(start, lines, (sentence, space))
        for fallback in (sentence, space):
            if fallback is not None:
                return fallback
        end = _safe_cut(text, end_max, start)
        return len(text[start:end].rstrip()) + start, end

    def _block_cut(
        self,
        start: int,
        cuts: list[tuple[int, int]],
        finer: tuple[tuple[int, int] | None, ...],
    ) -> tuple[int, int]:
        """The last of ``cuts`` (paragraph or line breaks), but not right after a heading.

        A heading ending the part moves to the next one, with the text it introduces; if
        it is the part's only block, the part goes on into that text to a finer cut.
        """
        last = cuts[-1]
        block_start = cuts[-2][1] if len(cuts) > 1 else start
        if not self._is_heading(block_start, last[0]):
            return last
        if len(cuts) > 1:
            return cuts[-2]
        for cut in finer:
            if cut is not None and cut[0] > last[1]:
                return cut
        return last


class _Slicer:
    """Slices a ``Text`` tree by UTF-16 offsets; node sizes are computed once.

    Each ``Text`` node's child end offsets are cached, so a slice finds its first child
    by bisection instead of walking the nodes before it (many parts, many nodes).
    """

    def __init__(self) -> None:
        self._sizes: dict[int, int] = {}
        self._layouts: dict[int, tuple[tuple[object, ...], list[int]]] = {}

    def _layout(self, node: Text) -> tuple[tuple[object, ...], list[int]]:
        """The node's children and the offset where each of them ends."""
        layout = self._layouts.get(id(node))
        if layout is None:
            children = tuple(iter(node))  # tuple(node) would call len(), which renders
            layout = (children, list(accumulate(self.size(child) for child in children)))
            self._layouts[id(node)] = layout
        return layout

    def size(self, node: object) -> int:
        if isinstance(node, Text):
            ends = self._layout(node)[1]
            return ends[-1] if ends else 0
        size = self._sizes.get(id(node))
        if size is None:
            size = self._sizes[id(node)] = sizeof(str(node))
        return size

    def slice(self, node: object, start: int, stop: int) -> list[object]:
        """The pieces of ``node`` between ``start`` and ``stop``, relative to it.

        Returns a list to splice into the parent: untyped groups are flattened and a
        typed node may come back as several (see :meth:`wrap`). Empty pieces are dropped.
        """
        if not isinstance(node, Text):
            return self._slice_str(str(node), self.size(node), start, stop)
        children, ends = self._layout(node)
        pieces: list[object] = []
        index = bisect_right(ends, start)
        while index < len(children):
            begin = ends[index - 1] if index else 0
            if begin >= stop:
                break
            end = ends[index]
            pieces += self.slice(children[index], max(start - begin, 0), min(stop, end) - begin)
            index += 1
        if not pieces or node.type is None:
            return pieces
        if isinstance(node, _ATOMIC) and (start > 0 or stop < self.size(node)):
            return pieces
        return self.wrap(node, pieces)

    @staticmethod
    def wrap(node: Text, children: list[object]) -> list[object]:
        """``node``'s formatting around ``children``, in a shape ``as_html`` renders right.

        aiogram's ``as_html`` sorts entities by offset only, so an entity that starts
        where its parent starts but ends earlier is taken for the outer one. Splitting
        the parent after such a first child avoids that: ``B(I(a), b)`` ->
        ``B(I(a)), B(b)``, which looks the same in Telegram.
        """
        pieces: list[object] = []
        while len(children) > 1 and isinstance(children[0], Text):
            pieces.append(node.replace(children[0]))
            children = children[1:]
        pieces.append(node.replace(*children))
        return pieces

    @staticmethod
    def _slice_str(value: str, size: int, start: int, stop: int) -> list[object]:
        if start >= stop:
            return []
        if len(value) == size:
            piece = value[start:stop]
        else:
            piece = value.encode("utf-16-le")[2 * start : 2 * stop].decode("utf-16-le")
        return [piece] if piece else []


def split_text(text: Text, limit: int = MESSAGE_LIMIT) -> list[Text]:
    """Split ``text`` into parts of at most ``limit`` UTF-16 units, formatting kept.

    Cut points, best first: a paragraph break (a whitespace run with two line breaks),
    a line break, a sentence end (``.``, ``!``, ``?``, ``…``, maybe followed by closing
    quotes, then whitespace), any whitespace but no-break spaces, and only then inside a
    word, backing off to a cluster boundary (never inside an emoji). The last cut of its
    kind that fits is taken; a short unpunctuated block (a heading) is not left at the
    end of a part when the part can end elsewhere.

    The whitespace run at a cut is dropped, nothing else: the parts' non-whitespace
    characters are exactly the text's. When the text needs no split it comes back as the
    one part, whitespace and all; otherwise no part begins or ends with whitespace.
    No part is empty or blank; an empty or blank text gives ``[]``. Entities cut in two
    continue in the next part. ``limit`` must be at least 2 (an emoji takes two units).
    """
    if limit < 2:
        raise ValueError(f"limit must be at least 2 UTF-16 units, not {limit}")
    plain = plain_text(text)
    if not plain or plain.isspace():
        return []
    slicer = _Slicer()
    cutter = _Cutter(plain, limit)
    prefix = cutter.prefix
    spans = [(0, len(plain))] if prefix[len(plain)] <= limit else cutter.spans()
    return [Text(*slicer.slice(text, prefix[start], prefix[end])) for start, end in spans]
