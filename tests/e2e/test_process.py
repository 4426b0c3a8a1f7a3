"""The bot as a real OS process (``python -m bot``): signals, crashes, restarts, exit codes.

The fake Bot API server runs in the test's event loop; the bot is a child process (see
tests/e2e/process.py), so SIGTERM/SIGINT handling, SIGKILL in the middle of a channel
send, start-up recovery and settings errors are exercised exactly as in production.
"""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from bot.models import ArticleStatus
from tests.e2e.harness import CHANNEL_ID, TOKEN, body_of, last_text
from tests.e2e.process import BotProcess, fault_armed, stored_article
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.state import RecordedRequest
from tests.fakes.users import FakeUser

SECRET = TOKEN.split(":", 1)[1]
CHANNEL_LINK = "https://t.me/c/1234567890/"
# How long the fake holds the interrupted channel send before it ends it.
HOLD_SECONDS = 1.5


# --- helpers -----------------------------------------------------------------------------


def assert_clean_exit_log(bot: BotProcess) -> None:
    """A graceful run: nothing on stdout, no traceback or error, and never the token."""
    log, out = bot.stderr, bot.stdout
    for text in (log, out):
        assert TOKEN not in text
        assert SECRET not in text
    assert out == "", bot.report()
    assert "Traceback" not in log, bot.report()
    for marker in (" ERROR ", " CRITICAL ", "Unclosed", "was destroyed but it is pending"):
        assert marker not in log, (marker, bot.report())


def assert_token_never_shown(bot: BotProcess) -> None:
    for text in (bot.stderr, bot.stdout):
        assert TOKEN not in text
        assert SECRET not in text


async def import_seed(telegram: FakeBotAPI, editor: FakeUser, seed_text: str) -> None:
    """Import the seed article as draft №1 and wait for its preview and confirmation."""
    before = len(editor.received())
    editor.sends("/import\n" + seed_text)
    await telegram.wait_for(lambda: len(editor.received()) >= before + 2, timeout=10)
    assert "/publish 1" in body_of(editor.received()[before + 1])
    await telegram.wait_idle(quiet=0.1)


async def ask(telegram: FakeBotAPI, user: FakeUser, text: str) -> str:
    """The user sends ``text``; returns the bot's answer."""
    before = len(user.received())
    user.sends(text)
    await telegram.wait_for(lambda: len(user.received()) > before, timeout=10)
    await telegram.wait_idle(quiet=0.05)
    return last_text(user)


def channel_sends(telegram: FakeBotAPI, *, since: float) -> list[RecordedRequest]:
    """Posting requests to the channel that began at or after ``since`` (loop time)."""
    found = []
    for request in telegram.requests:
        if request.method not in ("sendMessage", "sendPhoto") or request.time < since:
            continue
        chat = telegram.find_chat(request.params.get("chat_id", ""))
        if chat is not None and chat.id == CHANNEL_ID:
            found.append(request)
    return found


def labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [str(button["text"]) for row in rows for button in row]


