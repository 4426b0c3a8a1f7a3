"""Webhook mode end to end: the fake Telegram posts updates to the bot's web server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.harness import CHANNEL_ID, body_of, set_read_only
from tests.e2e.test_polls import POLL, shown_counts
from tests.e2e.webhook_harness import SECRET, WebhookNewsroom
from tests.fakes.botapi_server import SECRET_HEADER, FakeBotAPI
from tests.fakes.users import FakeUser
from tests.redis_support import RedisSpace


@pytest.fixture
async def hooked(telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[WebhookNewsroom]:
    room = WebhookNewsroom(telegram, tmp_path / "newsroom.sqlite3")
    await room.start()
    try:
        yield room
    finally:
        await room.stop()


async def says(telegram: FakeBotAPI, user: FakeUser, text: str) -> tuple[int, str]:
    """The user sends ``text``; (its update id, the bot's last answer once settled)."""
    before = len(user.received())
    update_id = int(user.sends(text)["update_id"])
    await telegram.wait_for(lambda: len(user.received()) > before)
    await telegram.wait_idle(quiet=0.05)
    return update_id, body_of(user.received()[-1])


async def post_raw(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, json=update, headers=headers) as answer,
    ):
        return answer.status


async def test_import_and_vote_through_the_webhook(
    hooked: WebhookNewsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    reader: FakeUser,
    seed_text: str,
) -> None:
    assert telegram.webhook_url == hooked.url
    assert telegram.webhook_secret == SECRET
    assert telegram.webhook_sets == 1
    _, answer = await says(telegram, editor, "/import\n" + seed_text)
    assert "Черновик №1" in answer or "№1" in answer, answer
    _, answer = await says(telegram, editor, POLL)
    assert "Опрос №1 опубликован" in answer
    [post] = telegram.chat_messages(CHANNEL_ID)
    press = reader.clicks(post, "Да · 0")
    await telegram.wait_for(lambda: shown_counts(telegram.current(post)).get("Да") == 1)
    assert telegram.callback_answer(press["callback_query"]["id"]) is not None
    # Nothing was fetched by long polling: every update came by webhook, answered 200.
    assert telegram.calls("getUpdates") == []
    assert telegram.calls("deleteWebhook") == []
    assert all(status == 200 for _, _, status in telegram.deliveries)


async def test_redelivered_updates_are_not_applied_twice(
    hooked: WebhookNewsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    reader: FakeUser,
    seed_text: str,
) -> None:
    update = editor.sends("/import\n" + seed_text)
    telegram.lose_answer(update["update_id"])  # the 200 is "lost": Telegram sends it again
    await telegram.wait_for(lambda: len(telegram.deliveries_of(update["update_id"])) == 2)
    await telegram.wait_idle(quiet=0.05)
    assert [s for _, s in telegram.deliveries_of(update["update_id"])] == [200, 200]
    assert hooked.app is not None
    drafts = await hooked.app.articles.list_unpublished(100)
    assert len(drafts) == 1  # one draft, not two
    previews = [m for m in editor.received() if "№2" in body_of(m)]
    assert previews == []

    await says(telegram, editor, POLL)
    [post] = telegram.chat_messages(CHANNEL_ID)
    press = reader.clicks(post, "Да · 0")
    telegram.lose_answer(press["update_id"], times=2)
    await telegram.wait_for(lambda: len(telegram.deliveries_of(press["update_id"])) == 3)
    await telegram.wait_for(lambda: shown_counts(telegram.current(post)).get("Да") == 1)
    await telegram.wait_idle(quiet=0.4)  # past a refresh interval: no second count shows
    poll = await hooked.app.polls.get(1)
    assert poll is not None
    assert poll.counts == (1, 0, 0)
    assert len(telegram.calls("answerCallbackQuery")) == 1
    assert hooked.handler is not None and hooked.handler.duplicates == 3


async def test_wrong_or_missing_secret_is_refused_and_changes_nothing(
    hooked: WebhookNewsroom, telegram: FakeBotAPI, editor: FakeUser, seed_text: str
) -> None:
    forged = {
        "update_id": 999_001,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": editor.user["id"], "type": "private", "first_name": "A"},
            "from": editor.user,
            "text": "/import\n" + seed_text,
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        },
    }
    assert await post_raw(hooked.url, forged, "wrong-secret") == 401
    assert await post_raw(hooked.url, forged, None) == 401
    assert hooked.app is not None
    assert await hooked.app.articles.list_unpublished(100) == []
    assert editor.received() == []
    # The same update with the right secret is taken: the refusal was the secret's.
    assert await post_raw(hooked.url, forged, SECRET) == 200
    assert len(await hooked.app.articles.list_unpublished(100)) == 1


