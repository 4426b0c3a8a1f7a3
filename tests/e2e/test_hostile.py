"""Hostile readers and careless editors, through the real dispatcher: forged buttons,
forwarded commands, guessed article ids, forged inline offsets."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.models import ArticleStatus
from tests.e2e.harness import CHANNEL_ID, Newsroom, body_of, exchange, opened, set_read_only
from tests.e2e.test_articles import SEED_TITLE, import_seed
from tests.e2e.test_full_text import article_sends, publish_seed
from tests.e2e.test_polls import post_poll
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser


async def test_a_forged_read_button_under_a_channel_post_posts_nothing_there(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser, seed_text: str
) -> None:
    article_id, post = await publish_seed(telegram, editor, seed_text, photo=False)
    in_channel = len(telegram.chat_messages(CHANNEL_ID))
    presses = [reader.clicks_data(post, f"read:{article_id}") for _ in range(3)]
    ids = [str(press["callback_query"]["id"]) for press in presses]
    await telegram.wait_for(lambda: all(telegram.callback_answer(i) for i in ids))
    answers: list[dict[str, Any]] = [telegram.callback_answer(i) or {} for i in ids]
    await telegram.wait_idle(quiet=0.05)
    assert len(telegram.chat_messages(CHANNEL_ID)) == in_channel  # nothing new there
    assert article_sends(telegram, reader) == []  # nor anywhere else, unasked
    # Telegram opens the bot on the article's deep link: the reader's own chat.
    me = telegram.bot_user["username"]
    assert {answer["url"] for answer in answers} == {f"https://t.me/{me}?start=a{article_id}"}


async def test_the_read_button_in_the_readers_chat_still_sends_the_text(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser, seed_text: str
) -> None:
    article_id, _ = await publish_seed(telegram, editor, seed_text, photo=False)
    await exchange(telegram, reader, "/start")
    menu = reader.received()[-1]
    press = reader.clicks_data(menu, f"read:{article_id}")
    await telegram.wait_for(lambda: telegram.callback_answer(press["callback_query"]["id"]))
    await telegram.wait_for(lambda: article_sends(telegram, reader) != [])


async def test_a_forwarded_command_is_never_run(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser, seed_text: str
) -> None:
    article_id, _ = await publish_seed(telegram, editor, seed_text, photo=False)
    before = len(editor.received())
    editor.forwards(f"/delete {article_id}", origin=reader)
    await telegram.wait_for(lambda: len(editor.received()) > before)
    await telegram.wait_idle(quiet=0.05)
    assert "пересланных сообщений не выполняются" in body_of(editor.received()[-1])
    async with opened(newsroom.settings) as stores:
        article = await stores.articles.get(article_id)
    assert article is not None and article.status is ArticleStatus.PUBLISHED


async def test_readers_never_open_an_article_that_did_not_reach_the_channel(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser, seed_text: str
) -> None:
    draft_id = await import_seed(telegram, editor, seed_text)
    telegram.fail_next("sendMessage", status=502, description="Bad Gateway", chat_id=CHANNEL_ID)
    assert "Неизвестно" in await exchange(telegram, editor, f"/publish {draft_id}")
    for guessed in (draft_id, draft_id + 1):
        answer = await exchange(telegram, reader, f"/start a{guessed}")
        assert answer.startswith("Не удалось найти эту статью"), answer
    assert not any(SEED_TITLE in body_of(message) for message in reader.received())
    # An editor still proofs it.
    await exchange(telegram, editor, f"/start a{draft_id}")
    assert any(SEED_TITLE in body_of(message) for message in editor.received()[-3:])


async def test_a_forged_inline_offset_is_answered_without_an_error(
    newsroom: Newsroom, telegram: FakeBotAPI, admin: FakeUser, reader: FakeUser
) -> None:
    telegram.enable_inline_mode()
    ids = [
        str(reader.types_inline("новости", offset=offset)["inline_query"]["id"])
        for offset in ("²", "-5", "1e3", "٣")
    ]
    await telegram.wait_for(lambda: all(telegram.inline_answer(i) for i in ids))
    await telegram.wait_idle(quiet=0.05)
    assert admin.received() == []  # no error report


async def test_a_query_too_old_to_answer_is_one_quiet_line(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    admin: FakeUser,
    reader: FakeUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A press redelivered after a restart: Telegram refuses the late answer.  The vote
    counts; no traceback, no ERROR, no report to the admins."""
    post = await post_poll(telegram, editor)
    telegram.fail_next(
        "answerCallbackQuery",
        status=400,
        description="Bad Request: query is too old and response timeout expired or query ID "
        "is invalid",
    )
    with caplog.at_level(logging.INFO):
        press = reader.clicks(post, "Да · 0")
        await telegram.wait_for(lambda: "Update" in caplog.text and "refused" in caplog.text)
        await telegram.wait_idle(quiet=0.05)
    assert telegram.callback_answer(press["callback_query"]["id"]) is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert "query_too_old" in caplog.text
    assert admin.received() == []
    async with opened(newsroom.settings) as stores:
        poll = await stores.polls.get(1)
    assert poll is not None and poll.counts[0] == 1


