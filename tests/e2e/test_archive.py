"""The outlet's archive, end to end: an editor sends /import with a .zip; one message
shows the progress and ends as the report naming the files skipped; the articles are
readable and searchable, never posted; the same zip again adds nothing; the stop button
works for the editor who started it only."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.models import ArchivedPage, Article, ArticleStatus, ImportedBatch
from storage.tables import articles
from tests.e2e.harness import CHANNEL_ID, Newsroom, body_of, exchange, opened
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEED_TITLE = (
    'Минобороны КНР: Китай выступает против внешних сил провоцирующих "цветную революцию" '
    "в Казахстане"
)


def article_page(n: int) -> bytes:
    """A saved page of the outlet's site, one of a series."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta property="og:type" content="article">
<link rel="canonical" href="https://www.kt.kz/rus/archive/{n}.html">
<meta property="article:published_time" content="2021-03-{1 + n % 28:02d}T10:{n % 60:02d}:00">
</head><body><nav><a href="/">Главная</a></nav><article>
<h1>Архивная новость номер {n} о водопроводе</h1>
<div itemprop="articleBody"><p>АЛМАТЫ. 1 МАРТА - Городские службы сообщили о ремонте
водопровода на улице номер {n}, передает KAZAKHSTAN TODAY.</p>
<p>Работы продлятся до конца недели, движение транспорта будет ограничено.</p></div>
</article><footer>© Kazakhstan Today</footer></body></html>""".encode()


def archive(members: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members:
            zipped.writestr(name, data)
    return buffer.getvalue()


async def stored(newsroom: Newsroom) -> list[Article]:
    """Every article in the database, whatever its status."""
    async with opened(newsroom.settings) as stores:
        async with stores.db.read() as conn:
            ids = (await conn.execute(select(articles.c.id).order_by(articles.c.id))).scalars()
        found = [await stores.articles.get(article_id) for article_id in ids]
    return [article for article in found if article is not None]


def said(user: FakeUser, text: str) -> bool:
    return any(body_of(message) == text for message in user.received())


def send_zip(
    telegram: FakeBotAPI, editor: FakeUser, data: bytes, name: str = "archive.zip"
) -> None:
    document = telegram.add_file(data, name, "application/zip")
    editor.sends_document(document, caption="/import")


def tuned(newsroom: Newsroom, *, batch_size: int) -> None:
    """Every batch shown (no 2-second wait in a test), in small batches."""
    assert newsroom.app is not None
    imports = newsroom.app.services.imports
    imports.every = 0.0
    imports.batch_size = batch_size


def progress_message(editor: FakeUser) -> dict[str, Any]:
    return next(m for m in editor.received() if "Импорт архива" in body_of(m))


async def report(telegram: FakeBotAPI, editor: FakeUser) -> str:
    """The progress message once it has become the final report."""
    message = await telegram.wait_for(
        lambda: next(
            (
                m
                for m in editor.received()
                if body_of(m).startswith(("Импорт архива завершён", "Импорт архива остановлен"))
            ),
            None,
        ),
        timeout=30,
    )
    assert "reply_markup" not in message  # the stop button is gone
    return body_of(message)


async def test_zip_import_shows_progress_and_names_bad_files(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    reader: FakeUser,
) -> None:
    tuned(newsroom, batch_size=5)
    members = [(f"site/{n}.html", article_page(n)) for n in range(20)]
    members += [
        ("seed.html", (FIXTURES / "seed_article.html").read_bytes()),
        ("dumps/seed.txt", (FIXTURES / "seed_article.txt").read_bytes()),  # the same page
        ("broken.html", b"<html><body><p>404</p></body></html>"),
        ("../../etc/evil.txt", b"x"),
        ("inner.zip", archive([("a.txt", b"a")])),
        ("site/files/logo.png", b"\x89PNG not counted"),
    ]
    data = archive(members)
    send_zip(telegram, editor, data)
    text = await report(telegram, editor)
    message = progress_message(editor)
    # The same message showed the progress, edited in place, with its stop button.
    earlier = [body_of(m) for m in telegram.history(message)]
    assert earlier[0] == "Импорт архива: 0 / 25, пропущено 0"
    assert "Импорт архива: 12 / 25, пропущено 2" in earlier
    assert all("reply_markup" in m for m in telegram.history(message))
    assert text.splitlines()[0] == (
        "Импорт архива завершён: добавлено статей — 21, уже были — 1, пропущено файлов — 3."
    )
    assert text.splitlines()[2:] == [
        "Пропущенные файлы:",
        "../../etc/evil.txt — недопустимое имя (путь за пределы архива)",
        "inner.zip — архив внутри архива",
        "broken.html — в файле нет статьи",
    ]

    articles = await stored(newsroom)
    assert len(articles) == 21
    assert {a.status for a in articles} == {ArticleStatus.ARCHIVED}
    assert telegram.chat_messages(CHANNEL_ID) == []  # never posted
    assert (await exchange(telegram, editor, "/drafts")).startswith("Черновиков нет.")

    # Readers find and read them.
    found = await exchange(telegram, reader, "/search водопровод")
    assert "водопровод" in found
    seed = next(a for a in articles if a.title == SEED_TITLE)
    before = len(reader.received())
    reader.sends(f"/start a{seed.id}")
    await telegram.wait_for(lambda: len(reader.received()) > before)
    assert SEED_TITLE in body_of(reader.received()[before])

    # The same zip again: nothing twice.
    send_zip(telegram, editor, data)
    await telegram.wait_for(
        lambda: (
            "добавлено статей — 0, уже были — 22, пропущено файлов — 3" in body_of(editor.last())
        ),
        timeout=30,
    )
    assert len(await stored(newsroom)) == 21


Store = Callable[[Sequence[ArchivedPage], int], Awaitable[ImportedBatch]]


async def test_stop_button_keeps_what_is_in_and_only_its_editor_may_press_it(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    second_editor: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tuned(newsroom, batch_size=4)
    assert newsroom.app is not None
    store = newsroom.app.stores.archive
    real: Store = store.import_archived
    pressed = asyncio.Event()
    batches = 0

    async def held(batch: Sequence[ArchivedPage], author_id: int) -> ImportedBatch:
        """The second batch waits until the stop button was pressed."""
        nonlocal batches
        batches += 1
        if batches == 2:
            await pressed.wait()
        return await real(batch, author_id)

    monkeypatch.setattr(store, "import_archived", held)
    send_zip(telegram, editor, archive([(f"{n}.html", article_page(n)) for n in range(20)]))
    await telegram.wait_for(lambda: said(editor, "Импорт архива: 4 / 20, пропущено 0"))
    message = progress_message(editor)

    # One import per editor at a time.
    send_zip(telegram, editor, archive([("x.html", article_page(99))]))
    await telegram.wait_for(lambda: "импорт архива ещё идёт" in body_of(editor.last()))

    # Another editor's press does nothing.
    other = second_editor.clicks(message, "Остановить импорт")
    await telegram.wait_for(lambda: telegram.callback_answer(other["callback_query"]["id"]))
    answer = telegram.callback_answer(other["callback_query"]["id"])
    assert answer is not None
    assert answer["text"] == "Остановить импорт может только тот, кто его начал."

    press = editor.clicks(message, "Остановить импорт")
    await telegram.wait_for(lambda: telegram.callback_answer(press["callback_query"]["id"]))
    answer = telegram.callback_answer(press["callback_query"]["id"])
    assert answer is not None and answer["text"] == "Останавливаю импорт…"
    pressed.set()

    text = await report(telegram, editor)
    assert text == (
        "Импорт архива остановлен на 8 / 20: добавлено статей — 8 (они остаются), "
        "уже были — 0, пропущено файлов — 0."
    )
    assert len(await stored(newsroom)) == 8


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        (b"PK\x03\x04 not really a zip", "Это не zip-архив, или он повреждён."),
        (
            archive([("readme.md", b"# no pages")]),
            "В архиве нет страниц: нужны файлы .txt, .html или .htm.",
        ),
    ],
)
async def test_a_zip_that_cannot_be_imported_is_refused(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, data: bytes, answer: str
) -> None:
    send_zip(telegram, editor, data)
    await telegram.wait_for(lambda: said(editor, answer))
    assert await stored(newsroom) == []


async def test_a_zip_over_telegrams_download_limit_is_refused_unread(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    document = telegram.add_file(b"PK", "huge.zip", "application/zip")
    document["file_size"] = 20 * 1024 * 1024 + 1
    editor.sends_document(document, caption="/import")
    await telegram.wait_for(lambda: said(editor, "Архив слишком большой: не больше 20 МБ."))
    assert telegram.calls("getFile") == []
