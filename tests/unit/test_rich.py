"""The rich full text (rendering, limits), its delivery with the classic fallback, the
fake server's checks of sendRichMessage, and withdrawing an article (/delete)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputRichBlockList,
    InputRichBlockListItem,
    InputRichBlockParagraph,
    InputRichBlockTable,
    InputRichMessage,
    RichBlockTableCell,
)

from bot.articles.reading import (
    FullTextForm,
    Reading,
    ReadOutcome,
    RichRefused,
    RichUnsupported,
)
from bot.articles.rich import rich_full_text, rich_size
from bot.articles.withdrawal import PostTooOld, Withdrawal, WithdrawOutcome
from bot.failures import Failure, FailureKind
from bot.models import Article, ArticleContent, ArticleStatus, ChannelPost
from bot.repositories import Revision
from bot.texts import RU
from tests.backends import Backend
from tests.fakes.rich import check_rich_message, rich_plain
from tests.fakes.stores import MemoryArticles, stores
from tests.fakes.validation import validate

HOSTILE = '<b>жирный</b> & "кавычки" &amp; <script>x</script>'


def content(**changes: Any) -> ArticleContent:
    values: dict[str, Any] = {
        "title": "Заголовок",
        "paragraphs": ("Первый абзац.", "Второй абзац.", "Третий."),
        "dateline": "АЛМАТЫ. 1 МАЯ",
        "source": "KAZAKHSTAN TODAY",
        "photo_credit": "Фото: Акорда",
        "original_published_at": datetime(2022, 4, 29, 11, 38),  # noqa: DTZ001 - local, as parsed
    }
    values.update(changes)
    return ArticleContent(**values)


def dumped(message: InputRichMessage) -> list[dict[str, Any]]:
    return list(message.model_dump(mode="json", exclude_none=True)["blocks"])


# --- rendering ---------------------------------------------------------------------------


def test_blocks_in_order_heading_date_photo_paragraphs_footer() -> None:
    message = rich_full_text(content(), photo_file_id="PHOTO")
    assert message is not None
    blocks = dumped(message)
    assert [b["type"] for b in blocks] == [
        "heading", "paragraph", "photo", "paragraph", "paragraph", "paragraph", "footer",
    ]  # fmt: skip
    assert blocks[0] == {"type": "heading", "text": "Заголовок", "size": 1}
    assert blocks[1]["text"] == {"type": "italic", "text": "29.04.2022, 11:38"}
    assert blocks[2]["photo"]["media"] == "PHOTO"
    assert blocks[2]["caption"] == {"text": "Фото: Акорда"}
    assert blocks[3]["text"] == [
        {"type": "bold", "text": "АЛМАТЫ. 1 МАЯ"},
        " — ",
        "Первый абзац.",
    ]
    assert [rich_plain(b) for b in blocks[4:6]] == ["Второй абзац.", "Третий."]
    assert blocks[6] == {"type": "footer", "text": "Источник: KAZAKHSTAN TODAY"}


def test_without_a_photo_the_credit_is_an_italic_paragraph_and_blanks_are_dropped() -> None:
    message = rich_full_text(
        content(paragraphs=("  ", "Текст.", ""), source=None, original_published_at=None),
        published=datetime(2024, 1, 2, 3, 4, tzinfo=UTC),
        tz=UTC,
    )
    assert message is not None
    blocks = dumped(message)
    assert [b["type"] for b in blocks] == ["heading", "paragraph", "paragraph", "paragraph"]
    assert rich_plain(blocks[1]) == "02.01.2024, 03:04"
    assert rich_plain(blocks[2]) == "АЛМАТЫ. 1 МАЯ — Текст."
    assert blocks[3]["text"] == {"type": "italic", "text": "Фото: Акорда"}


def test_hostile_text_is_kept_literally_and_the_fake_accepts_it() -> None:
    message = rich_full_text(
        content(title=HOSTILE, paragraphs=(HOSTILE,), photo_credit=HOSTILE, source=HOSTILE),
        photo_file_id="PHOTO",
    )
    assert message is not None
    blocks = dumped(message)
    assert blocks[0]["text"] == HOSTILE
    assert blocks[2]["caption"]["text"] == HOSTILE
    assert blocks[3]["text"][-1] == HOSTILE
    assert blocks[-1]["text"] == f"Источник: {HOSTILE}"
    # Plain text, not escaped: the fake's strict mode would flag "&amp;" added by escaping,
    # so here the article's own "&amp;" is checked with strict mode off.
    errors, _, _ = check_rich_message(
        message.model_dump(mode="json", exclude_none=True), strict=False
    )
    assert errors == []


def test_an_article_over_the_limits_is_left_to_the_classic_form() -> None:
    # heading, date, 496 paragraphs, the credit, the footer: 500 blocks.
    many = tuple(f"Абзац {i}." for i in range(496))
    fitting = rich_full_text(content(paragraphs=many))
    assert fitting is not None and rich_size(fitting).blocks == 500
    assert rich_full_text(content(paragraphs=(*many, "Ещё один."))) is None
    long = ("я" * 16_000, "ю" * 16_000)
    assert rich_full_text(content(paragraphs=long)) is not None
    assert rich_full_text(content(paragraphs=(*long, "э" * 800))) is None


def test_size_counts_nested_blocks_list_items_table_rows_media_and_utf16() -> None:
    cell = RichBlockTableCell(text="ячейка", align="left", valign="top")
    nested = InputRichBlockList(
        items=[
            InputRichBlockListItem(blocks=[InputRichBlockParagraph(text="😀")]),
            InputRichBlockListItem(blocks=[InputRichBlockParagraph(text="ab")]),
        ]
    )
    table = InputRichBlockTable(cells=[[cell, cell], [cell, cell], [cell, cell]])
    size = rich_size(InputRichMessage(blocks=[nested, table]))
    # list + 2 items + 2 paragraphs + table + 3 rows; the emoji is 2 UTF-16 units.
    assert size.blocks == 9
    assert size.depth == 3
    assert size.characters == 2 + 2 + 6 * 6
    assert size.media == 0
    photo = rich_full_text(content(), photo_file_id="PHOTO")
    assert photo is not None and rich_size(photo).media == 1


# --- the fake server's checks ---------------------------------------------------------


def rich_errors(rich: Any) -> list[str]:
    return validate("sendRichMessage", {"chat_id": 1, "rich_message": rich}).errors


def test_fake_accepts_the_bot_message_and_rejects_malformed_ones() -> None:
    message = rich_full_text(content(), photo_file_id="PHOTO")
    assert message is not None
    assert rich_errors(message.model_dump(mode="json", exclude_none=True)) == []
    assert rich_errors({}) != []  # no form
    assert rich_errors({"html": "<p>x</p>", "blocks": [{"type": "paragraph", "text": "x"}]})
    assert rich_errors({"blocks": [{"type": "paragraf", "text": "x"}]})
    assert rich_errors({"blocks": [{"type": "paragraph"}]})
    assert rich_errors({"blocks": [{"type": "heading", "text": "x", "size": 9}]})


def test_fake_enforces_the_limits_and_flags_escaped_text() -> None:
    para = {"type": "paragraph", "text": "x"}
    assert rich_errors({"blocks": [para] * 500}) == []
    assert any("too many blocks" in e for e in rich_errors({"blocks": [para] * 501}))
    big = {"type": "paragraph", "text": "я" * 32_768}
    assert rich_errors({"blocks": [big]}) == []
    assert any("too long" in e for e in rich_errors({"blocks": [big, para]}))
    deep: dict[str, Any] = para
    for _ in range(16):
        deep = {"type": "list", "items": [{"blocks": [deep]}]}
    assert any("nested too deep" in e for e in rich_errors({"blocks": [deep]}))
    escaped = {"type": "paragraph", "text": "&lt;b&gt; и &amp;"}
    assert any("fake-strict" in e for e in rich_errors({"blocks": [escaped]}))


# --- delivery --------------------------------------------------------------------------


class FakeChat:
    def __init__(self, rich_error: Exception | None = None) -> None:
        self.rich_error = rich_error
        self.sent: list[tuple[str, Any, InlineKeyboardMarkup | None]] = []

    async def send_rich(
        self, message: InputRichMessage, keyboard: InlineKeyboardMarkup | None
    ) -> None:
        self.sent.append(("rich", message, keyboard))
        if self.rich_error is not None:
            raise self.rich_error

    async def send_html(self, html: str, keyboard: InlineKeyboardMarkup | None) -> None:
        self.sent.append(("html", html, keyboard))


async def published(articles: MemoryArticles, **changes: Any) -> Article:
    article = await articles.create(content(**changes), author_id=1)
    claimed = await articles.claim(article.id)
    assert claimed is not None
    done = await articles.mark_published(claimed.attempt, ChannelPost("@news", 7))
    assert done is not None
    return done


KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="По теме", url="https://example.com")]]
)


async def test_rich_by_default_with_the_keyboard_under_it() -> None:
    articles, _ = stores()
    article = await published(articles)
    reading = Reading(articles, RU, UTC)
    chat = FakeChat()
    assert await reading.deliver(article, chat, KEYBOARD) is FullTextForm.RICH
    assert [(kind, keyboard) for kind, _, keyboard in chat.sent] == [("rich", KEYBOARD)]


async def test_unknown_method_falls_back_and_is_remembered() -> None:
    articles, _ = stores()
    article = await published(articles)
    reading = Reading(articles, RU, UTC)
    chat = FakeChat(RichUnsupported("Not Found"))
    assert await reading.deliver(article, chat, KEYBOARD) is FullTextForm.CLASSIC
    assert [kind for kind, _, _ in chat.sent] == ["rich", "html"]
    assert chat.sent[-1][2] == KEYBOARD  # under the last classic part
    second = FakeChat()
    assert await reading.deliver(article, second) is FullTextForm.CLASSIC
    assert [kind for kind, _, _ in second.sent] == ["html"]


async def test_a_refused_message_goes_classic_without_giving_up_rich() -> None:
    articles, _ = stores()
    article = await published(articles)
    reading = Reading(articles, RU, UTC)
    assert await reading.deliver(article, FakeChat(RichRefused("bad"))) is FullTextForm.CLASSIC
    assert reading.rich_available
    assert await reading.deliver(article, FakeChat()) is FullTextForm.RICH


async def test_an_unknown_outcome_is_not_sent_again_in_another_form() -> None:
    articles, _ = stores()
    article = await published(articles)
    chat = FakeChat(TimeoutError("no answer"))
    with pytest.raises(TimeoutError):
        await Reading(articles, RU, UTC).deliver(article, chat)
    assert [kind for kind, _, _ in chat.sent] == ["rich"]


async def test_classic_setting_and_oversized_articles_send_html() -> None:
    articles, _ = stores()
    article = await published(articles)
    chat = FakeChat()
    reading = Reading(articles, RU, UTC, FullTextForm.CLASSIC)
    assert await reading.deliver(article, chat) is FullTextForm.CLASSIC
    huge = await published(articles, paragraphs=tuple("абзац" for _ in range(600)))
    chat = FakeChat()
    assert await Reading(articles, RU, UTC).deliver(huge, chat) is FullTextForm.CLASSIC
    assert chat.sent and {kind for kind, _, _ in chat.sent} == {"html"}


async def test_reading_a_withdrawn_article() -> None:
    articles, _ = stores()
    article = await published(articles)
    assert await articles.withdraw(article.id) is not None
    reading = Reading(articles, RU, UTC)
    chat = FakeChat()
    assert await reading.read(article.id, 9, chat, is_editor=False) is ReadOutcome.WITHDRAWN
    assert chat.sent == []
    assert await reading.read(article.id, 9, chat, is_editor=True) is ReadOutcome.SENT
    assert articles.reads == set()


# --- withdrawal --------------------------------------------------------------------------


class FakeChannel:
    def __init__(self, *, too_old: bool = False, broken: bool = False) -> None:
        self.too_old = too_old
        self.broken = broken
        self.deleted: list[int] = []
        self.stubbed: list[int] = []
        self.locks: dict[int, asyncio.Lock] = {}

    def post_link(self, message_id: int, chat: str | None = None) -> str:
        return f"https://t.me/news/{message_id}"

    def message_lock(self, message_id: int) -> asyncio.Lock:
        return self.locks.setdefault(message_id, asyncio.Lock())

    async def delete_post(self, article: Article) -> None:
        await asyncio.sleep(0)
        if self.too_old:
            raise PostTooOld("message can't be deleted for everyone")
        assert article.channel_message_id is not None
        self.deleted.append(article.channel_message_id)

    async def stub_post(self, article: Article) -> None:
        if self.broken:
            raise RuntimeError("chat not found")
        assert article.channel_message_id is not None
        self.stubbed.append(article.channel_message_id)


async def test_withdraw_deletes_a_fresh_post_once_even_when_asked_twice_at_once() -> None:
    articles, _ = stores()
    article = await published(articles)
    channel = FakeChannel()
    service = Withdrawal(articles, channel)
    results = await asyncio.gather(service.withdraw(article.id), service.withdraw(article.id))
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == [WithdrawOutcome.ALREADY_WITHDRAWN, WithdrawOutcome.DELETED]
    assert channel.deleted == [7] and channel.stubbed == []


async def test_withdraw_stubs_an_old_post_without_trying_to_delete_it() -> None:
    articles, _ = stores()
    article = await published(articles)
    channel = FakeChannel()
    later = lambda: datetime.now(UTC) + timedelta(hours=49)  # noqa: E731
    result = await Withdrawal(articles, channel, now=later).withdraw(article.id)
    assert result.outcome is WithdrawOutcome.STUBBED and result.link == "https://t.me/news/7"
    assert channel.deleted == [] and channel.stubbed == [7]


async def test_withdraw_stubs_when_telegram_refuses_the_delete() -> None:
    articles, _ = stores()
    article = await published(articles)
    channel = FakeChannel(too_old=True)
    result = await Withdrawal(articles, channel).withdraw(article.id)
    assert result.outcome is WithdrawOutcome.STUBBED and channel.stubbed == [7]


async def test_withdraw_reports_a_post_it_could_not_change() -> None:
    articles, _ = stores()
    article = await published(articles)
    channel = FakeChannel(too_old=True, broken=True)
    result = await Withdrawal(articles, channel).withdraw(article.id)
    assert result.outcome is WithdrawOutcome.POST_UNCHANGED
    assert result.reason == Failure(FailureKind.ERROR, "RuntimeError: chat not found")
    stored = await articles.get(article.id)
    assert stored is not None and stored.status is ArticleStatus.WITHDRAWN


async def test_withdraw_refuses_drafts_and_unknown_ids() -> None:
    articles, _ = stores()
    draft = await articles.create(content(), author_id=1)
    channel = FakeChannel()
    service = Withdrawal(articles, channel)
    assert (await service.withdraw(draft.id)).outcome is WithdrawOutcome.NOT_PUBLISHED
    assert (await service.withdraw(999)).outcome is WithdrawOutcome.NOT_FOUND
    stored = await articles.get(draft.id)
    assert stored is not None and stored.status is ArticleStatus.DRAFT
    assert channel.deleted == channel.stubbed == []


# --- storage -------------------------------------------------------------------------------


async def test_withdraw_is_decided_once_across_connections(backend: Backend) -> None:
    """Two processes (two connection pools on one database) withdraw at once."""
    first, second = await backend.open(), await backend.open()
    repo, other = first.articles, second.articles
    article = await repo.create(content(), author_id=1)
    assert await repo.withdraw(article.id) is None  # a draft
    claimed = await repo.claim(article.id)
    assert claimed is not None
    await repo.mark_published(claimed.attempt, ChannelPost("@news", 7))
    results = await asyncio.gather(repo.withdraw(article.id), other.withdraw(article.id))
    [won] = [r for r in results if r is not None]
    assert won.status is ArticleStatus.WITHDRAWN and won.withdrawn_at is not None
    assert await repo.latest_published(10) == []
    assert await repo.revise(article.id, Revision(lambda c: c, allow_published=True)) is None
    rows = await backend.fetch_all(
        first, "SELECT status, channel_message_id FROM articles WHERE id = ?", article.id
    )
    assert rows == [("withdrawn", 7)]  # the archive keeps it, as withdrawn
