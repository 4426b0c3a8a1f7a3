"""Pacing and retry decisions of the request middleware."""

from __future__ import annotations

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto

from bot.telegram.pacing import RateLimiter, RateLimits, _Slot, is_safe_to_repeat


def test_slot_allows_a_burst_then_paces() -> None:
    slot = _Slot(interval=1.0, burst=3)
    waits = [slot.reserve(now=0.0) for _ in range(6)]
    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]


def test_slot_never_exceeds_the_rate_over_any_window() -> None:
    slot = _Slot(interval=3.0, burst=1)
    times = []
    now = 0.0
    for _ in range(40):
        wait = slot.reserve(now)
        now += wait
        times.append(now)
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 60) <= 20


def test_back_off_pushes_the_next_slot() -> None:
    clock = [100.0]
    limiter = RateLimiter(RateLimits(), clock=lambda: clock[0])
    limiter.back_off(-100123, 30)
    slot = limiter._chat_slot(-100123)
    assert slot.reserve(clock[0]) >= 30


def test_what_is_safe_to_repeat() -> None:
    assert is_safe_to_repeat(SendMessage(chat_id=12345, text="x"))  # a reader's chat
    assert not is_safe_to_repeat(SendMessage(chat_id=-1001234567890, text="x"))
    assert not is_safe_to_repeat(SendPhoto(chat_id="@news", photo="id"))
    assert is_safe_to_repeat(EditMessageText(chat_id=-1001234567890, message_id=1, text="x"))
    assert is_safe_to_repeat(AnswerCallbackQuery(callback_query_id="1"))
