"""Every interface text exists in Russian and in English, translated, with the same
``{placeholders}``: a missing field or a lost ``{id}`` would break an answer."""

from __future__ import annotations

import dataclasses
import string
from enum import StrEnum

from bot.models import ArticleStatus
from bot.texts import RU, Texts, get_texts, texts_for_user
from bot.texts_en import EN

# Fields that are formats, not words: the same in every language.
SAME_IN_BOTH = {
    "ellipsis",
    "dateline_separator",
    "published_format",  # strftime pattern of the date line
    "poll_results_line",
    "poll_option_button",
    "top_button",  # "{title} · {count}"
    "history_line",
    "history_detail",
    "archive_bad_line",  # "{name} — {reason}"
    "feeds_never",  # a dash
}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _strings(value: object) -> dict[str, str]:
    """A field's texts by key: the string itself, or each value of a (key, text) table."""
    if isinstance(value, str):
        return {"": value}
    assert isinstance(value, tuple)
    return {str(key): str(text) for key, text in value}


def test_every_field_is_translated_with_the_same_placeholders() -> None:
    untranslated = []
    for field in dataclasses.fields(Texts):
        ru, en = _strings(getattr(RU, field.name)), _strings(getattr(EN, field.name))
        assert ru.keys() == en.keys(), field.name
        for key, text in ru.items():
            assert _placeholders(text) == _placeholders(en[key]), (field.name, key)
            if text == en[key] and field.name not in SAME_IN_BOTH:
                untranslated.append((field.name, key))
    assert untranslated == []


def test_english_is_complete_and_differs_where_it_should() -> None:
    # A field left at its Russian default would show up here.
    defaults = {f.name for f in dataclasses.fields(Texts) if getattr(EN, f.name) == f.default}
    assert defaults == SAME_IN_BOTH


def test_language_choice() -> None:
    assert texts_for_user("en", "ru") is EN
    assert texts_for_user("en-US", "ru") is EN
    assert texts_for_user("kk", "ru") is RU
    assert texts_for_user(None, "ru") is RU
    assert get_texts("en") is EN
    assert get_texts("xx") is RU


def test_every_article_status_has_a_name_in_each_language() -> None:
    for texts in (RU, EN):
        named = dict(texts.status_names)
        assert {status.value for status in ArticleStatus} <= set(named)


def test_every_outcome_table_names_only_its_services_outcomes() -> None:
    """A key a service never returns (a typo) would leave its outcome to the fallback."""
    from bot.articles.revisions import EditOutcome
    from bot.articles.scheduling import UnscheduleOutcome
    from bot.desk.editors import AddOutcome, RemoveOutcome
    from bot.polls.board import PollOutcome

    outcomes: dict[str, type[StrEnum]] = {
        "edit_outcomes": EditOutcome,
        "unschedule_outcomes": UnscheduleOutcome,
        "poll_post_outcomes": PollOutcome,
        "poll_close_outcomes": PollOutcome,
        "editor_add_outcomes": AddOutcome,
        "editor_remove_outcomes": RemoveOutcome,
    }
    tables = [f.name for f in dataclasses.fields(Texts) if f.name.endswith("_outcomes")]
    assert sorted(tables) == sorted(outcomes)
    for texts in (RU, EN):
        for name, enum in outcomes.items():
            keys = [key for key, _ in getattr(texts, name)]
            assert keys and set(keys) <= {o.value for o in enum}, (name, keys)
            assert len(keys) == len(set(keys)), name
