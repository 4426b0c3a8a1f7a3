"""The guided ``/new`` dialog: title → text → photo → credit → tags → poll → preview.

Each step validates its input and says exactly what is wrong; ``/cancel`` leaves at
any point and nothing is stored until the last step creates the draft (and its poll, in
the same transaction).
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.articles.drafts import DialogDraft, Drafts
from bot.articles.intake import (
    MAX_ARTICLE_CHARS,
    clean_credit,
    clean_title,
    parse_tags,
    split_paragraphs,
)
from bot.errors import InputError
from bot.models import PollSpec
from bot.polls.rules import parse_poll_spec
from bot.services import Services
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

from .replies import explain, largest_photo

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
    await message.answer(escaped_html(prompt))


async def _take(
    message: Message, state: FSMContext, texts: Texts, **fields: Callable[[str], object]
) -> bool:
    """Validate the message as one dialog field and store it; False (and the reason
    told) when it is not valid."""
    [(name, clean)] = fields.items()
    try:
        value = clean(message.text or "")
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return False
    await state.update_data({name: value})
    return True


async def _finish(
    message: Message, state: FSMContext, spec: PollSpec | None, drafts: Drafts, texts: Texts
) -> None:
    """Store the draft and its poll, then show its preview."""
    assert message.from_user is not None
    draft = DialogDraft.from_state(await state.get_data())
    article = await drafts.create_from_dialog(draft, spec, message.from_user.id)
    await state.clear()
    await message.answer(await drafts.preview(message.chat.id, article, texts=texts))


router = Router(name="new_article")


@router.message(Command("new"))
async def cmd_new(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.clear()
    await _step(message, state, NewArticle.title, texts.new_ask_title)


@router.message(Command("cancel"))
async def cmd_cancel(message: Message, state: FSMContext, texts: Texts) -> None:
    if await state.get_state() is None:
        await message.answer(escaped_html(texts.nothing_to_cancel))
        return
    await state.clear()
    await message.answer(escaped_html(texts.cancelled))


@router.message(NewArticle.title, _PLAIN_TEXT)
async def got_title(message: Message, state: FSMContext, texts: Texts) -> None:
    if await _take(message, state, texts, title=clean_title):
        await state.update_data(paragraphs=[])
        await _step(message, state, NewArticle.text, texts.new_ask_text)


@router.message(NewArticle.text, Command("done"))
async def text_done(message: Message, state: FSMContext, texts: Texts) -> None:
    if not (await state.get_data()).get("paragraphs"):
        await message.answer(escaped_html(texts.new_text_empty))
        return
    await _step(message, state, NewArticle.photo, texts.new_ask_photo)


@router.message(NewArticle.text, _PLAIN_TEXT)
async def got_text(message: Message, state: FSMContext, texts: Texts) -> None:
    assert message.text is not None
    data = await state.get_data()
    paragraphs = [*data.get("paragraphs", []), *split_paragraphs(message.text)]
    if sum(len(p) for p in paragraphs) > MAX_ARTICLE_CHARS:
        await message.answer(escaped_html(texts.new_text_too_long, limit=MAX_ARTICLE_CHARS))
        return
    await state.update_data(paragraphs=paragraphs)
    await message.answer(escaped_html(texts.new_text_added, count=len(paragraphs)))


@router.message(NewArticle.text, ~F.text)
async def not_text(message: Message, texts: Texts) -> None:
    await message.answer(escaped_html(texts.new_text_not_text))


@router.message(NewArticle.photo, Command("skip"))
async def skip_photo(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.update_data(photo=None)
    await _step(message, state, NewArticle.tags, texts.new_ask_tags)


@router.message(NewArticle.photo, F.photo)
async def got_photo(message: Message, state: FSMContext, texts: Texts) -> None:
    assert message.photo
    await state.update_data(photo=largest_photo(message.photo))
    await _step(message, state, NewArticle.credit, texts.new_ask_credit)


@router.message(NewArticle.photo, ~F.text.startswith("/"))
async def photo_expected(message: Message, texts: Texts) -> None:
    await message.answer(escaped_html(texts.new_photo_expected))


@router.message(NewArticle.credit, Command("skip"))
async def skip_credit(message: Message, state: FSMContext, texts: Texts) -> None:
    await _step(message, state, NewArticle.tags, texts.new_ask_tags)


@router.message(NewArticle.credit, _PLAIN_TEXT)
async def got_credit(message: Message, state: FSMContext, texts: Texts) -> None:
    if await _take(message, state, texts, credit=clean_credit):
        await _step(message, state, NewArticle.tags, texts.new_ask_tags)


@router.message(NewArticle.tags, Command("skip"))
async def skip_tags(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.update_data(tags=[])
    await _step(message, state, NewArticle.poll, texts.new_ask_poll)


@router.message(NewArticle.tags, _PLAIN_TEXT)
async def got_tags(message: Message, state: FSMContext, texts: Texts) -> None:
    if await _take(message, state, texts, tags=lambda text: list(parse_tags(text))):
        await _step(message, state, NewArticle.poll, texts.new_ask_poll)


@router.message(NewArticle.poll, Command("skip"))
async def skip_poll(message: Message, state: FSMContext, services: Services, texts: Texts) -> None:
    await _finish(message, state, None, services.drafts, texts)


@router.message(NewArticle.poll, _PLAIN_TEXT)
async def got_poll(message: Message, state: FSMContext, services: Services, texts: Texts) -> None:
    try:
        spec = parse_poll_spec(message.text)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    await _finish(message, state, spec, services.drafts, texts)


@router.message(NewArticle.title, ~F.text)
@router.message(NewArticle.credit, ~F.text)
@router.message(NewArticle.tags, ~F.text)
@router.message(NewArticle.poll, ~F.text)
async def expected_text(message: Message, texts: Texts) -> None:
    await message.answer(escaped_html(texts.new_expected_text))
