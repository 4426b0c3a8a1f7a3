"""Readers find articles: /search, inline mode, /top, a bare /start, related articles after
a full text; editors preview the evening digest, which the bot posts once at its time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.harness import (
    BOT_USERNAME,
    CHANNEL_ID,
    Newsroom,
    body_of,
    exchange,
)
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

SEED_TITLE = (
    'Минобороны КНР: Китай выступает против внешних сил провоцирующих "цветную революцию" '
    "в Казахстане"
)
AVENUE = (
    "Проспект Гагарина переименуют\n"
    "Акимат Алматы предложил новое название проспекта.\n"
    "Новости по теме\nНовости Алматы\n"
)
CHINA = (
    "Китай откроет новый консульство\n"
    "Консульство будет работать с осени.\n"
    "Новости по теме\nНовости Китая\n"
)
WEATHER = "Погода на выходные\nВ Алматы будет солнечно и тепло.\n"


def labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


async def publish(telegram: FakeBotAPI, editor: FakeUser, raw: str) -> int:
    """Import a text and publish it; returns the article's id."""
    before = len(editor.received())
    editor.sends("/import\n" + raw)
    await telegram.wait_for(lambda: len(editor.received()) >= before + 2)
    confirmation = body_of(editor.received()[before + 1])
    article_id = int(confirmation.split("/publish ", 1)[1].split()[0])
    answer = await exchange(telegram, editor, f"/publish {article_id}")
    assert "Опубликовано" in answer, answer
    return article_id


async def opens(telegram: FakeBotAPI, user: FakeUser, article_id: int) -> dict[str, Any]:
    """The user taps "Читать полностью"; returns the last message of the full text."""
    before = len(user.received())
    user.sends(f"/start a{article_id}")
    await telegram.wait_for(lambda: len(user.received()) > before)
    await telegram.wait_idle(quiet=0.05)
    return user.last()


async def test_search_top_start_and_related(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    reader: FakeUser,
    seed_text: str,
) -> None:
    seed = await publish(telegram, editor, seed_text)
    avenue = await publish(telegram, editor, AVENUE)
    china = await publish(telegram, editor, CHINA)
    weather = await publish(telegram, editor, WEATHER)

    # Word forms: "проспекта" finds the article about "проспект"; nothing found is said so.
    answer = await exchange(telegram, reader, "/search проспекта")
    assert "Нашлось по запросу «проспекта»" in answer
    assert labels(reader.last()) == ["Проспект Гагарина переименуют"]
    await exchange(telegram, reader, '/search "Гагарина" AND (*')
    assert labels(reader.last()) == ["Проспект Гагарина переименуют"]
    answer = await exchange(telegram, reader, "/search марсоход")
    assert "ничего не нашлось" in answer and not labels(reader.last())
    assert "/search" in await exchange(telegram, reader, "/search")

    # The full text ends with buttons to related articles: the shared tag first.
    last = await opens(telegram, reader, seed)
    related = labels(last)
    assert related[0] == "Китай откроет новый консульство"
    assert 1 <= len(related) <= 3 and SEED_TITLE[:50] not in "".join(related)
    reader.clicks(last, "Китай откроет новый консульство")
    await telegram.wait_for(lambda: body_of(reader.last()).startswith("Китай откроет"))
    await telegram.wait_idle(quiet=0.05)

    # The week's most read: distinct readers, editors not counted.
    second = telegram.user(5002, "Второй")
    await opens(telegram, second, china)
    await opens(telegram, reader, china)  # a second read of the same reader
    await opens(telegram, editor, avenue)  # an editor proofing: not a read
    answer = await exchange(telegram, reader, "/top")
    assert "Самое читаемое за неделю" in answer
    top = reader.last()
    assert labels(top) == [
        "Китай откроет новый консульство · 2",
        SEED_TITLE[:59].rstrip() + "… · 1",
    ]
    reader.clicks(top, "Китай откроет новый консульство · 2")
    await telegram.wait_for(lambda: body_of(reader.last()).startswith("Китай откроет"))
    await telegram.wait_idle(quiet=0.05)

    # A bare /start: the latest headlines, then the most read, as buttons.
    before = len(reader.received())
    reader.sends("/start")
    await telegram.wait_for(lambda: len(reader.received()) >= before + 2)
    latest, most_read = reader.received()[before:]
    assert "Последние публикации" in body_of(latest)
    assert labels(latest)[:2] == ["Погода на выходные", "Китай откроет новый консульство"]
    assert "Самое читаемое" in body_of(most_read)
    assert labels(most_read)[0] == "Китай откроет новый консульство · 2"
    assert weather not in (seed, avenue, china)


