"""Unit tests for the article-page extractor (``bot.feeds.pages``)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles.parsing import parse_article
from bot.feeds.pages import ExtractedPage, decode_page, extract_article

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED_URL = "https://www.kt.kz/rus/politics/minoborony_knr_1377931563.html"
SEED_TITLE = (
    "Минобороны КНР: Китай выступает против внешних сил провоцирующих "
    '"цветную революцию" в Казахстане'
)
BODY = (
    "Глава ведомства подчеркнул, что в текущем году отмечается 30-летие установления "
    "дипломатических отношений между странами, и отношения сохраняют динамику развития."
)


def seed_html() -> bytes:
    return (FIXTURES / "seed_article.html").read_bytes()


def extract_seed() -> ExtractedPage:
    page = extract_article(seed_html(), SEED_URL)
    assert page is not None
    return page


def squashed(text: str) -> str:
    return " ".join(text.split())


def page(body: str, head: str = "", *, charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}">{head}</head>'
        f"<body>{body}</body></html>"
    )


# --- the seed page -------------------------------------------------------------------------


def test_seed_page_reads_like_its_dump() -> None:
    """The HTML page and the editor's paste of it give the same article."""
    content = extract_seed().content
    dump = parse_article((FIXTURES / "seed_article.txt").read_text(encoding="utf-8"))
    assert content.title == SEED_TITLE
    assert [squashed(p) for p in content.paragraphs] == [squashed(p) for p in dump.paragraphs]
    assert content.dateline == dump.dateline == "НУР-СУЛТАН. 29 АПРЕЛЯ"
    assert content.source == dump.source == "KAZAKHSTAN TODAY"
    assert content.photo_credit == dump.photo_credit == "Фото: Акорда"
    assert content.poll_question == dump.poll_question
    assert content.poll_intro == dump.poll_intro
    assert content.original_published_at == datetime(2022, 4, 29, 11, 38)  # noqa: DTZ001
    # The site's categories as the dump parser reads them, then section and keywords.
    assert content.tags == (*dump.tags, "Политика", "Казахстан")
    assert dump.tags == ("RT", "Китай")


def test_seed_page_photo_and_canonical_address_are_absolute() -> None:
    page_ = extract_seed()
    assert page_.photo_url == "https://www.kt.kz/uploads/2022/04/29/tokayev_wei.jpg"
    assert page_.canonical_url == SEED_URL


def test_seed_page_chrome_is_dropped() -> None:
    text = "\n".join(extract_seed().content.paragraphs)
    for chrome in (
        "Читаемое",
        "Новости по теме",
        "Токаев провел переговоры",  # a related headline
        "похолодание",  # a most-read headline
        "Реклама",
        "Поделиться",
        "Все права защищены",
        "Политика",
        "USD",
        "Голосовать",
        "loadAds",
        "dataLayer",
    ):
        assert chrome not in text, chrome


