"""The buttons under a poll: callback data factories and the keyboard rows."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from pydantic import Field

from bot.models import Poll, PollStatus
from bot.polls.rules import option_button_label
from bot.texts import Texts


class Vote(CallbackData, prefix="v"):
    """A reader's press: ``v:<poll>:<option>``, far below the 64-byte limit."""

    poll: int = Field(ge=0, lt=2**31)
    option: int = Field(ge=0, lt=100)


class PreviewVote(CallbackData, prefix="pv"):
    """A press on a poll button in an editor's preview: answered, never counted."""

    poll: int = Field(ge=0, lt=2**31)
    option: int = Field(ge=0, lt=100)


def vote_rows(
    poll: Poll, texts: Texts, *, preview: bool = False
) -> list[list[InlineKeyboardButton]]:
    """One button per option; in an editor's preview they look the same but count
    nothing (``PreviewVote``).  A closed or failed poll has none."""
    if poll.status in (PollStatus.CLOSED, PollStatus.FAILED):
        return []
    factory: type[Vote] | type[PreviewVote] = PreviewVote if preview else Vote
    return [
        [
            InlineKeyboardButton(
                text=option_button_label(poll, i, texts),
                callback_data=factory(poll=poll.id, option=i).pack(),
            )
        ]
        for i in range(len(poll.options))
    ]
