"""Validation of editor input."""

from __future__ import annotations

import pytest

from bot.articles.intake import (
    MAX_DOCUMENT_BYTES,
    MAX_TITLE_CHARS,
    clean_title,
    decode_document,
    parse_tags,
    split_paragraphs,
)
from bot.errors import InputError
from bot.telegram_text.cleaning import parse_id
from bot.texts import RU


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("12", 12),
        (" №7 ", 7),
        ("#3", 3),
        (None, None),
        ("", None),
        ("abc", None),
        ("-1", None),
        ("12 13", None),
        ("9999999999", None),
        ("1.5", None),
        ("٣", None),
    ],
)
def test_parse_id(args: str | None, expected: int | None) -> None:
    assert parse_id(args) == expected


def test_title_rules() -> None:
    assert clean_title("  Заголовок  с   пробелами ") == "Заголовок с пробелами"
    for bad, key in [
        ("", "new_title_empty"),
        ("   ", "new_title_empty"),
        ("a\nb", "new_title_multiline"),
        ("x" * (MAX_TITLE_CHARS + 1), "new_title_too_long"),
    ]:
        with pytest.raises(InputError) as info:
            clean_title(bad)
        assert info.value.key == key
        # Every error key names a real message.
        assert getattr(RU, info.value.key).format(**info.value.params)


def test_paragraphs_skip_blank_and_nbsp_lines() -> None:
    assert split_paragraphs("Один.\n\u00a0\n\nДва <b>.\n  ") == ["Один.", "Два <b>."]


def test_tags() -> None:
    assert parse_tags("Казахстан, #Китай; цветная революция") == (
        "Казахстан",
        "Китай",
        "цветная_революция",
    )
    assert parse_tags("a, A, a") == ("a",)
    for bad in ["", " , ", "<script>", "123", ",".join(f"t{i}" for i in range(11))]:
        with pytest.raises(InputError):
            parse_tags(bad)


def test_documents() -> None:
    assert decode_document("Привет".encode(), "a.txt") == "Привет"
    assert decode_document(b"\xef\xbb\xbfHi", "a.TXT") == "Hi"
    assert decode_document("Привет".encode("utf-16"), "a.txt") == "Привет"
    cases = [
        (b"\xff\xd8\xff\xe0binary", "photo.jpg", "import_not_text_file"),
        (b"abc\x00def", "a.txt", "import_not_text_file"),
        ("Привет".encode("cp1251"), "a.txt", "import_bad_encoding"),
        (b"a" * (MAX_DOCUMENT_BYTES + 1), "big.txt", "import_file_too_big"),
    ]
    for data, name, key in cases:
        with pytest.raises(InputError) as info:
            decode_document(data, name)
        assert info.value.key == key
