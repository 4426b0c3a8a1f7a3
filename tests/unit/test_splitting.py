"""Unit tests for ``bot.telegram_text.splitting``: cutting formatted text to Telegram's limits."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.utils.formatting import Bold, HashTag, Italic, Text, Underline, sizeof
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.telegram_text.splitting import (
    fit_prefix,
    last_sentence_end,
    plain_text,
    shorten,
    split_text,
)
from tests.fakes.telegram_html import parse_html

# --- helpers ------------------------------------------------------------------------------


def non_space(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def plains(parts: list[Text]) -> list[str]:
    return [plain_text(part) for part in parts]


def entity_tuples(text: Text) -> list[tuple[str, int, int]]:
    _, entities = text.render()
    return sorted((str(e.type), e.offset, e.length) for e in entities)


def coverage(text: Text) -> list[frozenset[str]]:
    """For each UTF-16 unit of the text, the entity types covering it."""
    plain, entities = text.render()
    cover: list[set[str]] = [set() for _ in range(sizeof(plain))]
    for entity in entities:
        for unit in range(entity.offset, entity.offset + entity.length):
            cover[unit].add(str(entity.type))
    return [frozenset(types) for types in cover]


def part_starts(original: str, parts: list[str], *, whole: bool) -> list[int]:
    """Where each part sits in the original; asserts only whitespace lies between them.

    This is the "nothing lost" property, stated exactly: the parts are consecutive
    substrings of the original and what separates them (and surrounds them) is whitespace.
    A ``whole`` text (one that fits the limit) must come back as it is.
    """
    if whole:
        assert parts == [original]
        return [0]
    starts = []
    position = 0
    for part in parts:
        while position < len(original) and original[position].isspace():
            position += 1
        assert original.startswith(part, position), (part, original[position:])
        starts.append(position)
        position += len(part)
    assert original[position:].strip() == ""
    return starts


def check_parts(text: Text, parts: list[Text], limit: int) -> None:
    """Every property split_text promises, for one input."""
    original = plain_text(text)
    part_plains = plains(parts)
    for part, part_plain in zip(parts, part_plains, strict=True):
        assert len(part) <= limit
        assert sizeof(part_plain) <= limit
        assert part_plain.strip(), "empty or blank part"
        rendered, entities = part.render()
        assert rendered == part_plain
        size = sizeof(part_plain)
        for entity in entities:
            assert entity.length > 0
            assert entity.offset >= 0 and entity.offset + entity.length <= size
    assert non_space("".join(part_plains)) == non_space(original)
    whole = sizeof(original) <= limit
    if not whole:
        for part_plain in part_plains:
            assert part_plain == part_plain.strip()
    starts = part_starts(original, part_plains, whole=whole)
    # Formatting survives the cuts: each character keeps the styles it had.
    original_cover = coverage(text)
    for part, part_plain, start in zip(parts, part_plains, starts, strict=True):
        offset = sizeof(original[:start])
        expected = original_cover[offset : offset + sizeof(part_plain)]
        assert coverage(part) == expected


def check_html(part: Text) -> None:
    """The part's HTML is what Telegram accepts, and means the same text and entities."""
    plain, entities = parse_html(part.as_html())
    assert plain == plain_text(part)
    parsed = sorted((e["type"], e["offset"], e["length"]) for e in entities)
    assert parsed == entity_tuples(part)


# --- strategies ---------------------------------------------------------------------------

TOKENS = [
    " ", "  ", "\n", "\n\n", "\n \n", ". ", "! ", "? ", "… ", '." ', ".» ", "\u00a0",
    "🎉", "👍🏽", "🇰🇿", "👨‍👩‍👧", "e\u0301", "𝔘", "<", ">", "&", '"', "&amp;", "<b>x</b>",
    "Казахстан", "word", "a",
]  # fmt: skip

fragments = st.one_of(
    st.sampled_from(TOKENS),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
)
strings = st.lists(fragments, max_size=12).map("".join)

