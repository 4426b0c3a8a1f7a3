"""Read an article page of the outlet's site the way an editor would.

What the page states about itself in structured data (``og:*``, JSON-LD ``NewsArticle``)
is taken as stated: date, canonical address, main photo, section, keywords. The text comes
from the DOM: the element that holds most of the page's paragraph text is the article
body (``itemprop="articleBody"`` when the site marks it). The page-dump parser's helpers
(:mod:`bot.articles.parsing`) then do what they do for a pasted dump: they know the site
chrome that ends the body ("Читаемое", "Новости по теме"), datelines, sources, the
"Ваше мнение" reader poll and the category links that become tags.

Pure and CPU only: bytes in, :class:`ExtractedPage` or None out. The page is untrusted:
whatever the bytes, :func:`extract_article` returns None rather than raise. The caller
caps the number of bytes.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.articles.intake import (
    MAX_ARTICLE_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TITLE_CHARS,
)
from bot.articles.parsing import (
    attributed_source,
    category_tags,
    is_chrome,
    is_credit,
    parse_header,
    parse_poll,
    source_line,
    split_dateline,
)
from bot.models import ArticleContent
from bot.telegram_text.cleaning import clean_line

__all__ = ["ExtractedPage", "decode_page", "extract_article"]


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """The article of a page: its content as an editor would paste it, plus the page's
    main photo (an absolute http(s) URL, not downloaded) and canonical address."""

    content: ArticleContent
    photo_url: str | None
    canonical_url: str | None


# --- decoding -----------------------------------------------------------------------------

# Where a page declares its encoding: <meta charset="..."> or the http-equiv form. Looked
# for in the first bytes only, as browsers do.
_META_CHARSET_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([\w.:-]{1,40})""", re.I)
_PRESCAN_BYTES = 4096
# Labels that mean something else on the web than in Python (WHATWG Encoding Standard):
# a page "in latin-1" is windows-1252, and a <meta> cannot truthfully declare UTF-16.
_WEB_CODECS = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}


def _codec(label: str | None, *, from_meta: bool = False) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except (LookupError, ValueError):
        return None
    if from_meta and name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return _WEB_CODECS.get(name, name)


def decode_page(html: bytes, charset: str | None = None) -> str:
    """The page's text: BOM, then the HTTP charset, then ``<meta charset>``, then UTF-8.

    Bytes that are not UTF-8 and declare nothing are read as cp1251, the usual legacy
    encoding of Kazakh and Russian sites: it decodes any byte, so the page still reads.
    """
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if html.startswith(bom):
            return html.decode(name, "replace")
    declared = _codec(charset)
    if declared is None:
        match = _META_CHARSET_RE.search(html[:_PRESCAN_BYTES])
        declared = _codec(match[1].decode("ascii"), from_meta=True) if match else None
    if declared is not None:
        return html.decode(declared, "replace")
    try:
        return html.decode("utf-8")
    except UnicodeDecodeError:
        return html.decode("cp1251", "replace")


# --- structured data: <meta>, <link rel=canonical>, JSON-LD --------------------------------

