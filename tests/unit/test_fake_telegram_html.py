"""The fake's HTML parser must reject what Telegram rejects and count like Telegram."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.telegram_html import TelegramHTMLError, check_link, parse_html, sizeof

PREFIX = "Bad Request: can't parse entities: "


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("hello <div>", 'Unsupported start tag "div" at byte offset 6'),
        ("Привет <br>", 'Unsupported start tag "br" at byte offset 13'),  # UTF-8 bytes
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("<a href=http://x.com>x</a>", "Unexpected end of name token at byte offset 8"),
    ],
)
def test_rejects_like_telegram(text: str, detail: str) -> None:
    with pytest.raises(TelegramHTMLError) as info:
        parse_html(text, strict=False)
    assert str(info.value) == PREFIX + detail
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        "&nbsp;",
        "Tom & Jerry",
        "<a>t.me</a>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="/relative">x</a>',
        '<b class="title">x</b>',
        '<code class="python">x</code>',
        '<pre><code language="language-py">x</code></pre>',  # aiogram's pre_language
    ],
)
def test_strict_mode_rejects_what_telegram_would_mangle(text: str) -> None:
    with pytest.raises(TelegramHTMLError, match="fake-strict"):
        parse_html(text)
    parse_html(text, strict=False)  # real Telegram accepts it


def test_non_strict_keeps_unknown_entities_and_drops_bad_links_like_telegram() -> None:
    assert parse_html("&nbsp;A & B", strict=False) == ("&nbsp;A & B", [])
    assert parse_html('<a href="javascript:x">t</a>', strict=False) == ("t", [])


def test_entities_and_escapes() -> None:
    assert parse_html("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;") == ('<b> & "q" AB', [])
    text, entities = parse_html(
        "<b>B</b><strong>S</strong><i>I</i><em>E</em><u>U</u><ins>N</ins><s>S</s>"
        '<strike>K</strike><del>D</del><tg-spoiler>P</tg-spoiler><span class="tg-spoiler">'
        "Q</span><code>C</code>"
    )
    assert text == "BSIEUNSKDPQC"
    assert [e["type"] for e in entities] == [
        "bold", "bold", "italic", "italic", "underline", "underline", "strikethrough",
        "strikethrough", "strikethrough", "spoiler", "spoiler", "code",
    ]  # fmt: skip
    assert [e["offset"] for e in entities] == list(range(12))


def test_links_pre_blockquote_emoji() -> None:
    text, entities = parse_html(
        '<a href="https://example.com/a?b=1&amp;c=2">link</a>\n'
        '<pre><code class="language-python">x = 1</code></pre>\n'
        "<blockquote expandable>quote</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert text == "link\nx = 1\nquote👍"
    assert entities == [
        {"offset": 0, "length": 4, "type": "text_link", "url": "https://example.com/a?b=1&c=2"},
        {"offset": 5, "length": 5, "type": "pre", "language": "python"},
        {"offset": 11, "length": 5, "type": "expandable_blockquote"},
        {
            "offset": 16,
            "length": 2,
            "type": "custom_emoji",
            "custom_emoji_id": "5368324170671202286",
        },
    ]
    assert parse_html('<a href="https://example.com">x</a>')[1][0]["url"] == "https://example.com/"


def test_offsets_are_utf16_code_units() -> None:
    text, entities = parse_html("😀 <b>x😀y</b> <i>é</i>")
    assert text == "😀 x😀y é"
    assert entities == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 8, "length": 1, "type": "italic"},
    ]


def test_nested_and_trim() -> None:
    text, entities = parse_html("  <b>a<i>b</i></b>\n\n", trim=True)
    assert text == "ab"
    assert entities == [
        {"offset": 0, "length": 2, "type": "bold"},
        {"offset": 1, "length": 1, "type": "italic"},
    ]
    assert parse_html("<b> </b>x", trim=True) == ("x", [])


def test_utf16_len() -> None:
    assert sizeof("abc") == 3
    assert sizeof("😀") == 2
    assert sizeof("Ёж") == 2


def test_check_link() -> None:
    assert check_link("https://t.me/channel") == "https://t.me/channel"
    assert check_link("tg://user?id=1") == "tg://user?id=1"
    assert check_link("example.com") == "http://example.com/"
    assert check_link("mailto:a@b.c") is None
    assert check_link("https://bad host") is None


@given(st.text())
def test_escaped_text_round_trips(text: str) -> None:
    plain, entities = parse_html(html.escape(text, quote=False))
    assert plain == text
    assert entities == []


@given(st.text(min_size=1))
def test_bold_covers_whole_text(text: str) -> None:
    plain, entities = parse_html(f"<b>{html.escape(text)}</b>")
    assert plain == text
    assert entities == [{"offset": 0, "length": sizeof(text), "type": "bold"}]