async def test_error_reports_are_limited_per_kind_and_say_what_was_held_back(
    newsroom: Newsroom, telegram: FakeBotAPI, admin: FakeUser
) -> None:
    assert newsroom.app is not None
    notifier = newsroom.app.services.notifier
    for kind in ("RuntimeError", "RuntimeError", "RuntimeError", "KeyError"):
        await notifier.error(kind, f"⚠️ {kind}")
    await telegram.wait_idle(quiet=0.05)
    assert [body_of(m) for m in admin.received()] == ["⚠️ RuntimeError", "⚠️ KeyError"]
    notifier.report_interval = 0  # the limit lets the next one through
    await notifier.error("RuntimeError", "⚠️ RuntimeError")
    await telegram.wait_idle(quiet=0.05)
    assert body_of(admin.received()[-1]).endswith("таких ошибок было ещё: 2.")


async def test_editors_added_in_chat_get_the_editors_notices(
    newsroom: Newsroom, telegram: FakeBotAPI, admin: FakeUser, editor: FakeUser, seed_text: str
) -> None:
    newcomer = telegram.user(7001, "Асель", "asel", started=True)
    assert "теперь редактор" in await exchange(telegram, admin, "/addeditor 7001")
    draft_id = await import_seed(telegram, editor, seed_text)
    async with opened(newsroom.settings) as stores:
        assert await stores.articles.claim(draft_id) is not None  # a publish a crash cut
    await newsroom.restart()
    await telegram.wait_for(
        lambda: any("После перезапуска" in body_of(m) for m in newcomer.received())
    )


async def test_an_editor_settles_an_uncertain_article_as_not_posted(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser, seed_text: str
) -> None:
    draft_id = await import_seed(telegram, editor, seed_text)
    telegram.fail_next("sendMessage", status=502, description="Bad Gateway", chat_id=CHANNEL_ID)
    answer = await exchange(telegram, editor, f"/publish {draft_id}")
    assert f"/notposted {draft_id}" in answer
    assert "снова в черновиках" in await exchange(telegram, editor, f"/notposted {draft_id}")
    async with opened(newsroom.settings) as stores:
        article = await stores.articles.get(draft_id)
    assert article is not None and article.status is ArticleStatus.DRAFT
    # Twice, or for a draft: nothing changes.
    assert "снова в черновиках" not in await exchange(telegram, editor, f"/notposted {draft_id}")
    assert "только редакторам" in await exchange(telegram, reader, f"/notposted {draft_id}")
    assert "Опубликовано" in await exchange(telegram, editor, f"/publish {draft_id}")
    assert "отмечена не опубликованной" in await exchange(telegram, editor, f"/history {draft_id}")


async def claimed(room: Newsroom, article_id: int) -> None:
    """Until the article is claimed for publishing (checked every 10 ms, for 5 s)."""
    for _ in range(500):
        async with opened(room.settings) as stores:
            article = await stores.articles.get(article_id)
        if article is not None and article.status is ArticleStatus.PUBLISHING:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"article {article_id} was never claimed")


