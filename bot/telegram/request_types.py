"""aiogram's request-middleware signature in short names.

Every request middleware of the bot is ``__call__(self, make_request: Next[T], bot: Bot,
method: Method[T]) -> Response[T]``: spelled once here instead of aiogram's long names in
each of them.
"""

from aiogram.client.session.middlewares.base import NextRequestMiddlewareType as Next
from aiogram.methods import Response
from aiogram.methods import TelegramMethod as Method
from aiogram.methods.base import TelegramType as T

__all__ = ["Method", "Next", "Response", "T"]
