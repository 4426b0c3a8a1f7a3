"""Two lines for the updates in hand: the desk's (editors) and everyone else's, and in
the readers' line one running update per account.

Polling takes in at most ``UPDATE_CONCURRENCY + UPDATE_BACKLOG`` updates at a time
(bot/telegram/polling.py) and stops fetching when that many are unfinished.
Of those, at most ``UPDATE_CONCURRENCY`` of the readers' updates run at once; the others
wait here, oldest first (``asyncio.Semaphore`` and ``asyncio.Lock`` serve their waiters in
order).  An editor's update has its own line, so a ``/publish`` sent while three hundred
readers wait for the full text of a viral article runs at once, not after all of them (as
the burst bench shows).  In webhook mode Telegram holds the waiting updates in its own
connections, and the webhook handler takes the slot itself, so an update that waited until
a stop began is handed back to Telegram rather than run (by the webhook server).

One account cannot stall the others.  Its answers go out at its chat's one message a
second, so an account that floods would hold every reader slot waiting for its own
budget, and fill what polling takes in.  So a reader's update first waits for its
account's turn (one running update per account) *without* a slot, then for a slot; and
an account has at most ``ACCOUNT_BACKLOG`` updates waiting behind its running one.  The
surplus is turned away, never silently: the first message of the flood gets one notice
("too many at once, send again"), each button press a toast asking to press again (a
vote is not counted behind the reader's back).  Editors are never turned away: their
updates are few, trusted, and each may be a publication.

A slot is taken before any of aiogram's middlewares run: the dialog's storage and its
isolation lock are touched only by updates that run, and the order in which updates reach
their line is the order they came in.  Being an editor is the desk's rule
(the editors' registry), asked without a query (``Editors.known``) for the same reason.
An editor added a moment ago may take the readers' line until the set is reloaded; a line
is not a right.  Telegram sets the sender, so nobody can put themselves in the desk's line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import Enum

from aiogram import Bot
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update

from bot.telegram.refusals import count, expected_refusal
from bot.texts import texts_for_user

logger = logging.getLogger(__name__)

# Editors are a handful of people: this bounds what they can start at once.
DESK_SLOTS = 8
# A reader's updates that may wait behind the one running (its chat's budget answers
# about one a second, so this is a few seconds of answers); more are turned away.
ACCOUNT_BACKLOG = 5

IsEditor = Callable[[int], bool]


class Admission(Enum):
    """What becomes of an update in its line."""

    RUN = "run"
    TELL = "tell"  # turned away: the first of a flood, the account is told once
    DROP = "drop"  # turned away: the account was told already


@dataclass
class _Account:
    """One reader's updates in hand: its turn (one running at a time) and how many."""

    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    in_hand: int = 0
    told: bool = False  # the notice of this flood went; reset once it is all answered


class UpdateLanes:
    """The desk's line and the readers' line, each a bounded first-come-first-served one,
    the readers' with one running update and a bounded backlog per account.

    Each line counts the updates running in it and those waiting for a slot, for the
    metrics (read at a scrape, so counting costs two additions per update).
    """

    names = ("desk", "readers")

    def __init__(
        self,
        is_editor: IsEditor,
        reader_slots: int,
        desk_slots: int = DESK_SLOTS,
        *,
        language: str = "ru",
        account_backlog: int = ACCOUNT_BACKLOG,
    ) -> None:
        self._is_editor = is_editor
        self.readers = asyncio.Semaphore(reader_slots)
        self.desk = asyncio.Semaphore(desk_slots)
        self.language = language
        self.account_backlog = account_backlog
        self._accounts: dict[int, _Account] = {}
        self.turned_away = 0
        self._running = dict.fromkeys(self.names, 0)
        self._waiting = dict.fromkeys(self.names, 0)

    def lane_of(self, update: Update) -> str:
        user = UserContextMiddleware.resolve_event_context(update).user
        if user is not None and self._is_editor(user.id):
            return "desk"
        return "readers"

    def running(self, lane: str) -> int:
        return self._running[lane]

    def waiting(self, lane: str) -> int:
        return self._waiting[lane]

    @contextlib.asynccontextmanager
    async def slot(self, update: Update) -> AsyncIterator[Admission]:
        """Wait for a slot in ``update``'s line and hold it (``RUN``), or turn it away."""
        user = UserContextMiddleware.resolve_event_context(update).user
        lane = self.lane_of(update)
        if user is None or lane == "desk" or not _may_turn_away(update):
            async with self._counted(lane, contextlib.nullcontext()):
                yield Admission.RUN
            return
        account = self._accounts.setdefault(user.id, _Account())
        if account.in_hand > self.account_backlog:
            self.turned_away += 1
            admission = Admission.DROP if account.told else Admission.TELL
            account.told = True
            yield admission
            return
        account.in_hand += 1
        try:
            # The account's turn first, without a slot: its backlog costs nobody a slot.
            async with self._counted(lane, account.turn):
                yield Admission.RUN
        finally:
            account.in_hand -= 1
            if account.in_hand == 0:
                del self._accounts[user.id]

    @contextlib.asynccontextmanager
    async def _counted(
        self, lane: str, turn: contextlib.AbstractAsyncContextManager[object]
    ) -> AsyncIterator[None]:
        """Wait for ``turn`` and then a slot in ``lane``, counted as waiting, then hold the
        slot, counted as running."""
        line = self.desk if lane == "desk" else self.readers
        async with contextlib.AsyncExitStack() as held:
            self._waiting[lane] += 1
            try:
                await held.enter_async_context(turn)
                await held.enter_async_context(line)
            finally:
                self._waiting[lane] -= 1
            self._running[lane] += 1
            try:
                yield
            finally:
                self._running[lane] -= 1

    async def turn_away(self, bot: Bot, update: Update, admission: Admission) -> None:
        """Tell the reader their update was not taken: a toast for each press, one message
        per flood.  Telegram's expected refusals (the chat is gone, the bot blocked, the
        query too old) are only counted."""
        user = UserContextMiddleware.resolve_event_context(update).user
        texts = texts_for_user(user.language_code if user else None, self.language)
        try:
            if update.callback_query is not None:
                await bot.answer_callback_query(
                    update.callback_query.id, text=texts.too_many_presses
                )
            elif admission is Admission.TELL and update.message is not None:
                await bot.send_message(update.message.chat.id, texts.too_many_messages)
        except TelegramAPIError as exc:
            refusal = expected_refusal(exc)
            if refusal is None:
                raise
            count(refusal)
            logger.info("Update %s turned away; the notice refused: %s", update.update_id, refusal)


def _may_turn_away(update: Update) -> bool:
    """What a reader sends or presses; what Telegram tells about them (a blocked bot, a
    membership) always runs."""
    return any(
        event is not None
        for event in (
            update.message,
            update.edited_message,
            update.callback_query,
            update.inline_query,
        )
    )
