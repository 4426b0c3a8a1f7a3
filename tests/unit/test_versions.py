"""Earlier versions of an article: every change the desk makes keeps the content it
replaced, and ``/restore`` brings one back as a change of its own.  The service on the
real repositories (a SQLite of their own), with a fake channel."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.articles.publishing import Publisher
from bot.articles.revisions import EditOutcome, Revisions
from bot.desk.history import ActionLog, acting, version_lines
from bot.models import Actor, ArticleContent
from bot.repositories import Revision
from bot.texts import RU
from storage import Stores
from tests.backends import Backend
from tests.unit.test_services import CONTENT, Editor, FakeChannel

EDITED = "Новый заголовок\n\nНовый абзац."


async def test_each_change_keeps_the_version_it_replaced(sqlite_stores: Stores) -> None:
    articles = sqlite_stores.articles
    revisions = Revisions(articles, Editor())
    draft = await articles.create(CONTENT, 1)
    token = acting.set(Actor(7, "Анна"))
    try:
        assert (await revisions.replace_text(draft.id, EDITED)).outcome is (
            EditOutcome.DRAFT_UPDATED
        )
        await revisions.set_field("summary", draft.id, "Кратко.")
        # The same value again changes nothing: no version for it.
        await revisions.set_field("summary", draft.id, "Кратко.")
    finally:
        acting.reset(token)
    versions = await revisions.versions(draft.id)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].content == CONTENT
    assert versions[1].content.title == "Новый заголовок" and versions[1].content.summary is None
    assert {(v.editor_id, v.editor_name) for v in versions} == {(7, "Анна")}
    lines = version_lines(versions, ZoneInfo("Asia/Almaty"), RU)
    assert lines[0].startswith("1 · «Заголовок» · заменена ")
    assert lines[0].endswith(" · Анна (7)")


async def test_every_field_survives_the_round_trip(stores: Stores) -> None:
    """On both backends: the stored version is the content, every field of it."""
    articles = stores.articles
    full = dataclasses.replace(
        CONTENT,
        summary="Анонс",
        dateline="АЛМАТЫ. 3 МАЯ",
        source="KAZAKHSTAN TODAY",
        original_published_at=datetime(2022, 4, 29, 11, 38),  # noqa: DTZ001 - local
        views=27061,
        photo_credit="Фото: Акорда",
        tags=("Казахстан", "Китай"),
        poll_question="Да или нет?",
        poll_intro="Вступление.",
    )
    draft = await articles.create(full, 1)
    await articles.revise(draft.id, Revision(lambda _: ArticleContent("Другой", ("Текст.",))))
    [kept] = await articles.versions(draft.id)
    assert kept.content == full and kept.editor_id is None


async def test_restore_edits_the_post_back_and_can_itself_be_undone(
    sqlite_stores: Stores,
) -> None:
    articles, channel, editor = sqlite_stores.articles, FakeChannel(), Editor()
    history = ActionLog(sqlite_stores.desk)
    revisions = Revisions(articles, editor, history=history)
    draft = await articles.create(CONTENT, 1)
    await Publisher(articles, channel).publish(draft.id)
    await revisions.replace_text(draft.id, EDITED)
    restored = await revisions.restore(draft.id, 1)
    assert restored.outcome is EditOutcome.POST_UPDATED
    assert restored.article is not None and restored.article.content == CONTENT
    assert [a.content.title for a in editor.edited] == ["Новый заголовок", "Заголовок"]
    versions = await revisions.versions(draft.id)
    assert [v.content.title for v in versions] == ["Заголовок", "Новый заголовок"]
    undone = await revisions.restore(draft.id, 2)
    assert undone.article is not None and undone.article.content.title == "Новый заголовок"
    actions = [(a.action, a.detail) for a in await history.article(draft.id)]
    assert actions == [("edit", "text"), ("restore", "1"), ("restore", "2")]


async def test_restore_refuses_what_is_not_there_and_changes_nothing(
    sqlite_stores: Stores,
) -> None:
    articles, channel = sqlite_stores.articles, FakeChannel()
    revisions = Revisions(articles, Editor())
    draft = await articles.create(CONTENT, 1)
    assert (await revisions.restore(draft.id, 1)).outcome is EditOutcome.NO_VERSION
    assert (await revisions.restore(999, 1)).outcome is EditOutcome.NOT_FOUND
    await revisions.replace_text(draft.id, EDITED)
    for number in (0, 2, 2**40):
        assert (await revisions.restore(draft.id, number)).outcome is EditOutcome.NO_VERSION
    await Publisher(articles, channel).publish(draft.id)
    assert await articles.withdraw(draft.id) is not None  # /delete's statement
    assert (await revisions.restore(draft.id, 1)).outcome is EditOutcome.WITHDRAWN
    assert len(await revisions.versions(draft.id)) == 1
    stored = await articles.get(draft.id)
    assert stored is not None and stored.content.title == "Новый заголовок"


async def test_two_processes_changing_one_article_number_their_versions_apart(
    backend: Backend,
) -> None:
    """Two connection pools (as two instances) revise one article at once: each keeps
    the content it replaced, under its own number, and neither change is lost."""
    first, second = await backend.open(), await backend.open()
    draft = await first.articles.create(CONTENT, 1)
    await asyncio.gather(
        first.articles.revise(
            draft.id, Revision(lambda old: dataclasses.replace(old, summary="А"))
        ),
        second.articles.revise(
            draft.id, Revision(lambda old: dataclasses.replace(old, tags=("Б",)))
        ),
    )
    versions = await first.articles.versions(draft.id)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].content == CONTENT
    stored = await first.articles.get(draft.id)
    assert stored is not None and (stored.content.summary, stored.content.tags) == ("А", ("Б",))


async def test_a_rejected_article_is_not_editable_and_says_so(sqlite_stores: Stores) -> None:
    """Not "being published, try again": a turned-down draft, like an archived page or
    an uncertain post, is not edited, and nothing is stored for the try."""
    articles = sqlite_stores.articles
    revisions = Revisions(articles, Editor())
    draft = await articles.create(CONTENT, 1)
    assert await articles.reject(draft.id) is not None
    result = await revisions.replace_text(draft.id, EDITED)
    assert result.outcome is EditOutcome.NOT_EDITABLE
    stored = await articles.get(draft.id)
    assert stored is not None and stored.content == CONTENT
    assert await revisions.versions(draft.id) == []
