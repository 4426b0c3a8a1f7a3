"""Reader polls end to end: every press answered, every vote counted exactly once."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from bot.models import PollStatus
from tests.e2e.harness import (
    CHANNEL_ID,
    Newsroom,
    answer_to,
    body_of,
    exchange,
    expect_answers,
    last_text,
)
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

POLL = "/poll Вступление к опросу.\nПоддерживаете ли Вы проект?\nДа\nНет\nЗатрудняюсь ответить"
OPTIONS = ("Да", "Нет", "Затрудняюсь ответить")


def labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


def shown_counts(message: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for label in labels(message):
        if " · " in label:
            name, count = label.rsplit(" · ", 1)
            counts[name] = int(count)
    return counts


def button_for(message: dict[str, Any], option: str) -> str:
    return next(label for label in labels(message) if label.rsplit(" · ", 1)[0] == option)


async def post_poll(telegram: FakeBotAPI, editor: FakeUser) -> dict[str, Any]:
    answer = await exchange(telegram, editor, POLL)
    assert "Опрос №1 опубликован" in answer
    assert "/closepoll 1" in answer
    [post] = telegram.chat_messages(CHANNEL_ID)
    return post


async def test_poll_posts_question_and_buttons(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    post = await post_poll(telegram, editor)
    assert post["text"] == "Вступление к опросу.\n\nПоддерживаете ли Вы проект?"
    assert labels(post) == ["Да · 0", "Нет · 0", "Затрудняюсь ответить · 0"]
    for request in telegram.calls("sendMessage"):
        markup = request.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                assert len(button.get("callback_data", "").encode()) <= 64


async def test_invalid_poll_input_posts_nothing(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    cases = [
        ("/poll", "Опрос: вопрос и варианты"),
        ("/poll Вопрос?\nДа", "хотя бы 2 варианта"),
        ("/poll Вопрос?\n" + "\n".join(f"В{i}" for i in range(11)), "Слишком много вариантов"),
        ("/poll Вопрос?\nДа\nда", "повторяется"),
        ("/poll Вопрос?\nДа\n" + "Н" * 41, "слишком длинный"),
        ("/poll " + "В" * 301 + "?\nДа\nНет", "Вопрос слишком длинный"),
        ("/closepoll", "Укажите номер опроса"),
        ("/closepoll 5", "Опроса №5 нет"),
        ("/results x", "Укажите номер опроса"),
    ]
    await expect_answers(telegram, editor, cases)
    assert telegram.chat_messages(CHANNEL_ID) == []


async def test_many_readers_every_vote_counted_once(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    post = await post_poll(telegram, editor)
    rng = random.Random(2026)
    readers = [telegram.user(10_000 + i, f"Reader {i}") for i in range(120)]
    final: dict[int, str] = {}
    presses: list[dict[str, Any]] = []
    # Several rounds: first votes, double taps, switches, two devices at once.
    for _ in range(3):
        for reader in readers:
            for _ in range(rng.choice((1, 1, 2, 3))):
                choice = rng.choice(OPTIONS)
                presses.append(reader.clicks_data(post, _vote_data(post, choice)))
                final[reader.id] = choice
    ids = [press["callback_query"]["id"] for press in presses]
    await telegram.wait_for(
        lambda: all(telegram.callback_answer(i) is not None for i in ids), timeout=120
    )
    # Every press was answered, with the toast naming the reader's choice.
    for press in presses:
        answer = telegram.callback_answer(press["callback_query"]["id"])
        assert answer is not None, press
        assert answer["text"].startswith(("Ваш голос учтён", "Вы уже выбрали"))
    expected = {option: sum(1 for v in final.values() if v == option) for option in OPTIONS}
    assert sum(expected.values()) == len(readers)
    # The latest counts reach the post within a refresh interval of the last vote.
    await telegram.wait_for(lambda: shown_counts(telegram.current(post)) == expected)
    stored = await newsroom.poll(1)
    assert stored is not None and dict(zip(stored.options, stored.counts, strict=True)) == expected
    edits = telegram.edits(post)
    assert 0 < edits < len(presses) / 10, (edits, len(presses))

    # /results shows the same numbers to an editor.
    report = await exchange(telegram, editor, "/results 1")
    assert f"Проголосовали: {len(readers)}" in report
    assert f"Да: {expected['Да']} (" in report


def _vote_data(post: dict[str, Any], option: str) -> str:
    rows = post["reply_markup"]["inline_keyboard"]
    index = OPTIONS.index(option)
    return str(rows[index][0]["callback_data"])


async def test_same_option_twice_changes_nothing_and_switch_moves_the_vote(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    post = await post_poll(telegram, editor)

    def shown() -> dict[str, int]:
        return shown_counts(telegram.current(post))

    first = reader.clicks(post, "Да · 0")
    assert await answer_to(telegram, first) == ("Ваш голос учтён: Да — 100%")
    # The live count is edited in a moment (coalesced): awaited, not slept for.
    await telegram.wait_for(lambda: shown() == {"Да": 1, "Нет": 0, "Затрудняюсь ответить": 0})
    await telegram.wait_idle(quiet=0.5)
    edits = telegram.edits(post)
    again = reader.clicks(post, "Да · 1")
    assert "Вы уже выбрали: Да" in await answer_to(telegram, again)
    await telegram.wait_idle(quiet=0.5)
    assert telegram.edits(post) == edits  # nothing changed, nothing edited
    reader.clicks(post, "Нет · 0")
    await telegram.wait_for(lambda: shown() == {"Да": 0, "Нет": 1, "Затрудняюсь ответить": 0})


async def test_forged_and_stale_callbacks_are_answered_and_ignored(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    post = await post_poll(telegram, editor)
    forged = ["v:1:7", "v:1:-1", "v:99:0", "v:1", "v:x:y", "garbage", "read:abc", "v:1:0:0", ""]
    # One after another: more presses at once than an account's backlog are turned away
    # (bot/telegram/lanes.py), which another test covers.
    for data in forged:
        press = reader.clicks_data(post, data or " ")
        assert await answer_to(telegram, press) == "Этот опрос недоступен", press
    stored = await newsroom.poll(1)
    assert stored is not None and stored.voters == 0
    assert telegram.edits(post) == 0


async def test_closed_poll_is_frozen_and_survives_a_restart(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    post = await post_poll(telegram, editor)
    buttons = {option: _vote_data(post, option) for option in OPTIONS}  # kept by old clients
    voters = [telegram.user(20_000 + i, f"R{i}") for i in range(7)]
    for i, voter in enumerate(voters):
        voter.clicks_data(post, _vote_data(post, OPTIONS[0] if i < 4 else OPTIONS[1]))
    await telegram.wait_idle(quiet=0.5)
    answer = await exchange(telegram, editor, "/closepoll 1")
    assert "Опрос №1 завершён" in answer
    closed = telegram.current(post)
    assert labels(closed) == []
    assert "Итоги опроса" in closed["text"]
    assert "57% (4)" in closed["text"] and "43% (3)" in closed["text"]
    assert "Всего голосов: 7" in closed["text"]
    late = voters[0].clicks_data(post, buttons[OPTIONS[2]])
    await telegram.wait_idle(quiet=0.5)
    assert await answer_to(telegram, late) == "Опрос завершён"
    assert "уже завершён" in await exchange(telegram, editor, "/closepoll 1")

    await newsroom.restart()
    stored = await newsroom.poll(1)
    assert stored is not None and stored.is_closed and stored.counts == (4, 3, 0)
    late = voters[5].clicks_data(post, buttons[OPTIONS[0]])
    await telegram.wait_idle(quiet=0.5)
    assert await answer_to(telegram, late) == "Опрос завершён"
    report = await exchange(telegram, editor, "/results 1")
    assert "завершён" in report and "Проголосовали: 7" in report


async def test_pending_refresh_is_done_after_a_crash(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    post = await post_poll(telegram, editor)
    assert newsroom.app is not None
    # A long refresh interval: the vote is committed, the post not yet edited.
    newsroom.app.services.board.refresher.interval = 3600
    first, second = telegram.user(30_001, "A"), telegram.user(30_002, "B")
    first.clicks_data(post, _vote_data(post, "Да"))
    await telegram.wait_idle(quiet=0.3)
    second.clicks_data(post, _vote_data(post, "Нет"))
    await telegram.wait_idle(quiet=0.3)
    assert shown_counts(telegram.current(post)) == {"Да": 1, "Нет": 0, "Затрудняюсь ответить": 0}
    await newsroom.kill()
    await newsroom.start()
    await telegram.wait_for(lambda: shown_counts(telegram.current(post)).get("Нет") == 1)
    assert shown_counts(telegram.current(post)) == {"Да": 1, "Нет": 1, "Затрудняюсь ответить": 0}


async def test_pending_refresh_is_flushed_on_shutdown(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    post = await post_poll(telegram, editor)
    assert newsroom.app is not None
    newsroom.app.services.board.refresher.interval = 3600
    a, b = telegram.user(40_001, "A"), telegram.user(40_002, "B")
    a.clicks_data(post, _vote_data(post, "Да"))
    await telegram.wait_idle(quiet=0.3)
    b.clicks_data(post, _vote_data(post, "Да"))
    await telegram.wait_idle(quiet=0.3)
    assert shown_counts(telegram.current(post))["Да"] == 1
    await newsroom.stop()
    assert shown_counts(telegram.current(post))["Да"] == 2
    await newsroom.start()


async def test_imported_question_becomes_a_poll_under_the_article(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    reader: FakeUser,
    seed_text: str,
) -> None:
    await exchange(telegram, editor, "/import\n" + seed_text)
    offer = body_of(editor.last())
    assert "Считаете ли Вы необходимым любое переименование проспекта Гагарина?" in offer
    assert "/addpoll 1" in offer
    answer = await exchange(telegram, editor, "/addpoll 1\nДа\nНет")
    assert "Опрос №1 добавлен к черновику №1" in answer
    editor.sends_photo(caption="/photo 1")
    await exchange(telegram, editor, "/publish 1")
    [post] = telegram.chat_messages(CHANNEL_ID)
    assert labels(post) == ["Да · 0", "Нет · 0", "Читать полностью"]
    reader.clicks(post, "Да · 0")
    await telegram.wait_for(lambda: shown_counts(telegram.current(post)).get("Да") == 1)
    assert labels(telegram.current(post))[-1] == "Читать полностью"
    await exchange(telegram, editor, "/closepoll 1")
    closed = telegram.current(post)
    assert labels(closed) == ["Читать полностью"]
    assert "Итоги опроса" in closed["caption"] and "100% (1)" in closed["caption"]
    assert len(closed["caption"].encode("utf-16-le")) // 2 <= 1024
    assert closed["caption"].startswith("Минобороны КНР")


async def test_poll_in_the_new_dialog(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    for text in ["/new", "Заголовок", "Текст статьи.", "/done", "/skip", "/skip"]:
        await exchange(telegram, editor, text)
    answer = await exchange(telegram, editor, "Нравится?\nДа\nНет")
    assert "Черновик №1" in answer and "опрос №1" in answer.lower()
    await exchange(telegram, editor, "/publish 1")
    [post] = telegram.chat_messages(CHANNEL_ID)
    assert labels(post) == ["Да · 0", "Нет · 0", "Читать полностью"]


async def test_closing_waits_for_a_slow_live_count_edit(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    post = await post_poll(telegram, editor)
    # The live-count edit is slow: Telegram applies it after a second, then answers 502.
    telegram.fail_next(
        "editMessageReplyMarkup",
        delay=1.0,
        after_effect=True,
        status=502,
        description="Bad Gateway",
    )
    reader.clicks(post, "Да · 0")
    await telegram.wait_for(lambda: telegram.calls("editMessageReplyMarkup") or None)
    answer = await exchange(telegram, editor, "/closepoll 1")
    assert "завершён" in answer
    await telegram.wait_idle(quiet=1.0)
    final = telegram.current(post)
    assert labels(final) == []  # the buttons did not come back
    assert "Итоги опроса" in final["text"] and "100% (1)" in final["text"]


async def test_votes_in_the_editors_preview_are_not_counted(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    for text in ["/new", "Заголовок", "Текст.", "/done", "/skip", "/skip"]:
        await exchange(telegram, editor, text)
    await exchange(telegram, editor, "Нравится?\nДа\nНет")
    preview = editor.received()[-2]
    assert labels(preview) == ["Да · 0", "Нет · 0", "Читать полностью"]
    press = editor.clicks(preview, "Да · 0")
    await telegram.wait_idle()
    assert "превью" in await answer_to(telegram, press)
    await exchange(telegram, editor, "/publish 1")
    [post] = telegram.chat_messages(CHANNEL_ID)
    assert labels(post) == ["Да · 0", "Нет · 0", "Читать полностью"]


async def test_poll_whose_send_timed_out_is_uncertain_and_its_buttons_still_count(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, reader: FakeUser
) -> None:
    room = Newsroom(telegram, tmp_path, request_timeout_seconds=1.0)
    await room.start()
    try:
        # The channel gets the post, but the answer comes too late: outcome unknown.
        telegram.fail_next("sendMessage", chat_id=CHANNEL_ID, delay=3.0, after_effect=True)
        editor.sends(POLL)
        await telegram.wait_for(
            lambda: "Неизвестно, дошёл ли опрос" in last_text(editor), timeout=10
        )
        assert "Ничего не изменилось" not in last_text(editor)
        await telegram.wait_for(lambda: telegram.chat_messages(CHANNEL_ID), timeout=10)
        [post] = telegram.chat_messages(CHANNEL_ID)
        # The post is there: a reader's press counts and proves where it is.
        toast = await answer_to(telegram, reader.clicks(post, button_for(post, "Да")))
        assert "Ваш голос учтён" in toast
        poll = await room.poll(1)
        assert poll is not None and poll.status is PollStatus.OPEN
        assert poll.channel_message_id == post["message_id"] and poll.counts[0] == 1
        await telegram.wait_for(lambda: shown_counts(telegram.current(post))["Да"] == 1)
    finally:
        await room.stop()


async def test_poll_refused_by_the_channel_fails_and_an_unknown_answer_is_uncertain(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    telegram.fail_next("sendMessage", status=403, description="Forbidden", chat_id=CHANNEL_ID)
    answer = await exchange(telegram, editor, POLL)
    assert "Не удалось опубликовать опрос" in answer and "нет прав" in answer
    poll = await newsroom.poll(1)
    assert poll is not None and poll.status is PollStatus.FAILED
    telegram.fail_next("sendMessage", status=418, description="I'm a teapot", chat_id=CHANNEL_ID)
    answer = await exchange(telegram, editor, POLL)
    assert "Неизвестно, дошёл ли опрос" in answer and "нет ясного ответа" in answer
    poll = await newsroom.poll(2)
    assert poll is not None and poll.status is PollStatus.UNCERTAIN


async def test_forged_presses_for_a_draft_poll_or_under_another_post_count_nothing(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    """Callback data is the client's to choose: a vote counts only under its own post."""
    post = await post_poll(telegram, editor)  # poll 1, in the channel
    await exchange(telegram, editor, "/import\nЗаголовок\n\nПервый абзац. Второй.")
    await exchange(telegram, editor, "/addpoll 1\nВопрос к статье?\nДа\nНет")  # poll 2, draft
    # Poll 2 is not in the channel yet: a press forged under poll 1's post counts nothing.
    toast = await answer_to(telegram, reader.clicks_data(post, "v:2:0"))
    assert "недоступен" in toast
    assert (await newsroom.poll(2)).counts == (0, 0)  # type: ignore[union-attr]
    # Nor does a press for poll 1 forged under another message of the channel.
    await exchange(telegram, editor, "/publish 1")
    article_post = telegram.chat_messages(CHANNEL_ID)[-1]
    toast = await answer_to(telegram, reader.clicks_data(article_post, "v:1:0"))
    assert "недоступен" in toast
    assert (await newsroom.poll(1)).counts == (0, 0, 0)  # type: ignore[union-attr]
    # The real button under the real post counts.
    toast = await answer_to(telegram, reader.clicks(post, button_for(post, "Да")))
    assert "Ваш голос учтён" in toast
    assert (await newsroom.poll(1)).counts == (1, 0, 0)  # type: ignore[union-attr]