_ARTICLE_TYPES = frozenset(
    {"newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "blogposting"}
)
_MAX_JSON_LD_CHARS = 500_000
_MAX_JSON_LD_NODES = 200


@dataclass(slots=True)
class _PageData:
    """What the page says about itself, first value of each kind."""

    meta: dict[str, str] = field(default_factory=dict)
    meta_tags: list[str] = field(default_factory=list)
    article: dict[str, object] = field(default_factory=dict)
    canonical: str | None = None
    base: str | None = None

    def first(self, *values: object) -> str | None:
        """The first value that is a non-blank string once cleaned."""
        for value in values:
            if isinstance(value, str) and (text := clean_line(value)):
                return text
        return None


def _json_objects(value: object, budget: list[int], depth: int = 0) -> Iterator[dict[str, object]]:
    """Every JSON object in a JSON-LD document (top level, lists, ``@graph``), bounded."""
    if depth > 4 or budget[0] <= 0:
        return
    if isinstance(value, list):
        for item in value:
            yield from _json_objects(item, budget, depth + 1)
    elif isinstance(value, dict):
        budget[0] -= 1
        yield value
        yield from _json_objects(value.get("@graph"), budget, depth + 1)


def _is_article_type(value: object) -> bool:
    types = value if isinstance(value, list) else [value]
    return any(isinstance(kind, str) and kind.casefold() in _ARTICLE_TYPES for kind in types)


def _json_ld_article(parser: LexborHTMLParser) -> dict[str, object]:
    budget = [_MAX_JSON_LD_NODES]
    for script in parser.css('script[type="application/ld+json"]'):
        text = script.text()
        if len(text) > _MAX_JSON_LD_CHARS:
            continue
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            continue
        for item in _json_objects(document, budget):
            if _is_article_type(item.get("@type")):
                return item
    return {}


def _page_data(parser: LexborHTMLParser) -> _PageData:
    data = _PageData()
    for node in parser.css("meta[content]"):
        attrs = node.attributes
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
        content = attrs.get("content")
        if not key or not content:
            continue
        key = key.strip().casefold()
        if key == "article:tag":
            data.meta_tags.append(content)
        else:
            data.meta.setdefault(key, content)
    canonical = parser.css_first('link[rel="canonical"][href]')
    data.canonical = canonical.attributes.get("href") if canonical is not None else None
    base = parser.css_first("base[href]")
    data.base = base.attributes.get("href") if base is not None else None
    data.article = _json_ld_article(parser)
    return data


def _absolute(base: str, link: object) -> str | None:
    """``link`` made absolute against the page; None unless it is an http(s) URL."""
    if not isinstance(link, str) or not (link := link.strip()):
        return None
    try:
        absolute = urljoin(base, link)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return absolute


def _json_ld_image(value: object) -> object:
    """``image`` of JSON-LD: a URL, an ``ImageObject``, or a list of either."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return value.get("url") or value.get("contentUrl")
    return value


def _as_list(value: object) -> list[str]:
    """A JSON-LD text list: ``"a, b"`` or ``["a", "b"]``."""
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _parse_date(value: str | None) -> datetime | None:
    """An ISO date as the page gives it, or the dump's ``29.04.2022, 11:38`` form.

    Kept as the outlet's wall-clock time without a zone, as the dump parser does, so an
    imported page and a pasted dump of it carry the same date.
    """
    if not value:
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        pass
    header = parse_header(text)
    return header[0] if header is not None else None


# --- the DOM: body container, lines of text ------------------------------------------------

# Never text of an article; removed before anything is read (after the JSON-LD is).
_DROP_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "canvas",
    "object",
    "embed",
    "button",
    "input",
    "select",
    "textarea",
    "video",
    "audio",
]
# Elements that end a line of text, as a browser lays them out.
# fmt: off
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "label", "li", "main", "nav", "ol", "p", "pre", "section", "table",
        "td", "th", "tr", "ul", "time",
    }
)
# fmt: on
# Page furniture by the names sites give it (class or id); never the article's text.
_FURNITURE_RE = re.compile(
    r"comment|related|sidebar|footer|menu|poll|popular|share|social|promo|banner|advert|"
    r"subscribe|breadcrumb|widget|teaser|recommend",
    re.IGNORECASE,
)
_FURNITURE_TAGS = frozenset({"nav", "header", "footer", "aside", "form", "figure", "figcaption"})
_LEAD_RE = re.compile(r"(?:^|[\s_-])(?:lead|intro|subtitle|announce|anons)(?:$|[\s_-])", re.I)
# Separators put into the tree: the text of a block ends at _BREAK; what follows the
# article body starts after _TAIL. Control characters: clean_line removes any in the page.
_BREAK = "\x1e"
_TAIL = "\x1d"
_MIN_PARAGRAPH = 25  # shorter <p> (a caption, a button label) says nothing about the body
_MAX_ANCESTORS = 48  # bound the walk up from a <p>: deep trees are a hostile page's trick
_MIN_BODY_CHARS = 80  # less text than a tweet is no article


def _furniture_name(node: LexborNode) -> bool:
    attrs = node.attributes
    names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    return _FURNITURE_RE.search(names) is not None


def _in_furniture(node: LexborNode, known: dict[int, bool]) -> bool:
    """Inside navigation, a header or footer, a sidebar, a form, a figure or a block that
    the site names as furniture (``class="related"``)?  ``known`` keeps the verdict of
    every ancestor walked: a page's paragraphs share most of theirs."""
    walked: list[int] = []
    current = node.parent
    verdict = True  # deeper than _MAX_ANCESTORS: a hostile page's trick
    for _ in range(_MAX_ANCESTORS):
        if current is None or current.tag in ("body", "html"):
            verdict = False
            break
        if (seen := known.get(current.mem_id)) is not None:
            verdict = seen
            break
        walked.append(current.mem_id)
        if current.tag in _FURNITURE_TAGS or _furniture_name(current):
            verdict = True
            break
        current = current.parent
    for mem_id in walked:
        known[mem_id] = verdict
    return verdict


def _body_container(parser: LexborHTMLParser) -> LexborNode | None:
    """The element holding the article text: the site's own ``articleBody`` mark, else the
    element whose paragraphs (and, at half weight, its children's) hold the most text."""
    marked = parser.css_first('[itemprop="articleBody"]')
    if marked is not None and len(marked.text()) >= _MIN_BODY_CHARS:
        return marked
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}
    furniture: dict[int, bool] = {}
    for paragraph in parser.css("p"):
        # Its length as a clean line but for control characters: a score, not the text.
        length = len(" ".join(paragraph.text().split()))
        if length < _MIN_PARAGRAPH or _in_furniture(paragraph, furniture):
            continue
        parent = paragraph.parent
        for weight in (1.0, 0.5):
            if parent is None or parent.tag in ("body", "html"):
                break
            scores[parent.mem_id] = scores.get(parent.mem_id, 0.0) + length * weight
            nodes[parent.mem_id] = parent
            parent = parent.parent
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    return nodes[best]


