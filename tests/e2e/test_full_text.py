"""The full text as one rich message, the classic form, the fallback on an old Bot API
server, and withdrawing a published article (/delete)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.articles.parsing import parse_article
from bot.models import Article, ArticleStatus
from tests.e2e.harness import CHANNEL_ID, Newsroom, body_of, exchange, opened
from tests.e2e.test_articles import SEED_TITLE, import_seed
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.rich import rich_plain
from tests.fakes.users import FakeUser


@asynccontextmanager
async def running(
    telegram: FakeBotAPI, tmp_path: Path, form: str | None = None
) -> AsyncIterator[Newsroom]:
    """The bot with the product's default full-text form, or ``form``."""
    room = Newsroom(telegram, tmp_path)
    if form is None:
        room.settings = room.settings.model_copy(
            update={"full_text_form": type(room.settings).model_fields["full_text_form"].default}
        )
    else:
        room.settings = room.settings.model_copy(update={"full_text_form": form})
    await room.start()
    try:
        yield room
    finally:
        await room.stop()


async def stored(room: Newsroom, article_id: int) -> Article | None:
    async with opened(room.settings) as stores:
        return await stores.articles.get(article_id)


async def publish_seed(
    telegram: FakeBotAPI, editor: FakeUser, seed_text: str, *, photo: bool = True
) -> tuple[int, dict[str, Any]]:
    draft_id = await import_seed(telegram, editor, seed_text)
    if photo:
        editor.sends_photo(caption=f"/photo {draft_id}")
        await telegram.wait_for(lambda: "Фото прикреплено" in body_of(editor.last()))
    answer = await exchange(telegram, editor, f"/publish {draft_id}")
    assert "Опубликовано" in answer, answer
    return draft_id, telegram.chat_messages(CHANNEL_ID)[-1]


def article_sends(telegram: FakeBotAPI, user: FakeUser) -> list[str]:
    """The methods the bot used to send this user an article's text."""
    return [
        r.method
        for r in telegram.requests
        if r.method in ("sendRichMessage", "sendMessage") and r.params.get("chat_id") == user.id
    ]


async def test_reader_gets_the_seed_article_as_one_rich_message(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, reader: FakeUser, seed_text: str
) -> None:
    async with running(telegram, tmp_path) as room:
        article_id, _ = await publish_seed(telegram, editor, seed_text)
        reader.sends(f"/start a{article_id}")
        await telegram.wait_for(lambda: reader.received())
        await telegram.wait_idle(quiet=0.05)
        assert article_sends(telegram, reader) == ["sendRichMessage"]
        [rich] = reader.received_rich()
        blocks = rich["blocks"]
        types = [b["type"] for b in blocks]
        content = parse_article(seed_text)
        assert types == ["heading", "paragraph", "photo"] + ["paragraph"] * len(
            content.paragraphs
        ) + ["footer"]
        assert blocks[0]["text"] == SEED_TITLE and blocks[0]["size"] == 1
        assert rich_plain(blocks[1]) == "29.04.2022, 11:38"
        assert blocks[2]["caption"]["text"] == "Фото: Акорда"
        assert blocks[2]["photo"][-1]["file_id"]  # the photo Telegram stored
        body = [rich_plain(b) for b in blocks[3:-1]]
        assert body[0] == "НУР-СУЛТАН. 29 АПРЕЛЯ — " + content.paragraphs[0]
        assert body[1:] == list(content.paragraphs[1:])  # every paragraph, in order
        assert blocks[-1] == {"type": "footer", "text": "Источник: KAZAKHSTAN TODAY"}
        article = await stored(room, article_id)
        assert article is not None and article.reads == 1


async def test_hostile_text_stays_literal_in_the_rich_message(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, reader: FakeUser
) -> None:
    title = '<b>Взлом</b> & "кавычки" <script>alert(1)</script>'
    body = "Текст с <i>тегами</i>, & амперсандом, < и > 😀."
    async with running(telegram, tmp_path):
        editor.sends(f"/import\n{title}\n\n{body}")
        await telegram.wait_for(lambda: len(editor.received()) >= 2)
        assert "Опубликовано" in await exchange(telegram, editor, "/publish 1")
        reader.sends("/start a1")
        await telegram.wait_for(lambda: reader.received_rich())
        [rich] = reader.received_rich()
        assert rich["blocks"][0]["text"] == title
        assert body in [rich_plain(b) for b in rich["blocks"]]


async def test_classic_setting_sends_split_html_messages(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, reader: FakeUser, seed_text: str
) -> None:
    async with running(telegram, tmp_path, form="classic"):
        article_id, _ = await publish_seed(telegram, editor, seed_text)
        reader.sends(f"/start a{article_id}")
        await telegram.wait_for(lambda: reader.received())
        await telegram.wait_idle(quiet=0.05)
        assert telegram.calls("sendRichMessage") == []
        assert reader.received_rich() == []
        assert body_of(reader.received()[0]).startswith(SEED_TITLE + "\n29.04.2022, 11:38")


