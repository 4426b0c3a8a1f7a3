"""aiogram's response models outlive the garbage collector while the bot's session lives."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from aiogram import Bot
from aiogram.methods import GetStarTransactions, Response, TelegramMethod
from aiogram.types import StarTransactions

from bot.telegram.responses import ResponseModels

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
