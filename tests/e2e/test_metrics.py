"""``/metrics`` and ``/healthz`` on METRICS_PORT, scraped from a running bot (polling and
webhook) after a small storm: the counters must say what the fake Telegram saw."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bot.telegram.pacing.middleware import is_paced
from tests.e2e.harness import CHANNEL_ID, Newsroom
from tests.e2e.test_full_text import publish_seed
from tests.e2e.test_polls import OPTIONS, button_for, post_poll
from tests.e2e.webhook_harness import WebhookNewsroom, free_port
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.state import RecordedRequest
from tests.fakes.users import FakeUser

READERS = 5
BLOCKED_READER = 5999


class Scrape:
    """One parsed exposition (prometheus_client's own parser)."""

    def __init__(self, text: str) -> None:
        self.samples: list[Sample] = [
            sample for family in text_string_to_metric_families(text) for sample in family.samples
        ]

    def total(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples whose labels include ``labels``."""
        return sum(
            s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items()
        )

    def by(self, name: str, *keys: str) -> Counter[tuple[str, ...]]:
        """``name``'s non-zero values summed per tuple of the ``keys`` labels."""
        found: Counter[tuple[str, ...]] = Counter()
        for s in self.samples:
            if s.name == name and s.value:
                found[tuple(s.labels[k] for k in keys)] += int(s.value)
        return found


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as answer:
        return answer.status, await answer.text()


def outcome_seen(request: RecordedRequest) -> str:
    """What the fake answered, in the metric's words."""
    if request.status == 200:
        return "ok"
    if request.status == 429:
        return "429"
    if request.status == 0 or request.status >= 500:
        return "uncertain"
    return "refused"


@pytest.fixture
def pushed(telegram: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every update the fake Telegram queued for the bot, in order."""
    updates: list[dict[str, Any]] = []
    original: Callable[..., int] = telegram.push_update

    def recording(update: dict[str, Any], *, checked: bool = False) -> int:
        updates.append(update)
        return original(update, checked=checked)

    monkeypatch.setattr(telegram, "push_update", recording)
    return updates


def kinds(updates: list[dict[str, Any]]) -> Counter[tuple[str, ...]]:
    return Counter((next(key for key in update if key != "update_id"),) for update in updates)


def button_data(post: dict[str, Any], option: str) -> str:
    label = button_for(post, option)
    rows = post["reply_markup"]["inline_keyboard"]
    return next(str(b["callback_data"]) for row in rows for b in row if b["text"] == label)


async def storm(telegram: FakeBotAPI, editor: FakeUser, seed_text: str) -> int:
    """A poll, five readers' votes (one pressed twice, one 429 on the way), a reader who
    blocked the bot, a publish.  Returns the number of presses."""
    post = await post_poll(telegram, editor)
    readers = [telegram.user(5100 + i, f"Reader {i}") for i in range(READERS)]
    telegram.fail_next("answerCallbackQuery", status=429, retry_after=1)
    data = [button_data(post, option) for option in OPTIONS]
    presses = [reader.clicks_data(post, data[i % 3]) for i, reader in enumerate(readers)]
    presses.append(readers[0].clicks_data(post, data[0]))  # the same option again
    ids = [str(press["callback_query"]["id"]) for press in presses]
    await telegram.wait_for(lambda: all(telegram.callback_answer(i) for i in ids), timeout=10)
    blocked = telegram.user(BLOCKED_READER, "Blocked")
    telegram.fail_next(
        "sendMessage",
        status=403,
        description="Forbidden: bot was blocked by the user",
        chat_id=BLOCKED_READER,
    )
    blocked.sends("/start")
    await publish_seed(telegram, editor, seed_text, photo=False)
    await telegram.wait_idle(quiet=0.5)  # past a live-count refresh (0.3 s)
    return len(presses)


async def check_scrape(
    telegram: FakeBotAPI, port: int, pushed: list[dict[str, Any]], presses: int
) -> None:
    status, text = await get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    scrape = Scrape(text)
    # Every Bot API request the fake answered, by method and outcome, exactly once.
    seen = Counter(
        (r.method, outcome_seen(r)) for r in telegram.requests if r.method != "getUpdates"
    )
    counted = scrape.by("newsroom_telegram_requests_total", "method", "outcome")
    assert counted == seen
    assert counted[("answerCallbackQuery", "429")] == 1
    assert counted[("sendMessage", "refused")] == 1
    timed = scrape.by("newsroom_telegram_request_seconds_count", "method")
    assert timed == Counter((r.method,) for r in telegram.requests if r.method != "getUpdates")
    # Every update handled once, by kind; the blocked reader's one refused.
    handled = scrape.by("newsroom_updates_total", "kind")
    assert handled == kinds(pushed)
    assert scrape.by("newsroom_handler_seconds_count", "kind") == handled
    assert scrape.total("newsroom_updates_total", outcome="refused") == 1
    assert scrape.total("newsroom_updates_total", outcome="error") == 0
    # Votes: as many recorded as toasts said so, one unchanged.
    toasts = [str((telegram.callback_answer(q) or {}).get("text", "")) for q in query_ids(pushed)]
    recorded = sum(t.startswith("Ваш голос учтён") for t in toasts)
    assert recorded == READERS
    assert scrape.total("newsroom_votes_total", outcome="recorded") == recorded
    assert scrape.total("newsroom_votes_total", outcome="unchanged") == 1
    assert scrape.total("newsroom_database_seconds_count", repository="polls", method="vote") == (
        presses
    )
    # One publication, and it is in the channel.
    assert scrape.total("newsroom_publications_total", outcome="published") == 1
    assert scrape.total("newsroom_publications_total") == 1
    assert any("Читать" in str(m.get("reply_markup")) for m in telegram.chat_messages(CHANNEL_ID))
    # One wait for a send slot per paced request sent (a publish waits before building it).
    paced = sum(1 for r in telegram.requests if is_paced(r.method) and "chat_id" in r.params)
    assert scrape.total("newsroom_send_slot_wait_seconds_count") == paced
    assert scrape.total("newsroom_send_slot_wait_seconds_count", priority="publish") >= 1
    # Nothing in hand now.
    for lane in ("desk", "readers"):
        for state in ("running", "waiting"):
            assert scrape.total("newsroom_lane_updates", lane=lane, state=state) == 0
    status, body = await get(f"http://127.0.0.1:{port}/healthz")
    assert (status, body) == (200, '{"database": true, "stopping": false}')


def query_ids(updates: list[dict[str, Any]]) -> Iterator[str]:
    for update in updates:
        if "callback_query" in update:
            yield str(update["callback_query"]["id"])


@pytest.fixture
async def measured(telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Newsroom]:
    room = Newsroom(telegram, tmp_path, metrics_port=free_port())
    await room.start()
    try:
        yield room
    finally:
        await room.stop()


async def test_metrics_in_polling_mode_count_what_telegram_saw(
    measured: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    seed_text: str,
    pushed: list[dict[str, Any]],
) -> None:
    presses = await storm(telegram, editor, seed_text)
    assert measured.settings.metrics_port is not None
    await check_scrape(telegram, measured.settings.metrics_port, pushed, presses)


async def test_metrics_in_webhook_mode_count_what_telegram_saw(
    telegram: FakeBotAPI,
    editor: FakeUser,
    seed_text: str,
    pushed: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    room = WebhookNewsroom(telegram, tmp_path / "newsroom.sqlite3", metrics_port=free_port())
    await room.start()
    try:
        presses = await storm(telegram, editor, seed_text)
        assert room.settings.metrics_port is not None
        await check_scrape(telegram, room.settings.metrics_port, pushed, presses)
    finally:
        await room.stop()
    # Stopped: the monitoring port is closed with the rest.
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"http://127.0.0.1:{room.settings.metrics_port}/healthz")


async def test_without_metrics_port_nothing_is_measured(newsroom: Newsroom) -> None:
    assert newsroom.app is not None
    assert newsroom.app.metrics is None and newsroom.app.monitoring is None
    assert type(newsroom.app.polls).__name__ == "PollRepository"  # not wrapped


async def test_the_lanes_gauges_show_updates_running_and_waiting(
    telegram: FakeBotAPI, editor: FakeUser, tmp_path: Path
) -> None:
    port = free_port()
    room = Newsroom(telegram, tmp_path, metrics_port=port, update_concurrency=1)
    await room.start()
    try:
        post = await post_poll(telegram, editor)
        data = button_data(post, OPTIONS[0])
        telegram.slow_next("answerCallbackQuery", 1.5)  # the first press holds the one slot
        for i in range(3):
            telegram.user(5200 + i, f"Reader {i}").clicks_data(post, data)

        async def lanes() -> dict[str, float]:
            scrape = Scrape((await get(f"http://127.0.0.1:{port}/metrics"))[1])
            return {
                state: scrape.total("newsroom_lane_updates", lane="readers", state=state)
                for state in ("running", "waiting")
            }

        seen: list[dict[str, float]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while loop.time() < deadline and (not seen or seen[-1] != BUSY):
            seen.append(await lanes())
        assert seen[-1] == BUSY, seen
        await telegram.wait_for(lambda: len(telegram.calls("answerCallbackQuery")) == 3)
        await telegram.wait_idle(quiet=0.1)
        assert await lanes() == {"running": 0, "waiting": 0}
    finally:
        await room.stop()


BUSY = {"running": 1, "waiting": 2}
