"""SIGTERM in the middle of a vote storm: the signal is not lost, the bot stops cleanly,
and nothing Telegram delivered is lost or handled twice.

The signal reaches asyncio through the loop's self-pipe (``signal.set_wakeup_fd``), the
same pipe that results from database threads write to.  When those writes filled it, the
kernel refused the signal's byte, Python printed "Exception ignored when trying to write
to the signal wakeup fd: BlockingIOError" and the bot never stopped.  Here the signal
comes while thousands of presses are being handled, and the bot must stop in time.
"""

from __future__ import annotations

import signal
from pathlib import Path

from tests.e2e.harness import CHANNEL_ID, Newsroom
from tests.e2e.process import BotProcess
from tests.e2e.test_polls import post_poll
from tests.e2e.test_process import ask, assert_clean_exit_log
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

READERS = 400
PRESSES_EACH = 5
PRESSES = 120  # a flood larger than one getUpdates batch (100)


async def test_sigterm_during_a_vote_storm_stops_the_bot_cleanly(
    telegram: FakeBotAPI, editor: FakeUser, tmp_path: Path
) -> None:
    bot = BotProcess(telegram, tmp_path)
    try:
        await bot.start_and_wait_ready()
        assert "опубликован" in await ask(telegram, editor, "/poll Q?\nA\nB\nC")
        [post] = telegram.chat_messages(CHANNEL_ID)
        data = [str(row[0]["callback_data"]) for row in post["reply_markup"]["inline_keyboard"]]
        readers = [telegram.user(20_000 + i, f"Reader {i}") for i in range(READERS)]
        ids = [
            reader.clicks_data(post, data[(i + n) % len(data)])["callback_query"]["id"]
            for n in range(PRESSES_EACH)
            for i, reader in enumerate(readers)
        ]
        # In the thick of it: a good part answered, most still to come.
        await bot.wait_until(
            lambda: sum(telegram.callback_answer(i) is not None for i in ids[:400]) >= 100,
            timeout=60,
            what="the storm under way",
        )
        answered_before = sum(telegram.callback_answer(i) is not None for i in ids)
        bot.send_signal(signal.SIGTERM)
        code = await bot.wait(timeout=30)
    finally:
        await bot.ensure_dead()
    assert code == 0, bot.report()
    assert "Received SIGTERM signal" in bot.stderr, bot.report()
    assert "signal wakeup fd" not in bot.stderr, bot.report()
    assert_clean_exit_log(bot)
    # It stopped in the middle, not after working off the whole backlog.
    assert answered_before < len(ids), "the storm was over before the signal"


async def test_a_stop_mid_flood_loses_nothing_and_handles_nothing_twice(
    telegram: FakeBotAPI, editor: FakeUser, tmp_path: Path
) -> None:
    """Polling confirms to Telegram only what it handled: stopped while a flood is being
    fetched, every press was either answered or is still at Telegram for the next start,
    never both (a fetched batch the old loop had only begun was handled, unconfirmed,
    and handled again by the next start; or taken and never started)."""
    room = Newsroom(telegram, tmp_path, update_concurrency=2, update_backlog=2)
    await room.start()
    post = await post_poll(telegram, editor)
    data = [str(row[0]["callback_data"]) for row in post["reply_markup"]["inline_keyboard"]]
    telegram.slow_next("answerCallbackQuery", 0.1, times=10_000)
    presses = [
        telegram.user(40_000 + i, f"Reader {i}").clicks_data(post, data[i % len(data)])
        for i in range(PRESSES)
    ]
    query_of = {int(p["update_id"]): str(p["callback_query"]["id"]) for p in presses}

    def answered() -> set[int]:
        return {u for u, q in query_of.items() if telegram.callback_answer(q) is not None}

    await telegram.wait_for(lambda: len(answered()) >= 10, timeout=30)
    await room.stop()
    handled = answered()
    at_telegram = {int(u["update_id"]) for u in telegram.updates} & query_of.keys()
    assert handled < query_of.keys(), "the flood was over before the stop"
    assert not handled & at_telegram, sorted(handled & at_telegram)  # none twice
    assert handled | at_telegram == query_of.keys()  # none lost

    await room.start()  # the next start takes the rest
    try:
        await telegram.wait_for(lambda: answered() == query_of.keys(), timeout=60)
    finally:
        await room.stop()
    answers = [r.params.get("callback_query_id") for r in telegram.calls("answerCallbackQuery")]
    assert len(answers) == len(set(answers)) == PRESSES
