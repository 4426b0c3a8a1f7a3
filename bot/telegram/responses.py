"""Keeping aiogram's response models alive, so they are built once per bot, not per request.

aiogram parses every answer with ``Response[method.__returning__]``, a pydantic generic.
pydantic (2.13) caches a generic's parametrisations in a ``WeakValueDictionary`` only, and
a model class lives in reference cycles, so the next run of the cyclic garbage collector
drops it and the next request builds the class again (about 1.4 ms here, more than
aiogram's whole work for a button press).  Under a vote storm the collector runs all the
time and most answers paid for a new class.  Holding one strong reference per returning
type, for as long as the bot's session lives, turns that into a dictionary look-up.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware

from bot.telegram.request_types import Method, Next, Response, T


class ResponseModels(BaseRequestMiddleware):
    """A request middleware that holds the response model of every method it has seen."""

    def __init__(self) -> None:
        self.kept: dict[Any, type[Response[Any]]] = {}

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
        returning = method.__returning__
        if returning not in self.kept:
            self.kept[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)
