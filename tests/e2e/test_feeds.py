"""The site's feed as the desk's queue, end to end: a news site on 127.0.0.1 serving RSS,
Atom and JSON Feed, the real bot checking it every second, editors acting on the cards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.models import ArticleStatus
from storage.tables import feeds as feeds_table
from tests.e2e.harness import (
    CHANNEL_ID,
    EDITOR_ID,
    SECOND_EDITOR_ID,
    Newsroom,
    body_of,
    exchange,
    opened,
)
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.feed_site import ATOM_TYPE, JSON_FEED_TYPE, FeedSite, Item, atom, json_feed, rss
from tests.fakes.users import FakeUser

FEED_SETTINGS: dict[str, Any] = {"feed_allow_private": True, "feed_interval_seconds": 1.0}


@pytest.fixture
async def site() -> AsyncIterator[FeedSite]:
    server = FeedSite()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def room(telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Newsroom]:
    newsroom = Newsroom(telegram, tmp_path, **FEED_SETTINGS)
    await newsroom.start()
    try:
        yield newsroom
    finally:
        await newsroom.stop()


def items(*numbers: int, **changes: Any) -> list[Item]:
    """Items numbered as the site numbers its articles, newest first."""
    return [
        Item(
            title=changes.get("title", f"Новость номер {n}"),
            link=f"https://www.news.example.kz/news/{n}/?utm_source=rss",
            guid=f"news-{n}",
            text=changes.get("text", f"Первый абзац новости {n}.\n\nВторой абзац новости {n}."),
            published=datetime(2026, 12, 7, 9, 0, tzinfo=UTC) + timedelta(minutes=n),
            categories=("Экономика",),
        )
        for n in sorted(numbers, reverse=True)
    ]


def cards(user: FakeUser) -> list[dict[str, Any]]:
    return [m for m in user.received() if "Новый материал из ленты" in body_of(m)]


def card_of(user: FakeUser, article_id: int) -> dict[str, Any]:
    return next(m for m in cards(user) if f"черновик №{article_id} " in body_of(m))


async def drafts_titled(room: Newsroom, title: str) -> list[int]:
    return [a.id for a in await room.articles() if a.title == title]


async def test_a_feed_is_recorded_as_seen_and_each_new_item_becomes_a_draft_with_a_card(
    room: Newsroom,
    telegram: FakeBotAPI,
    site: FeedSite,
    editor: FakeUser,
    second_editor: FakeUser,
) -> None:
    site.serve("/rss", rss(items(1, 2)), etag='"v1"')
    answer = await exchange(telegram, editor, f"/feed add {site.url('/rss')}")
    assert "Лента №1 добавлена" in answer and "материалов: 2" in answer, answer
    assert "черновиками" in answer
    # The site publishes a third article: one draft, one card per editor.
    site.serve("/rss", rss(items(1, 2, 3)), etag='"v2"')
    await telegram.wait_for(lambda: cards(editor) and cards(second_editor), timeout=10)
    await telegram.wait_idle(quiet=0.1)
    (article_id,) = await drafts_titled(room, "Новость номер 3")
    assert await drafts_titled(room, "Новость номер 1") == []
    card = card_of(editor, article_id)
    assert "news.example.kz/news/3" in body_of(card) and f"/publish {article_id}" in body_of(card)
    # The post exactly as the channel will show it came before the card.
    previews = [m for m in editor.received() if body_of(m).startswith("Новость номер 3")]
    assert previews, editor.received()[-3:]
    # Conditional GET: the stored ETag is sent, and an unchanged feed is a 304.
    await telegram.wait_for(
        lambda: any(r.status == 304 for r in site.requests_to("/rss")), timeout=10
    )
    assert any(r.headers.get("If-None-Match") == '"v2"' for r in site.requests_to("/rss"))
    # "Опубликовать" on one card publishes; both editors' cards now say so.
    in_channel = len(telegram.chat_messages(CHANNEL_ID))
    editor.clicks(card, "Опубликовать")
    await telegram.wait_for(lambda: len(telegram.chat_messages(CHANNEL_ID)) > in_channel)
    other = card_of(second_editor, article_id)
    await telegram.wait_for(
        lambda: "уже опубликован" in body_of(telegram.current(other)), timeout=5
    )
    assert "reply_markup" not in telegram.current(other)
    post = telegram.chat_messages(CHANNEL_ID)[-1]
    assert body_of(post).startswith("Новость номер 3")
    # Pressing the stale card again publishes nothing more.
    editor.clicks_data(card, f"card:publish:{article_id}")
    await telegram.wait_idle(quiet=0.2)
    assert len(telegram.chat_messages(CHANNEL_ID)) == in_channel + 1