def test_chrome_inside_the_article_ends_its_body() -> None:
    html = page(
        f"<article><h1>Заголовок</h1><div><p>{BODY}</p><p>{BODY}</p>"
        "<h3>Новости по теме</h3><p>Другая новость о чём-то совсем другом, длинная.</p>"
        "<h3>Ваше мнение</h3><p>Нужен ли городу новый парк?</p></div></article>"
    )
    page_ = extract_article(html.encode(), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.content.paragraphs == (BODY, BODY)
    assert page_.content.poll_question == "Нужен ли городу новый парк?"


def test_figure_when_there_is_no_og_image_resolved_against_base() -> None:
    html = page(
        "<article><h1>Заголовок новости</h1>"
        '<figure><img src="img/photo.jpg"><figcaption>Аким на встрече. Фото: пресс-служба'
        "</figcaption></figure>"
        f"<p>{BODY}</p><p>{BODY}</p></article>",
        '<base href="https://cdn.example.kz/news/">',
    )
    page_ = extract_article(html.encode(), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.photo_url == "https://cdn.example.kz/news/img/photo.jpg"
    assert page_.content.photo_credit == "Фото: пресс-служба"
    assert page_.content.paragraphs == (BODY, BODY)
    assert page_.canonical_url is None


def test_caption_without_credit_is_no_credit_and_credit_line_in_body_is() -> None:
    html = page(
        '<article><h1>Заголовок</h1><figure><img src="/a.jpg"><figcaption>Аким на встрече'
        f"</figcaption></figure><p>{BODY}</p><p>Фото: Иван Петров</p><p>{BODY}</p></article>"
    )
    page_ = extract_article(html.encode(), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.content.photo_credit == "Фото: Иван Петров"
    assert page_.content.paragraphs == (BODY, BODY)


def test_lead_apart_from_body_is_the_summary() -> None:
    lead = "Короткий лид новости, который сайт показывает отдельно от текста."
    html = page(
        f'<article><h1>Заголовок</h1><div class="article-lead">{lead}</div>'
        f'<div class="text"><p>{BODY}</p><p>{BODY}</p></div></article>'
    )
    page_ = extract_article(html.encode(), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.content.summary == lead
    assert page_.content.paragraphs == (BODY, BODY)


def test_lead_that_opens_the_body_is_no_summary() -> None:
    lead = "Короткий лид новости, который сайт выделяет в начале текста жирным."
    html = page(
        f'<article><h1>Заголовок</h1><div class="text"><p class="lead">{lead}</p>'
        f"<p>{BODY}</p></div></article>"
    )
    page_ = extract_article(html.encode(), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.content.summary is None
    assert page_.content.paragraphs == (lead, BODY)


def test_dates_from_json_ld_time_element_or_page_header() -> None:
    ld = json.dumps({"@type": ["NewsArticle"], "datePublished": "2023-05-02T08:15:00Z"})
    html = page(
        f"<article><h1>Заголовок</h1><p>{BODY}</p></article>",
        f'<script type="application/ld+json">{ld}</script>',
    )
    page_ = extract_article(html.encode(), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.content.original_published_at == datetime(2023, 5, 2, 8, 15)  # noqa: DTZ001

    html = page(f"<article><div>03.05.2023, 10:20</div><h1>Заголовок</h1><p>{BODY}</p></article>")
    page_ = extract_article(html.encode(), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.content.original_published_at == datetime(2023, 5, 3, 10, 20)  # noqa: DTZ001
    assert page_.content.paragraphs == (BODY,)


# --- encodings -----------------------------------------------------------------------------


def test_cp1251_page_declared_in_meta() -> None:
    html = page(
        f"<article><h1>Заголовок в cp1251</h1><p>{BODY}</p></article>", charset="windows-1251"
    )
    page_ = extract_article(html.encode("cp1251"), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.content.title == "Заголовок в cp1251"
    assert page_.content.paragraphs == (BODY,)


def test_other_encoding_declared_in_meta() -> None:
    html = page(f"<article><h1>Заголовок</h1><p>{BODY}</p></article>", charset="koi8-r")
    page_ = extract_article(html.encode("koi8-r"), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.content.paragraphs == (BODY,)


def test_cp1251_page_declared_by_http_or_not_at_all() -> None:
    body = f"<html><body><article><h1>Заголовок</h1><p>{BODY}</p></article></body></html>"
    data = body.encode("cp1251")
    for charset in ("windows-1251", None, "no-such-charset"):
        page_ = extract_article(data, "https://example.kz/a/1", charset=charset)
        assert page_ is not None, charset
        assert page_.content.paragraphs == (BODY,), charset


def test_http_charset_wins_over_meta_and_bom_over_both() -> None:
    html = page(f"<p>{BODY}</p>", charset="utf-8").encode("cp1251")
    assert BODY in decode_page(html, "cp1251")
    assert decode_page(b"\xef\xbb\xbf\xd0\xaf", "cp1251") == "Я"


# --- no article, bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02garbage\xff\xfe\x00",
        b"<html><head><title>404</title></head><body><h1>Not found</h1>"
        b"<p>The page does not exist.</p></body></html>",
        page("<h1>Заголовок</h1><p>Коротко.</p>").encode(),
        page(
            '<div class="page"><h1>Ошибка 404</h1>'
            "<p>Страница не найдена или была удалена с сайта.</p></div>"
        ).encode(),
        # A section front: teasers that would read like paragraphs.
        page(
            "<h1>Новости</h1>"
            + "".join(
                f'<div class="item"><h2>Новость {i}</h2><p>{BODY}</p></div>' for i in range(9)
            ),
            '<meta property="og:type" content="website">',
        ).encode(),
        # Text but no title anywhere.
        f"<html><body><div><p>{BODY}</p><p>{BODY}</p></div></body></html>".encode(),
        json.dumps({"title": "not html"}).encode(),
        b"<?xml version='1.0'?><rss><channel><item><title>x</title></item></channel></rss>",
    ],
)
def test_page_without_article_is_none(data: bytes) -> None:
    assert extract_article(data, "https://example.kz/") is None


def test_hostile_structured_data_and_urls_are_ignored() -> None:
    nested = "[" * 100_000 + "]" * 100_000
    odd = json.dumps(
        {"@type": "NewsArticle", "headline": ["x"], "image": 5, "datePublished": "вчера"}
    )
    html = page(
        f"<article><h1>Заголовок</h1><p>{BODY}</p></article>",
        f'<script type="application/ld+json">{nested}</script>'
        f'<script type="application/ld+json">{odd}</script>'
        '<meta property="og:image" content="javascript:alert(1)">'
        '<link rel="canonical" href="http://[::1">'
        '<meta property="article:published_time" content="2023-99-99">',
    )
    page_ = extract_article(html.encode(), "https://example.kz/a/1")
    assert page_ is not None
    assert page_.content.title == "Заголовок"
    assert page_.photo_url is None
    assert page_.canonical_url is None
    assert page_.content.original_published_at is None


def test_deeply_nested_page_is_read_or_refused_quickly() -> None:
    html = "<div>" * 20_000 + f"<h1>Заголовок</h1><p>{BODY}</p>" * 50 + "</div>" * 20_000
    page_ = extract_article(html.encode(), "https://example.kz/a/1")
    assert page_ is None or page_.content.title == "Заголовок"


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_never_raise(data: bytes) -> None:
    extract_article(data, "https://example.kz/a/1")


_HTML_BITS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<h1>",
        "</h1>",
        "<article>",
        "</article>",
        "<figure><img src='x'>",
        "<figcaption>Фото: ",
        '<meta property="og:image" content="',
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":',
        "</script>",
        "Читаемое",
        "Ваше мнение",
        "Новости Китая",
        "29.04.2022, 11:38",
        BODY,
        "?",
        "<br>",
        "&nbsp;",
        '"',
    ]
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_HTML_BITS | st.text(max_size=20), max_size=60))
def test_any_html_soup_never_raises(bits: list[str]) -> None:
    extracted = extract_article("".join(bits).encode(), "https://example.kz/a/1")
    if extracted is not None:
        assert extracted.content.title
        assert extracted.content.paragraphs
