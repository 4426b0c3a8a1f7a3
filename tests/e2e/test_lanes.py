"""The desk's own line: an editor's command does not wait behind readers' updates, and the
readers' updates still run oldest first (bot/telegram/lanes.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.texts import RU
from tests.e2e.harness import Newsroom, exchange
from tests.e2e.test_articles import import_seed
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

READERS = 8


def first_send_index(telegram: FakeBotAPI, chat_id: int, after: int, text: str = "") -> int:
    """Where the first message to ``chat_id`` (containing ``text``) is among the requests."""
    return next(
        i
        for i, r in enumerate(telegram.requests)
        if i >= after
        and r.method == "sendMessage"
        and r.params.get("chat_id") == chat_id
        and text in str(r.params.get("text", ""))
    )


async def readers_then_editor(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, seed_text: str, **settings: Any
) -> tuple[list[int], int]:
    """With one reader's update at a time and five messages a second, eight readers open
    the full text (over a second to serve, one after another), then the editor sends
    /drafts.  Returns where each reader's first message and the editor's answer are among
    the requests."""
    room = Newsroom(
        telegram, tmp_path, update_concurrency=1, rate_global_per_second=5.0, **settings
    )
    await room.start()
    try:
        draft_id = await import_seed(telegram, editor, seed_text)
        assert "Опубликовано" in await exchange(telegram, editor, f"/publish {draft_id}")
        readers = [telegram.user(7000 + i, f"Reader {i}") for i in range(READERS)]
        await telegram.wait_idle(quiet=0.1)
        before = len(telegram.requests)
        for reader in readers:
            reader.sends(f"/start a{draft_id}")
        answered = len(editor.received())
        editor.sends("/drafts")  # arrives after every reader's update

        await telegram.wait_for(
            lambda: all(r.received() for r in readers) and len(editor.received()) > answered,
            timeout=30,
        )
        firsts = [first_send_index(telegram, r.id, before) for r in readers]
        return firsts, first_send_index(telegram, editor.id, before, RU.drafts_empty)
    finally:
        await room.stop()


async def test_editor_command_overtakes_a_queue_of_readers(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, seed_text: str
) -> None:
    firsts, answer = await readers_then_editor(telegram, tmp_path, editor, seed_text)
    # Readers are served in the order they came (the readers' line is first come,
    # first served) ...
    assert firsts == sorted(firsts)
    # ... and the editor's answer, though last to arrive, is not last to leave: it
    # does not wait for the readers' line (test_no_backlog_… shows it would).
    assert answer < firsts[-1], (answer, firsts)


async def test_no_backlog_keeps_the_editor_in_arrival_order(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, seed_text: str
) -> None:
    """UPDATE_BACKLOG=0: polling takes in only what runs, so the editor's update is not
    even fetched before the readers' are done (the same scenario, the setting's effect)."""
    firsts, answer = await readers_then_editor(
        telegram, tmp_path, editor, seed_text, update_backlog=0
    )
    assert firsts == sorted(firsts)
    assert answer > firsts[-1]