def _lines(text: str) -> list[str]:
    """Non-blank lines of text taken from a tree whose blocks end with ``_BREAK``."""
    parts = (part for part in text.split(_BREAK) if part and not part.isspace())
    return [line for line in map(clean_line, parts) if line]


def _ancestor(node: LexborNode, tag: str) -> LexborNode | None:
    current = node.parent
    for _ in range(_MAX_ANCESTORS):
        if current is None:
            return None
        if current.tag == tag:
            return current
        current = current.parent
    return None


def _image_src(image: LexborNode | None) -> str | None:
    if image is None:
        return None
    attrs = image.attributes
    src = attrs.get("src") or attrs.get("data-src")
    if not src and (srcset := attrs.get("srcset")):
        src = srcset.split(",")[0].split()[0] if srcset.strip() else None
    return src


_CREDIT_IN_CAPTION_RE = re.compile(r"(?:фото|photo)\s*:|©", re.IGNORECASE)


def _caption_credit(figure: LexborNode | None) -> str | None:
    """``"Фото: Акорда"`` from a figure's caption (``"Токаев. Фото: Акорда"`` too)."""
    caption = figure.css_first("figcaption") if figure is not None else None
    if caption is None:
        return None
    text = clean_line(caption.text())
    match = _CREDIT_IN_CAPTION_RE.search(text)
    if match is None:
        return None
    return text[match.start() :][:MAX_TITLE_CHARS] or None


# --- the extractor ------------------------------------------------------------------------


@dataclass(slots=True)
class _Body:
    paragraphs: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    credit: str | None = None
    published_at: datetime | None = None
    views: int | None = None


def _split_body(lines: list[str], title: str, tail: list[str]) -> _Body:
    """Body paragraphs of the container's lines; what follows the first chrome line
    ("Читаемое") joins the tail. Lines up to the title, if the container repeats it, are
    the page's byline and date; a photo credit anywhere is kept apart."""
    body = _Body()
    title_key = title.casefold()
    start = next((i + 1 for i, line in enumerate(lines) if line.casefold() == title_key), 0)
    for line in lines[:start]:
        header = parse_header(line)
        if header is not None and body.published_at is None:
            body.published_at, body.views = header
    size = 0
    for index in range(start, len(lines)):
        line = lines[index]
        if is_chrome(line):
            body.tail = lines[index:] + tail
            return body
        if is_credit(line):
            body.credit = body.credit or line[:MAX_TITLE_CHARS]
            continue
        header = parse_header(line) if not body.paragraphs else None
        if header is not None or line.casefold() == title_key:
            if header is not None and body.published_at is None:
                body.published_at, body.views = header
            continue
        size += len(line)
        if size > MAX_ARTICLE_CHARS:
            break
        body.paragraphs.append(line)
    body.tail = tail
    return body


def _title(parser: LexborHTMLParser, container: LexborNode | None, data: _PageData) -> str | None:
    article = _ancestor(container, "article") if container is not None else None
    heading = (article or parser).css_first("h1")
    title_tag = parser.css_first("title")
    candidates = (
        heading.text() if heading is not None else None,
        data.article.get("headline"),
        data.meta.get("og:title"),
        title_tag.text() if title_tag is not None else None,
    )
    for candidate in candidates:
        title = data.first(candidate)
        if title is not None and len(title) <= MAX_TITLE_CHARS:
            return title
    return None


