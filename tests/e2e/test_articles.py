"""The newsroom, end to end over real HTTP: import, preview, photo, publish, read."""

from __future__ import annotations

import functools
from typing import Any

from bot.articles.parsing import parse_article
from bot.models import ArticleStatus
from tests.e2e.harness import (
    BOT_USERNAME,
    CHANNEL_ID,
    EDITOR_ID,
    SECOND_EDITOR_ID,
    Newsroom,
    body_of,
    exchange,
    expect_answers,
)
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser, find_button

SEED_TITLE = (
    'Минобороны КНР: Китай выступает против внешних сил провоцирующих "цветную революцию" '
    "в Казахстане"
)


def channel_posts(telegram: FakeBotAPI) -> list[dict[str, Any]]:
    return telegram.chat_messages(CHANNEL_ID)


def bold_spans(message: dict[str, Any]) -> list[str]:
    text = body_of(message).encode("utf-16-le")
    entities = message.get("entities") or message.get("caption_entities") or []
    return [
        text[e["offset"] * 2 : (e["offset"] + e["length"]) * 2].decode("utf-16-le")
        for e in entities
        if e["type"] == "bold"
    ]


async def import_seed(telegram: FakeBotAPI, editor: FakeUser, seed_text: str) -> int:
    """Import the seed; returns the draft id shown in the confirmation."""
    before = len(editor.received())
    editor.sends("/import\n" + seed_text)
    await telegram.wait_for(lambda: len(editor.received()) >= before + 2)
    confirmation = editor.received()[before + 1]
    assert "/publish " in body_of(confirmation)
    return int(body_of(confirmation).split("/publish ", 1)[1].split()[0])


async def test_seed_import_photo_publish_and_read(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    reader: FakeUser,
    seed_text: str,
) -> None:
    draft_id = await import_seed(telegram, editor, seed_text)
    preview = editor.received()[0]
    # The preview looks as the channel post will: bold title, lead, credit, the button.
    assert bold_spans(preview) == [SEED_TITLE]
    assert "Фото: Акорда" in body_of(preview)
    assert find_button(preview, "Читать полностью")["url"] == (
        f"https://t.me/{BOT_USERNAME}?start=a{draft_id}"
    )
    assert body_of(editor.received()[1]).count(f"/publish {draft_id}") == 1

    # Attach a photo by caption.
    editor.sends_photo(caption=f"/photo {draft_id}")
    await telegram.wait_for(lambda: "Фото прикреплено" in body_of(editor.last()))

    editor.sends(f"/publish {draft_id}")
    await telegram.wait_for(lambda: "Опубликовано" in body_of(editor.last()))
    posts = channel_posts(telegram)
    assert len(posts) == 1
    post = posts[0]
    assert "photo" in post
    assert bold_spans(post) == [SEED_TITLE]
    caption = post["caption"]
    assert caption.startswith(SEED_TITLE + "\n\n" + "В ходе встречи президента Казахстана")
    assert caption.rstrip().endswith("Фото: Акорда\n#RT #Китай")
    assert len(caption.encode("utf-16-le")) // 2 <= 1024
    link = f"https://t.me/c/1234567890/{post['message_id']}"
    assert link in body_of(editor.last())

    # The reader taps "Читать полностью": the deep link arrives as /start a<id>.
    url = find_button(post, "Читать полностью")["url"]
    payload = url.split("?start=", 1)[1]
    reader.sends(f"/start {payload}")
    await telegram.wait_for(lambda: reader.received())
    await telegram.wait_idle()
    full = "\n\n".join(body_of(m) for m in reader.received())
    content = parse_article(seed_text)
    assert full.startswith(SEED_TITLE + "\n29.04.2022, 11:38")
    assert "НУР-СУЛТАН. 29 АПРЕЛЯ — В ходе встречи" in full
    positions = [full.index(p) for p in content.paragraphs]
    assert positions == sorted(positions)  # every paragraph, in order
    assert "Фото: Акорда" in full
    assert "Источник: KAZAKHSTAN TODAY" in full
    assert "новости по теме" not in full and "Новости Китая" not in full

    # Reading twice counts once; a second reader counts too.
    reader.sends(f"/start {payload}")
    other = telegram.user(5002, "Второй")
    other.sends(f"/start {payload}")
    await telegram.wait_for(lambda: other.received())
    await telegram.wait_idle()
    [article] = [a for a in await newsroom.articles() if a.id == draft_id]
    assert article.status is ArticleStatus.PUBLISHED
    assert article.reads == 2
    listing = await exchange(telegram, editor, "/published")
    assert f"№{draft_id} · " in listing and "· 2 чит. · " in listing and link in listing
    assert article.channel_message_id == post["message_id"]


