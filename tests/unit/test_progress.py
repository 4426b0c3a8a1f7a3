"""ChatProgress: one message, edited at most every interval (a controllable clock says
when), "not modified" tolerated, replaced by the result; quick work shows none."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import EditMessageText

from bot.telegram.progress import ChatProgress

CHAT = 1001


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Chat:
    """Stands in for the Bot: records what was sent and edited, and can refuse edits."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float | None]] = []
        self.clock: Clock | None = None
        self.refuse: str | None = None
        self.changed = asyncio.Event()

    def _record(self, kind: str, text: str) -> None:
        self.calls.append((kind, text, self.clock.now if self.clock else None))
        self.changed.set()

    async def send_message(self, chat_id: int, text: str, **options: Any) -> Any:
        assert chat_id == CHAT
        self._record("send", text)
        return SimpleNamespace(message_id=len(self.calls))

    async def edit_message_text(
        self, text: str, chat_id: int, message_id: int, **options: Any
    ) -> Any:
        if self.refuse is not None:
            method = EditMessageText(text=text, chat_id=chat_id, message_id=message_id)
            raise TelegramBadRequest(method=method, message=f"Bad Request: {self.refuse}")
        self._record("edit", text)
        return True

    def as_bot(self) -> Bot:
        return cast(Bot, self)


@pytest.fixture
def chat() -> Chat:
    return Chat()


async def test_at_most_one_edit_per_interval(chat: Chat) -> None:
    clock = Clock()
    chat.clock = clock
    progress = ChatProgress(chat.as_bot(), CHAT, interval=2.0, clock=clock)
    for moment, report in [
        (0.0, "1/10"),
        (0.5, "2/10"),
        (1.99, "3/10"),
        (2.0, "4/10"),  # 2 s after the message was sent
        (2.1, "5/10"),
        (4.0, "6/10"),
        (6.0, "6/10"),  # 2 s after the edit, but nothing new: no request
        (6.5, "7/10"),
    ]:
        clock.now = 100.0 + moment
        await progress.show(report)
    assert chat.calls == [
        ("send", "1/10", 100.0),
        ("edit", "4/10", 102.0),
        ("edit", "6/10", 104.0),
        ("edit", "7/10", 106.5),
    ]
    clock.now += 0.1
    await progress.show("9/10")
    assert progress.pending == "9/10"  # within the interval: kept for later
    await progress.finish("Готово: 10")
    assert chat.calls[-1] == ("edit", "Готово: 10", 106.6)
    assert [kind for kind, _, _ in chat.calls].count("send") == 1
    assert progress.pending is None


async def test_not_modified_is_no_error_and_a_lost_message_gets_the_result(chat: Chat) -> None:
    clock = Clock()
    progress = ChatProgress(chat.as_bot(), CHAT, interval=2.0, clock=clock)
    await progress.show("1/3")
    chat.refuse = "message is not modified: specified new message content is the same"
    clock.now += 2
    await progress.show("2/3")  # no exception
    chat.refuse = "message to edit not found"
    clock.now += 2
    with pytest.raises(TelegramBadRequest):
        await progress.show("3/3")
    await progress.finish("Готово")
    assert chat.calls[-1][:2] == ("send", "Готово")


async def test_quick_work_shows_no_progress_only_its_result(chat: Chat) -> None:
    progress = ChatProgress(chat.as_bot(), CHAT, interval=2.0, delay=60.0)
    async with progress.ticking(lambda seconds: f"{seconds} s"):
        pass
    await progress.finish("Итог")
    assert chat.calls == [("send", "Итог", None)]


async def test_long_work_ticks_in_one_message_then_becomes_the_result(chat: Chat) -> None:
    progress = ChatProgress(chat.as_bot(), CHAT, interval=0.01, delay=0.0)
    reports: list[str] = []

    def report(seconds: int) -> str:
        reports.append(f"идёт {len(reports)}")
        return reports[-1]

    async with progress.ticking(report):
        while len(chat.calls) < 3:  # the work lasts until it has been shown twice more
            chat.changed.clear()
            await chat.changed.wait()
    await progress.finish("Итог")
    kinds = [kind for kind, _, _ in chat.calls]
    assert kinds[0] == "send" and set(kinds[1:]) == {"edit"}
    assert chat.calls[0][1] == "идёт 0"
    assert chat.calls[-1][1] == "Итог"