async def test_webhook_is_set_once_and_never_deleted(
    telegram: FakeBotAPI, tmp_path: Path, redis: RedisSpace
) -> None:
    """A restart (or a second instance) finds the webhook set and leaves it alone."""
    db = tmp_path / "newsroom.sqlite3"
    first = WebhookNewsroom(telegram, db, redis_url=redis.url, redis_prefix=redis.prefix)
    await first.start()
    await first.stop()
    again = WebhookNewsroom(telegram, db, redis_url=redis.url, redis_prefix=redis.prefix)
    again.url = first.url
    again.settings = again.settings.model_copy(update={"webhook_url": first.url})
    await again.start()
    await again.stop()
    assert telegram.webhook_sets == 1
    assert len(telegram.calls("getWebhookInfo")) == 2
    assert telegram.calls("deleteWebhook") == []
    assert telegram.webhook_url == first.url


async def test_stopping_answers_503_and_finishes_updates_in_hand(
    hooked: WebhookNewsroom, telegram: FakeBotAPI, editor: FakeUser, seed_text: str
) -> None:
    """SIGTERM: the update in hand is finished and acknowledged; a new one gets 503 (Telegram
    keeps it for another instance); the server then stops cleanly."""
    assert hooked.app is not None
    dispatcher = hooked.app.dispatcher
    telegram.slow_next("sendMessage", 0.5)  # the preview is on its way when SIGTERM comes
    first = editor.sends("/import\n" + seed_text)
    await telegram.wait_for(lambda: dispatcher.in_progress)
    hooked.begin_stop()
    second = editor.sends("/drafts")
    await telegram.wait_for(lambda: telegram.deliveries_of(second["update_id"]))
    await hooked.wait_stopped()
    assert telegram.deliveries_of(first["update_id"])[0][1] == 200
    assert 200 not in [status for _, status in telegram.deliveries_of(second["update_id"])]
    assert 503 in [status for _, status in telegram.deliveries_of(second["update_id"])]
    assert second["update_id"] in telegram.undelivered  # kept for another instance
    # The /import in hand was finished: its preview reached the editor before the stop.
    assert any("Минобороны КНР" in body_of(m) for m in editor.received())
    assert len(await hooked.app.articles.list_unpublished(100)) == 1


async def test_two_instances_share_redis_and_the_database(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, redis: RedisSpace
) -> None:
    """Two bot instances behind a round-robin proxy; some answers are lost, so those
    updates reach the other instance too: every vote counted exactly once."""
    db = tmp_path / "newsroom.sqlite3"
    rooms = [
        WebhookNewsroom(telegram, db, redis_url=redis.url, redis_prefix=redis.prefix)
        for _ in range(2)
    ]
    for room in rooms:
        await room.start()
    try:
        telegram.webhook_targets = [room.url for room in rooms]
        _, answer = await says(telegram, editor, POLL)
        assert "Опрос №1 опубликован" in answer
        [post] = telegram.chat_messages(CHANNEL_ID)
        choices = ["Да", "Нет", "Да", "Затрудняюсь ответить"] * 5
        presses = []
        for i, choice in enumerate(choices):
            reader = telegram.user(6000 + i, f"Читатель {i}")
            press = reader.clicks(post, f"{choice} · 0")
            if i % 3 == 0:
                telegram.lose_answer(press["update_id"])  # redelivered to the other one
            presses.append(press)
        expected = {"Да": 10, "Нет": 5, "Затрудняюсь ответить": 5}
        await telegram.wait_for(lambda: shown_counts(telegram.current(post)) == expected, 10)
        await telegram.wait_idle(quiet=0.4)
        assert rooms[0].app is not None
        poll = await rooms[0].app.polls.get(1)
        assert poll is not None and poll.counts == (10, 5, 5)
        assert len(telegram.calls("answerCallbackQuery")) == len(choices)
        served = {url for _, url, _ in telegram.deliveries}
        assert served == {room.url for room in rooms}
        handlers = [room.handler for room in rooms]
        assert sum(h.duplicates for h in handlers if h is not None) == 7
    finally:
        for room in rooms:
            await room.stop()


async def test_an_update_that_meets_a_broken_database_is_not_acknowledged(
    hooked: WebhookNewsroom, telegram: FakeBotAPI, editor: FakeUser, seed_text: str
) -> None:
    """Nothing half-done is acknowledged: the webhook answers 500 while the database
    refuses writes, Telegram delivers again, and the redelivery makes one draft."""
    assert hooked.app is not None
    db = hooked.app.db
    await set_read_only(db, True)  # the disk turns read-only
    update_id = int(editor.sends("/import\n" + seed_text)["update_id"])
    await telegram.wait_for(
        lambda: any(status >= 500 for _, status in telegram.deliveries_of(update_id))
    )
    assert editor.received() == []  # no apology for what is going to be done after all
    await set_read_only(db, False)
    await telegram.wait_for(
        lambda: any(status == 200 for _, status in telegram.deliveries_of(update_id))
    )
    await telegram.wait_for(
        lambda: "№1" in body_of(editor.received()[-1]) if editor.received() else False
    )
    drafts = await hooked.app.articles.list_unpublished(10)
    assert [a.id for a in drafts] == [1]