trees = st.recursive(
    strings,
    lambda children: st.builds(
        lambda node_type, body: node_type(*body),
        st.sampled_from([Text, Bold, Italic, Underline]),
        st.lists(children, max_size=4),
    ),
    max_leaves=12,
)
texts = st.lists(trees, min_size=1, max_size=6).map(lambda body: Text(*body))
limits = st.one_of(st.integers(2, 40), st.integers(16, 4096))


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, limits)
def test_split_keeps_every_promise(text: Text, limit: int) -> None:
    parts = split_text(text, limit)
    if not plain_text(text).strip():
        assert parts == []
        return
    assert parts
    check_parts(text, parts, limit)
    for part in parts:
        check_html(part)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*TOKENS, "long", "Ж"]), max_size=600).map("".join), limits)
def test_long_plain_strings(value: str, limit: int) -> None:
    text = Text(value)
    parts = split_text(text, limit)
    if not value.strip():
        assert parts == []
    else:
        check_parts(text, parts, limit)


@given(st.text(max_size=300), st.integers(-3, 300))
def test_fit_prefix_and_shorten_respect_the_limit(value: str, limit: int) -> None:
    end = fit_prefix(value, limit)
    assert sizeof(value[:end]) <= max(limit, 0)
    short = shorten(value, limit, "…")
    assert sizeof(short) <= max(limit, 0)
    if sizeof(value) <= limit:
        assert short == value
    sentence = last_sentence_end(value, limit)
    if sentence is not None:
        assert sizeof(value[:sentence]) <= limit
        assert value[:sentence].rstrip("\"'»”’)]")[-1] in ".!?…"


# --- examples -----------------------------------------------------------------------------


