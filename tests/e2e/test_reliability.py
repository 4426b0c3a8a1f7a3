"""Faults, limits and restarts: nothing lost, nothing posted twice, nobody left unanswered."""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.models import ArticleStatus
from storage.tables import articles
from tests.e2e.harness import (
    ADMIN_ID,
    CHANNEL_ID,
    EDITOR_ID,
    Newsroom,
    body_of,
    exchange,
    expect_answers,
    last_text,
    opened,
    set_read_only,
)
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser


def channel_sends(telegram: FakeBotAPI) -> list[Any]:
    return [
        r
        for method in ("sendMessage", "sendPhoto")
        for r in telegram.calls(method)
        if r.params.get("chat_id") == CHANNEL_ID
    ]


async def draft(telegram: FakeBotAPI, editor: FakeUser, title: str = "Заголовок") -> int:
    before = len(editor.received())
    editor.sends(f"/import\n{title}\n\nПервый абзац. Второй.")
    answer: str = await telegram.wait_for(
        lambda: next(
            (body_of(m) for m in editor.received()[before:] if "Черновик №" in body_of(m)), None
        ),
        timeout=15,
    )
    return int(answer.split("/publish ", 1)[1].split()[0])


async def set_scheduled_at(room: Newsroom, article_id: int, when: datetime) -> None:
    """What the passage of time does to a schedule (tests cannot wait for a minute)."""
    async with opened(room.settings) as stores, stores.db.transaction() as conn:
        await conn.execute(
            articles.update().where(articles.c.id == article_id).values(scheduled_at=when)
        )