async def test_publishing_twice_is_refused_with_a_link(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    second_editor: FakeUser,
    seed_text: str,
) -> None:
    draft_id = await import_seed(telegram, editor, seed_text)
    # Two editors press /publish at the same moment: exactly one post.
    editor.sends(f"/publish {draft_id}")
    second_editor.sends(f"/publish {draft_id}")
    await telegram.wait_for(lambda: second_editor.received() and len(editor.received()) >= 3)
    await telegram.wait_idle()
    assert len(channel_posts(telegram)) == 1
    replies = [body_of(editor.last()), body_of(second_editor.last())]
    assert sum("Опубликовано" in r for r in replies) == 1
    assert sum("уже опубликована" in r or "публикуется" in r for r in replies) == 1
    editor.sends(f"/publish {draft_id}")
    await telegram.wait_for(lambda: "уже опубликована" in body_of(editor.last()))
    assert "https://t.me/c/1234567890/1" in body_of(editor.last())
    assert len(channel_posts(telegram)) == 1


async def test_reply_with_photo_to_preview_attaches_it(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, seed_text: str
) -> None:
    draft_id = await import_seed(telegram, editor, seed_text)
    preview = editor.received()[0]
    editor.sends_photo(reply_to=preview)
    await telegram.wait_for(
        lambda: f"№{draft_id}" in body_of(editor.last()) and "Фото" in body_of(editor.last())
    )
    [article] = await newsroom.articles()
    assert article.photo_file_id is not None


async def test_import_as_reply_and_as_document(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, seed_text: str
) -> None:
    pasted = editor.sends(seed_text)
    await telegram.wait_idle()
    editor.replies(pasted["message"], "/import")
    await telegram.wait_for(lambda: any("Черновик №1" in body_of(m) for m in editor.received()))
    document = telegram.add_file(seed_text.encode(), "seed.txt", "text/plain")
    editor.sends_document(document, caption="/import")
    await telegram.wait_for(lambda: any("Черновик №2" in body_of(m) for m in editor.received()))
    articles = await newsroom.articles()
    assert [a.title for a in articles] == [SEED_TITLE, SEED_TITLE]
    assert articles[0].content == articles[1].content


async def test_non_editor_is_refused_and_nothing_is_stored(
    newsroom: Newsroom, telegram: FakeBotAPI, reader: FakeUser, seed_text: str
) -> None:
    for command in ["/import\n" + seed_text, "/new", "/drafts", "/publish 1", "/poll Q?\nA\nB"]:
        answer = await exchange(telegram, reader, command)
        assert answer == "Эта команда доступна только редакторам."
    reader.sends_photo(caption="/photo 1")
    await telegram.wait_idle()
    assert await newsroom.articles() == []
    assert channel_posts(telegram) == []


