"""A feed item's HTML (``content:encoded``, a description) as plain paragraphs."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from bot.telegram_text.cleaning import clean_line

# Tags whose start or end ends a paragraph.
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "figure",
        "figcaption",
        "section",
        "article",
        "table",
        "tr",
        "hr",
        "pre",
    }
)
# Tags whose content is never text.
_HIDDEN = frozenset({"script", "style", "noscript", "iframe", "svg", "template", "head"})
_TAG_LIKE = re.compile(r"<[a-zA-Z/!][^>]*>")


class _Paragraphs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._hidden = 0

    def flush(self) -> None:
        line = clean_line("".join(self._current))
        if line:
            self.paragraphs.append(line)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in _BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._current.append(data)


def html_paragraphs(markup: str) -> list[str]:
    """Paragraphs of an HTML fragment; plain text is split at its line breaks."""
    if not _TAG_LIKE.search(markup):
        text = html.unescape(markup)
        return [line for line in (clean_line(raw) for raw in text.splitlines()) if line]
    parser = _Paragraphs()
    parser.feed(markup)
    parser.close()
    parser.flush()
    return parser.paragraphs
