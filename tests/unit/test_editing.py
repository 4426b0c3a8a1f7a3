"""Revising articles: a re-import keeps what the new text does not say."""

from __future__ import annotations

from datetime import datetime

from bot.articles.revisions import merge_import
from bot.models import ArticleContent

OLD = ArticleContent(
    title="Старый",
    paragraphs=("Абзац.",),
    summary="Анонс редактора",
    dateline="НУР-СУЛТАН. 29 АПРЕЛЯ",
    source="KAZAKHSTAN TODAY",
    original_published_at=datetime(2022, 4, 29, 11, 38),  # noqa: DTZ001 - the outlet's local time
    views=27061,
    photo_credit="Фото: Акорда",
    tags=("Казахстан",),
    poll_question="Вопрос?",
)


def test_reimport_replaces_text_and_keeps_the_rest() -> None:
    new = ArticleContent(title="Новый", paragraphs=("Исправленный абзац.",))
    merged = merge_import(OLD, new)
    assert (merged.title, merged.paragraphs) == ("Новый", ("Исправленный абзац.",))
    assert merged.dateline == OLD.dateline
    assert merged.original_published_at == OLD.original_published_at
    assert merged.views == OLD.views
    assert (merged.summary, merged.source, merged.photo_credit) == (
        OLD.summary,
        OLD.source,
        OLD.photo_credit,
    )
    assert (merged.tags, merged.poll_question) == (OLD.tags, OLD.poll_question)


def test_reimport_with_its_own_fields_wins() -> None:
    new = ArticleContent(
        title="Новый",
        paragraphs=("Текст.",),
        dateline="АЛМАТЫ. 3 МАЯ",
        views=5,
        photo_credit="Фото: пресс-служба",
    )
    merged = merge_import(OLD, new)
    assert (merged.dateline, merged.views, merged.photo_credit) == (
        "АЛМАТЫ. 3 МАЯ",
        5,
        "Фото: пресс-служба",
    )