async def test_channel_502_leaves_the_article_uncertain_and_never_resends(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    article_id = await draft(telegram, editor)
    telegram.fail_next("sendMessage", status=502, description="Bad Gateway", chat_id=CHANNEL_ID)
    answer = await exchange(telegram, editor, f"/publish {article_id}")
    assert "Неизвестно, дошла ли статья" in answer
    # Why, in the editor's language:
    assert "(нет ясного ответа от Telegram (Bad Gateway))" in answer
    assert f"/forcepublish {article_id}" in answer and f"/markpublished {article_id}" in answer
    assert len(channel_sends(telegram)) == 1  # tried once, not blindly repeated
    assert "Статус неизвестен".lower() in (await exchange(telegram, editor, "/drafts")).lower()
    # A plain /publish does not post an uncertain article.
    answer = await exchange(telegram, editor, f"/publish {article_id}")
    assert "Неизвестно" in answer
    assert "нет ясного ответа от Telegram (Bad Gateway)" in answer  # as stored
    assert len(channel_sends(telegram)) == 1
    # The editor checked the channel and found nothing: publish anyway, exactly once.
    answer = await exchange(telegram, editor, f"/forcepublish {article_id}")
    assert "Опубликовано" in answer
    assert len(telegram.chat_messages(CHANNEL_ID)) == 1
    assert "уже опубликована" in await exchange(telegram, editor, f"/forcepublish {article_id}")


async def test_channel_refusal_fails_the_publish_and_an_unknown_answer_does_not(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    """Telegram's error (here 404) says the send did not run: failed, the draft kept and
    publishable again.  A status Telegram does not document for errors (418) says nothing
    of what happened: uncertain, never posted again blindly."""
    article_id = await draft(telegram, editor)
    telegram.fail_next("sendMessage", status=404, description="Not Found", chat_id=CHANNEL_ID)
    answer = await exchange(telegram, editor, f"/publish {article_id}")
    assert "Не удалось опубликовать" in answer and "Telegram ответил: «Not Found»" in answer
    assert "Опубликовано" in await exchange(telegram, editor, f"/publish {article_id}")
    other = await draft(telegram, editor)
    telegram.fail_next("sendMessage", status=418, description="I'm a teapot", chat_id=CHANNEL_ID)
    answer = await exchange(telegram, editor, f"/publish {other}")
    assert "Неизвестно, дошла ли статья" in answer
    assert "нет ясного ответа от Telegram (I'm a teapot)" in answer
    assert len(telegram.chat_messages(CHANNEL_ID)) == 1


async def test_lost_answer_then_mark_published(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    article_id = await draft(telegram, editor)
    # The post reaches the channel but the connection drops before the answer.
    telegram.fail_next("sendMessage", chat_id=CHANNEL_ID, drop_connection=True, after_effect=True)
    assert "Неизвестно" in await exchange(telegram, editor, f"/publish {article_id}")
    [post] = telegram.chat_messages(CHANNEL_ID)
    link = f"https://t.me/c/1234567890/{post['message_id']}"
    answer = await exchange(telegram, editor, f"/markpublished {article_id} {link}")
    assert "Опубликовано" in answer and link in answer
    assert link in await exchange(telegram, editor, f"/publish {article_id}")
    assert len(telegram.chat_messages(CHANNEL_ID)) == 1


async def test_flood_control_on_the_channel_is_waited_out(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    article_id = await draft(telegram, editor)
    telegram.fail_next("sendMessage", status=429, retry_after=1, chat_id=CHANNEL_ID)
    answer = await exchange(telegram, editor, f"/publish {article_id}")
    assert "Опубликовано" in answer
    assert len(telegram.chat_messages(CHANNEL_ID)) == 1
    assert len(channel_sends(telegram)) == 2  # the 429 and the retry after it


def _article_sends_to(telegram: FakeBotAPI, reader: FakeUser) -> list[str]:
    """Every sendMessage the bot asked for with the article's text, to ``reader``."""
    return [
        str(r.params.get("text", ""))
        for r in telegram.calls("sendMessage")
        if str(r.params.get("chat_id")) == str(reader.id)
        and str(r.params.get("text", "")).startswith("<b>Заголовок")
    ]


async def test_reader_sends_are_not_repeated_after_server_errors_and_edits_are(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    article_id = await draft(telegram, editor)
    await exchange(telegram, editor, f"/publish {article_id}")
    # A 500 may come after the message was delivered: repeating it could show the reader
    # a part twice.  The reader is told something went wrong instead.
    telegram.fail_next("sendMessage", status=500, chat_id=reader.id)
    reader.sends(f"/start a{article_id}")
    await telegram.wait_for(lambda: reader.received(), timeout=10)
    assert "Что-то пошло не так" in body_of(reader.last())
    assert len(_article_sends_to(telegram, reader)) == 1
    answer = await exchange(telegram, editor, "/poll Вопрос?\nДа\nНет")
    assert "Опрос №1 опубликован" in answer
    poll_post = telegram.chat_messages(CHANNEL_ID)[-1]
    telegram.fail_next("editMessageReplyMarkup", status=502, description="Bad Gateway")
    reader.clicks(poll_post, "Да · 0")
    await telegram.wait_for(
        lambda: "Да · 1" in str(telegram.current(poll_post).get("reply_markup")), timeout=10
    )


async def test_bot_removed_from_channel(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, admin: FakeUser
) -> None:
    article_id = await draft(telegram, editor)
    telegram.set_bot_channel_rights(CHANNEL_ID, member=False)
    answer = await exchange(telegram, editor, f"/publish {article_id}")
    assert "у бота нет права публиковать в канале" in answer
    assert "Черновик сохранён" in answer
    [article] = await newsroom.articles()
    assert article.status is ArticleStatus.FAILED
    assert article.content.paragraphs == ("Первый абзац. Второй.",)
    # At the next start the bot says so in the log and to admins.
    await newsroom.restart()
    await telegram.wait_for(lambda: "не может публиковать" in last_text(admin))
    assert "бот в канале не администратор с правом публикации (статус: не участник)" in last_text(
        admin
    )
    # Rights restored: the same draft publishes normally.
    telegram.set_bot_channel_rights(CHANNEL_ID, member=True, can_post=True)
    assert "Опубликовано" in await exchange(telegram, editor, f"/publish {article_id}")


async def test_bot_without_posting_rights(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    article_id = await draft(telegram, editor)
    telegram.set_bot_channel_rights(CHANNEL_ID, member=True, can_post=False)
    answer = await exchange(telegram, editor, f"/publish {article_id}")
    assert "у бота нет права публиковать в канале" in answer
    assert telegram.chat_messages(CHANNEL_ID) == []


async def test_reader_who_blocked_the_bot_is_skipped_quietly(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    reader: FakeUser,
    admin: FakeUser,
) -> None:
    article_id = await draft(telegram, editor)
    await exchange(telegram, editor, f"/publish {article_id}")
    reader.sends(f"/start a{article_id}")
    reader.blocks_bot()
    await telegram.wait_idle()
    assert admin.received() == []  # not an error worth anyone's attention
    other = telegram.user(7777, "Другой")
    assert (await exchange(telegram, other, f"/start a{article_id}")).startswith("Заголовок")


async def test_schedule_commands_validate_and_list(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    article_id = await draft(telegram, editor)
    cases = [
        ("/schedule", "Укажите номер черновика, дату и время"),
        (f"/schedule {article_id}", "Укажите номер черновика, дату и время"),
        (f"/schedule {article_id} завтра", "Не понял дату"),
        (f"/schedule {article_id} 2026-02-30 10:00", "Не понял дату"),
        (f"/schedule {article_id} 2020-01-01 10:00", "уже прошло"),
        (f"/schedule {article_id} 2099-01-01 10:00", "не больше чем на год"),
        ("/schedule 99 2030-01-01 10:00", "не больше чем на год"),
        ("/unschedule 1", "не запланирована"),
        ("/unschedule x", "Укажите номер статьи"),
        ("/scheduled", "Запланированных публикаций нет"),
    ]
    await expect_answers(telegram, editor, cases)
    when = (datetime.now(UTC) + timedelta(days=2)).astimezone(newsroom.settings.tz)
    stamp = when.strftime("%Y-%m-%d %H:%M")
    answer = await exchange(telegram, editor, f"/schedule {article_id} {stamp}")
    assert f"будет опубликована {stamp} (Asia/Almaty)" in answer
    assert f"№{article_id} · {stamp}" in await exchange(telegram, editor, "/scheduled")
    assert "отменена" in await exchange(telegram, editor, f"/unschedule {article_id}")
    assert "нет" in await exchange(telegram, editor, "/scheduled")
    assert telegram.chat_messages(CHANNEL_ID) == []


async def test_due_schedule_publishes_once_while_running(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    article_id = await draft(telegram, editor)
    when = (datetime.now(UTC) + timedelta(days=1)).astimezone(newsroom.settings.tz)
    await exchange(telegram, editor, f"/schedule {article_id} {when:%Y-%m-%d %H:%M}")
    await set_scheduled_at(newsroom, article_id, datetime.now(UTC))
    assert newsroom.app is not None
    newsroom.app.services.scheduler.wake()
    await telegram.wait_for(lambda: "Запланированная статья" in last_text(editor), timeout=10)
    assert "с опозданием" not in last_text(editor)
    await asyncio.sleep(0.5)
    newsroom.app.services.scheduler.wake()
    await telegram.wait_idle(quiet=0.5)
    assert len(telegram.chat_messages(CHANNEL_ID)) == 1


async def test_restart_with_scheduled_posts_due(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    ids = [await draft(telegram, editor, f"Статья {i}") for i in range(3)]
    when = (datetime.now(UTC) + timedelta(days=1)).astimezone(newsroom.settings.tz)
    for article_id in ids:
        await exchange(telegram, editor, f"/schedule {article_id} {when:%Y-%m-%d %H:%M}")
    await newsroom.stop()
    # The bot was down while two of them fell due; the third is still in the future.
    past = datetime.now(UTC) - timedelta(hours=1)
    await set_scheduled_at(newsroom, ids[0], past)
    await set_scheduled_at(newsroom, ids[1], past)
    await newsroom.start()
    await telegram.wait_for(lambda: len(telegram.chat_messages(CHANNEL_ID)) == 2, timeout=10)
    await telegram.wait_idle(quiet=0.5)
    late = [m for m in editor.received() if "с опозданием" in body_of(m)]
    assert len(late) == 2
    await newsroom.restart()
    await telegram.wait_idle(quiet=0.5)
    assert len(telegram.chat_messages(CHANNEL_ID)) == 2
    statuses = {a.id: a.status for a in await newsroom.articles()}
    assert statuses == {
        ids[0]: ArticleStatus.PUBLISHED,
        ids[1]: ArticleStatus.PUBLISHED,
        ids[2]: ArticleStatus.SCHEDULED,
    }


async def test_burst_under_enforced_limits_gets_no_429(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser
) -> None:
    """Real limits in the fake, real pacing in the bot: every post once, every vote counted."""
    telegram.rate_limits = True
    room = Newsroom(
        telegram,
        tmp_path,
        rate_chat_per_second=1.0,
        rate_group_per_minute=20.0,
        poll_refresh_seconds=1.0,
    )
    await room.start()
    try:
        ids = [await draft(telegram, editor, f"Новость {i}") for i in range(3)]
        for article_id in ids:
            editor.sends(f"/publish {article_id}")
        editor.sends("/poll Вопрос дня?\nДа\nНет\nНе знаю")
        await telegram.wait_for(lambda: len(telegram.chat_messages(CHANNEL_ID)) == 4, timeout=60)
        poll_post = next(
            m for m in telegram.chat_messages(CHANNEL_ID) if "Вопрос дня" in m.get("text", "")
        )
        data = [row[0]["callback_data"] for row in poll_post["reply_markup"]["inline_keyboard"]]
        rng = random.Random(7)
        final: dict[int, int] = {}
        presses = []
        for i in range(150):
            voter = telegram.user(50_000 + i, f"V{i}")
            for _ in range(2):
                choice = rng.randrange(3)
                final[voter.id] = choice
                presses.append(voter.clicks_data(poll_post, data[choice])["callback_query"]["id"])
        await telegram.wait_for(
            lambda: all(telegram.callback_answer(q) for q in presses), timeout=60
        )
        expected = [sum(1 for c in final.values() if c == k) for k in range(3)]
        await telegram.wait_for(
            lambda: (
                [
                    int(row[0]["text"].rsplit(" · ", 1)[1])
                    for row in telegram.current(poll_post)["reply_markup"]["inline_keyboard"]
                ]
                == expected
            ),
            timeout=30,
        )
        await telegram.wait_idle(quiet=0.5, timeout=60)
        titles = sorted(body_of(m).split("\n")[0] for m in telegram.chat_messages(CHANNEL_ID))
        assert titles == ["Вопрос дня?", "Новость 0", "Новость 1", "Новость 2"]
        assert telegram.throttled == 0, telegram.summary()
        assert room.app is not None
        assert room.app.requests.stats.retried_after_429 == 0
        logging.getLogger(__name__).warning(
            "burst: %d votes, %d poll edits, %d 429s",
            len(presses),
            telegram.edits(poll_post),
            telegram.throttled,
        )
    finally:
        await room.stop()


async def test_storage_failure_is_answered_and_reported_to_admins(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    admin: FakeUser,
    reader: FakeUser,
) -> None:
    article_id = await draft(telegram, editor)
    assert newsroom.app is not None
    # The disk turns read-only under the running bot.
    await set_read_only(newsroom.app.db, True)
    answer = await exchange(telegram, editor, "/import\nДругой\n\nТекст.")
    assert answer == "База данных сейчас недоступна, действие не выполнено. Попробуйте позже."
    await telegram.wait_for(lambda: "Ошибка при обработке обновления" in last_text(admin))
    token_secret = newsroom.settings.bot_token.get_secret_value()
    assert token_secret not in last_text(admin)
    # A second failure right after is answered but not reported again (rate-limited).
    reports = len(admin.received())
    await exchange(telegram, editor, f"/photo {article_id}")
    editor.sends_photo(caption=f"/photo {article_id}")
    await telegram.wait_idle()
    assert len(admin.received()) == reports
    # Reading still works, and nothing half-written was left behind.
    await set_read_only(newsroom.app.db, False)
    assert [a.title for a in await newsroom.articles()] == ["Заголовок"]


async def test_locked_database_is_answered_and_changes_nothing(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser
) -> None:
    room = Newsroom(telegram, tmp_path, database_busy_timeout_ms=200)
    await room.start()
    try:
        blocker = sqlite3.connect(room.database_path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            answer = await exchange(telegram, editor, "/import\nЗаголовок\n\nТекст.")
            assert "База данных сейчас недоступна" in answer
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert "Черновик №1" in await exchange(telegram, editor, "/import\nЗаголовок\n\nТекст.")
        assert len(await room.articles()) == 1
    finally:
        await room.stop()


async def test_groups_channels_and_unknown_updates(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    group_id = -100555
    telegram.add_group(group_id, "Редакция")
    editor.sends_in_group(group_id, "/publish 1")
    await telegram.wait_for(lambda: telegram.chat_messages(group_id))
    assert "личные сообщения" in body_of(telegram.chat_messages(group_id)[-1])
    editor.sends_in_group(group_id, "просто разговор")
    telegram.channel_post(CHANNEL_ID, "/publish 1")
    telegram.push_update(
        {
            "edited_message": {
                "message_id": 999,
                "date": 1,
                "edit_date": 2,
                "chat": editor.chat,
                "from": editor.user,
                "text": "/publish 1",
            }
        }
    )
    await telegram.wait_idle()
    assert telegram.chat_messages(CHANNEL_ID) == []
    assert len(telegram.chat_messages(group_id)) == 1
    # The bot is still serving.
    assert await draft(telegram, editor) == 1


async def test_huge_document_is_refused_without_download(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    document = telegram.add_file(b"x" * 10, "huge.txt", "text/plain")
    document["file_size"] = 20 * 1024 * 1024
    editor.sends_document(document, caption="/import")
    await telegram.wait_for(lambda: "слишком большой" in last_text(editor))
    assert telegram.downloads == []
    assert await newsroom.articles() == []


async def test_ids_of_other_kinds_and_other_editors_commands(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    answer = await exchange(telegram, editor, "/poll Вопрос?\nДа\nНет")
    assert "Опрос №1" in answer
    # A poll id given to /publish names no article; an article id to /closepoll no poll.
    assert "Статьи №1 нет" in await exchange(telegram, editor, "/publish 1")
    article_id = await draft(telegram, editor)
    assert f"Опроса №{article_id + 5} нет" in await exchange(
        telegram, editor, f"/closepoll {article_id + 5}"
    )
    assert EDITOR_ID and ADMIN_ID


async def test_channel_send_timeout_is_uncertain_and_reader_timeout_is_not_repeated(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, reader: FakeUser
) -> None:
    room = Newsroom(telegram, tmp_path, request_timeout_seconds=1.0)
    await room.start()
    try:
        article_id = await draft(telegram, editor)
        telegram.fail_next("sendMessage", chat_id=CHANNEL_ID, delay=3.0, status=200)
        editor.sends(f"/publish {article_id}")
        await telegram.wait_for(lambda: "Неизвестно" in last_text(editor), timeout=15)
        [article] = await room.articles()
        assert article.status is ArticleStatus.UNCERTAIN
        assert "/forcepublish" in await exchange(telegram, editor, f"/publish {article_id}")
        assert "Опубликовано" in await exchange(telegram, editor, f"/forcepublish {article_id}")
        # A reader's message that times out may have arrived: it is not sent again.
        telegram.fail_next("sendMessage", chat_id=reader.id, delay=3.0, status=200)
        reader.sends(f"/start a{article_id}")
        await telegram.wait_for(
            lambda: any("Что-то пошло не так" in body_of(m) for m in reader.received()),
            timeout=15,
        )
        # The timed-out request is recorded when the fake finally answers it.
        await telegram.wait_for(lambda: _article_sends_to(telegram, reader), timeout=15)
        assert len(_article_sends_to(telegram, reader)) == 1
    finally:
        await room.stop()


async def test_text_over_every_limit_is_refused(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    huge = "Заголовок\n\n" + ("Очень длинный абзац. " * 50 + "\n") * 200
    assert len(huge) > 200_000
    document = telegram.add_file(huge.encode(), "huge.txt", "text/plain")
    editor.sends_document(document, caption="/import")
    await telegram.wait_for(lambda: "слишком длинный" in last_text(editor))
    assert await newsroom.articles() == []
