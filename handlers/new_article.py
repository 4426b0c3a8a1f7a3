"""The guided ``/new`` dialog: title → text → photo → credit → tags → poll → preview.

Each step validates its input and says exactly what is wrong; ``/cancel`` leaves at
any point and nothing is stored until the last step creates the draft.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.articles.intake import (
    MAX_ARTICLE_CHARS,
    InputError,
    clean_credit,
    clean_title,
    parse_tags,
    split_paragraphs,
)
from bot.models import ArticleContent
from bot.polls.board import PollBoard
from bot.polls.rules import PollSpec, parse_poll_spec
from bot.telegram.channel import Channel
from bot.texts import Texts
from storage.sqlite.articles import ArticleRepository

from .replies import explain, plain, send_preview

# A message that is text but not a command: commands keep working inside the dialog.
_PLAIN_TEXT = F.text & ~F.text.startswith("/")


class NewArticle(StatesGroup):
    title = State()
    text = State()
    photo = State()
    credit = State()
    tags = State()
    poll = State()


async def _step(message: Message, state: FSMContext, step: State, prompt: str) -> None:
    """Move the dialog to ``step`` and ask for what it needs."""
    await state.set_state(step)
    await message.answer(plain(prompt))


async def cmd_new(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.clear()
    await _step(message, state, NewArticle.title, texts.new_ask_title)


async def cmd_cancel(message: Message, state: FSMContext, texts: Texts) -> None:
    if await state.get_state() is None:
        await message.answer(plain(texts.nothing_to_cancel))
        return
    await state.clear()
    await message.answer(plain(texts.cancelled))


async def got_title(message: Message, state: FSMContext, texts: Texts) -> None:
    try:
        title = clean_title(message.text)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    await state.update_data(title=title, paragraphs=[])
    await _step(message, state, NewArticle.text, texts.new_ask_text)


async def got_text(message: Message, state: FSMContext, texts: Texts) -> None:
    assert message.text is not None
    data = await state.get_data()
    paragraphs: list[str] = [*data.get("paragraphs", []), *split_paragraphs(message.text)]
    if sum(len(p) for p in paragraphs) > MAX_ARTICLE_CHARS:
        await message.answer(plain(texts.new_text_too_long, limit=MAX_ARTICLE_CHARS))
        return
    await state.update_data(paragraphs=paragraphs)
    await message.answer(plain(texts.new_text_added, count=len(paragraphs)))


async def text_done(message: Message, state: FSMContext, texts: Texts) -> None:
    data = await state.get_data()
    if not data.get("paragraphs"):
        await message.answer(plain(texts.new_text_empty))
        return
    await _step(message, state, NewArticle.photo, texts.new_ask_photo)


async def not_text(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.new_text_not_text))


async def got_photo(message: Message, state: FSMContext, texts: Texts) -> None:
    assert message.photo
    largest = max(message.photo, key=lambda size: size.width * size.height)
    await state.update_data(photo=largest.file_id)
    await _step(message, state, NewArticle.credit, texts.new_ask_credit)


async def skip_photo(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.update_data(photo=None)
    await _step(message, state, NewArticle.tags, texts.new_ask_tags)


async def photo_expected(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.new_photo_expected))


async def got_credit(message: Message, state: FSMContext, texts: Texts) -> None:
    try:
        credit = clean_credit(message.text or "")
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    await state.update_data(credit=credit)
    await _step(message, state, NewArticle.tags, texts.new_ask_tags)


async def skip_credit(message: Message, state: FSMContext, texts: Texts) -> None:
    await _step(message, state, NewArticle.tags, texts.new_ask_tags)


async def got_tags(message: Message, state: FSMContext, texts: Texts) -> None:
    try:
        tags = parse_tags(message.text or "")
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    await state.update_data(tags=list(tags))
    await _step(message, state, NewArticle.poll, texts.new_ask_poll)


async def skip_tags(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.update_data(tags=[])
    await _step(message, state, NewArticle.poll, texts.new_ask_poll)


async def got_poll(
    message: Message,
    state: FSMContext,
    channel: Channel,
    articles: ArticleRepository,
    board: PollBoard,
    texts: Texts,
) -> None:
    try:
        spec = parse_poll_spec(message.text)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    await _finish(
        message, state, spec, channel=channel, articles=articles, board=board, texts=texts
    )


async def skip_poll(
    message: Message,
    state: FSMContext,
    channel: Channel,
    articles: ArticleRepository,
    board: PollBoard,
    texts: Texts,
) -> None:
    await _finish(
        message, state, None, channel=channel, articles=articles, board=board, texts=texts
    )


async def _finish(
    message: Message,
    state: FSMContext,
    spec: PollSpec | None,
    *,
    channel: Channel,
    articles: ArticleRepository,
    board: PollBoard,
    texts: Texts,
) -> None:
    """Store the draft (and its poll) and show its preview."""
    data = await state.get_data()
    content = ArticleContent(
        title=data["title"],
        paragraphs=tuple(data["paragraphs"]),
        photo_credit=data.get("credit"),
        tags=tuple(data.get("tags", ())),
    )
    assert message.from_user is not None
    article = await articles.create(content, message.from_user.id, photo_file_id=data.get("photo"))
    poll = None
    if spec is not None:
        poll = await board.polls.create(
            spec.question,
            spec.options,
            message.from_user.id,
            intro=spec.intro,
            article_id=article.id,
        )
    await state.clear()
    await send_preview(
        message, article, channel=channel, articles=articles, texts=texts, poll=poll
    )


async def expected_text(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.new_expected_text))


def setup(editor_ids: frozenset[int]) -> Router:
    router = Router(name="new_article")
    router.message.filter(F.chat.type == ChatType.PRIVATE, F.from_user.id.in_(editor_ids))
    router.message.register(cmd_new, Command("new"))
    router.message.register(cmd_cancel, Command("cancel"))

    router.message.register(got_title, NewArticle.title, _PLAIN_TEXT)
    router.message.register(expected_text, NewArticle.title, ~F.text)

    router.message.register(text_done, NewArticle.text, Command("done"))
    router.message.register(got_text, NewArticle.text, _PLAIN_TEXT)
    router.message.register(not_text, NewArticle.text, ~F.text)

    router.message.register(skip_photo, NewArticle.photo, Command("skip"))
    router.message.register(got_photo, NewArticle.photo, F.photo)
    router.message.register(photo_expected, NewArticle.photo, ~F.text.startswith("/"))

    router.message.register(skip_credit, NewArticle.credit, Command("skip"))
    router.message.register(got_credit, NewArticle.credit, _PLAIN_TEXT)
    router.message.register(expected_text, NewArticle.credit, ~F.text)

    router.message.register(skip_tags, NewArticle.tags, Command("skip"))
    router.message.register(got_tags, NewArticle.tags, _PLAIN_TEXT)
    router.message.register(expected_text, NewArticle.tags, ~F.text)

    router.message.register(skip_poll, NewArticle.poll, Command("skip"))
    router.message.register(got_poll, NewArticle.poll, _PLAIN_TEXT)
    router.message.register(expected_text, NewArticle.poll, ~F.text)
    return router