def shown_counts(message: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for label in labels(message):
        if " · " in label:
            name, count = label.rsplit(" · ", 1)
            counts[name] = int(count)
    return counts


# --- 1. graceful stop ----------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
async def test_signal_stops_the_bot_gracefully(
    sig: signal.Signals,
    telegram: FakeBotAPI,
    editor: FakeUser,
    seed_text: str,
    tmp_path: Path,
) -> None:
    bot = BotProcess(telegram, tmp_path)
    try:
        await bot.start_and_wait_ready()
        await import_seed(telegram, editor, seed_text)
        code = await bot.stop(sig, timeout=5)
    finally:
        await bot.ensure_dead()
    assert code == 0, bot.report()
    assert_clean_exit_log(bot)
    log = bot.stderr
    assert f"Received {sig.name} signal" in log
    assert "Polling stopped" in log
    # The draft made before the signal is in the database, which was closed cleanly.
    article = await stored_article(bot.database_path, 1)
    assert article is not None and article.status is ArticleStatus.DRAFT


# --- 2. pending poll refresh flushed on SIGTERM ----------------------------------------------


async def test_sigterm_shows_the_votes_of_a_pending_poll_refresh(
    telegram: FakeBotAPI, editor: FakeUser, tmp_path: Path
) -> None:
    first = telegram.user(5001, "Первый")
    second = telegram.user(5002, "Второй")
    bot = BotProcess(telegram, tmp_path, POLL_REFRESH_SECONDS="30")
    try:
        await bot.start_and_wait_ready()
        answer = await ask(telegram, editor, "/poll Q?\nA\nB")
        assert "Опрос №1 опубликован" in answer
        [post] = telegram.chat_messages(CHANNEL_ID)
        assert shown_counts(post) == {"A": 0, "B": 0}

        # The first vote is shown at once...
        first.clicks(post, "A · 0")
        await telegram.wait_for(lambda: shown_counts(telegram.current(post)) == {"A": 1, "B": 0})
        # ...the second one waits for the 30 s refresh interval.
        press = second.clicks(post, "B · 0")
        query_id = press["callback_query"]["id"]
        await telegram.wait_for(lambda: telegram.callback_answer(query_id) is not None)
        await telegram.wait_idle(quiet=0.5)
        assert telegram.edits(post) == 1
        assert shown_counts(telegram.current(post)) == {"A": 1, "B": 0}

        code = await bot.stop(signal.SIGTERM, timeout=5)
    finally:
        await bot.ensure_dead()
    assert code == 0, bot.report()
    assert_clean_exit_log(bot)
    # Flushed on the way out, long before the 30 s interval: both votes, one more edit.
    assert shown_counts(telegram.current(post)) == {"A": 1, "B": 1}
    assert telegram.edits(post) == 2


# --- 3. SIGKILL in the middle of a channel send, then a restart -----------------------------


@pytest.mark.parametrize(
    "post_went_out",
    [False, True],
    ids=["post-missing-then-forcepublish", "post-found-then-markpublished"],
)
async def test_sigkill_mid_publish_leaves_it_to_the_editors(
    post_went_out: bool,
    telegram: FakeBotAPI,
    editor: FakeUser,
    second_editor: FakeUser,
    admin: FakeUser,
    seed_text: str,
    tmp_path: Path,
) -> None:
    loop = asyncio.get_running_loop()
    first = BotProcess(telegram, tmp_path, name="first")
    second = BotProcess(telegram, tmp_path, name="second")
    try:
        await first.start_and_wait_ready()
        await import_seed(telegram, editor, seed_text)

        # The channel send arrives at "Telegram" and is held there; the process dies while
        # waiting for the answer.  Telegram then performs it (post_went_out) or not, and
        # the answer is lost either way.
        telegram.fail_next(
            "sendMessage",
            chat_id=CHANNEL_ID,
            delay=HOLD_SECONDS,
            drop_connection=True,
            after_effect=post_went_out,
        )
        editor.sends("/publish 1")
        await first.wait_until(
            lambda: not fault_armed(telegram, "sendMessage"), 10, "the channel send"
        )
        in_flight = await stored_article(first.database_path, 1)
        assert in_flight is not None and in_flight.status is ArticleStatus.PUBLISHING
        assert await first.kill() == -signal.SIGKILL

        # A new process on the same database (it takes longer to start than Telegram takes
        # to finish the held request: the post is then there, or it is not).
        restarted_at = loop.time()
        await second.start_and_wait_ready()
        await telegram.wait_for(
            lambda: any(r.injected for r in channel_sends(telegram, since=0)), timeout=10
        )
        assert all(r.time < restarted_at for r in channel_sends(telegram, since=0))
        posts = telegram.chat_messages(CHANNEL_ID)
        assert len(posts) == (1 if post_went_out else 0)

        # Every editor (admins are editors) is told, naming both ways to settle it.
        people = (editor, second_editor, admin)
        await telegram.wait_for(
            lambda: all(
                any("После перезапуска" in body_of(m) for m in p.received()) for p in people
            ),
            timeout=10,
        )
        for person in people:
            notices = [body_of(m) for m in person.received() if "После перезапуска" in body_of(m)]
            assert len(notices) == 1, notices
            assert "№1" in notices[0]
            assert "/forcepublish 1" in notices[0]
            assert "/markpublished 1" in notices[0]

        # Nothing is re-sent behind the editors' back, and /publish refuses.
        await telegram.wait_idle(quiet=0.5)
        assert channel_sends(telegram, since=restarted_at) == []
        answer = await ask(telegram, editor, "/publish 1")
        assert "Неизвестно, дошла ли статья №1" in answer
        assert "/forcepublish 1" in answer
        assert channel_sends(telegram, since=restarted_at) == []
        stored = await stored_article(second.database_path, 1)
        assert stored is not None and stored.status is ArticleStatus.UNCERTAIN

        if post_went_out:
            # The editor finds the post in the channel and records it.
            [post] = posts
            link = f"{CHANNEL_LINK}{post['message_id']}"
            answer = await ask(telegram, editor, f"/markpublished 1 {link}")
            assert answer == f"Опубликовано в канале: {link}"
            assert channel_sends(telegram, since=restarted_at) == []
        else:
            # The editor finds no post and forces it: it is posted exactly once.
            answer = await ask(telegram, editor, "/forcepublish 1")
            [post] = telegram.chat_messages(CHANNEL_ID)
            link = f"{CHANNEL_LINK}{post['message_id']}"
            assert answer == f"Опубликовано в канале: {link}"
            assert len(channel_sends(telegram, since=restarted_at)) == 1
            assert post["text"].startswith("Минобороны КНР")

        # Settled: both commands now only point at the post.
        for command in ("/publish 1", "/forcepublish 1"):
            answer = await ask(telegram, editor, command)
            assert answer == f"Статья №1 уже опубликована: {link}", command
        assert telegram.chat_messages(CHANNEL_ID) == [post]
        assert len(channel_sends(telegram, since=restarted_at)) == (0 if post_went_out else 1)
        stored = await stored_article(second.database_path, 1)
        assert stored is not None
        assert stored.status is ArticleStatus.PUBLISHED
        assert stored.channel_message_id == post["message_id"]

        assert await second.stop(signal.SIGTERM, timeout=5) == 0, second.report()
    finally:
        await first.ensure_dead()
        await second.ensure_dead()
    assert_token_never_shown(first)
    assert "Traceback" not in first.stderr, first.report()
    assert_clean_exit_log(second)


# --- 4. start-up errors: one clear line, no traceback -----------------------------------------


LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO) \S+: ")


