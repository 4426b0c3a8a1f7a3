"""One account floods the bot: how long do everyone else's answers take meanwhile?

What is measured
----------------
While one account sends ``--messages`` (200) plain messages spread evenly over
``--seconds`` (10 s), other readers press the vote buttons under a channel poll
(``--presses`` per second, 10, drawn from 1,000 readers) and an editor sends ``/drafts``
once a second.  Printed for each contender: the readers' press → answer time
(p50/p95/max, from the press's push into the fake server's queue to its
``answerCallbackQuery``), the editor's ``/drafts`` → answer time (p95/max), and what the
flooder got back (answers, notices that the rest was skipped).  Aim: p95 under 1 s.

Contenders, in one run on one fake server: a bare aiogram bot polling (the floor: it
answers every press and every message with "ok", unpaced, every update started at
once), then the newsroom bot polling and in webhook mode, each with Telegram's own pace
for a private chat (``RATE_CHAT_PER_SECOND=1``) and the default update lanes
(``UPDATE_CONCURRENCY=32``, ``UPDATE_BACKLOG=128``).  The fake server does not enforce
Telegram's limits here (the floor would only collect 429s); the bot keeps under them by
itself.  Before one running update per account (bot/telegram/lanes.py), 60 messages from
one account made another reader's /help wait 26.9 s and 180 an editor's /drafts 18.5 s.

Run ``python -m bench.flood`` (``make bench``); ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bench.harness import (
    OPTIONS,
    floor_poll_post,
    history_frozen,
    offer_at_pace,
    percentile,
    running_bot,
    running_floor,
)
from bench.votes import POLL_COMMAND, option_data
from bot.texts import RU
from tests.e2e.harness import (
    BOT_USERNAME,
    CHANNEL_ID,
    CHANNEL_USERNAME,
    EDITOR_ID,
    TOKEN,
    body_of,
    exchange,
)
from tests.e2e.webhook_harness import WebhookNewsroom
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

READERS = 1000
FIRST_READER_ID = 500_000
FLOODER_ID = 499_999
SEED = 16
AIM_SECONDS = 1.0
# Telegram's pace for a private chat; the lanes as they ship.
BOT_SETTINGS: dict[str, Any] = {"rate_chat_per_second": 1.0}


@dataclass(frozen=True)
class Config:
    messages: int
    seconds: float
    presses: float


@dataclass
class Result:
    name: str
    presses: list[float] = field(default_factory=list)  # nan = never answered
    drafts: list[float] = field(default_factory=list)
    flooder_answers: int = 0
    notices: int = 0

    def line(self) -> str:
        done = [w for w in self.presses if w == w]
        p50, p95 = percentile(done, 50), percentile(done, 95)
        return (
            f"presses p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
            f"max {max(done) * 1000:7.1f} ms ({len(done)}/{len(self.presses)} answered); "
            f"/drafts p95 {percentile(self.drafts, 95) * 1000:7.1f} ms  "
            f"max {max(self.drafts) * 1000:7.1f} ms; flooder: {self.flooder_answers} "
            f"answers, {self.notices} notice(s)"
        )

    @property
    def within_aim(self) -> bool:
        done = [w for w in self.presses if w == w]
        return (
            len(done) == len(self.presses)
            and percentile(done, 95) < AIM_SECONDS
            and percentile(self.drafts, 95) < AIM_SECONDS
        )


async def editor_asks(server: FakeBotAPI, editor: FakeUser, seconds: float) -> list[float]:
    """``/drafts`` once a second; the time to each answer."""
    loop = asyncio.get_running_loop()
    waits = []
    start = loop.time()
    for k in range(max(1, int(seconds))):
        await asyncio.sleep(max(0.0, start + k + 0.5 - loop.time()))
        sent = loop.time()
        await answered(server, editor, "/drafts")
        waits.append(loop.time() - sent)
    return waits


async def answered(server: FakeBotAPI, user: FakeUser, text: str) -> None:
    """``user`` sends ``text``; returns at the bot's first answer."""
    before = len(user.received())
    user.sends(text)
    await server.wait_for(lambda: len(user.received()) > before, timeout=120)


