"""Unit tests for the page-dump parser (``bot.articles.parsing``)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles.parsing import MAX_RAW_CHARS, ParseError, parse_article
from bot.models import ArticleContent

SEED_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "seed_article.txt"

SEED_TITLE = (
    "Минобороны КНР: Китай выступает против внешних сил провоцирующих "
    '"цветную революцию" в Казахстане'
)
SEED_FIRST_PARAGRAPH = (
    "В ходе встречи президента Казахстана Касым-Жомарта Токаева и министра обороны Китая "
    "Вэй Фэнхэ стороны выразили общую готовность активизировать двустороннее "
    "сотрудничество, передает KAZAKHSTAN TODAY."
)
SEED_LAST_PARAGRAPH = (
    "Напомним, встреча Токаева и Вэй Фэнхэ\xa0состоялась\xa0в Нур-Султане 25 апреля."
)
SEED_POLL_QUESTION = "Считаете ли Вы необходимым любое переименование проспекта Гагарина?"
SEED_POLL_INTRO = (
    "Эра космоса в мировой истории началась с подвига Юрия Гагарина. "
    "В Алматы в честь первого космонавта назван проспект."
)


def seed_text() -> str:
    # newline="" keeps the file's bytes as they are (no newline translation).
    with SEED_PATH.open(encoding="utf-8", newline="") as fh:
        return fh.read()


@pytest.fixture(scope="module")
def seed() -> ArticleContent:
    return parse_article(seed_text())


def codes_of(raw: str) -> str:
    with pytest.raises(ParseError) as excinfo:
        parse_article(raw)
    return excinfo.value.code


# --- the seed, field by field ---------------------------------------------------------------


def test_fixture_is_the_raw_dump_with_nbsp_lines() -> None:
    raw = seed_text()
    assert "\n\xa0\n" in raw
    assert raw.startswith("29.04.2022, 11:38 27061\n")


def test_seed_header(seed: ArticleContent) -> None:
    assert seed.original_published_at == datetime(2022, 4, 29, 11, 38)  # noqa: DTZ001
    assert seed.original_published_at.tzinfo is None
    assert seed.views == 27061


def test_seed_title_credit_dateline_source(seed: ArticleContent) -> None:
    assert seed.title == SEED_TITLE
    assert seed.photo_credit == "Фото: Акорда"
    assert seed.dateline == "НУР-СУЛТАН. 29 АПРЕЛЯ"
    assert seed.source == "KAZAKHSTAN TODAY"


def test_seed_poll(seed: ArticleContent) -> None:
    assert seed.poll_question == SEED_POLL_QUESTION
    assert seed.poll_intro == SEED_POLL_INTRO


def test_seed_untouched_fields(seed: ArticleContent) -> None:
    assert seed.summary is None


def test_seed_categories_become_tags(seed: ArticleContent) -> None:
    # "Новости RT" and "Новости Китая" after the body; "новости по теме" is no category.
    assert seed.tags == ("RT", "Китай")


@pytest.mark.parametrize(
    ("line", "tag"),
    [
        ("Новости Китая", "Китай"),
        ("Новости RT", "RT"),
        ("Новости России", "Россия"),
        ("Новости Казахстана", "Казахстан"),
        ("Новости Москвы", "Москва"),
        ("Новости Америки", "Америка"),
        ("Новости Кремля", "Кремль"),
        ("Новости Алматы", "Алматы"),
        ("Новости спорта", "спорт"),
        ("Новости Центральной Азии", "Центральной Азии"),
    ],
)
def test_category_lines_become_tags(line: str, tag: str) -> None:
    content = parse_article(f"Заголовок\nАбзац текста.\nНовости по теме\n{line}\n")
    assert content.tags == (tag,)
    assert line not in content.paragraphs


def test_no_tags_from_poll_or_body() -> None:
    raw = (
        "Заголовок\nНовости Китая стали главной темой дня.\nВаше мнение\n"
        "Новости спорта\nНравится ли вам спорт?\n"
    )
    content = parse_article(raw)
    assert content.tags == ()
    assert content.paragraphs == ("Новости Китая стали главной темой дня.",)


def test_seed_paragraphs(seed: ArticleContent) -> None:
    # Lines 7, 9, 11, 14, 17, 19, 21 and 23 of the dump; line 7 loses its dateline.
    assert len(seed.paragraphs) == 8
    assert seed.paragraphs[0] == SEED_FIRST_PARAGRAPH
    assert seed.paragraphs[-1] == SEED_LAST_PARAGRAPH
    # Quotes and dashes inside are kept exactly as the page has them.
    assert seed.paragraphs[2].endswith(
        '"имеют светлое будущее - хороший пример добрососедской дружбы и взаимной выгоды".'
    )
    assert seed.paragraphs[3].endswith('стабильности", - отметил Вэй Фэнхэ.')


def test_seed_paragraphs_hold_no_chrome_title_or_blanks(seed: ArticleContent) -> None:
    forbidden = [
        "новости по теме",
        "читаемое",
        "новости rt",
        "новости китая",
        "ваше мнение",
        "эра космоса",
        SEED_POLL_QUESTION.casefold(),
        "фото:",
    ]
    for paragraph in seed.paragraphs:
        assert paragraph.strip() == paragraph
        assert paragraph.strip(" \xa0\t")
        assert paragraph != SEED_TITLE
        for text in forbidden:
            assert text not in paragraph.casefold()


def test_seed_with_crlf_or_cr_or_bom_parses_the_same(seed: ArticleContent) -> None:
    raw = seed_text()
    assert parse_article(raw.replace("\n", "\r\n")) == seed
    assert parse_article(raw.replace("\n", "\r")) == seed
    assert parse_article("\ufeff" + raw) == seed


# --- variants --------------------------------------------------------------------------------


def test_plain_editor_text_without_header() -> None:
    article = parse_article("Заголовок новости\n\nПервый абзац.\nВторой абзац.\n")
    assert article == ArticleContent(
        title="Заголовок новости", paragraphs=("Первый абзац.", "Второй абзац.")
    )


def test_no_header_title_search_starts_at_first_line() -> None:
    article = parse_article("Фото: Акорда\nЗаголовок\nАбзац.")
    assert article.title == "Заголовок"
    assert article.photo_credit == "Фото: Акорда"
    assert article.original_published_at is None
    assert article.views is None


def test_no_credit_and_no_dateline() -> None:
    article = parse_article("29.04.2022, 11:38 27061\n\nЗаголовок\n\nЗаголовок\nАбзац один.\n")
    assert article.title == "Заголовок"
    assert article.paragraphs == ("Абзац один.",)
    assert article.photo_credit is None
    assert article.dateline is None
    assert article.source is None


@pytest.mark.parametrize(
    ("header", "when", "views"),
    [
        ("29.04.2022, 11:38 27061", datetime(2022, 4, 29, 11, 38), 27061),  # noqa: DTZ001
        ("29.04.2022, 11:38", datetime(2022, 4, 29, 11, 38), None),  # noqa: DTZ001
        ("29.04.2022 11:38", datetime(2022, 4, 29, 11, 38), None),  # noqa: DTZ001
        ("29.04.2022", datetime(2022, 4, 29), None),  # noqa: DTZ001
        ("29.04.2022 27061", datetime(2022, 4, 29), 27061),  # noqa: DTZ001
        ("1.5.2023,\xa009:05\xa0\xa012\xa0345", datetime(2023, 5, 1, 9, 5), 12345),  # noqa: DTZ001
        ("11:38, 29.04.2022", datetime(2022, 4, 29, 11, 38), None),  # noqa: DTZ001
    ],
)
def test_header_variants(header: str, when: datetime, views: int | None) -> None:
    article = parse_article(f"{header}\nЗаголовок\nАбзац.")
    assert article.original_published_at == when
    assert article.views == views
    assert article.title == "Заголовок"


@pytest.mark.parametrize("first", ["31.02.2022, 11:38 27061", "29.04.2022, 25:00", "29.13.2022"])
def test_invalid_date_is_not_a_header(first: str) -> None:
    article = parse_article(f"{first}\nАбзац.")
    assert article.original_published_at is None
    assert article.title == first
    assert article.paragraphs == ("Абзац.",)


def test_title_repeat_is_dropped_only_when_equal() -> None:
    same = parse_article("Большой  заголовок\n\xa0\nБольшой заголовок\xa0\nАбзац.")
    assert same.title == "Большой  заголовок"
    assert same.paragraphs == ("Абзац.",)
    different = parse_article("Заголовок\nЗаголовок другой\nАбзац.")
    assert different.paragraphs == ("Заголовок другой", "Абзац.")
    # Only one repeat is dropped.
    twice = parse_article("Заголовок\nЗаголовок\nЗаголовок")
    assert twice.paragraphs == ("Заголовок",)


@pytest.mark.parametrize("credit", ["Фото: Акорда", "Фото : Акорда", "Photo: Reuters", "ФОТО:x"])
def test_credit_variants(credit: str) -> None:
    article = parse_article(f"Заголовок\n{credit}\nАбзац.")
    assert article.photo_credit == credit
    assert article.paragraphs == ("Абзац.",)


def test_credit_line_inside_the_body_is_a_paragraph() -> None:
    article = parse_article("Заголовок\nАбзац.\nФото: архив\nЕщё абзац.")
    assert article.photo_credit is None
    assert article.paragraphs == ("Абзац.", "Фото: архив", "Ещё абзац.")


@pytest.mark.parametrize(
    ("paragraph", "dateline", "rest"),
    [
        ("АЛМАТЫ. 3 МАЯ - Текст новости.", "АЛМАТЫ. 3 МАЯ", "Текст новости."),
        ("АСТАНА, 12 ЯНВАРЯ 2023 – Текст.", "АСТАНА, 12 ЯНВАРЯ 2023", "Текст."),
        ("NEW YORK. MAY 5 — The text.", "NEW YORK. MAY 5", "The text."),
        (
            "УСТЬ-КАМЕНОГОРСК. 1 ИЮНЯ -\xa0Текст - с тире.",
            "УСТЬ-КАМЕНОГОРСК. 1 ИЮНЯ",
            "Текст - с тире.",
        ),
        ("АЛМАТЫ. 29.04.2022 - Текст.", "АЛМАТЫ. 29.04.2022", "Текст."),
    ],
)
def test_dateline_variants(paragraph: str, dateline: str, rest: str) -> None:
    article = parse_article(f"Заголовок\n{paragraph}\nВторой.")
    assert article.dateline == dateline
    assert article.paragraphs == (rest, "Второй.")


@pytest.mark.parametrize(
    "paragraph",
    [
        "Москва - столица России.",
        "Алматы. 3 мая - в городе прошёл дождь.",
        "COVID-19 - опасная болезнь.",
        "ВАЖНО. 5 ЧЕЛОВЕК - пострадали.",
        "ВНИМАНИЕ - дорога закрыта.",
        "В 2022 году - как и раньше - цены росли.",
        "АЛМАТЫ. 3 МАЯ -",
    ],
)
def test_sentence_with_dash_is_not_a_dateline(paragraph: str) -> None:
    article = parse_article(f"Заголовок\n{paragraph}")
    assert article.dateline is None
    assert article.paragraphs == (paragraph,)


def test_dateline_only_in_first_paragraph() -> None:
    article = parse_article("Заголовок\nПервый.\nАЛМАТЫ. 3 МАЯ - Второй.")
    assert article.dateline is None
    assert article.paragraphs == ("Первый.", "АЛМАТЫ. 3 МАЯ - Второй.")


@pytest.mark.parametrize(
    ("lead", "source"),
    [
        ("Текст, передает Kazakhstan Today.", "Kazakhstan Today"),
        ("Текст, сообщает Tengrinews.kz.", "Tengrinews.kz"),
        ("Текст, информирует «Казинформ».", "«Казинформ»"),
        ("Текст, передает корреспондент KAZAKHSTAN TODAY.", "KAZAKHSTAN TODAY"),
        ("Текст, сообщает пресс-служба акимата.", "пресс-служба акимата"),
        ("Текст, сообщает о пожаре.", None),
        ("Текст без источника.", None),
        ("Передает KAZAKHSTAN TODAY, что текст продолжается.", None),
    ],
)
def test_source_attribution_in_first_paragraph(lead: str, source: str | None) -> None:
    article = parse_article(f"Заголовок\n{lead}\nВторой, передает ДРУГОЙ.")
    assert article.source == source
    assert article.paragraphs[0] == lead  # the words stay in the body


def test_source_attribution_after_dateline() -> None:
    article = parse_article("Заголовок\nАЛМАТЫ. 3 МАЯ - Текст, сообщает KAZAKHSTAN TODAY.")
    assert article.dateline == "АЛМАТЫ. 3 МАЯ"
    assert article.source == "KAZAKHSTAN TODAY"
    assert article.paragraphs == ("Текст, сообщает KAZAKHSTAN TODAY.",)


def test_source_line_at_the_end_is_taken_and_removed() -> None:
    article = parse_article("Заголовок\nПервый абзац.\nВторой абзац.\n\nИсточник: Tengrinews.kz\n")
    assert article.source == "Tengrinews.kz"
    assert article.paragraphs == ("Первый абзац.", "Второй абзац.")


def test_source_line_before_chrome_is_still_the_last_paragraph() -> None:
    article = parse_article("Заголовок\nАбзац.\nисточник : XYZ\nНовости по теме\nЧужая новость")
    assert article.source == "XYZ"
    assert article.paragraphs == ("Абзац.",)


def test_source_line_in_the_middle_stays_a_paragraph() -> None:
    article = parse_article("Заголовок\nИсточник: XYZ\nАбзац.")
    assert article.source is None
    assert article.paragraphs == ("Источник: XYZ", "Абзац.")


@pytest.mark.parametrize(
    "chrome",
    [
        "новости по теме",
        "НОВОСТИ ПО ТЕМЕ",
        "Читаемое",
        "Новости RT",
        "  Ваше мнение",
        "Популярное",
        "Последние новости",
        "Поделиться",
        "Комментарии:",
        "Теги: Китай, Казахстан",
        "Новости Китая",
        "Новости Казахстана",
        "Новости\xa0Центральной Азии",
    ],
)
def test_chrome_ends_the_body(chrome: str) -> None:
    article = parse_article(f"Заголовок\nАбзац.\n{chrome}\nЧужой заголовок\nЕщё чужое.")
    assert article.paragraphs == ("Абзац.",)


@pytest.mark.parametrize(
    "line",
    [
        "Новости о погоде будут позже.",
        "Новости из зала суда разных стран мира",
        "Комментарии экспертов.",
    ],
)
def test_ordinary_lines_resembling_chrome_stay_in_the_body(line: str) -> None:
    article = parse_article(f"Заголовок\nАбзац.\n{line}\nКонец.")
    assert article.paragraphs == ("Абзац.", line, "Конец.")


def test_poll_options_after_question_are_ignored() -> None:
    raw = (
        "Заголовок\nАбзац.\nВаше мнение\n"
        "Вступление без точки\nНужно ли это? Да или нет?\nДа\nНет\nЗатрудняюсь ответить\n"
        "Популярное\nЧужой вопрос?"
    )
    article = parse_article(raw)
    assert article.poll_question == "Да или нет?"
    assert article.poll_intro == "Вступление без точки Нужно ли это?"
    assert article.paragraphs == ("Абзац.",)


def test_poll_question_without_intro() -> None:
    article = parse_article("Заголовок\nАбзац.\nВаше мнение:\nВы «за»?»\n")
    assert article.poll_question == "Вы «за»?»"
    assert article.poll_intro is None


def test_poll_without_question_or_without_poll() -> None:
    no_question = parse_article("Заголовок\nАбзац.\nВаше мнение\nПросто текст.")
    assert (no_question.poll_question, no_question.poll_intro) == (None, None)
    no_poll = parse_article("Заголовок\nАбзац?\nЧитаемое\nВопрос?")
    assert (no_poll.poll_question, no_poll.poll_intro) == (None, None)


def test_control_chars_and_surrogates_are_stripped() -> None:
    article = parse_article("Заго\x00ловок\x07\n\ud800\x1b\nАб\x0bзац\tс табом.\ud83d\n\x7f")
    assert article.title == "Заголовок"
    assert article.paragraphs == ("Абзац\tс табом.",)


def test_zero_width_and_unicode_space_lines_are_blank() -> None:
    raw = "Заголовок\n\u200b\n\u2003\u00a0\u202f\n\ufeff\nАбзац.\n\u2028\u2060\u2029Второй."
    assert parse_article(raw).paragraphs == ("Абзац.", "Второй.")


# --- errors -----------------------------------------------------------------------------------


def test_parse_error_is_a_value_error_with_code() -> None:
    error = ParseError("empty")
    assert isinstance(error, ValueError)
    assert error.code == "empty"
    assert str(error) == "empty"


@pytest.mark.parametrize("raw", ["", "   ", "\n\n\xa0\n", "\u200b\ufeff\r\n\t", "\x00\x01\ud800"])
def test_error_empty(raw: str) -> None:
    assert codes_of(raw) == "empty"


@pytest.mark.parametrize(
    "raw",
    [
        "29.04.2022, 11:38 27061",
        "29.04.2022, 11:38 27061\n\xa0\n",
        "29.04.2022\nФото: Акорда",
        "Фото: Акорда",
        "x" * 301 + "\nАбзац.",
        "29.04.2022\n" + "Длинно " * 50 + "\nАбзац.",
    ],
)
def test_error_no_title(raw: str) -> None:
    assert codes_of(raw) == "no_title"


def test_title_of_exactly_300_chars_is_accepted() -> None:
    assert parse_article("x" * 300 + "\nАбзац.").title == "x" * 300


@pytest.mark.parametrize(
    "raw",
    [
        "Заголовок",
        "29.04.2022\nЗаголовок\n\nЗаголовок\nФото: Акорда\n\xa0",
        "Заголовок\nНовости по теме\nЧужая новость",
        "Заголовок\nИсточник: XYZ",
    ],
)
def test_error_no_body(raw: str) -> None:
    assert codes_of(raw) == "no_body"


def test_error_too_long() -> None:
    assert codes_of("Заголовок\n" + "а" * MAX_RAW_CHARS) == "too_long"
    assert codes_of(" " * (MAX_RAW_CHARS + 1)) == "too_long"


def test_exactly_max_raw_chars_is_accepted() -> None:
    raw = "Заголовок\n" + "а" * (MAX_RAW_CHARS - len("Заголовок\n"))
    assert len(raw) == MAX_RAW_CHARS
    assert parse_article(raw).paragraphs == ("а" * (MAX_RAW_CHARS - 10),)


@pytest.mark.parametrize(
    "raw",
    [
        "Заголовок\n" + "." * 150_000 + "x",
        "Заголовок\nАбзац\nВаше мнение\n" + "." * 150_000 + "x?",
        "Заголовок\n" + "АБВ " * 40_000 + "- x",
        "Заголовок\nТекст, сообщает " + "А" * 150_000,
    ],
)
def test_pathological_input_is_fast(raw: str) -> None:
    # Would time out (quadratic regex backtracking) rather than fail if it regressed.
    assert parse_article(raw).title == "Заголовок"


# --- properties ---------------------------------------------------------------------------


def is_clean(text: str) -> bool:
    """Non-empty, one line, no control chars (tabs allowed) and encodable as UTF-8."""
    if not text.strip() or "\n" in text:
        return False
    text.encode("utf-8")
    return all(ch == "\t" or unicodedata.category(ch) not in {"Cc", "Cs"} for ch in text)


def check_result_or_parse_error(raw: str) -> None:
    try:
        article = parse_article(raw)
    except ParseError as error:
        assert error.code in {"empty", "no_title", "no_body", "too_long"}
        return
    assert isinstance(article, ArticleContent)
    assert is_clean(article.title)
    assert len(article.title) <= 300
    assert article.paragraphs
    assert all(is_clean(paragraph) for paragraph in article.paragraphs)
    for optional in (article.dateline, article.source, article.photo_credit):
        assert optional is None or is_clean(optional)
    for optional in (article.poll_question, article.poll_intro):
        assert optional is None or is_clean(optional)


@given(st.text())
def test_any_text_gives_article_or_parse_error(raw: str) -> None:
    check_result_or_parse_error(raw)


SEED_LIKE_LINES = [
    "",
    "\xa0",
    " \u200b ",
    "29.04.2022, 11:38 27061",
    "31.02.2022",
    "Заголовок",
    "Фото: Акорда",
    "НУР-СУЛТАН. 29 АПРЕЛЯ - Текст, передает KAZAKHSTAN TODAY.",
    "АЛМАТЫ. 3 МАЯ -",
    "Источник: XYZ",
    "новости по теме",
    "Новости Китая",
    "Ваше мнение",
    "Вопрос? Да?",
    "\x00\ud800",
]


@given(
    st.lists(st.sampled_from(SEED_LIKE_LINES) | st.text(max_size=30), max_size=15),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_seed_like_line_soup_gives_article_or_parse_error(lines: list[str], eol: str) -> None:
    check_result_or_parse_error(eol.join(lines))


# Letters only, and none of о/е/o/e: every chrome line, credit and "Источник:" needs one of
# them, and without digits there is no header or dateline, so nothing here may be dropped.
ALPHABET = "абвгджзийклмнпрстуфхцчшщыьэюяАБВГДЖЗИКЛМНПРСТУФХЦЧШЩЭЮЯӘҒҚҢӨҰҮҺІabcdfgzxyKLMNPQRSTXYZ"
words = st.text(alphabet=ALPHABET, min_size=1, max_size=12)
lines_of_words = st.lists(words, min_size=1, max_size=8).map(" ".join)
separators = st.sampled_from(["\n", "\n\n", "\n\xa0\n", "\r\n \r\n", "\n\u200b\n"])


@settings(max_examples=200)
@given(lines_of_words, st.lists(lines_of_words, min_size=1, max_size=10), separators)
def test_simple_article_loses_nothing(title: str, paragraphs: list[str], sep: str) -> None:
    raw = sep.join([title, *paragraphs])
    # The only thing allowed to go is a first paragraph that repeats the title.
    expected = paragraphs[1:] if paragraphs[0] == title else paragraphs
    if not expected:
        assert codes_of(raw) == "no_body"
        return
    article = parse_article(raw)
    assert article.title == title
    assert list(article.paragraphs) == expected
    output_words = set(article.title.split()).union(*(p.split() for p in article.paragraphs))
    for line in [title, *paragraphs]:
        assert set(line.split()) <= output_words
    assert article.dateline is None
    assert article.source is None
    assert article.photo_credit is None
