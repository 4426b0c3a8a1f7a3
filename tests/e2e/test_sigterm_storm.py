"""SIGTERM in the middle of a vote storm: the signal is not lost, the bot stops cleanly.

The signal reaches asyncio through the loop's self-pipe (``signal.set_wakeup_fd``), the
same pipe that results from database threads write to.  When those writes filled it, the
kernel refused the signal's byte, Python printed "Exception ignored when trying to write
to the signal wakeup fd: BlockingIOError" and the bot never stopped.  Here the signal
comes while thousands of presses are being handled, and the bot must stop in time.
"""

from __future__ import annotations

import signal
from pathlib import Path

from tests.e2e.harness import CHANNEL_ID
from tests.e2e.process import BotProcess
from tests.e2e.test_process import ask, assert_clean_exit_log
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

READERS = 400
PRESSES_EACH = 5


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
