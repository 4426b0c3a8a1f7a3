"""aiogram's response models outlive the garbage collector while the bot's session lives."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.methods import GetStarTransactions, Response, TelegramMethod
from aiogram.types import StarTransactions

from bot.app import create_bot
from bot.settings import Settings
from bot.telegram.responses import ResponseModels
from tests.e2e.harness import TOKEN

# A method nothing else in the test run asks for, so nothing else holds its model.
METHOD = GetStarTransactions()


async def answer(bot: Bot, method: TelegramMethod[Any]) -> Response[Any]:
    return Response[StarTransactions](ok=True, result=StarTransactions(transactions=[]))


def test_pydantic_drops_an_unheld_response_model() -> None:
    """What the middleware works around: a parametrised generic lives only while held."""
    model = weakref.ref(Response[StarTransactions])
    gc.collect()
    assert model() is None


async def test_a_seen_methods_response_model_survives_collection() -> None:
    models = ResponseModels()
    bot = Bot("42:TEST")
    try:
        response = await models(answer, bot, METHOD)
        assert response.ok
        model = weakref.ref(Response[StarTransactions])
        del response
        gc.collect()
        assert model() is not None
        assert Response[StarTransactions] is model()
    finally:
        await bot.session.close()


async def test_the_bots_session_carries_the_middleware(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        bot_token=TOKEN,
        channel_id="-1001234567890",
        database_path=tmp_path / "n.sqlite3",
    )
    bot, _ = create_bot(settings)
    try:
        assert any(isinstance(m, ResponseModels) for m in bot.session.middleware)
    finally:
        await bot.session.close()
