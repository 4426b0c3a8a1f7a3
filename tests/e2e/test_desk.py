"""The editor's desk end to end: admins manage editors in chat, the history and the
statistics of an article (with reactions from the channel), English for English users."""

from __future__ import annotations

from tests.e2e.harness import (
    ADMIN_ID,
    CHANNEL_ID,
    EDITOR_ID,
    Newsroom,
    exchange,
    expect_answers,
)
from tests.e2e.test_articles import import_seed
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

NEWCOMER_ID = 7001


def chat_scope(user_id: int) -> dict[str, object]:
    return {"type": "chat", "chat_id": user_id}


async def test_admin_adds_an_editor_who_can_work_at_once_and_removes_them(
    newsroom: Newsroom, telegram: FakeBotAPI, admin: FakeUser
) -> None:
    newcomer = telegram.user(NEWCOMER_ID, "Асель", "asel", started=True)
    assert "только редакторам" in await exchange(telegram, newcomer, "/new")

    listing = await exchange(telegram, admin, "/editors")
    assert f"{ADMIN_ID} — администратор" in listing
    assert f"{EDITOR_ID} — редактор из настроек" in listing
    assert str(NEWCOMER_ID) not in listing

    assert "теперь редактор" in await exchange(telegram, admin, f"/addeditor {NEWCOMER_ID}")
    menu = [c["command"] for c in telegram.my_commands(chat_scope(NEWCOMER_ID))]
    assert "new" in menu and "stats" in menu
    # The filter asks the current set: the very next command works.
    assert "Пришлите заголовок" in await exchange(telegram, newcomer, "/new")
    assert "Отменено" in await exchange(telegram, newcomer, "/cancel")
    listing = await exchange(telegram, admin, "/editors")
    assert f"{NEWCOMER_ID} — редактор, добавил {ADMIN_ID}" in listing

    await expect_answers(
        telegram,
        admin,
        [
            (f"/addeditor {NEWCOMER_ID}", "уже редактор"),
            (f"/addeditor {EDITOR_ID}", "уже редактор по настройкам"),
            (f"/removeeditor {EDITOR_ID}", "командой его не убрать"),
            ("/removeeditor 424242", "нет среди редакторов"),
            ("/removeeditor нет", "Укажите id редактора"),
            (f"/removeeditor {NEWCOMER_ID}", "больше не редактор"),
        ],
    )
    assert telegram.my_commands(chat_scope(NEWCOMER_ID)) == []
    assert "только редакторам" in await exchange(telegram, newcomer, "/new")


async def test_addeditor_by_reply_to_a_forward(
    newsroom: Newsroom, telegram: FakeBotAPI, admin: FakeUser, editor: FakeUser
) -> None:
    person = telegram.user(NEWCOMER_ID, "Асель", "asel")  # has never opened the bot
    answered = len(admin.received())
    forwarded = admin.forwards("Привет из редакции", origin=person)
    # A forward is no command: the bot answers it as a message to read.
    await telegram.wait_for(lambda: len(admin.received()) > answered)
    before = len(admin.received())
    admin.replies(forwarded["message"], "/addeditor")
    await telegram.wait_for(lambda: len(admin.received()) > before)
    assert f"{NEWCOMER_ID} теперь редактор" in str(admin.last().get("text"))
    # No chat with the bot yet: the menu comes when they first write.
    assert not any(f"chat_id={NEWCOMER_ID}" in scope for scope, _ in telegram.commands)
    assert "Пришлите заголовок" in await exchange(telegram, person, "/new")
    assert "new" in [c["command"] for c in telegram.my_commands(chat_scope(NEWCOMER_ID))]

    hidden = admin.forwards("Анонимно", hidden_name="Аноним")
    await telegram.wait_idle(quiet=0.05)
    before = len(admin.received())
    admin.replies(hidden["message"], "/addeditor")
    await telegram.wait_for(lambda: len(admin.received()) > before)
    assert "скрыл свой аккаунт" in str(admin.last().get("text"))

    # Editors who are not admins cannot manage editors.
    assert "только администраторам" in await exchange(telegram, editor, "/addeditor 5")


async def test_history_and_stats_with_reactions(
    newsroom: Newsroom,
    telegram: FakeBotAPI,
    editor: FakeUser,
    reader: FakeUser,
    seed_text: str,
) -> None:
    assert "message_reaction_count" in (telegram.allowed_updates or [])
    draft_id = await import_seed(telegram, editor, seed_text)
    assert "Опубликовано" in await exchange(telegram, editor, f"/publish {draft_id}")
    assert "Статус" not in await exchange(telegram, reader, f"/start a{draft_id}")

    history = await exchange(telegram, editor, f"/history {draft_id}")
    lines = history.splitlines()
    assert f"История статьи №{draft_id}" in lines[0]
    assert "Айгерим (1001) · импорт" in lines[1]
    assert "Айгерим (1001) · публикация (успешно)" in lines[2]

    post = telegram.chat_messages(CHANNEL_ID)[-1]
    assert "Реакций пока нет" in await exchange(telegram, editor, f"/stats {draft_id}")
    telegram.reaction_count(CHANNEL_ID, post["message_id"], {"👍": 5, "🔥": 7}, date=2000)
    # Late and older: must not overwrite the newer counts.
    telegram.reaction_count(CHANNEL_ID, post["message_id"], {"👍": 1}, date=1000)
    await telegram.wait_idle(quiet=0.05)
    stats = await exchange(telegram, editor, f"/stats {draft_id}")
    assert "Читателей полного текста: 1" in stats
    assert "Реакции в канале (12): 🔥 7 · 👍 5" in stats
    assert "Опроса нет" in stats

    overview = await exchange(telegram, editor, "/stats")
    assert "Сегодня: опубликовано статей — 1, новых читателей — 1, голосов — 0" in overview
    assert f"№{draft_id} · 1 чит." in overview
    assert "Укажите номер статьи" in await exchange(telegram, editor, "/history")
    assert "Статьи №999 нет" in await exchange(telegram, editor, "/stats 999")


async def test_english_speaking_people_get_english(
    newsroom: Newsroom, telegram: FakeBotAPI, reader: FakeUser, editor: FakeUser
) -> None:
    english = telegram.user(5002, "Reader", "reader_en", language_code="en-GB")
    assert "Hello!" in await exchange(telegram, english, "/start")
    assert "This command is for editors only." in await exchange(telegram, english, "/publish 1")
    assert "Здравствуйте" in await exchange(telegram, reader, "/start")
    english_editor = telegram.user(EDITOR_ID + 50, "Ed", language_code="en")
    assert "only" in await exchange(telegram, english_editor, "/drafts")
    # The channel stays in the newsroom's language whoever publishes.
    assert "Черновиков нет" in await exchange(telegram, editor, "/drafts")