async def test_old_server_falls_back_to_classic_once_and_remembers(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, reader: FakeUser, seed_text: str
) -> None:
    telegram.behave_as_old_server()
    async with running(telegram, tmp_path):
        article_id, _ = await publish_seed(telegram, editor, seed_text)
        reader.sends(f"/start a{article_id}")
        await telegram.wait_for(lambda: reader.received())
        await telegram.wait_idle(quiet=0.05)
        [tried] = telegram.calls("sendRichMessage")
        assert tried.status == 404
        assert article_sends(telegram, reader)[0] == "sendRichMessage"
        assert set(article_sends(telegram, reader)[1:]) == {"sendMessage"}
        assert body_of(reader.received()[0]).startswith(SEED_TITLE)
        # The next reader costs no failed try.
        other = telegram.user(5002, "Второй")
        other.sends(f"/start a{article_id}")
        await telegram.wait_for(lambda: other.received())
        await telegram.wait_idle(quiet=0.05)
        assert len(telegram.calls("sendRichMessage")) == 1
        assert set(article_sends(telegram, other)) == {"sendMessage"}
        assert body_of(other.received()[0]).startswith(SEED_TITLE)


async def test_delete_within_48_hours_deletes_the_post(
    telegram: FakeBotAPI,
    tmp_path: Path,
    editor: FakeUser,
    second_editor: FakeUser,
    reader: FakeUser,
    seed_text: str,
) -> None:
    async with running(telegram, tmp_path) as room:
        article_id, post = await publish_seed(telegram, editor, seed_text)
        answer = await exchange(telegram, editor, f"/delete {article_id}")
        assert "снята с публикации: пост удалён" in answer
        [deleted] = telegram.calls("deleteMessage")
        assert deleted.ok and deleted.params["message_id"] == post["message_id"]
        assert telegram.chat_messages(CHANNEL_ID) == []
        article = await stored(room, article_id)
        assert article is not None and article.status is ArticleStatus.WITHDRAWN
        assert article.withdrawn_at is not None
        # Once: a second /delete (by anyone) changes nothing.
        answer = await exchange(telegram, second_editor, f"/delete {article_id}")
        assert "уже снята с публикации" in answer
        assert len(telegram.calls("deleteMessage")) == 1
        # Readers no longer see it among the headlines.
        assert "Пока нет опубликованных статей" in await exchange(telegram, reader, "/start")


async def test_delete_of_an_old_post_leaves_a_stub(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, seed_text: str
) -> None:
    async with running(telegram, tmp_path) as room:
        article_id, post = await publish_seed(telegram, editor, seed_text)
        telegram.age_message(CHANNEL_ID, post["message_id"], hours=49)
        answer = await exchange(telegram, editor, f"/delete {article_id}")
        assert "заменён пометкой «снято с публикации»" in answer
        assert f"https://t.me/c/1234567890/{post['message_id']}" in answer
        # Telegram refused the delete (too old); the post now says it was withdrawn.
        [refused] = telegram.calls("deleteMessage")
        assert refused.status == 400
        current = telegram.current(post)
        assert current["caption"] == "Материал снят с публикации."
        assert "reply_markup" not in current
        article = await stored(room, article_id)
        assert article is not None and article.status is ArticleStatus.WITHDRAWN
        # The stub stays: a withdrawn article is not edited back into the channel.
        answer = await exchange(telegram, editor, f"/summary {article_id} Новый анонс")
        assert "снята с публикации, её нельзя изменить" in answer
        assert telegram.current(post)["caption"] == "Материал снят с публикации."


async def test_reader_opening_a_withdrawn_article_is_told_so(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, reader: FakeUser, seed_text: str
) -> None:
    async with running(telegram, tmp_path) as room:
        article_id, _ = await publish_seed(telegram, editor, seed_text, photo=False)
        await exchange(telegram, editor, f"/delete {article_id}")
        answer = await exchange(telegram, reader, f"/start a{article_id}")
        assert answer == "Эта статья снята с публикации."
        assert article_sends(telegram, reader) == ["sendMessage"]  # the note only
        article = await stored(room, article_id)
        assert article is not None and article.reads == 0


async def test_delete_of_a_draft_or_unknown_id_changes_nothing(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, seed_text: str
) -> None:
    async with running(telegram, tmp_path) as room:
        draft_id = await import_seed(telegram, editor, seed_text)
        answer = await exchange(telegram, editor, f"/delete {draft_id}")
        assert "не опубликована (статус: черновик)" in answer
        assert "Статьи №999 нет" in await exchange(telegram, editor, "/delete 999")
        assert "/delete 12" in await exchange(telegram, editor, "/delete")
        assert "/delete 12" in await exchange(telegram, editor, "/delete abc")
        article = await stored(room, draft_id)
        assert article is not None and article.status is ArticleStatus.DRAFT
        assert telegram.calls("deleteMessage") == []
        assert telegram.chat_messages(CHANNEL_ID) == []
