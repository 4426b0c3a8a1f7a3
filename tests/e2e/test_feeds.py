"""The site's feed as the desk's queue, end to end: a news site on 127.0.0.1 serving RSS,
Atom and JSON Feed, the real bot checking it every second, editors acting on the cards."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.app import create_app
from bot.models import ArticleStatus
from bot.texts import RU
from storage.tables import feeds as feeds_table
from tests.e2e.harness import (
    CHANNEL_ID,
    Newsroom,
    body_of,
    exchange,
    opened,
)
from tests.e2e.test_metrics import Scrape, get
from tests.e2e.webhook_harness import free_port
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.feed_site import ATOM_TYPE, JSON_FEED_TYPE, FeedSite, Item, atom, json_feed, rss
from tests.fakes.users import FakeUser

FEED_SETTINGS: dict[str, Any] = {"feed_allow_private": True, "feed_interval_seconds": 1.0}


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


# "Черновиков из последних материалов: N." in the answer to /feed add … N
DRAFTED = re.escape(RU.feed_added_drafted).replace(re.escape("{count}"), r"(\d+)")


def all_cards(telegram: FakeBotAPI) -> int:
    """Cards the bot has sent, to any chat (editors' or the desk's)."""
    sent = [m for chat in telegram.messages.values() for m in chat]
    return sum("Новый материал из ленты" in body_of(m) for m in sent)


async def add_feed(telegram: FakeBotAPI, user: FakeUser, command: str) -> str:
    """``/feed add …``: its answer, once the cards of the drafts it made have followed."""
    before = len(user.received())
    cards_before = all_cards(telegram)
    user.sends(command)

    def answer() -> str | None:
        for message in user.received()[before:]:
            text = body_of(message)
            if text.startswith(("Лента №", "Ленту не удалось", "Эта лента уже")):
                return text
        return None

    found: str = await telegram.wait_for(answer)
    drafted = re.search(DRAFTED, found)
    if drafted:
        count = int(drafted.group(1))
        await telegram.wait_for(lambda: all_cards(telegram) >= cards_before + count)
    await telegram.wait_idle(quiet=0.05)
    return found


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
    answer = await add_feed(telegram, editor, f"/feed add {site.url('/rss')}")
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
    # Its page could not be read (no network here): the draft is the item, and says so.
    assert "собран из самой ленты" in body_of(card)
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
    # Pressing the stale card again publishes nothing more: the answer says so.
    answered = len(editor.received())
    editor.clicks_data(card, f"card:publish:{article_id}")
    await telegram.wait_for(lambda: len(editor.received()) > answered)
    assert len(telegram.chat_messages(CHANNEL_ID)) == in_channel + 1
    # The history names the editor who pressed the card, not the bot.
    history = await exchange(telegram, editor, f"/history {article_id}")
    published = [line for line in history.splitlines() if "публикация" in line]
    assert published and all(f"({editor.user['id']})" in line for line in published), history


async def test_the_same_item_in_rss_atom_and_json_feed_and_after_a_restart_is_one_draft(
    room: Newsroom, telegram: FakeBotAPI, site: FeedSite, editor: FakeUser
) -> None:
    site.serve("/rss", rss(items(1)))
    site.serve("/atom", atom(items(1)), content_type=ATOM_TYPE)
    site.serve("/json", json_feed(items(1)), content_type=JSON_FEED_TYPE)
    for path in ("/rss", "/atom", "/json"):
        answer = await add_feed(telegram, editor, f"/feed add {site.url(path)}")
        assert "добавлена" in answer and "материалов: 1" in answer, answer
    # Article 2 appears in all three, each spelling its link its own way (scheme, www.,
    # trailing slash, tracking parameters) and with a GUID of its own.
    second = items(2)[0]
    variants = [
        ("/rss", rss, second),
        (
            "/atom",
            atom,
            Item(
                second.title,
                "http://news.example.kz/news/2",
                "atom-2",
                second.text,
                second.published,
            ),
        ),
        (
            "/json",
            json_feed,
            Item(
                second.title,
                "https://news.example.kz/news/2/?utm_medium=x&fbclid=1",
                "json-2",
                second.text,
                second.published,
            ),
        ),
    ]
    for path, render, item in variants:
        site.serve(path, render([item, *items(1)]), content_type=site.resources[path].content_type)
    await telegram.wait_for(lambda: cards(editor), timeout=10)
    # Every feed has been read since the item appeared.
    marks = {path: len(site.requests_to(path)) for path in ("/rss", "/atom", "/json")}
    await telegram.wait_for(
        lambda: all(len(site.requests_to(p)) > n + 1 for p, n in marks.items()), timeout=10
    )
    assert len(await drafts_titled(room, second.title)) == 1
    assert len(cards(editor)) == 1
    # A third article with only a title and date in common (no GUID, another link).
    third = items(3)[0]
    site.serve(
        "/rss",
        rss(
            [
                Item(
                    third.title, "https://mirror.example.org/3", None, third.text, third.published
                ),
                second,
                *items(1),
            ]
        ),
    )
    site.serve("/json", json_feed([third, second, *items(1)]), content_type=JSON_FEED_TYPE)
    await telegram.wait_for(lambda: len(cards(editor)) == 2, timeout=10)
    # After a restart nothing seen comes back.
    await room.restart()
    marks = {path: len(site.requests_to(path)) for path in ("/rss", "/atom", "/json")}
    await telegram.wait_for(
        lambda: all(len(site.requests_to(p)) > n + 1 for p, n in marks.items()), timeout=10
    )
    assert len(await drafts_titled(room, third.title)) == 1
    assert len(cards(editor)) == 2


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("file:///etc/passwd", "только адреса http:// и https://"),
        ("ftp://news.example.kz/feed.xml", "только адреса http:// и https://"),
        ("/page", "не лента RSS, Atom или JSON Feed"),
        ("/broken", "лента повреждена"),
        ("/loop", "больше 5 перенаправлений"),
        ("/missing", "ответил ошибкой 404"),
    ],
)
async def test_bad_feeds_are_refused_with_a_clear_message_and_nothing_is_stored(
    room: Newsroom,
    telegram: FakeBotAPI,
    site: FeedSite,
    editor: FakeUser,
    given: str,
    expected: str,
) -> None:
    site.serve("/page", b"<html><body><p>Just a page</p></body></html>", content_type="text/html")
    site.serve(
        "/broken",
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x',
    )
    site.redirect("/loop", "/loop2")
    site.redirect("/loop2", "/loop")
    url = site.url(given) if given.startswith("/") else given
    answer = await add_feed(telegram, editor, f"/feed add {url}")
    assert "Ленту не удалось добавить" in answer and expected in answer, answer
    assert "Лент пока нет" in await exchange(telegram, editor, "/feeds")
    assert await room.articles() == []


async def test_a_feed_on_a_private_address_is_refused_unless_allowed(
    telegram: FakeBotAPI, site: FeedSite, editor: FakeUser, tmp_path: Path
) -> None:
    room = Newsroom(telegram, tmp_path)  # FEED_ALLOW_PRIVATE off, the default
    await room.start()
    try:
        site.serve("/rss", rss(items(1)))
        for url in (site.url("/rss"), site.url("/rss", host="localhost")):
            answer = await add_feed(telegram, editor, f"/feed add {url}")
            assert "ведёт во внутреннюю сеть" in answer, answer
        assert site.requests == []
    finally:
        await room.stop()


async def test_a_cp1251_feed_items_without_guid_or_date_and_repeated_guids(
    room: Newsroom, telegram: FakeBotAPI, site: FeedSite, editor: FakeUser
) -> None:
    site.serve("/rss", rss(items(1), encoding="windows-1251"), content_type="application/rss+xml")
    answer = await add_feed(telegram, editor, f"/feed add {site.url('/rss')} 1")
    assert "Черновиков из последних материалов: 1" in answer, answer
    (article,) = await room.articles()
    assert article.title == "Новость номер 1"
    assert article.content.paragraphs == ("Первый абзац новости 1.", "Второй абзац новости 1.")
    assert article.content.tags == ("Экономика",)
    odd = [
        Item("Без даты и GUID", "https://news.example.kz/news/7", None, "Текст.", None),
        Item("", "https://news.example.kz/news/8", "g8", "Без заголовка."),
        Item("Повтор GUID", "https://news.example.kz/news/9", "g9", "Первый."),
        Item("Повтор GUID другой", "https://news.example.kz/news/10", "g9", "Второй."),
    ]
    site.serve("/rss2", rss(odd))
    answer = await add_feed(telegram, editor, f"/feed add {site.url('/rss2')} 5")
    assert "Черновиков из последних материалов: 2" in answer, answer
    assert "Пропущено материалов: 2 (без заголовка, повтор GUID)" in answer, answer
    titles = {a.title for a in await room.articles()}
    assert titles == {"Новость номер 1", "Без даты и GUID", "Повтор GUID"}


async def test_a_huge_feed_is_cut_at_the_cap_and_reported(
    telegram: FakeBotAPI, site: FeedSite, editor: FakeUser, tmp_path: Path
) -> None:
    room = Newsroom(telegram, tmp_path, **FEED_SETTINGS, feed_max_bytes=100_000)
    await room.start()
    try:
        site.serve("/huge", b"", endless_chunk=65_536)  # 50 MB and more, never read whole
        answer = await add_feed(telegram, editor, f"/feed add {site.url('/huge')}")
        assert "больше 100000 байт" in answer, answer
    finally:
        await room.stop()


def notices(user: FakeUser, words: str) -> list[dict[str, Any]]:
    return [m for m in user.received() if words in body_of(m)]


async def test_a_failing_feed_is_told_once_and_once_more_when_it_recovers(
    room: Newsroom, telegram: FakeBotAPI, site: FeedSite, editor: FakeUser
) -> None:
    site.serve("/rss", rss(items(1)))
    await add_feed(telegram, editor, f"/feed add {site.url('/rss')}")
    site.serve("/rss", b"", status=500)
    # Checks back off (1, 2, 4 s); the third failure in a row is told, once.
    await telegram.wait_for(lambda: notices(editor, "не проверяется"), timeout=15)
    failing = notices(editor, "не проверяется")
    assert len(failing) == 1 and "ответил ошибкой 500" in body_of(failing[0])
    assert "ошибкой 500" in await exchange(telegram, editor, "/feeds")
    site.serve("/rss", rss(items(1, 2)))
    await telegram.wait_for(lambda: notices(editor, "снова работает"), timeout=20)
    await telegram.wait_for(lambda: cards(editor), timeout=5)
    assert len(notices(editor, "не проверяется")) == 1
    assert len(notices(editor, "снова работает")) == 1


async def test_corrections_update_a_draft_in_place_and_a_published_post_on_apply(
    room: Newsroom, telegram: FakeBotAPI, site: FeedSite, editor: FakeUser
) -> None:
    site.serve("/rss", rss(items(1, 2)))
    await add_feed(telegram, editor, f"/feed add {site.url('/rss')} 2")
    draft_id, post_id = sorted(a.id for a in await room.articles())
    assert "Опубликовано" in await exchange(telegram, editor, f"/publish {post_id}")
    post = telegram.chat_messages(CHANNEL_ID)[-1]
    # The site corrects both: the draft follows at once, the post waits for an editor.
    corrected = [
        Item(f"{i.title} (исправлено)", i.link, i.guid, i.text, i.published, i.categories)
        for i in items(1, 2)
    ]
    site.serve("/rss", rss(corrected))
    await telegram.wait_for(lambda: notices(editor, "Сайт исправил опубликованную"), timeout=10)
    (notice,) = notices(editor, "Сайт исправил опубликованную")
    assert "Было: Новость номер 2" in body_of(notice)
    assert "Стало: Новость номер 2 (исправлено)" in body_of(notice)
    assert f"/apply {post_id}" in body_of(notice)
    async with opened(room.settings) as stores:
        draft = await stores.articles.get(draft_id)
        published = await stores.articles.get(post_id)
    assert draft is not None and draft.title == "Новость номер 1 (исправлено)"
    assert published is not None and published.title == "Новость номер 2"
    assert body_of(telegram.current(post)).startswith("Новость номер 2\n")
    answer = await exchange(telegram, editor, f"/apply {post_id}")
    assert "пост в канале исправлен" in answer, answer
    assert body_of(telegram.current(post)).startswith("Новость номер 2 (исправлено)")
    assert "нет исправлений" in await exchange(telegram, editor, f"/apply {post_id}")
    history = await exchange(telegram, editor, f"/history {post_id}")
    assert "исправление с сайта" in history, history


async def test_auto_feeds_publish_new_items_and_apply_corrections_at_once(
    room: Newsroom, telegram: FakeBotAPI, site: FeedSite, editor: FakeUser
) -> None:
    site.serve("/rss", rss(items(1)))
    answer = await add_feed(telegram, editor, f"/feed add {site.url('/rss')} auto")
    assert "публиковаться в канале сразу" in answer, answer
    site.serve("/rss", rss(items(1, 2)))
    await telegram.wait_for(
        lambda: any(
            body_of(m).startswith("Новость номер 2") for m in telegram.chat_messages(CHANNEL_ID)
        ),
        timeout=10,
    )
    post = telegram.chat_messages(CHANNEL_ID)[-1]
    assert cards(editor) == []
    fixed = [
        Item("Новость номер 2, уточнено", i.link, i.guid, i.text, i.published) for i in items(2)
    ]
    site.serve("/rss", rss([*fixed, *items(1)]))
    await telegram.wait_for(
        lambda: body_of(telegram.current(post)).startswith("Новость номер 2, уточнено"),
        timeout=10,
    )
    assert len(telegram.chat_messages(CHANNEL_ID)) == 1


async def test_reject_turns_a_draft_down_for_good_and_its_cards_say_so(
    room: Newsroom,
    telegram: FakeBotAPI,
    site: FeedSite,
    editor: FakeUser,
    second_editor: FakeUser,
) -> None:
    site.serve("/rss", rss(items(1)))
    await add_feed(telegram, editor, f"/feed add {site.url('/rss')} 1")
    (article,) = await room.articles()
    await telegram.wait_for(lambda: cards(second_editor))
    other = card_of(second_editor, article.id)
    assert "отклонён" in await exchange(telegram, editor, f"/reject {article.id}")
    await telegram.wait_for(lambda: "отклонён" in body_of(telegram.current(other)))
    # Its button now changes nothing; nor does /publish.
    second_editor.clicks_data(other, f"card:publish:{article.id}")
    answer = await exchange(telegram, editor, f"/publish {article.id}")
    assert "Опубликовано" not in answer
    assert telegram.chat_messages(CHANNEL_ID) == []
    # The feed removed and added again: the rejected item never comes back.
    feeds_list = await exchange(telegram, editor, "/feeds")
    assert "№1" in feeds_list
    assert "удалена" in await exchange(telegram, editor, "/feed remove 1")
    answer = await add_feed(telegram, editor, f"/feed add {site.url('/rss')} 1")
    assert "Черновиков" not in answer, answer
    async with opened(room.settings) as stores:
        stored = await stores.articles.get(article.id)
    assert stored is not None and stored.status is ArticleStatus.REJECTED


DESK_GROUP = -1009876543210


async def test_with_a_desk_group_the_card_goes_there_once_and_its_buttons_are_for_editors(
    telegram: FakeBotAPI,
    site: FeedSite,
    editor: FakeUser,
    second_editor: FakeUser,
    reader: FakeUser,
    tmp_path: Path,
) -> None:
    telegram.add_group(DESK_GROUP, "Редакция")
    room = Newsroom(telegram, tmp_path, **FEED_SETTINGS, desk_chat_id=DESK_GROUP)
    await room.start()
    try:
        site.serve("/rss", rss(items(1)))
        await add_feed(telegram, editor, f"/feed add {site.url('/rss')} 1")

        def in_group() -> list[dict[str, Any]]:
            messages = telegram.chat_messages(DESK_GROUP)
            return [m for m in messages if "Новый материал" in body_of(m)]

        await telegram.wait_for(in_group)
        await telegram.wait_idle(quiet=0.1)
        assert len(in_group()) == 1 and cards(editor) == [] and cards(second_editor) == []
        card = in_group()[0]
        press = reader.clicks(card, "Опубликовать")
        answer = await telegram.wait_for(
            lambda: telegram.callback_answer(press["callback_query"]["id"])
        )
        assert "только для редакторов" in answer["text"] and answer.get("show_alert")
        forged = second_editor.clicks_data(card, "card:publish:not-a-number")
        await telegram.wait_for(lambda: telegram.callback_answer(forged["callback_query"]["id"]))
        await telegram.wait_idle(quiet=0.1)
        assert telegram.chat_messages(CHANNEL_ID) == []
        second_editor.clicks(card, "Опубликовать")
        await telegram.wait_for(lambda: telegram.chat_messages(CHANNEL_ID))
        await telegram.wait_for(lambda: "уже опубликован" in body_of(telegram.current(card)))
    finally:
        await room.stop()


async def test_two_instances_on_one_database_check_a_feed_once_and_draft_an_item_once(
    telegram: FakeBotAPI, site: FeedSite, editor: FakeUser, tmp_path: Path
) -> None:
    room = Newsroom(telegram, tmp_path, feed_allow_private=True, feed_interval_seconds=3600)
    await room.start()
    second = await create_app(room.settings)  # another instance: its own connections
    try:
        site.serve("/a", rss(items(1)))
        site.serve("/b", atom(items(1)), content_type=ATOM_TYPE)
        await add_feed(telegram, editor, f"/feed add {site.url('/a')}")
        await add_feed(telegram, editor, f"/feed add {site.url('/b')}")
        site.serve("/a", rss(items(1, 2)))
        site.serve("/b", atom(items(1, 2)), content_type=ATOM_TYPE)
        marks = {path: len(site.requests_to(path)) for path in ("/a", "/b")}
        async with opened(room.settings) as stores, stores.db.transaction() as conn:
            await conn.execute(
                update(feeds_table).values(next_check_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert room.app is not None
        checked = await asyncio.gather(
            room.app.services.feeds.check_due(),
            second.services.feeds.check_due(),
            room.app.services.feeds.check_due(),
            second.services.feeds.check_due(),
        )
        assert sum(checked) == 2  # each feed by one of them
        assert {p: len(site.requests_to(p)) - n for p, n in marks.items()} == {"/a": 1, "/b": 1}
        await telegram.wait_idle(quiet=0.1)
        assert len(await drafts_titled(room, "Новость номер 2")) == 1
        assert len(cards(editor)) == 1
    finally:
        await second.services.feeds.stop()
        await second.services.feeds.close()
        await second.close()
        await room.stop()


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def test_a_new_item_is_read_from_its_article_page_with_its_photo_uploaded_once(
    room: Newsroom, telegram: FakeBotAPI, site: FeedSite, editor: FakeUser
) -> None:
    page = (FIXTURES / "seed_article.html").read_bytes()
    site.serve("/rus/politics/seed.html", page, content_type="text/html; charset=utf-8")
    site.serve("/uploads/2022/04/29/tokayev_wei.jpg", PNG, content_type="image/png")
    site.serve("/rss", rss(items(1)))
    await add_feed(telegram, editor, f"/feed add {site.url('/rss')}")
    item = Item("Заголовок в ленте", site.url("/rus/politics/seed.html"), "seed", "Анонс.")
    site.serve("/rss", rss([item, *items(1)]))
    await telegram.wait_for(lambda: cards(editor), timeout=10)
    (card,) = cards(editor)
    assert "собран из самой ленты" not in body_of(card)
    (article,) = await room.articles()
    assert article.title.startswith("Минобороны КНР")
    assert len(article.content.paragraphs) > 3 and article.photo_file_id is not None
    assert len(site.requests_to("/uploads/2022/04/29/tokayev_wei.jpg")) == 1
    # The photo went up once; the channel post reuses it.
    editor.clicks(card, "Опубликовать")
    await telegram.wait_for(lambda: telegram.chat_messages(CHANNEL_ID))
    post = telegram.chat_messages(CHANNEL_ID)[-1]
    assert "photo" in post and body_of(post).startswith("Минобороны КНР")
    assert len(site.requests_to("/uploads/2022/04/29/tokayev_wei.jpg")) == 1


async def test_feed_checks_are_counted_in_the_metrics_by_outcome(
    telegram: FakeBotAPI, site: FeedSite, editor: FakeUser, tmp_path: Path
) -> None:
    room = Newsroom(telegram, tmp_path, metrics_port=free_port(), **FEED_SETTINGS)
    await room.start()
    try:
        assert room.settings.metrics_port is not None
        url = f"http://127.0.0.1:{room.settings.metrics_port}/metrics"

        async def checks() -> Counter[tuple[str, ...]]:
            return Scrape((await get(url))[1]).by("newsroom_feed_checks_total", "outcome")

        site.serve("/rss", rss(items(1)), etag='"v1"')
        await add_feed(telegram, editor, f"/feed add {site.url('/rss')}")
        await telegram.wait_for(
            lambda: len([r for r in site.requests_to("/rss") if r.status == 304]) >= 2,
            timeout=15,
        )
        site.serve("/rss", b"", status=500)
        await telegram.wait_for(
            lambda: any(r.status == 500 for r in site.requests_to("/rss")), timeout=15
        )
        for _ in range(100):  # the check that got the 500 finishes after the site answered
            counted = await checks()
            if counted[("failed",)]:
                break
            await asyncio.sleep(0.05)
        answered = Counter(r.status for r in site.requests_to("/rss"))
        assert 2 <= counted[("unchanged",)] <= answered[304], (counted, answered)
        assert 1 <= counted[("failed",)] <= answered[500], (counted, answered)
        assert counted[("broken",)] == 0
    finally:
        await room.stop()


async def test_a_feed_showing_many_new_items_is_taken_in_a_few_per_check(
    room: Newsroom, telegram: FakeBotAPI, site: FeedSite, editor: FakeUser
) -> None:
    assert room.app is not None
    room.app.services.feeds.new_per_check = 2
    site.serve("/rss", rss(items(1)), etag='"v1"')
    await add_feed(telegram, editor, f"/feed add {site.url('/rss')}")
    changed_at = len(site.requests_to("/rss"))
    site.serve("/rss", rss(items(1, 2, 3, 4, 5, 6)), etag='"v2"')

    async def drafted() -> list[str]:
        return sorted(a.title for a in await room.articles() if a.title != "Новость номер 1")

    for _ in range(200):  # each check takes two; three checks take all five
        if len(await drafted()) == 5:
            break
        await asyncio.sleep(0.1)
    assert await drafted() == [f"Новость номер {n}" for n in range(2, 7)]
    after = site.requests_to("/rss")[changed_at:]
    # A check that left items behind kept no validators: the next one read the feed whole.
    assert len([r for r in after if r.status == 200]) >= 3, after
    assert all(r.headers.get("If-None-Match") != '"v2"' for r in after[:2]), after