async def test_restart_keeps_drafts_and_published_state(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, seed_text: str
) -> None:
    first = await import_seed(telegram, editor, seed_text)
    second = await import_seed(telegram, editor, seed_text)
    editor.sends(f"/publish {first}")
    await telegram.wait_for(lambda: "Опубликовано" in body_of(editor.last()))
    await newsroom.restart()
    editor.sends("/drafts")
    await telegram.wait_for(lambda: "Черновики" in body_of(editor.last()))
    listing = body_of(editor.last())
    assert f"№{second} · черновик" in listing and f"№{first} " not in listing
    editor.sends(f"/publish {first}")
    await telegram.wait_for(lambda: "уже опубликована" in body_of(editor.last()))
    editor.sends(f"/publish {second}")
    await telegram.wait_for(lambda: "Опубликовано" in body_of(editor.last()))
    assert len(channel_posts(telegram)) == 2


async def test_new_dialog_without_photo_posts_a_text_message(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    steps = [
        ("/new", "заголовок"),
        ("", "Заголовок пуст"),
        ("Новый мост через Иртыш", "текст статьи"),
        ("/done", "ни одного абзаца"),
        ("Первый абзац о мосте. Второе предложение.\n\nВторой абзац.", "абзацев: 2"),
        ("Третий абзац.", "абзацев: 3"),
        ("/done", "фото"),
        ("не фото", "Нужна фотография"),
        ("/skip", "Теги"),
        ("<script>", "Не получилось разобрать теги"),
        ("Павлодар, мосты", "опрос"),
        ("/skip", "Черновик №1"),
    ]
    for text, expected in steps:
        answer = await exchange(telegram, editor, text or " ")
        assert expected in answer, (text, answer)
    editor.sends("/publish 1")
    await telegram.wait_for(lambda: "Опубликовано" in body_of(editor.last()))
    [post] = channel_posts(telegram)
    assert "photo" not in post
    assert post["text"] == (
        "Новый мост через Иртыш\n\nПервый абзац о мосте. Второе предложение.\n\n#Павлодар #мосты"
    )
    [request] = [r for r in telegram.calls("sendMessage") if r.params["chat_id"] == CHANNEL_ID]
    assert request.params["link_preview_options"]["is_disabled"] is True


async def test_cancel_leaves_the_dialog_and_stores_nothing(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    editor.sends("/new")
    editor.sends("Заголовок")
    editor.sends("/cancel")
    await telegram.wait_for(lambda: any("Отменено" in body_of(m) for m in editor.received()))
    assert await newsroom.articles() == []


async def test_hostile_characters_are_shown_literally(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    title = '<b>Взлом</b> & "кавычки" <script>alert(1)</script> 🎉👨‍👩‍👧'
    body = 'Текст с <i>тегами</i>, &amp; сущностями, &lt;, > и <a href="x">ссылкой</a> 😀.'
    editor.sends(f"/import\n{title}\n\n{body}\n\nВторой & абзац <br>.")
    await telegram.wait_for(lambda: len(editor.received()) >= 2)
    editor.sends("/publish 1")
    await telegram.wait_for(lambda: "Опубликовано" in body_of(editor.last()))
    [post] = channel_posts(telegram)
    assert bold_spans(post) == [title]
    assert body in post["text"]
    assert [e["type"] for e in post.get("entities", [])] == ["bold"]
    reader.sends("/start a1")
    await telegram.wait_for(lambda: reader.received())
    full = body_of(reader.last())
    assert title in full and body in full and "Второй & абзац <br>." in full


async def test_long_article_is_split_without_losing_a_character(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    paragraphs = [
        f"Абзац {i}: " + " ".join(f"Предложение {i}.{j} о событиях дня 🎉." for j in range(12))
        for i in range(50)
    ]
    text = "\n\n".join(paragraphs)
    assert len(text) > 20_000
    document = telegram.add_file(f"Длинная статья\n\n{text}".encode(), "long.txt", "text/plain")
    editor.sends_document(document, caption="/import")
    await telegram.wait_for(lambda: len(editor.received()) >= 2)
    editor.sends("/publish 1")
    await telegram.wait_for(lambda: "Опубликовано" in body_of(editor.last()))
    [post] = channel_posts(telegram)
    assert len(post["text"].encode("utf-16-le")) // 2 <= 4096
    reader.sends("/start a1")
    await telegram.wait_for(lambda: len(reader.received()) >= 5)
    await telegram.wait_idle()
    parts = [body_of(m) for m in reader.received()]
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    joined = "\n\n".join(parts)
    positions = [joined.index(p) for p in paragraphs]
    assert positions == sorted(positions)
    assert "".join(joined.split()).count("🎉") == 50 * 12


async def test_start_greets_lists_headlines_and_handles_bad_payloads(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    reader: FakeUser,
    seed_text: str,
) -> None:
    reader.sends("/start")
    await telegram.wait_for(lambda: reader.received())
    assert "Пока нет опубликованных статей" in body_of(reader.last())
    draft_id = await import_seed(telegram, editor, seed_text)
    # A draft is not readable by readers through a guessed link.
    for payload in [f"a{draft_id}", "a999", "garbage", "a-1", "a" + "9" * 40]:
        answer = await exchange(telegram, reader, f"/start {payload}")
        assert "Не удалось найти эту статью" in answer
    editor.sends(f"/publish {draft_id}")
    await telegram.wait_for(lambda: "Опубликовано" in body_of(editor.last()))
    reader.sends("/start")
    await telegram.wait_for(lambda: "Последние публикации" in body_of(reader.last()))
    menu = reader.last()
    reader.clicks(menu, SEED_TITLE[:59].rstrip() + "…")
    await telegram.wait_for(lambda: body_of(reader.last()).startswith(SEED_TITLE))


async def test_editor_commands_are_in_the_menu_only_for_editors(
    newsroom: Newsroom, telegram: FakeBotAPI
) -> None:
    calls = telegram.calls("setMyCommands")
    by_scope = {
        (c.params.get("scope") or {}).get("chat_id", "default"): [
            cmd["command"] for cmd in c.params["commands"]
        ]
        for c in calls
    }
    assert by_scope["default"] == ["start", "help", "search", "top"]
    for editor_id in (EDITOR_ID, SECOND_EDITOR_ID):
        assert {"new", "import", "publish", "drafts", "digest"} <= set(by_scope[editor_id])


async def test_invalid_editor_input_gets_a_clear_message(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    cases = [
        ("/import", "Пришлите текст страницы"),
        ("/import\n   \n\u00a0", "Пришлите текст страницы"),
        ("/import\n29.04.2022, 11:38 27061", "Не нашёл заголовок"),
        ("/import\nТолько заголовок", "Не нашёл текста"),
        ("/publish", "Укажите номер черновика"),
        ("/publish abc", "Укажите номер черновика"),
        ("/publish 77", "Статьи №77 нет"),
        ("/photo 1", "Чтобы прикрепить фото"),
        ("/markpublished 1", "Укажите номер статьи и ссылку"),
        ("/done", "нет открытого диалога"),
    ]
    await expect_answers(telegram, editor, cases)
    editor.sends_photo()
    await telegram.wait_for(lambda: "Чтобы прикрепить фото" in body_of(editor.last()))
    binary = telegram.add_file(b"\x89PNG\r\n\x1a\n\x00\x00", "picture.png", "image/png")
    editor.sends_document(binary, caption="/import")
    await telegram.wait_for(lambda: "Нужен текстовый файл" in body_of(editor.last()))
    cp1251 = telegram.add_file("Заголовок\n\nТекст".encode("cp1251"), "a.txt", "text/plain")
    editor.sends_document(cp1251, caption="/import")
    await telegram.wait_for(lambda: "UTF-8" in body_of(editor.last()))
    assert await newsroom.articles() == []


async def test_dialog_survives_a_restart(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    await exchange(telegram, editor, "/new")
    await exchange(telegram, editor, "Заголовок до перезапуска")
    assert "абзацев: 1" in await exchange(telegram, editor, "Абзац до перезапуска.")
    await newsroom.restart()
    assert "абзацев: 2" in await exchange(telegram, editor, "Абзац после перезапуска.")
    for step in ["/done", "/skip", "/skip"]:
        await exchange(telegram, editor, step)
    assert "Черновик №1" in await exchange(telegram, editor, "/skip")
    [article] = await newsroom.articles()
    assert article.title == "Заголовок до перезапуска"
    assert article.content.paragraphs == ("Абзац до перезапуска.", "Абзац после перезапуска.")


async def test_editing_drafts_and_published_posts(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    await exchange(telegram, editor, "/import\nСтарый заголовок\n\nСтарый абзац. Ещё.")
    answer = await exchange(telegram, editor, "/edit 1\nНовый заголовок\n\nНовый абзац.")
    assert "Черновик №1 обновлён" in answer
    assert bold_spans(editor.received()[-2]) == ["Новый заголовок"]  # the fresh preview
    for text, expected in [
        ("/edit", "Новый текст статьи"),
        ("/edit 1", "Новый текст статьи"),
        ("/edit 9\nЗаголовок\n\nТекст.", "Статьи №9 нет"),
        ("/tags 1 <b>", "Не получилось разобрать теги"),
        ("/summary 1", "Формат: /summary"),
        ("/credit x Фото", "Формат: /credit"),
    ]:
        answer = await exchange(telegram, editor, text)
        assert expected in answer, (text, answer)
    await exchange(telegram, editor, "/publish 1")
    [post] = telegram.chat_messages(CHANNEL_ID)
    answer = await exchange(telegram, editor, "/summary 1 Короткий анонс от редактора <3")
    assert "пост в канале исправлен" in answer
    await exchange(telegram, editor, "/tags 1 Алматы, транспорт")
    await exchange(telegram, editor, "/credit 1 Фото: пресс-служба")
    current = telegram.current(post)
    assert current["text"] == (
        "Новый заголовок\n\nКороткий анонс от редактора <3\n\nФото: пресс-служба\n"
        "#Алматы #транспорт"
    )
    answer = await exchange(telegram, editor, "/edit 1\nИсправленный заголовок\n\nИсправлено.")
    assert "пост в канале исправлен" in answer
    assert telegram.current(post)["text"].startswith("Исправленный заголовок")
    reader.sends("/start a1")
    await telegram.wait_for(lambda: reader.received())
    assert "Исправлено." in body_of(reader.last())
    assert len(telegram.chat_messages(CHANNEL_ID)) == 1


async def test_an_edit_keeps_the_previous_version_and_restore_brings_it_back(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    await exchange(telegram, editor, "/import\nПервый заголовок\n\nПервый абзац. Ещё.")
    answer = await exchange(telegram, editor, "/publish 1")
    assert "Опубликовано" in answer, answer
    [post] = telegram.chat_messages(CHANNEL_ID)
    answer = await exchange(telegram, editor, "/edit 1\nВторой заголовок\n\nВторой абзац.")
    assert "пост в канале исправлен" in answer
    assert telegram.current(post)["text"].startswith("Второй заголовок")
    history = await exchange(telegram, editor, "/history 1")
    assert "Прежние версии (вернуть: /restore 1 <версия>):" in history
    assert history.splitlines()[-1].startswith("1 · «Первый заголовок» · заменена ")
    assert history.splitlines()[-1].endswith(" · Айгерим (1001)")
    answer = await exchange(telegram, editor, "/restore 1 1")
    assert "Статья №1 обновлена, пост в канале исправлен" in answer, answer
    assert telegram.current(post)["text"].startswith("Первый заголовок")
    reader.sends("/start a1")
    await telegram.wait_for(lambda: reader.received())
    assert "Первый абзац." in body_of(reader.last())
    history = await exchange(telegram, editor, "/history 1")
    assert "Айгерим (1001) · возвращена версия (1)" in history
    # The text the restore replaced is a version too: the restore can be undone.
    assert history.splitlines()[-1].startswith("2 · «Второй заголовок» · заменена ")
    for text, expected in [
        ("/restore", "Укажите номер статьи и номер версии"),
        ("/restore 1", "Укажите номер статьи и номер версии"),
        ("/restore 1 x", "Укажите номер статьи и номер версии"),
        ("/restore 1 2 3", "Укажите номер статьи и номер версии"),
        ("/restore 1 7", "У статьи №1 нет версии 7"),
        ("/restore 9 1", "Статьи №9 нет"),
    ]:
        answer = await exchange(telegram, editor, text)
        assert expected in answer, (text, answer)
    assert "только редакторам" in await exchange(telegram, reader, "/restore 1 2")
    assert telegram.current(post)["text"].startswith("Первый заголовок")
    assert len(telegram.chat_messages(CHANNEL_ID)) == 1


async def test_an_editor_who_opens_the_bot_later_gets_the_menu(
    newsroom: Newsroom, telegram: FakeBotAPI
) -> None:
    # EDITOR_ID had never written to the bot when it started: Telegram refused the scope.
    late = telegram.user(EDITOR_ID, "Поздний редактор")
    tries = [
        c
        for c in telegram.calls("setMyCommands")
        if (c.params.get("scope") or {}).get("chat_id") == EDITOR_ID
    ]
    assert tries and not any(c.ok for c in tries)
    await exchange(telegram, late, "/start")
    commands = telegram.my_commands({"type": "chat", "chat_id": EDITOR_ID}) or []
    assert "publish" in [c["command"] for c in commands]


async def test_long_listings_are_split_within_limits(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    title = "Очень длинный заголовок статьи о важных событиях " * 4
    for i in range(45):
        editor.sends(f"/import\n{title.strip()} {i}\n\nТекст.")
    await telegram.wait_for(
        lambda: sum("Черновик №" in body_of(m) for m in editor.received()) == 45, timeout=60
    )
    before = len(editor.received())
    editor.sends("/drafts")
    await telegram.wait_idle(quiet=0.5)
    listing = [body_of(m) for m in editor.received()[before:]]
    assert len(listing) >= 2
    assert all(len(part.encode("utf-16-le")) // 2 <= 4096 for part in listing)
    joined = "\n".join(listing)
    assert all(f"№{i} · черновик" in joined for i in range(1, 46))


async def test_two_editors_changing_different_fields_keep_both(
    newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, second_editor: FakeUser
) -> None:
    await exchange(telegram, editor, "/import\nЗаголовок\n\nТекст.")

    def answered(mine: int, theirs: int) -> bool:
        return len(editor.received()) >= mine + 2 and len(second_editor.received()) >= theirs + 2

    for round_no in range(5):
        mine, theirs = len(editor.received()), len(second_editor.received())
        editor.sends(f"/tags 1 Алматы, раунд{round_no}")
        second_editor.sends(f"/summary 1 Анонс {round_no}")
        # Each edit of a draft is answered with a fresh preview and a note: wait for both.
        await telegram.wait_for(functools.partial(answered, mine, theirs))
        [article] = await newsroom.articles()
        assert article.content.tags == ("Алматы", f"раунд{round_no}")
        assert article.content.summary == f"Анонс {round_no}"


async def test_the_menus_are_there_in_english_too(
    newsroom: Newsroom, telegram: FakeBotAPI
) -> None:
    russian = telegram.my_commands()
    english = telegram.my_commands(language_code="en")
    assert [c["command"] for c in english] == [c["command"] for c in russian]
    start = {c["command"]: c["description"] for c in english}["start"]
    assert start == "Latest articles"
    # An editor who writes gets their menu in both languages.
    late = telegram.user(EDITOR_ID, "Поздний редактор")
    await exchange(telegram, late, "/start")
    scope = {"type": "chat", "chat_id": EDITOR_ID}
    assert "publish" in [c["command"] for c in telegram.my_commands(scope, "en")]
    assert "publish" in [c["command"] for c in telegram.my_commands(scope)]