async def test_inline_search(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    telegram.enable_inline_mode()
    avenue = await publish(telegram, editor, AVENUE)
    weather = await publish(telegram, editor, WEATHER)

    async def inline(query: str) -> dict[str, Any]:
        update = reader.types_inline(query)
        query_id = update["inline_query"]["id"]
        answer: dict[str, Any] = await telegram.wait_for(lambda: telegram.inline_answer(query_id))
        return answer

    answer = await inline("проспекта")
    [result] = answer["results"]
    assert result["type"] == "article" and result["title"] == "Проспект Гагарина переименуют"
    assert "Акимат Алматы" in result["input_message_content"]["message_text"]
    [[button]] = result["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/{BOT_USERNAME}?start=a{avenue}"
    assert 0 < answer["cache_time"] <= 300 and answer.get("next_offset", "") == ""

    # An empty query shows the latest articles; nothing found is an empty answer.
    latest = await inline("")
    assert [r["id"] for r in latest["results"]] == [str(weather), str(avenue)]
    assert (await inline("марсоход"))["results"] == []

    # The button opens the article in the bot, as a deep link does.
    payload = button["url"].split("?start=", 1)[1]
    reader.sends(f"/start {payload}")
    await telegram.wait_for(
        lambda: reader.received() and body_of(reader.last()).startswith("Проспект Гагарина")
    )
    await telegram.wait_idle(quiet=0.05)


async def test_digest_preview_and_the_evening_post(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, reader: FakeUser
) -> None:
    room = Newsroom(telegram, tmp_path, digest_time="21:00")
    app = await room.start()
    try:
        tz = ZoneInfo(room.settings.timezone)
        # Before its time: nothing is posted however often the loop looks.
        app.services.digest.clock = lambda: datetime.now(tz).replace(hour=20, minute=59)
        china = await publish(telegram, editor, CHINA)
        await publish(telegram, editor, WEATHER)
        answer = await exchange(telegram, editor, "/digest")
        assert "ещё не читали" in answer and "21:00" in answer
        await opens(telegram, reader, china)

        posts_before = len(telegram.chat_messages(CHANNEL_ID))
        answer = await exchange(telegram, editor, "/digest")
        assert "не отправлен" in answer and "Китай откроет новый консульство · 1 чит." in answer
        app.services.digest.wake()
        await telegram.wait_idle(quiet=0.1)
        assert len(telegram.chat_messages(CHANNEL_ID)) == posts_before  # a preview only

        # 21:00: one post with a link to each article's channel post.
        app.services.digest.clock = lambda: datetime.now(tz).replace(hour=21, minute=0)
        app.services.digest.wake()
        await telegram.wait_for(lambda: len(telegram.chat_messages(CHANNEL_ID)) > posts_before)
        post = telegram.chat_messages(CHANNEL_ID)[-1]
        assert body_of(post).startswith("Самое читаемое за день\n1. Китай откроет")
        china_post = next(
            m for m in telegram.chat_messages(CHANNEL_ID) if body_of(m).startswith("Китай")
        )
        links = [e["url"] for e in post.get("entities", []) if e["type"] == "text_link"]
        assert links == [f"https://t.me/c/1234567890/{china_post['message_id']}"]

        # Later that evening, and after a restart: not again.
        app.services.digest.clock = lambda: datetime.now(tz).replace(hour=23, minute=0)
        app.services.digest.wake()
        app = await room.restart()
        app.services.digest.clock = lambda: datetime.now(tz).replace(hour=23, minute=30)
        app.services.digest.wake()
        await telegram.wait_idle(quiet=0.2)
        digests = [m for m in telegram.chat_messages(CHANNEL_ID) if body_of(m).startswith("Самое")]
        assert len(digests) == 1
    finally:
        await room.stop()


async def test_digest_shows_one_progress_message_that_becomes_the_digest(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    """The seam: the progress shows at once (no delay), as it would on a day long enough
    to take more than a moment."""
    assert newsroom.app is not None
    china = await publish(telegram, editor, CHINA)
    await opens(telegram, reader, china)
    newsroom.app.services.progress.delay = 0.0
    before = len(editor.received())
    requests_before = len(telegram.requests)
    editor.sends("/digest")
    await telegram.wait_for(
        lambda: "не отправлен" in body_of(editor.last()) and len(editor.received()) > before
    )
    await telegram.wait_idle(quiet=0.05)
    assert len(editor.received()) == before + 1  # one message: the progress, then the digest
    to_editor = [
        (r.method, str(r.params.get("text", "")))
        for r in telegram.requests[requests_before:]
        if r.params.get("chat_id") in (editor.id, str(editor.id))
    ]
    assert [method for method, _ in to_editor] == ["sendMessage", "editMessageText"]
    assert to_editor[0][1].startswith("Собираю дайджест: считаю читателей за день…")
    assert "Китай откроет новый консульство · 1 чит." in body_of(editor.last())