def _tags(tail: list[str], data: _PageData) -> tuple[str, ...]:
    """Site categories ("Новости Китая"), then the section and the keywords."""
    found: list[str] = []
    seen: set[str] = set()
    raw = [
        *category_tags(tail),
        *_as_list(data.article.get("articleSection")),
        *([data.meta["article:section"]] if "article:section" in data.meta else []),
        *_as_list(data.article.get("keywords")),
        *data.meta_tags,
    ]
    for value in raw:
        tag = clean_line(value).lstrip("#")
        if not tag or len(tag) > MAX_TAG_CHARS or not any(ch.isalpha() for ch in tag):
            continue
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            found.append(tag)
        if len(found) == MAX_TAGS:
            break
    return tuple(found)


def _announces_other(data: _PageData, parser: LexborHTMLParser) -> bool:
    """The page says it is not an article (a section front, a profile) and shows no mark
    of one: a listing's teasers would otherwise read like paragraphs."""
    og_type = (data.meta.get("og:type") or "").strip().casefold()
    if not og_type or og_type == "article" or data.article:
        return False
    return parser.css_first("article, [itemprop='articleBody']") is None


def _extract(html: bytes, url: str, charset: str | None) -> ExtractedPage | None:
    parser = LexborHTMLParser(decode_page(html, charset))
    data = _page_data(parser)
    parser.strip_tags(_DROP_TAGS)
    if _announces_other(data, parser):
        return None
    container = _body_container(parser)
    if container is None:
        return None
    title = _title(parser, container, data)
    if title is None:
        return None
    base = _absolute(url, data.base) or url

    scope = _ancestor(container, "article") or container
    figure = container.css_first("figure") or scope.css_first("figure")
    photo_url = (
        _absolute(base, data.meta.get("og:image:secure_url"))
        or _absolute(base, data.meta.get("og:image"))
        or _absolute(base, _json_ld_image(data.article.get("image")))
        or _absolute(base, _image_src(figure.css_first("img") if figure is not None else None))
    )
    credit = _caption_credit(figure)
    lead_node = next(
        (node for node in scope.css("[class]") if _LEAD_RE.search(node.attributes["class"] or "")),
        None,
    )
    lead = clean_line(lead_node.text()) if lead_node is not None else ""

    for node in container.css("figure, aside, nav, [class], [id]"):
        if node.tag in _FURNITURE_TAGS or _furniture_name(node):
            node.decompose()
    body_node = parser.body
    if body_node is None:
        return None
    # One walk in Python beats Lexbor's matching of a long selector list.
    for node in [node for node in body_node.traverse() if node.tag in _BLOCK_TAGS]:
        node.insert_before(_BREAK)
        node.insert_after(_BREAK)
    for node in body_node.css("br"):
        node.replace_with(_BREAK)
    lines = _lines(container.text())
    container.insert_after(_TAIL)
    # After the body a link is a line of its own: category links sit side by side.
    for node in body_node.css("a"):
        node.insert_before(_BREAK)
        node.insert_after(_BREAK)
    for node in body_node.css("nav, footer, header"):
        if _TAIL not in node.text():
            node.decompose()
    _, _, after = body_node.text().partition(_TAIL)
    body = _split_body(lines, title, _lines(after))
    if (body.paragraphs and body.paragraphs[0] == lead) or len(lead) > MAX_SUMMARY_CHARS:
        # The body's first paragraph, not a lead apart from it; or no lead at all but a
        # block that holds the article (class="intro-wrapper").
        lead = ""
    if sum(len(line) for line in body.paragraphs) < _MIN_BODY_CHARS:
        return None

    paragraphs = body.paragraphs
    source = source_line(paragraphs[-1])
    if source is not None:
        paragraphs.pop()
    if not paragraphs:
        return None
    dateline, paragraphs[0] = split_dateline(paragraphs[0])
    source = source or attributed_source(paragraphs[0])
    poll_question, poll_intro = parse_poll(body.tail)
    published_at = (
        _parse_date(data.first(data.article.get("datePublished")))
        or _parse_date(data.meta.get("article:published_time"))
        or _parse_date(data.meta.get("datepublished"))
        or body.published_at
    )
    content = ArticleContent(
        title=title,
        paragraphs=tuple(paragraphs),
        summary=lead or None,
        dateline=dateline,
        source=source,
        original_published_at=published_at,
        views=body.views,
        photo_credit=credit or body.credit,
        tags=_tags(body.tail, data),
        poll_question=poll_question,
        poll_intro=poll_intro,
    )
    canonical = _absolute(base, data.canonical) or _absolute(base, data.meta.get("og:url"))
    return ExtractedPage(content=content, photo_url=photo_url, canonical_url=canonical)


def extract_article(html: bytes, url: str, *, charset: str | None = None) -> ExtractedPage | None:
    """The article of the page at ``url`` (used to make its links absolute), or None when
    the page holds none. ``charset`` is the one the HTTP response declared, if any."""
    return _extract(html, url, charset)