async def flood(server: FakeBotAPI, post: dict[str, Any], config: Config, name: str) -> Result:
    """The flood, the presses and the editor's questions at once."""
    loop = asyncio.get_running_loop()
    rng = random.Random(SEED)
    data = option_data(post)
    readers = [server.user(FIRST_READER_ID + i, f"R{i}") for i in range(READERS)]
    flooder = server.user(FLOODER_ID, "Flooder", started=True)
    editor = server.fake_users[EDITOR_ID]
    count = max(1, round(config.presses * config.seconds))
    presses = [
        readers[rng.randrange(READERS)].prepares_click(post, data[rng.randrange(len(OPTIONS))])
        for _ in range(count)
    ]
    pushed: list[tuple[str, float]] = []
    flooder_before = len(flooder.received())

    def spam(i: int) -> None:
        flooder.sends(f"hello {i}")

    def press(i: int) -> None:
        server.push_update(presses[i], checked=True)
        pushed.append((str(presses[i]["callback_query"]["id"]), loop.time()))

    async with history_frozen():
        asking = asyncio.create_task(editor_asks(server, editor, config.seconds))
        flooding = offer_at_pace(
            config.messages,
            config.messages / config.seconds,
            spam,
            loop.time,
        )
        await asyncio.gather(flooding, offer_at_pace(count, config.presses, press, loop.time))
        drafts = await asking
        ids = {query for query, _ in pushed}
        await server.wait_for(lambda: ids <= server.callback_answers.keys(), timeout=120)
    answered = {
        str(r.params.get("callback_query_id")): r.time
        for r in server.requests
        if r.method == "answerCallbackQuery"
    }
    await server.wait_idle(quiet=1.5, timeout=300)  # the flooder's backlog, answered
    texts = [body_of(message) for message in flooder.received()[flooder_before:]]
    return Result(
        name,
        presses=[answered.get(query, float("nan")) - at for query, at in pushed],
        drafts=drafts,
        flooder_answers=sum(1 for text in texts if text != RU.too_many_messages),
        notices=texts.count(RU.too_many_messages),
    )


def floor_router() -> Router:
    router = Router(name="floor")

    @router.callback_query()
    async def press(callback: CallbackQuery) -> None:
        await callback.answer("ok")

    @router.message()
    async def message(message: Message) -> None:
        await message.answer("ok")

    return router


@contextlib.asynccontextmanager
async def webhook_bot(server: FakeBotAPI, tmp: Path) -> AsyncIterator[None]:
    room = WebhookNewsroom(server, tmp / "webhook.sqlite3", **BOT_SETTINGS)
    await room.start()
    try:
        yield
    finally:
        await room.stop()
        server.webhook_url = ""  # as deleteWebhook would: later runs may poll
        server.updates.clear()


async def newsroom_post(server: FakeBotAPI) -> dict[str, Any]:
    answer = await exchange(server, server.fake_users[EDITOR_ID], POLL_COMMAND)
    if "/closepoll" not in answer:
        raise RuntimeError(f"the bot did not post the poll: {answer!r}")
    await server.wait_idle(quiet=0.1)
    return server.chat_messages(CHANNEL_ID)[-1]


async def main_async(config: Config) -> int:
    server = FakeBotAPI(token=TOKEN, bot_username=BOT_USERNAME)
    server.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Bench channel")
    server.rate_limits = False
    server.user(EDITOR_ID, "Editor", started=True)
    await server.start()
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with running_floor(server, floor_router()) as bare:
                post = await floor_poll_post(server, bare)
                results.append(await flood(server, post, config, "floor (bare aiogram)"))
            async with running_bot(server, Path(tmp) / "polling", **BOT_SETTINGS):
                post = await newsroom_post(server)
                results.append(await flood(server, post, config, "bot, polling"))
            async with webhook_bot(server, Path(tmp)):
                post = await newsroom_post(server)
                results.append(await flood(server, post, config, "bot, webhook"))
    finally:
        await server.stop()
    print(
        f"flood benchmark: one account sends {config.messages} messages in "
        f"{config.seconds:g} s; readers press {config.presses:g}/s; an editor asks /drafts "
        "every second"
    )
    for result in results:
        print(f"  {result.name:22} {result.line()}")
    floor_presses = [w for w in results[0].presses if w == w]
    for result in results[1:]:
        done = [w for w in result.presses if w == w]
        ratio = percentile(done, 95) / max(percentile(floor_presses, 95), 1e-9)
        print(f"  {result.name}: press p95 {ratio:.1f}× the floor's")
    ok = all(result.within_aim for result in results[1:])
    print(f"p95 under {AIM_SECONDS:g} s for the bot in both modes: {'yes' if ok else 'no'}")
    for error in server.errors:
        print(f"problem: fake server: {error}")
    return 0 if ok and not server.errors else 1


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench.flood",
        description="Other readers' and an editor's answer times while one account floods.",
    )
    parser.add_argument("--messages", type=int, default=200, help="the flood (200 messages)")
    parser.add_argument("--seconds", type=float, default=10.0, help="over this long (10 s)")
    parser.add_argument("--presses", type=float, default=10.0, help="readers' presses a second")
    parser.add_argument("--quick", action="store_true", help="smoke run: 60 messages in 3 s")
    args = parser.parse_args(argv)
    if args.quick:
        return Config(60, 3.0, args.presses)
    if args.messages < 1 or args.seconds <= 0 or args.presses <= 0:
        parser.error("the flood, its length and the presses must be positive")
    return Config(args.messages, args.seconds, args.presses)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