async def test_a_database_failing_after_the_send_is_told_and_settled_while_running(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, seed_text: str
) -> None:
    """The post goes out, then the database refuses to record it (and to record
    "uncertain"): the editor is told the post may be in the channel, and once the disk is
    back the bot settles the stuck claim by itself, without a restart."""
    room = Newsroom(telegram, tmp_path)
    await room.start()
    try:
        assert room.app is not None
        # As if the longest a publication can take were half a second.
        watch = room.app.claims
        await watch.stop()
        watch.older_than, watch.every = timedelta(seconds=0.5), 0.1
        watch.start()
        draft_id = await import_seed(telegram, editor, seed_text)
        telegram.slow_next("sendMessage", 0.3)  # time to break the disk meanwhile
        before = len(editor.received())
        editor.sends(f"/publish {draft_id}")
        await claimed(room, draft_id)  # the send is on its way now, for 0.3 s
        await set_read_only(room.app.db, True)
        await telegram.wait_for(lambda: len(editor.received()) > before)
        answer = body_of(editor.received()[-1])
        assert "Неизвестно, дошла ли статья" in answer, answer
        assert f"/markpublished {draft_id}" in answer
        assert len(telegram.chat_messages(CHANNEL_ID)) == 1  # it is there indeed
        await set_read_only(room.app.db, False)
        # Still "publishing" in the database; the claim watch settles it, unasked.
        await telegram.wait_for(
            lambda: any("не завершилась" in body_of(m) for m in editor.received())
        )
        async with opened(room.settings) as stores:
            article = await stores.articles.get(draft_id)
        assert article is not None and article.status is ArticleStatus.UNCERTAIN
        assert "уже опубликована" not in await exchange(
            telegram, editor, f"/markpublished {draft_id} https://t.me/c/1234567890/1"
        )
    finally:
        await room.stop()


def touching(telegram: FakeBotAPI, message_id: int) -> list[str]:
    """Every edit or deletion the bot asked for of channel message ``message_id``."""
    methods = (
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "deleteMessage",
    )
    return [
        r.method
        for method in methods
        for r in telegram.calls(method)
        if r.params.get("chat_id") == CHANNEL_ID and r.params.get("message_id") == message_id
    ]


@pytest.mark.parametrize("owner", ["article", "poll"])
async def test_markpublished_with_another_articles_or_a_polls_post_is_refused(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, seed_text: str, owner: str
) -> None:
    if owner == "article":
        owner_id, post = await publish_seed(telegram, editor, seed_text, photo=False)
        named = f"статьёй №{owner_id}"
    else:
        post = await post_poll(telegram, editor)
        named = "опросом №1"
    draft_id = await import_seed(telegram, editor, seed_text)
    telegram.fail_next("sendMessage", status=502, description="Bad Gateway", chat_id=CHANNEL_ID)
    assert f"/markpublished {draft_id}" in await exchange(telegram, editor, f"/publish {draft_id}")
    link = f"https://t.me/c/1234567890/{post['message_id']}"
    answer = await exchange(telegram, editor, f"/markpublished {draft_id} {link}")
    assert f"Пост {link} уже записан за {named}" in answer, answer
    assert f"статья №{draft_id} не изменилась" in answer
    # Nothing changed, so what the editor does to this article next leaves the post alone.
    await exchange(telegram, editor, f"/edit {draft_id}\nЧужой заголовок\n\nЧужой текст.")
    await exchange(telegram, editor, f"/delete {draft_id}")
    assert touching(telegram, post["message_id"]) == []
    async with opened(newsroom.settings) as stores:
        article = await stores.articles.get(draft_id)
    assert article is not None and article.status is ArticleStatus.UNCERTAIN
    assert article.channel_message_id is None
    # Its own post is still for the editor to settle.
    assert "Опубликовано" in await exchange(telegram, editor, f"/forcepublish {draft_id}")
