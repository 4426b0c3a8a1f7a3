"""The people on the other side: helpers that push the updates real users would cause.

Every helper returns the pushed Update dict, so a test can refer to the message or
callback query it created (``update["message"]``, ``update["callback_query"]["id"]``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from tests.fakes.state import BotState, ChatState
from tests.fakes.telegram_html import sizeof

__all__ = ["FakeUser"]

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities, as Telegram adds them to incoming text."""
    return [
        {
            "type": "bot_command",
            "offset": sizeof(text[: m.start()]),
            "length": sizeof(m.group(0)),
        }
        for m in _COMMAND.finditer(text)
    ]


def find_button(message: dict[str, Any], label: str) -> dict[str, Any]:
    """The inline button with this label, or AssertionError listing the labels there are."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    buttons = [button for row in rows for button in row]
    for button in buttons:
        if button.get("text") == label:
            return dict(button)
    labels = [b.get("text") for b in buttons]
    raise AssertionError(
        f"no button {label!r} in message {message['message_id']} of chat "
        f"{message['chat']['id']}; its buttons: {labels}"
    )


class FakeUser:
    """A Telegram user; their private chat with the bot has the same id."""

    def __init__(
        self,
        state: BotState,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        language_code: str = "ru",
        started: bool = False,
    ) -> None:
        self.state = state
        self.id = user_id
        self.first_name = first_name
        self.username = username
        self.user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        if username:
            self.user["username"] = username
        state.users[user_id] = self.user
        existing = state.chats.get(user_id)
        self.private_chat: ChatState = existing or ChatState(
            id=user_id, type="private", first_name=first_name, username=username
        )
        self.private_chat.started = self.private_chat.started or started
        state.chats[user_id] = self.private_chat

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.first_name!r})"

    @property
    def chat(self) -> dict[str, Any]:
        """The private chat as a Chat dict."""
        return self.private_chat.as_chat()

    # -- writing to the bot ---------------------------------------------------------------

    def _push_message(
        self, chat: ChatState, content: dict[str, Any], kind: str = "message"
    ) -> dict[str, Any]:
        if chat.type == "private":
            chat.started = True  # writing to a bot (e.g. /start) lets it answer
            chat.blocked = False
        message = self.state.new_message(chat, from_user=self.user, **content)
        update = {kind: copy.deepcopy(message)}
        update_id = self.state.push_update(update)
        return {**update, "update_id": update_id}

    @staticmethod
    def _text_content(text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if entities := command_entities(text):
            content["entities"] = entities
        return content

    def sends(self, text: str) -> dict[str, Any]:
        """A text message in the private chat; /commands get bot_command entities."""
        return self._push_message(self.private_chat, self._text_content(text))

    def forwards(
        self, text: str, origin: FakeUser | None = None, *, hidden_name: str | None = None
    ) -> dict[str, Any]:
        """A message of ``origin`` forwarded to the bot; ``hidden_name``: the sender hides
        their account in forwards (Telegram gives only the name)."""
        forward_origin: dict[str, Any]
        if origin is not None:
            forward_origin = {"type": "user", "date": 1_700_000_000, "sender_user": origin.user}
        else:
            forward_origin = {
                "type": "hidden_user",
                "date": 1_700_000_000,
                "sender_user_name": hidden_name or "Hidden",
            }
        content = {"text": text, "forward_origin": copy.deepcopy(forward_origin)}
        return self._push_message(self.private_chat, content)

    def replies(self, to_message: dict[str, Any], text: str) -> dict[str, Any]:
        """A reply (in the chat of ``to_message``) to one of the bot's or own messages."""
        chat = self._chat_of(to_message)
        content = self._text_content(text)
        content["reply_to_message"] = self._reply_copy(to_message)
        return self._push_message(chat, content)

    def sends_photo(
        self,
        file_id: str | None = None,
        caption: str | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A photo (a fresh fake JPEG unless ``file_id`` names a stored photo)."""
        if file_id is None:
            photo = self.state.add_photo()
        else:
            record = self.state.files.get(file_id)
            if record is None or record.kind != "photo":
                raise AssertionError(f"{file_id!r} is not a photo known to the fake")
            photo = record.as_photo()
        content: dict[str, Any] = {"photo": photo, "caption": caption}
        if reply_to is not None:
            content["reply_to_message"] = self._reply_copy(reply_to)
        return self._push_message(self.private_chat, content)

    def sends_document(
        self, document: dict[str, Any], caption: str | None = None
    ) -> dict[str, Any]:
        """A document previously registered with ``server.add_file``."""
        if document.get("file_id") not in self.state.files:
            raise AssertionError("register the document with server.add_file() first")
        return self._push_message(
            self.private_chat, {"document": dict(document), "caption": caption}
        )

    def sends_in_group(self, chat_id: int, text: str) -> dict[str, Any]:
        """A text message in a group added with ``server.add_group``."""
        chat = self.state.chats.get(chat_id)
        if chat is None or chat.type not in ("group", "supergroup"):
            raise AssertionError(f"{chat_id} is not a group known to the fake")
        return self._push_message(chat, self._text_content(text))

    # -- pressing buttons -----------------------------------------------------------------

    def clicks(self, message: dict[str, Any], button_text: str) -> dict[str, Any]:
        """Press an inline button, found by label in the message's CURRENT keyboard."""
        current = self.state.current(message)
        button = find_button(current, button_text)
        if "callback_data" not in button:
            raise AssertionError(f"button {button_text!r} is not a callback button: {button}")
        return self._callback(current, button["callback_data"])

    def clicks_data(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A callback query with arbitrary (possibly forged or stale) data."""
        return self._callback(self.state.current(message), data)

    def prepares_click(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A press built and checked now, queued later by ``state.push_update(update,
        checked=True)``: benchmarks build their presses before the clock runs, so that
        building them (a deep copy and a validation each) does not compete with the bot."""
        return self._callback(self.state.current(message), data, queue=False)

    def _callback(
        self, message: dict[str, Any], data: str, *, queue: bool = True
    ) -> dict[str, Any]:
        query_id = self.state.new_callback_id()
        query = {
            "id": query_id,
            "from": dict(self.user),
            "message": copy.deepcopy(message),
            "chat_instance": str(7_000_000_000 + abs(message["chat"]["id"]) % 1_000_000_000),
            "data": data,
        }
        self.state.callback_queries[query_id] = query
        update = {"callback_query": query}
        if not queue:
            self.state.check_update(update)
            return update
        update_id = self.state.push_update(update)
        return {**update, "update_id": update_id}

    # -- inline mode ----------------------------------------------------------------------

    def types_inline(
        self, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> dict[str, Any]:
        """``@bot query`` typed in a chat: an ``inline_query`` update (the bot must have
        inline mode on: ``server.enable_inline_mode()``, as BotFather's /setinline does)."""
        if not self.state.bot_user.get("supports_inline_queries"):
            raise AssertionError("inline mode is off for this bot: enable_inline_mode() first")
        if len(query) > 256:
            raise AssertionError("Telegram cuts inline queries at 256 characters")
        query_id = self.state.new_callback_id()
        inline = {
            "id": query_id,
            "from": dict(self.user),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self.state.inline_queries[query_id] = inline
        update = {"inline_query": inline}
        update_id = self.state.push_update(update)
        return {**update, "update_id": update_id}

    # -- the bot's side of the private chat -----------------------------------------------

    def received(self) -> list[dict[str, Any]]:
        """Messages the bot sent to this user (current versions)."""
        return self.state.chat_messages(self.id)

    def received_rich(self) -> list[dict[str, Any]]:
        """The ``rich_message`` objects (``{"blocks": [...]}``) the bot sent this user."""
        return [m["rich_message"] for m in self.received() if "rich_message" in m]

    def last(self) -> dict[str, Any]:
        """The last message the bot sent to this user."""
        received = self.received()
        if not received:
            raise AssertionError(f"the bot has sent nothing to {self!r}")
        return received[-1]

    def blocks_bot(self) -> None:
        """From now on the bot gets 403 "bot was blocked by the user"."""
        self.private_chat.blocked = True

    def unblocks_bot(self) -> None:
        self.private_chat.blocked = False

    # -- helpers --------------------------------------------------------------------------

    def _chat_of(self, message: dict[str, Any]) -> ChatState:
        chat = self.state.chats.get(message["chat"]["id"])
        if chat is None:
            raise AssertionError(f"unknown chat {message['chat']['id']}")
        return chat

    def _reply_copy(self, message: dict[str, Any]) -> dict[str, Any]:
        """The replied-to message as Telegram embeds it (no nested reply)."""
        current = self.state.message(message["chat"]["id"], message["message_id"]) or message
        embedded = copy.deepcopy(current)
        embedded.pop("reply_to_message", None)
        return embedded