def assert_one_line_exit(
    bot: BotProcess, code: int, expected_code: int, prefix: str, *, info_logs: bool = False
) -> str:
    """The process stopped with ``expected_code`` and one line saying why; returns it.

    ``info_logs``: routine DEBUG/INFO records written before the failure are allowed
    (nothing at WARNING or above, such as "Unclosed client session").
    """
    log = bot.stderr
    assert "Traceback" not in log, bot.report()
    assert code == expected_code, bot.report()
    lines = log.strip().splitlines()
    if info_logs:
        lines = [line for line in lines if not LOG_RECORD.match(line)]
    assert len(lines) == 1, bot.report()
    assert lines[0].startswith(prefix), lines
    assert bot.stdout == ""
    assert_token_never_shown(bot)
    return lines[0]


@pytest.mark.parametrize("case", ["file-cannot-be-opened", "folder-is-a-regular-file"])
async def test_unusable_database_path_is_one_clear_line(
    case: str, telegram: FakeBotAPI, tmp_path: Path
) -> None:
    if case == "file-cannot-be-opened":
        # The tests may run as root, for whom no file is read-only: a directory where
        # the database file should be cannot be opened by anyone.
        database_path = tmp_path / "news.sqlite3"
        database_path.mkdir()
    else:
        regular_file = tmp_path / "not-a-folder"
        regular_file.write_text("x")
        database_path = regular_file / "news.sqlite3"
    bot = BotProcess(telegram, tmp_path, database_path=database_path)
    try:
        await bot.start()
        code = await bot.wait(timeout=20)
    finally:
        await bot.ensure_dead()
    # bot/cli.py: a StorageError is "Database error: ..." and exit code 3.
    line = assert_one_line_exit(bot, code, 3, "Database error: ")
    assert "not-a-folder" in line or str(database_path) in line
    assert telegram.requests == []  # it stopped before going online


async def test_token_rejected_by_telegram_is_one_clear_line(tmp_path: Path) -> None:
    # A well-formed token that this "Telegram" does not know (revoked, or a typo).
    async with FakeBotAPI(token="654321:SOME-other-token-abcdefghijklmnopqrs") as server:
        bot = BotProcess(server, tmp_path)
        try:
            await bot.start()
            code = await bot.wait(timeout=20)
        finally:
            await bot.ensure_dead()
    line = assert_one_line_exit(bot, code, 2, "Configuration error: ", info_logs=True)
    assert "BOT_TOKEN" in line
