"""Unit tests for ``bot.articles.formatting``: the channel post and the reader's full text."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from aiogram.utils.formatting import sizeof
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles.formatting import (
    channel_post,
    full_text,
    hashtag,
    lead_summary,
    preview_plain,
)
from bot.articles.parsing import parse_article
from bot.models import ArticleContent
from bot.telegram.limits import CAPTION_LIMIT, MESSAGE_LIMIT
from bot.telegram_text.splitting import plain_text
from bot.texts import RU
from tests.fakes.telegram_html import parse_html

SEED_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "seed_article.txt"

TITLE = (
    "Минобороны КНР: Китай выступает против внешних сил провоцирующих "
    '"цветную революцию" в Казахстане'
)
LEAD = (
    "В ходе встречи президента Казахстана Касым-Жомарта Токаева и министра обороны Китая "
    "Вэй Фэнхэ стороны выразили общую готовность активизировать двустороннее "
    "сотрудничество, передает KAZAKHSTAN TODAY."
)
SECOND = (
    "Глава Минобороны Китая подчеркнул, что в текущем году отмечается 30-летие установления "
    "дипломатических отношений между Китаем и Казахстаном."
)
THIRD = (
    "Он призвал проявлять бдительность в отношении вмешательства некоторых крупных держав "
    "в дела Центральной Азии с целью нарушения и подрыва региональной безопасности."
)
HOSTILE = '<script>alert("x")</script> & "quotes" 🎉'

SEED = ArticleContent(
    title=TITLE,
    paragraphs=(LEAD, SECOND, THIRD),
    dateline="НУР-СУЛТАН. 29 АПРЕЛЯ",
    source="KAZAKHSTAN TODAY",
    original_published_at=datetime(2022, 4, 29, 11, 38),  # noqa: DTZ001 - the site's local time
    photo_credit="Фото: Акорда",
    tags=("Казахстан", "#Китай", "цветная революция"),
)


def long_lead(units: int) -> str:
    """Sentences of varied length, about ``units`` long, ending with a period."""
    sentences = [
        "Стороны выразили общую готовность активизировать двустороннее сотрудничество.",
        "Министр отметил, что визит подтверждает поддержку.",
        "Он добавил, что военные готовы продолжать расширять сферы сотрудничества "
        "с казахстанской стороной в самых разных областях.",
    ]
    text = ""
    index = 0
    while len(text) < units:
        text += sentences[index % 3] + " "
        index += 1
    return text.strip()


def assert_valid_html(post_html: str, plain: str) -> None:
    parsed, _ = parse_html(post_html)
    assert parsed == plain


def non_space(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


# --- hashtag ------------------------------------------------------------------------------


def test_hashtag_examples() -> None:
    assert hashtag("Казахстан") == "#Казахстан"
    assert hashtag("цветная революция") == "#цветная_революция"
    assert hashtag("#Китай") == "#Китай"
    assert hashtag("  Нур-Султан ") == "#Нур_Султан"
    assert hashtag("COVID-19") == "#COVID_19"
    assert hashtag("snake_case") == "#snake_case"
    assert hashtag("🎉 праздник!") == "#праздник"
    assert hashtag("हिन्दी") == "#हिन्दी"
    assert hashtag("東京 2020") == "#東京_2020"


def test_hashtag_without_a_letter_is_none() -> None:
    for tag in ("", "   ", "#", "###", "2022", "20 22", "_", "🎉", "-"):
        assert hashtag(tag) is None, tag


def test_hashtag_is_at_most_what_telegram_highlights() -> None:
    result = hashtag("а" * 1000)
    assert result is not None
    assert len(result) == 1 + 256


@given(st.text())
def test_hashtag_is_always_a_telegram_hashtag(tag: str) -> None:
    result = hashtag(tag)
    if result is None:
        return
    body = result[1:]
    assert result.startswith("#") and 0 < len(body) <= 256
    assert all(
        ch in "_\u200c" or unicodedata.category(ch)[0] in "LM" or unicodedata.category(ch) == "Nd"
        for ch in body
    )
    assert any(unicodedata.category(ch)[0] == "L" for ch in body)


# --- lead_summary -------------------------------------------------------------------------


def test_lead_summary_prefers_the_editors_summary() -> None:
    content = replace(SEED, summary="  Китай поддержал Казахстан.  ")
    assert lead_summary(content, 1000) == "Китай поддержал Казахстан."


def test_lead_summary_is_the_lead_paragraph_without_dateline() -> None:
    assert lead_summary(SEED, 1000) == LEAD
    blank_first = replace(SEED, paragraphs=("  ", *SEED.paragraphs))
    assert lead_summary(blank_first, 1000) == LEAD


def test_lead_summary_cuts_at_the_last_sentence_that_fits() -> None:
    content = ArticleContent(title="t", paragraphs=("One two. Three four! Five six? Seven.",))
    assert lead_summary(content, 30) == "One two. Three four! Five six?"
    assert lead_summary(content, 29) == "One two. Three four!"
    quoted = ArticleContent(title="t", paragraphs=("Он сказал: «Готовы.» Затем ушёл домой.",))
    assert lead_summary(quoted, 25) == "Он сказал: «Готовы.»"


def test_lead_summary_falls_back_to_a_word_cut_with_ellipsis() -> None:
    content = ArticleContent(title="t", paragraphs=("Short words here, and there.",))
    assert lead_summary(content, 12) == "Short words…"
    assert lead_summary(content, 17) == "Short words here…"  # the comma goes
    giant = ArticleContent(title="t", paragraphs=("Averyverylongword and more.",))
    assert lead_summary(giant, 12) == "Averyverylo…"


def test_lead_summary_of_an_empty_article_is_empty() -> None:
    assert lead_summary(ArticleContent(title="t", paragraphs=()), 100) == ""


@given(st.text(), st.integers(0, 300))
def test_lead_summary_never_exceeds_its_budget(paragraph: str, budget: int) -> None:
    content = ArticleContent(title="t", paragraphs=(paragraph,))
    summary = lead_summary(content, budget)
    assert sizeof(summary) <= budget
    if paragraph.strip() and budget >= 2 + sizeof(RU.ellipsis):
        assert summary


# --- channel_post -------------------------------------------------------------------------


def test_channel_post_exact_html() -> None:
    post = channel_post(SEED, with_photo=True)
    assert post.as_html() == (
        '<b>Минобороны КНР: Китай выступает против внешних сил провоцирующих "цветную '
        'революцию" в Казахстане</b>\n\n'
        "В ходе встречи президента Казахстана Касым-Жомарта Токаева и министра обороны "
        "Китая Вэй Фэнхэ стороны выразили общую готовность активизировать двустороннее "
        "сотрудничество, передает KAZAKHSTAN TODAY.\n\n"
        "Фото: Акорда\n#Казахстан #Китай #цветная_революция"
    )
    assert_valid_html(post.as_html(), plain_text(post))


def test_channel_post_without_credit_and_tags_ends_with_the_summary() -> None:
    content = replace(SEED, photo_credit=None, tags=())
    post = channel_post(content, with_photo=False)
    assert post.as_html() == f"<b>{TITLE}</b>\n\n{LEAD}"
    only_tags = replace(SEED, photo_credit=None, tags=("2022", "Китай", "китай"))
    assert plain_text(channel_post(only_tags, with_photo=False)).endswith(f"{LEAD}\n\n#Китай")


def test_caption_fits_and_ends_at_a_sentence_boundary() -> None:
    lead = long_lead(3000)
    content = replace(SEED, paragraphs=(lead, SECOND))
    post = channel_post(content, with_photo=True)
    assert len(post) <= CAPTION_LIMIT
    plain = plain_text(post)
    title_block, summary, footer = plain.split("\n\n")
    assert title_block == TITLE
    assert footer == "Фото: Акорда\n#Казахстан #Китай #цветная_революция"
    assert lead.startswith(summary)
    assert summary.endswith(".") and lead[len(summary)] == " "
    # It is the last sentence that fits: the next one would not have.
    next_end = lead.index(".", len(summary) + 1) + 1
    assert len(plain) - len(summary) + next_end > CAPTION_LIMIT
    # Without a photo the message limit applies and the whole lead fits.
    assert lead in plain_text(channel_post(content, with_photo=False))


def test_hostile_title_is_escaped_in_html_and_literal_in_text() -> None:
    content = replace(SEED, title=HOSTILE, paragraphs=("a < b && c > d; &amp; stays.",))
    post = channel_post(content, with_photo=True)
    html = post.as_html()
    assert html.startswith(
        '<b>&lt;script&gt;alert("x")&lt;/script&gt; &amp; "quotes" 🎉</b>\n\n'
        "a &lt; b &amp;&amp; c &gt; d; &amp;amp; stays."
    )
    assert "<script>" not in html
    assert plain_text(post).startswith(HOSTILE + "\n\na < b && c > d; &amp; stays.")
    assert_valid_html(html, plain_text(post))


def test_absurd_title_is_cut_so_that_everything_fits() -> None:
    content = replace(SEED, title="Очень длинный заголовок " * 300, paragraphs=(long_lead(3000),))
    for with_photo, limit in ((True, CAPTION_LIMIT), (False, MESSAGE_LIMIT)):
        post = channel_post(content, with_photo=with_photo)
        assert len(post) <= limit
        title_block, summary, _footer = plain_text(post).split("\n\n")
        assert title_block.endswith(RU.ellipsis)
        assert (content.title + " ").startswith(title_block.removesuffix(RU.ellipsis) + " ")
        assert summary.startswith("Стороны выразили")
        assert summary.endswith(".")


def test_absurd_footer_is_cut_too() -> None:
    content = replace(
        SEED,
        photo_credit="Фото: " + "очень длинное имя " * 200,
        tags=tuple(f"тег{index}" for index in range(500)),
    )
    post = channel_post(content, with_photo=True)
    assert len(post) <= CAPTION_LIMIT
    assert LEAD in plain_text(post)


def test_seed_dump_makes_a_caption() -> None:
    content = parse_article(SEED_PATH.read_text(encoding="utf-8"))
    post = channel_post(content, with_photo=True)
    plain = plain_text(post)
    assert len(post) <= CAPTION_LIMIT
    assert plain.startswith(content.title + "\n\nВ ходе встречи")
    assert "НУР-СУЛТАН" not in plain
    assert plain.endswith("Фото: Акорда\n#RT #Китай")


articles = st.builds(
    ArticleContent,
    title=st.text(max_size=3000),
    paragraphs=st.lists(st.text(max_size=2000), max_size=3).map(
        lambda rest: ("\u00b6" + rest[0], *rest[1:]) if rest else ()
    ),
    summary=st.one_of(st.none(), st.text(max_size=1500)),
    dateline=st.one_of(st.none(), st.text(max_size=50)),
    photo_credit=st.one_of(st.none(), st.text(max_size=500)),
    tags=st.lists(st.text(max_size=40), max_size=30).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(articles, st.booleans())
def test_channel_post_always_fits_and_is_valid_html(
    content: ArticleContent, with_photo: bool
) -> None:
    post = channel_post(content, with_photo=with_photo)
    plain = plain_text(post)
    assert len(post) <= (CAPTION_LIMIT if with_photo else MESSAGE_LIMIT)
    assert_valid_html(post.as_html(), plain)
    lead = content.summary if content.summary and content.summary.strip() else None
    if lead is None and content.paragraphs:
        lead = content.paragraphs[0]
    if lead is not None:
        # The summary is never empty: its first character is there.
        assert lead.strip()[0] in plain


# --- full_text ----------------------------------------------------------------------------


def test_full_text_layout() -> None:
    [part] = full_text(SEED)
    assert part.as_html() == (
        f"<b>{TITLE}</b>\n29.04.2022, 11:38\n\n"
        f"<b>НУР-СУЛТАН. 29 АПРЕЛЯ</b> — {LEAD}\n\n{SECOND}\n\n{THIRD}\n\n"
        "<i>Фото: Акорда</i>\n\nИсточник: KAZAKHSTAN TODAY"
    )
    assert_valid_html(part.as_html(), plain_text(part))


def test_full_text_date_falls_back_to_publication_and_may_be_absent() -> None:
    bare = replace(SEED, original_published_at=None, photo_credit=None, source=None)
    [part] = full_text(bare)
    assert plain_text(part).startswith(f"{TITLE}\n\nНУР-СУЛТАН")
    published = datetime(2024, 5, 1, 5, 38, tzinfo=UTC)
    [part] = full_text(bare, published=published)
    assert plain_text(part).startswith(f"{TITLE}\n01.05.2024, 05:38\n\n")
    [part] = full_text(bare, published=published, tz=timezone(timedelta(hours=5)))
    assert plain_text(part).startswith(f"{TITLE}\n01.05.2024, 10:38\n\n")


def test_full_text_without_dateline_starts_with_the_paragraph() -> None:
    [part] = full_text(replace(SEED, dateline=None))
    assert f"11:38\n\n{LEAD}\n\n{SECOND}" in plain_text(part)


def test_long_article_is_split_with_every_paragraph_in_order() -> None:
    paragraphs = tuple(f"{index}. {long_lead(700)}" for index in range(30))
    content = replace(SEED, paragraphs=paragraphs)
    parts = full_text(content)
    assert len(parts) > 1
    texts = [plain_text(part) for part in parts]
    assert all(len(part) <= MESSAGE_LIMIT for part in parts)
    assert texts[0].startswith(f"{TITLE}\n29.04.2022, 11:38\n\nНУР-СУЛТАН. 29 АПРЕЛЯ — 0. ")
    assert parts[0].as_html().count("<b>НУР-СУЛТАН. 29 АПРЕЛЯ</b> — 0. ") == 1
    joined = "\n\n".join(texts)
    positions = [joined.index(paragraph) for paragraph in paragraphs]
    assert positions == sorted(positions)
    assert texts[-1].endswith("Фото: Акорда\n\nИсточник: KAZAKHSTAN TODAY")
    for part in parts:
        assert_valid_html(part.as_html(), plain_text(part))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=3000), min_size=1, max_size=6),
    st.one_of(st.none(), st.text(max_size=30)),
)
def test_full_text_loses_no_character(paragraphs: list[str], dateline: str | None) -> None:
    content = replace(SEED, paragraphs=tuple(paragraphs), dateline=dateline)
    parts = full_text(content)
    assert all(len(part) <= MESSAGE_LIMIT for part in parts)
    everything = non_space("".join(plain_text(part) for part in parts))
    position = 0
    for paragraph in paragraphs:
        found = everything.find(non_space(paragraph), position)
        assert found >= 0
        position = found + len(non_space(paragraph))
    for part in parts:
        assert_valid_html(part.as_html(), plain_text(part))


def test_preview_plain_separates_parts() -> None:
    parts = full_text(replace(SEED, paragraphs=tuple(long_lead(3000) for _ in range(3))))
    preview = preview_plain(parts)
    assert preview.count("\n" + "─" * 32 + "\n") == len(parts) - 1
    assert "<b>" not in preview
    assert preview.startswith(TITLE + "\n")
