"""The fake Bot API's inline mode: ``inline_query`` updates and answerInlineQuery rules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineQueryResultArticle, InputTextMessageContent

from tests.fakes.botapi_server import FakeBotAPI


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    made = server.make_bot()
    yield made
    await made.session.close()


def article(result_id: str, text: str = "Текст") -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=result_id,
        title="Заголовок",
        input_message_content=InputTextMessageContent(message_text=text),
    )


async def test_inline_query_needs_inline_mode(server: FakeBotAPI) -> None:
    user = server.user(7, "Ann")
    with pytest.raises(AssertionError, match="inline mode is off"):
        user.types_inline("слово")


async def test_inline_query_update_and_answer(server: FakeBotAPI, bot: Bot) -> None:
    server.enable_inline_mode()
    assert (await bot.get_me()).supports_inline_queries
    update = server.user(7, "Ann").types_inline("слово")
    [fetched] = await bot.get_updates()
    assert fetched.inline_query is not None and fetched.inline_query.query == "слово"
    query_id = update["inline_query"]["id"]
    assert await bot.answer_inline_query(query_id, [article("1")], cache_time=30)
    answer = server.inline_answer(query_id)
    assert answer is not None and answer["results"][0]["id"] == "1"
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_inline_query(query_id, [article("1")])  # answered already


@pytest.mark.parametrize(
    ("results", "error"),
    [
        ([article(str(n)) for n in range(51)], "RESULTS_TOO_MUCH"),
        ([article("1"), article("1")], "RESULT_ID_DUPLICATE"),
        ([article("x" * 65)], "RESULT_ID_INVALID"),
        ([article("1", "x" * 4097)], "must be 1-4096 characters"),
    ],
)
async def test_answer_rules(
    server: FakeBotAPI, bot: Bot, results: list[InlineQueryResultArticle], error: str
) -> None:
    server.enable_inline_mode()
    query_id = server.user(7, "Ann").types_inline("q")["inline_query"]["id"]
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.answer_inline_query(query_id, results)  # type: ignore[arg-type]
    assert server.inline_answer(query_id) is None
    server.errors.clear()  # the bad requests above were the point
