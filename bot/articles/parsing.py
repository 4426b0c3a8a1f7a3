"""Turn a raw text dump of a news page into an :class:`~bot.models.ArticleContent`.

Editors copy a page from the outlet's site and paste it into the bot. The dump carries a
header (``29.04.2022, 11:38 27061``: date, time, views), the title twice, a photo credit,
the body one paragraph per line (separated by lines that look blank but hold U+00A0) and
then site chrome: related-news blocks, category links and the reader poll. This module
keeps what belongs to the article and drops the rest.

The article-page extractor (:mod:`bot.feeds.pages`) reads a site's HTML with the same
helpers (chrome, poll, categories, dateline, source), so a page and its dump agree.

It is pure: no Telegram, no I/O. Whatever ``str`` it is given, it either returns content
or raises :class:`ParseError`, so a handler can answer the editor with a message per code.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import cache, lru_cache

from bot.articles.intake import MAX_TITLE_CHARS
from bot.models import ArticleContent
from bot.telegram_text.cleaning import CLOSERS, CONTROL_CHARS_RE, SENTENCE_PUNCT

__all__ = [
    "MAX_RAW_CHARS",
    "PARSE_ERROR_CODES",
    "ParseError",
    "attributed_source",
    "category_tags",
    "is_chrome",
    "is_credit",
    "parse_article",
    "parse_header",
    "parse_poll",
    "source_line",
    "split_dateline",
]

MAX_RAW_CHARS = 200_000
"""Longer input is refused outright: no real page is that long, and it bounds the work."""

# A first line longer than a title may be (MAX_TITLE_CHARS) is a paragraph, not a title,
# so the dump has no title.

PARSE_ERROR_CODES = frozenset({"empty", "no_title", "no_body", "too_long"})


class ParseError(ValueError):
    """The dump cannot be turned into an article; ``code`` says why.

    ``code`` is one of ``"empty"``, ``"no_title"``, ``"no_body"``, ``"too_long"``
    (see :data:`PARSE_ERROR_CODES`); ``str(error)`` is the code too, so the handler maps
    codes to user-facing texts and nothing here is shown to editors verbatim.
    """

    code: str

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- normalisation ----------------------------------------------------------------------

# NEL and the Unicode line/paragraph separators end a line just like "\n" does.
_LINE_BREAK_RE = re.compile("\r\n|[\r\x85\u2028\u2029]")


def _is_invisible(ch: str) -> bool:
    """Whitespace of any kind (U+00A0 too) or a format char (zero-width space, BOM, ...)."""
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def _strip(text: str) -> str:
    """``str.strip`` that also removes zero-width chars, so such lines count as blank."""
    start, end = 0, len(text)
    while start < end and _is_invisible(text[start]):
        start += 1
    while end > start and _is_invisible(text[end - 1]):
        end -= 1
    return text[start:end]


@cache
def _format_chars() -> dict[int, None]:
    """Every format char (category Cf: zero-width space, soft hyphen, BOM, ...) mapped to
    nothing, for ``str.translate``. They live in planes 0, 1 and 14 only; built once, on
    first use, so that a comparison costs one pass in C rather than a call per char."""
    planes = (range(0x20000), range(0xE0000, 0xE1000))
    return {c: None for plane in planes for c in plane if unicodedata.category(chr(c)) == "Cf"}


def _squash(text: str) -> str:
    """Whitespace-normalised form used only for comparisons, never for output."""
    return " ".join(text.translate(_format_chars()).split())


def _lines(raw: str) -> list[str]:
    """The non-blank lines of the dump, stripped; blank lines carry no meaning here."""
    text = raw.removeprefix("\ufeff")
    text = _LINE_BREAK_RE.sub("\n", text)
    text = CONTROL_CHARS_RE.sub("", text)
    stripped = (_strip(line) for line in text.split("\n"))
    return [line for line in stripped if line]


# --- header: "29.04.2022, 11:38 27061" -------------------------------------------------

_VIEWS = r"(?P<views>[0-9]{1,3}(?: [0-9]{3})+|[0-9]{1,12})"
_DATE = r"(?P<day>[0-9]{1,2})\.(?P<month>[0-9]{1,2})\.(?P<year>[0-9]{4})"
_TIME = r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})"
_HEADER_RES = (
    re.compile(rf"{_DATE}(?: ?,? ?{_TIME})?(?: ?,? ?{_VIEWS})?"),
    re.compile(rf"{_TIME} ?,? ?{_DATE}(?: ?,? ?{_VIEWS})?"),
)


def parse_header(line: str) -> tuple[datetime, int | None] | None:
    """Date (naive, the outlet's local time) and view count, or None if not a header.

    An impossible date such as 31.02.2022 means the line is something else.
    """
    squashed = _squash(line)
    if len(squashed) > 40:
        return None
    for pattern in _HEADER_RES:
        match = pattern.fullmatch(squashed)
        if match is None:
            continue
        hour, minute = match["hour"], match["minute"]
        try:
            # The page gives the outlet's local time and no zone: keep it naive.
            when = datetime(  # noqa: DTZ001
                int(match["year"]),
                int(match["month"]),
                int(match["day"]),
                int(hour) if hour else 0,
                int(minute) if minute else 0,
            )
        except ValueError:
            return None
        views = match["views"]
        return when, int(views.replace(" ", "")) if views else None
    return None


# --- photo credit, chrome, poll ----------------------------------------------------------

_CREDIT_RE = re.compile(r"(?:фото|photo)\s*:", re.IGNORECASE)

_CHROME_LINES = frozenset(
    {
        "новости по теме",
        "читаемое",
        "новости rt",
        "ваше мнение",
        "популярное",
        "последние новости",
        "поделиться",
        "комментарии",
    }
)
_POLL_HEADING = "ваше мнение"
_TAGS_RE = re.compile(r"теги\s*(?::|$)")


def is_credit(line: str) -> bool:
    return _CREDIT_RE.match(line) is not None


# Chrome lines are a few words; their start is all that tells them (a "Теги:" line is
# recognised by its prefix), so a long line costs no more than its first characters.
_CHROME_SCAN = 200
# A reader poll is an intro, its question and a few options: never more lines than this.
_POLL_MAX_LINES = 20


def _chrome_key(line: str) -> str:
    return _prefix_key(line[:_CHROME_SCAN])


@lru_cache(maxsize=4096)
def _prefix_key(prefix: str) -> str:
    """Remembered: the lines after a body are scanned three times (the end of the body,
    the poll, the categories), and a site repeats its lists on every page."""
    return _squash(prefix).casefold()


def is_chrome(line: str) -> bool:
    """Site navigation that is never part of an article and marks the end of its body.

    Category links (``Новости Китая``) are short and carry no sentence punctuation, which
    keeps an ordinary paragraph that merely starts with "Новости" in the body.
    """
    key = _chrome_key(line)
    if key.rstrip(":").rstrip() in _CHROME_LINES or _TAGS_RE.match(key):
        return True
    words = key.split()
    return (
        bool(words) and words[0] == "новости" and 2 <= len(words) <= 4 and key[-1] not in ".!?…;,:"
    )


# Category links after the body ("Новости Китая", "Новости RT") name the article's topics:
# they become its tags.  Lines of that shape that are no category:
_NOT_CATEGORIES = frozenset({"по теме", "дня", "партнеров", "партнёров", "компаний"})
_CYRILLIC_VOWELS = frozenset("аеёиоуыэюя")
# Place names that do not decline: their "genitive" is the name itself.
_INDECLINABLE = frozenset({"алматы", "сочи", "тбилиси", "баку", "токио", "осло", "чили"})


def _nominative(word: str) -> str:
    """``"Китая"`` -> ``"Китай"``: the usual genitive endings of a one-word category turned
    back into its name.  A heuristic for the common cases (countries, cities, sections);
    a word it does not recognise is kept as it is."""
    lower = word.casefold()
    if len(lower) < 4 or not all("а" <= ch <= "я" or ch == "ё" for ch in lower):
        return word
    if lower in _INDECLINABLE:
        return word
    before = lower[-2]
    if lower.endswith("ии"):
        return word[:-1] + "я"  # России -> Россия
    if lower.endswith("я"):
        return word[:-1] + ("й" if before in _CYRILLIC_VOWELS else "ь")  # Китая, Кремля
    if lower.endswith("ы"):
        return word[:-1] + "а"  # Москвы -> Москва
    if lower.endswith("и") and before in "кгхжшчщ":
        return word[:-1] + "а"  # Америки -> Америка
    if lower.endswith("а") and before not in _CYRILLIC_VOWELS and before not in "ьъй":
        return word[:-1]  # Казахстана -> Казахстан
    return word


def _category_tag(line: str) -> str | None:
    """``"Новости Китая"`` -> ``"Китай"``, ``"Новости RT"`` -> ``"RT"``; None otherwise."""
    if not is_chrome(line):
        return None
    words = _squash(line).split()
    if len(words) < 2 or words[0].casefold() != "новости":
        return None
    rest = words[1:]
    if " ".join(rest).casefold() in _NOT_CATEGORIES:
        return None
    return _nominative(rest[0]) if len(rest) == 1 else " ".join(rest)


def category_tags(tail: list[str]) -> tuple[str, ...]:
    """Tags from the category lines after the body, up to the reader poll."""
    found: list[str] = []
    for line in tail:
        if _chrome_key(line).rstrip(":").rstrip() == _POLL_HEADING:
            break
        tag = _category_tag(line)
        if tag is not None and tag.casefold() not in {t.casefold() for t in found}:
            found.append(tag)
    return tuple(found)


def _sentences(line: str) -> list[tuple[int, str]]:
    """Split a line at sentence ends; each item is (start offset, sentence text).

    Done token by token rather than with a regex so that pathological input (long runs
    of dots) stays linear.
    """
    result: list[tuple[int, str]] = []
    start: int | None = None
    for token in re.finditer(r"\S+", line):
        if start is None:
            start = token.start()
        if token[0].rstrip(CLOSERS).endswith(tuple(SENTENCE_PUNCT)):
            result.append((start, line[start : token.end()]))
            start = None
    if start is not None:
        result.append((start, line[start:]))
    return result


def _is_question(sentence: str) -> bool:
    core = sentence.rstrip(CLOSERS)
    return "?" in core[len(core.rstrip(SENTENCE_PUNCT)) :]


def parse_poll(tail: list[str]) -> tuple[str | None, str | None]:
    """(question, intro) of the "Ваше мнение" reader poll among the lines after the body.

    The question is the last sentence ending with "?"; everything before it is the intro.
    Answer options after the question are ignored; the next chrome line ends the poll.
    """
    for index, line in enumerate(tail):
        if _chrome_key(line).rstrip(":").rstrip() != _POLL_HEADING:
            continue
        poll_lines: list[str] = []
        for poll_line in tail[index + 1 : index + 1 + _POLL_MAX_LINES]:
            if is_chrome(poll_line):
                break
            poll_lines.append(poll_line)
        for line_no in range(len(poll_lines) - 1, -1, -1):
            current = poll_lines[line_no]
            questions = [item for item in _sentences(current) if _is_question(item[1])]
            if not questions:
                continue
            start, question = questions[-1]
            before = [*poll_lines[:line_no], _strip(current[:start])]
            intro = " ".join(part for part in before if part)
            return question, intro or None
        return None, None
    return None, None


# --- dateline: "НУР-СУЛТАН. 29 АПРЕЛЯ - ..." ---------------------------------------------

# fmt: off
_MONTHS = frozenset(
    {
        # Russian, genitive as used in datelines
        "ЯНВАРЯ", "ФЕВРАЛЯ", "МАРТА", "АПРЕЛЯ", "МАЯ", "ИЮНЯ",
        "ИЮЛЯ", "АВГУСТА", "СЕНТЯБРЯ", "ОКТЯБРЯ", "НОЯБРЯ", "ДЕКАБРЯ",
        # Kazakh
        "ҚАҢТАР", "АҚПАН", "НАУРЫЗ", "СӘУІР", "МАМЫР", "МАУСЫМ",
        "ШІЛДЕ", "ТАМЫЗ", "ҚЫРКҮЙЕК", "ҚАЗАН", "ҚАРАША", "ЖЕЛТОҚСАН",
        # English, full and abbreviated
        "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY",
        "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER",
        "JAN", "FEB", "MAR", "APR", "JUN", "JUL", "AUG", "SEP", "SEPT", "OCT", "NOV", "DEC",
    }
)
# fmt: on
_DATELINE_RE = re.compile(
    r"[^\W\d_]+(?:[ '’-][^\W\d_]+){0,4}"  # place: НУР-СУЛТАН, NEW YORK
    r"(?:\s*[.,]\s*|\s+)"
    r"(?:[0-9]{1,2}\s+(?P<month1>[^\W\d_]+)\.?"  # 29 АПРЕЛЯ
    r"|(?P<month2>[^\W\d_]+)\.?\s+[0-9]{1,2}"  # MAY 5
    r"|[0-9]{1,2}\.[0-9]{1,2}(?:\.[0-9]{2,4})?)"  # 29.04.2022
    r"(?:,?\s+[0-9]{4})?"  # optional year
)
_DASH_RE = re.compile(r"\s*[-–—]\s*")
_DATELINE_SCAN = 120


def _is_dateline(text: str) -> bool:
    """Upper-case place and date with an upper-case month, and no lower-case letter.

    The month list is what tells ``АЛМАТЫ. 3 МАЯ`` from an ordinary sentence with a dash.
    """
    match = _DATELINE_RE.fullmatch(text)
    if match is None or any(ch.islower() for ch in text):
        return False
    month = match["month1"] or match["month2"]
    return month is None or month in _MONTHS


def split_dateline(paragraph: str) -> tuple[str | None, str]:
    """(dateline, rest of the paragraph) or (None, paragraph) when there is none."""
    for dash in _DASH_RE.finditer(paragraph[:_DATELINE_SCAN]):
        head = _strip(paragraph[: dash.start()])
        rest = _strip(paragraph[dash.end() :])
        if rest and _is_dateline(head):
            return head, rest
    return None, paragraph


# --- source --------------------------------------------------------------------------------

_SOURCE_RE = re.compile(
    r"(?<![^\W\d_])(?:передает|передаёт|передают|сообщает|сообщают|информирует)\s+"
    r"(?:(?:собственный\s+)?(?:корреспондент|корр\.)\s*)?"
    r"(?P<source>(?:[^.!?;:,\s]|\.(?=\S))(?:[^.!?;:,]|\.(?=\S)){0,79}?)"
    r"\s*[.!…]?\s*$",
    re.IGNORECASE,
)
# A source may start lower-case when it is named by what it is ("пресс-служба акимата").
_SOURCE_LEAD_INS = frozenset(
    {"пресс-служба", "агентство", "информагентство", "сайт", "портал", "издание", "телеканал"}
)
_SOURCE_LINE_RE = re.compile(r"(?:источник|source)\s*:\s*(?P<source>\S.*)", re.IGNORECASE)


def attributed_source(paragraph: str) -> str | None:
    """``KAZAKHSTAN TODAY`` from a lead ending in ``..., передает KAZAKHSTAN TODAY.``

    The source must look like a name (capital letter, quote, or a lead-in noun) so that
    "сообщает о пожаре." is not read as a source called "о пожаре".
    """
    match = _SOURCE_RE.search(paragraph)
    if match is None:
        return None
    source = _strip(match["source"])
    if not source:
        return None
    first = source[0]
    if first.isupper() or first in "«\"“'" or source.split()[0].casefold() in _SOURCE_LEAD_INS:
        return source
    return None


def source_line(paragraph: str) -> str | None:
    match = _SOURCE_LINE_RE.fullmatch(paragraph)
    return (_strip(match["source"]) or None) if match else None


# --- the parser ---------------------------------------------------------------------------


def parse_article(raw: str) -> ArticleContent:
    """Parse an editor's paste: a page dump or a plain "title, then paragraphs" text.

    Raises :class:`ParseError` (and nothing else) when no article can be made of it.
    """
    if len(raw) > MAX_RAW_CHARS:
        raise ParseError("too_long")
    lines = _lines(raw)
    if not lines:
        raise ParseError("empty")

    pos = 0
    published_at: datetime | None = None
    views: int | None = None
    header = parse_header(lines[0])
    if header is not None:
        published_at, views = header
        pos = 1

    # A credit is never a title, even if the dump puts it first.
    photo_credit: str | None = None
    while pos < len(lines) and is_credit(lines[pos]):
        photo_credit = photo_credit or lines[pos]
        pos += 1
    if pos >= len(lines) or len(lines[pos]) > MAX_TITLE_CHARS:
        raise ParseError("no_title")
    title = lines[pos]
    pos += 1

    # Between the title and the body: the title's repeat and the photo credit(s).
    title_key = _squash(title)
    repeat_seen = False
    while pos < len(lines):
        line = lines[pos]
        if is_credit(line):
            photo_credit = photo_credit or line
        elif not repeat_seen and _squash(line) == title_key:
            repeat_seen = True
        else:
            break
        pos += 1

    body: list[str] = []
    while pos < len(lines) and not is_chrome(lines[pos]):
        body.append(lines[pos])
        pos += 1
    poll_question, poll_intro = parse_poll(lines[pos:])
    tags = category_tags(lines[pos:])

    source = source_line(body[-1]) if body else None
    if source is not None:
        body.pop()
    if not body:
        raise ParseError("no_body")

    dateline, body[0] = split_dateline(body[0])
    if source is None:
        source = attributed_source(body[0])

    return ArticleContent(
        title=title,
        paragraphs=tuple(body),
        dateline=dateline,
        source=source,
        original_published_at=published_at,
        views=views,
        photo_credit=photo_credit,
        poll_question=poll_question,
        poll_intro=poll_intro,
        tags=tags,
    )