def article(paragraphs: int, length: int) -> list[str]:
    sentence = "Стороны выразили общую готовность активизировать сотрудничество. "
    body = (sentence * (length // len(sentence) + 1))[: length - 1].rstrip() + "."
    return [f"{index:02d} {body}"[: length - 1] + "." for index in range(paragraphs)]


def test_empty_and_blank_texts_give_no_parts() -> None:
    assert split_text(Text()) == []
    assert split_text(Text("")) == []
    assert split_text(Text(" \n\n\t", Bold("  "))) == []


def test_short_text_is_one_part_unchanged() -> None:
    text = Text("  Hello, ", Bold("world"), "! 🎉\n")
    [part] = split_text(text)
    assert part.as_html() == text.as_html()


def test_limit_must_hold_an_emoji() -> None:
    with pytest.raises(ValueError):
        split_text(Text("abc"), 1)


def test_article_of_40_paragraphs_splits_at_paragraph_boundaries() -> None:
    paragraphs = article(40, 500)
    body: list[Any] = []
    for paragraph in paragraphs:
        body += [paragraph, "\n\n"]
    text = Text(*body[:-1])
    assert 19_000 < len(text) < 21_000
    parts = split_text(text, 4096)
    assert len(parts) == 5
    check_parts(text, parts, 4096)
    seen = []
    for part in parts:
        seen += plain_text(part).split("\n\n")
    assert seen == paragraphs


def test_giant_word_is_cut_within_the_limit_without_splitting_emoji() -> None:
    word = "аб🎉👍🏽🇰🇿" * 2000  # no space at all; emoji of 2, 4 and 4 units
    text = Text(Bold(word))
    parts = split_text(text, 4096)
    assert len(parts) > 1
    check_parts(text, parts, 4096)
    for part in parts:
        value = plain_text(part)
        assert not value.startswith(("\U0001f3fd", "\U0001f1ff"))  # no orphan modifier/flag half
        assert value.count("🇰🇿") * 2 == value.count("\U0001f1f0") + value.count("\U0001f1ff")
        check_html(part)


def test_prefers_sentence_end_over_space() -> None:
    text = Text("First sentence is here. Second one goes on and on")
    parts = plains(split_text(text, 35))
    assert parts == ["First sentence is here.", "Second one goes on and on"]


def test_sentence_end_may_close_a_quote() -> None:
    text = Text("Он сказал: «Мы готовы.» Затем добавил ещё кое-что")
    assert plains(split_text(text, 30))[0] == "Он сказал: «Мы готовы.»"


def test_prefers_paragraph_over_line_and_line_over_sentence() -> None:
    text = Text("One. Two.\n\nThree. Four.\nFive. Six seven eight")
    assert plains(split_text(text, 30)) == ["One. Two.", "Three. Four.", "Five. Six seven eight"]
    text = Text("Para one is here.\n\nSecond para. Still it.\nLast line")
    assert plains(split_text(text, 45))[0] == "Para one is here."


def test_falls_back_to_space_then_inside_word() -> None:
    assert plains(split_text(Text("alpha beta gamma delta"), 12)) == [
        "alpha beta",
        "gamma delta",
    ]
    assert plains(split_text(Text("abcdefghij"), 4)) == ["abcd", "efgh", "ij"]


def test_no_break_space_is_not_a_cut_point() -> None:
    text = Text("Итого 5\u00a0000 тенге")
    assert plains(split_text(text, 10)) == ["Итого", "5\u00a0000", "тенге"]


def test_bold_cut_in_two_stays_bold_in_both_parts() -> None:
    text = Text("Intro ", Bold("bold words that continue"), " tail")
    parts = split_text(text, 20)
    check_parts(text, parts, 20)
    assert [p.as_html() for p in parts] == [
        "Intro <b>bold words</b>",
        "<b>that continue</b> tail",
    ]


def test_heading_is_kept_with_what_follows() -> None:
    paragraph = "Первое предложение абзаца. " * 30
    text = Text(Bold("Заголовок"), "\n29.04.2022, 11:38\n\n", paragraph.strip())
    parts = split_text(text, 200)
    first = plain_text(parts[0])
    assert first.startswith("Заголовок\n29.04.2022, 11:38\n\nПервое предложение")
    assert first.endswith(".")
    check_parts(text, parts, 200)


def test_heading_mid_text_moves_to_the_next_part() -> None:
    text = Text("A finished paragraph.\n\nSection two\n\n", "Body text of the section. " * 5)
    parts = plains(split_text(text, 60))
    assert parts[0] == "A finished paragraph."
    assert parts[1].startswith("Section two\n\nBody text")


def test_nested_entities_render_correctly_after_a_cut() -> None:
    # aiogram's as_html() mangles B(I(x), y) (it sorts entities by offset only): the
    # splitter must not produce that shape even when the input only had B(z, I(x), y).
    text = Text(Bold("zz ", Italic("italic"), " rest"))
    for limit in range(2, 16):
        parts = split_text(text, limit)
        check_parts(text, parts, limit)
        for part in parts:
            check_html(part)
    [whole] = split_text(Text(Bold(Italic("ab"), "cd")))
    assert whole.as_html() == "<i><b>ab</b></i><b>cd</b>"


def test_half_a_hashtag_is_no_hashtag() -> None:
    text = Text("aaaa ", HashTag("#abcdefgh"))
    parts = split_text(text, 6)
    assert plains(parts) == ["aaaa", "#abcde", "fgh"]
    assert all(part.render()[1] == [] for part in parts)
    [whole] = split_text(text, 100)
    assert [e.type for e in whole.render()[1]] == ["hashtag"]


def test_title_line_is_kept_with_the_paragraph_it_heads() -> None:
    text = Text(Bold("Заголовок"), "\n", "Первое предложение абзаца. " * 30)
    first = plain_text(split_text(text, 200)[0])
    assert first.startswith("Заголовок\nПервое предложение")
    assert first.endswith(".")


def test_long_paragraphs_without_a_period_still_split_at_paragraph_breaks() -> None:
    paragraphs = [p.rstrip(".") for p in article(40, 500)]
    text = Text("\n\n".join(paragraphs))
    seen = []
    for part in split_text(text, 4096):
        seen += plain_text(part).split("\n\n")
    assert seen == paragraphs
