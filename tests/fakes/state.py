"""What the fake Telegram knows: chats, messages, files, updates, callback queries.

Kept apart from the HTTP layer so that the Bot API methods (methods.py) and the user-side
helpers (users.py) share one model of the world, like Telegram's own servers do.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiogram.types import Update

from tests.fakes.spec import UploadedFile

__all__ = [
    "APIError",
    "BotState",
    "ChatState",
    "FaultRule",
    "FileRecord",
    "MessageMeta",
    "RateLimiter",
    "RecordedRequest",
]


class APIError(Exception):
    """A Bot API error answer: HTTP status = error_code, Telegram's description."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> APIError:
    return APIError(400, f"Bad Request: {description}")


def forbidden(description: str) -> APIError:
    return APIError(403, f"Forbidden: {description}")


@dataclass
class RecordedRequest:
    """One request the bot made and what the fake answered."""

    method: str
    params: dict[str, Any]
    raw: dict[str, str]
    files: dict[str, UploadedFile]
    status: int
    response: dict[str, Any]
    time: float
    duration: float = 0.0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    injected: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        value = self.response.get("description")
        return value if isinstance(value, str) else None

    def summary(self) -> str:
        """One line for failure messages: method, key params and the outcome."""
        keys = ("chat_id", "message_id", "text", "caption", "callback_query_id", "offset")
        shown = []
        for key in keys:
            if key in self.params:
                value = repr(self.params[key])
                shown.append(f"{key}={value[:60] + '…' if len(value) > 60 else value}")
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"{self.method}({', '.join(shown)}) -> {outcome}"


@dataclass
class ChatState:
    """A chat as Telegram sees it, plus the bot's standing in it."""

    id: int
    type: str  # private, group, supergroup, channel
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    bot_status: str = "member"  # creator/administrator/member/left/kicked
    bot_can_post: bool = True  # channels: the administrator right can_post_messages
    started: bool = False  # private: the user has written to the bot
    blocked: bool = False  # private: the user blocked the bot
    members: dict[int, str] = field(default_factory=dict)
    next_message_id: int = 1

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if (value := getattr(self, key)) is not None:
                chat[key] = value
        return chat

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class FileRecord:
    """A stored file; ``kind`` decides which send method accepts its file_id."""

    file_id: str
    file_unique_id: str
    data: bytes
    kind: str  # photo, document
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def file_path(self) -> str:
        suffix = f"_{self.file_name}" if self.file_name else ".jpg"
        folder = "photos" if self.kind == "photo" else "documents"
        return f"{folder}/file_{self.file_unique_id}{suffix}"

    def as_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name is not None:
            doc["file_name"] = self.file_name
        if self.mime_type is not None:
            doc["mime_type"] = self.mime_type
        return doc

    def as_photo(self) -> list[dict[str, Any]]:
        """PhotoSize array, smallest first, the original last (as Telegram sends it)."""
        small_w = 90
        small_h = max(1, round(self.height * small_w / max(self.width, 1)))
        return [
            {
                "file_id": f"{self.file_id}-thumb",
                "file_unique_id": f"{self.file_unique_id}-thumb",
                "width": small_w,
                "height": small_h,
                "file_size": max(1, len(self.data) // 10),
            },
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width,
                "height": self.height,
                "file_size": len(self.data),
            },
        ]


@dataclass
class MessageMeta:
    """Book-keeping beside a stored Message dict (which stays a pure Bot API object)."""

    sent_by_bot: bool
    raw_text: str | None = None  # text/caption as the bot sent it (e.g. the HTML)
    edits: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # versions before edits


@dataclass
class FaultRule:
    """One ``fail_next`` instruction."""

    method: str
    status: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | str | None
    delay: float
    drop_connection: bool
    after_effect: bool


class RateLimiter:
    """Telegram's documented flood limits, approximated.

    Per chat: about one message per second, with a small burst (token bucket).  Groups and
    channels: at most 20 messages per minute.  Overall: at most 30 messages per second.
    """

    def __init__(
        self,
        per_chat_per_second: float = 1.0,
        per_chat_burst: int = 3,
        group_per_minute: int = 20,
        global_per_second: int = 30,
    ) -> None:
        self.per_chat_per_second = per_chat_per_second
        self.per_chat_burst = per_chat_burst
        self.group_per_minute = group_per_minute
        self.global_per_second = global_per_second
        self._buckets: dict[int, tuple[float, float]] = {}
        self._group_sent: dict[int, deque[float]] = {}
        self._global_sent: deque[float] = deque()

    def check(self, chat_id: int | None, is_group: bool, now: float) -> int | None:
        """Seconds to wait (a 429's retry_after) or None, in which case it counts."""
        waits: list[float] = []
        while self._global_sent and now - self._global_sent[0] >= 1.0:
            self._global_sent.popleft()
        if len(self._global_sent) >= self.global_per_second:
            waits.append(1.0 - (now - self._global_sent[0]))
        tokens = float(self.per_chat_burst)
        if chat_id is not None:
            tokens, last = self._buckets.get(chat_id, (float(self.per_chat_burst), now))
            tokens = min(self.per_chat_burst, tokens + (now - last) * self.per_chat_per_second)
            if tokens < 1.0:
                waits.append((1.0 - tokens) / self.per_chat_per_second)
            if is_group:
                sent = self._group_sent.setdefault(chat_id, deque())
                while sent and now - sent[0] >= 60.0:
                    sent.popleft()
                if len(sent) >= self.group_per_minute:
                    waits.append(60.0 - (now - sent[0]))
        if waits:
            return max(1, math.ceil(max(waits)))
        self._global_sent.append(now)
        if chat_id is not None:
            self._buckets[chat_id] = (tokens - 1.0, now)
            if is_group:
                self._group_sent[chat_id].append(now)
        return None


class BotState:
    """The world the bot lives in; the HTTP server and user helpers both change it."""

    def __init__(self, token: str, bot_username: str, bot_id: int) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Newsroom Test Bot",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.chats: dict[int, ChatState] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.messages: dict[int | str, list[dict[str, Any]]] = {}
        self.all_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.meta: dict[tuple[int, int], MessageMeta] = {}
        self.deleted: list[dict[str, Any]] = []
        self.files: dict[str, FileRecord] = {}
        self.updates: list[dict[str, Any]] = []
        self.undelivered: set[int] = set()
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.inline_queries: dict[str, dict[str, Any]] = {}
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.allowed_updates: list[str] | None = None
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._update_event: asyncio.Event | None = None

    # -- chats and users ------------------------------------------------------------------

    def add_channel(self, chat_id: int, username: str | None, title: str) -> None:
        """A channel where the bot is an administrator with can_post_messages."""
        self.chats[chat_id] = ChatState(
            id=chat_id,
            type="channel",
            title=title,
            username=username.lstrip("@") if username else None,
            bot_status="administrator",
        )

    def add_group(
        self, chat_id: int, title: str, username: str | None = None, *, supergroup: bool = True
    ) -> None:
        """A group the bot is a plain member of."""
        self.chats[chat_id] = ChatState(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            username=username.lstrip("@") if username else None,
        )

    def set_bot_channel_rights(
        self, chat_id: int, *, member: bool = True, can_post: bool = True
    ) -> None:
        """Simulate the bot being removed from a channel or losing can_post_messages.

        Bots are in channels only as administrators, so ``member=True, can_post=False``
        is an administrator whose can_post_messages is false.
        """
        chat = self.chats[chat_id]
        chat.bot_status = "administrator" if member else "left"
        chat.bot_can_post = member and can_post

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Status of a user in a group/channel for getChatMember (creator/administrator/...)."""
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise ValueError(f"unsupported member status {status!r}")
        self.chats[chat_id].members[user_id] = status

    def find_chat(self, chat_id: int | str) -> ChatState | None:
        if isinstance(chat_id, str):
            if chat_id.startswith("@"):
                name = chat_id[1:].lower()
                return next(
                    (c for c in self.chats.values() if (c.username or "").lower() == name),
                    None,
                )
            try:
                chat_id = int(chat_id)
            except ValueError:
                return None
        return self.chats.get(chat_id)

    # -- messages -------------------------------------------------------------------------

    def new_message(
        self, chat: ChatState, *, from_user: dict[str, Any] | None, **content: Any
    ) -> dict[str, Any]:
        """Create and store a message in ``chat`` with the next per-chat message id."""
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "date": int(time.time()),
            "chat": chat.as_chat(),
        }
        if chat.type == "channel":
            message["sender_chat"] = chat.as_chat()
        elif from_user is not None:
            message["from"] = copy.deepcopy(from_user)
        message.update({k: v for k, v in content.items() if v is not None})
        key = (chat.id, message["message_id"])
        self.all_messages[key] = message
        sent_by_bot = from_user is self.bot_user
        self.meta[key] = MessageMeta(sent_by_bot=sent_by_bot)
        if sent_by_bot:
            self.messages.setdefault(chat.id, []).append(message)
        return message

    def age_message(self, chat_id: int | str, message_id: int, hours: float) -> None:
        """Make a stored message ``hours`` older (its ``date``), e.g. past the 48 hours in
        which Telegram lets a bot delete it."""
        chat = self.find_chat(chat_id)
        message = self.message(chat.id, message_id) if chat is not None else None
        if message is None:
            raise AssertionError(f"no message {message_id} in chat {chat_id}")
        message["date"] -= int(hours * 3600)

    def chat_messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        """Messages the bot sent to a chat (current versions, deleted ones excluded)."""
        chat = self.find_chat(chat_id)
        return list(self.messages.get(chat.id if chat else chat_id, []))

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        return self.all_messages.get((chat_id, message_id))

    def current(self, message: dict[str, Any]) -> dict[str, Any]:
        """The stored, current version of a message dict (which may be a stale copy)."""
        stored = self.message(message["chat"]["id"], message["message_id"])
        if stored is None:
            raise AssertionError(
                f"message {message['message_id']} in chat {message['chat']['id']} does not "
                "exist (deleted?)"
            )
        return stored

    def edits(self, message: dict[str, Any]) -> int:
        """How many times the bot edited this message."""
        return self.meta[(message["chat"]["id"], message["message_id"])].edits

    def history(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """Earlier versions of an edited message, oldest first."""
        return self.meta[(message["chat"]["id"], message["message_id"])].history

    def raw_text(self, message: dict[str, Any]) -> str | None:
        """Text/caption exactly as the bot sent it (the HTML before parsing)."""
        return self.meta[(message["chat"]["id"], message["message_id"])].raw_text

    # -- files ----------------------------------------------------------------------------

    def new_file(
        self,
        data: bytes,
        kind: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        *,
        width: int = 1280,
        height: int = 853,
    ) -> FileRecord:
        n = next(self._file_ids)
        prefix = "AgAC" if kind == "photo" else "BQAC"
        record = FileRecord(
            file_id=f"{prefix}fake{n:06d}",
            file_unique_id=f"AQAD{n:06d}",
            data=data,
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            width=width if kind == "photo" else 0,
            height=height if kind == "photo" else 0,
        )
        self.files[record.file_id] = record
        if kind == "photo":
            self.files[f"{record.file_id}-thumb"] = record
        return record

    def add_file(self, content: bytes, file_name: str, mime_type: str) -> dict[str, Any]:
        """Register a document (as if a user had uploaded it); returns its Document dict."""
        return self.new_file(content, "document", file_name, mime_type).as_document()

    def add_photo(self, content: bytes = b"\xff\xd8\xff fake jpeg") -> list[dict[str, Any]]:
        """Register a photo; returns its PhotoSize array (the last is the original)."""
        return self.new_file(content, "photo").as_photo()

    def file_by_path(self, path: str) -> FileRecord | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    # -- updates --------------------------------------------------------------------------

    def check_update(self, update: dict[str, Any]) -> None:
        """A malformed update is a bug in the test."""
        Update.model_validate({**update, "update_id": 0})

    def push_update(self, update: dict[str, Any], *, checked: bool = False) -> int:
        """Queue an update for getUpdates (assigning update_id) and wake long polls;
        ``checked``: it already passed ``check_update``."""
        if not checked:
            self.check_update(update)
        update_id = next(self._update_ids)
        update = {**update, "update_id": update_id}
        self.updates.append(update)
        self.undelivered.add(update_id)
        if self._update_event is not None:
            self._update_event.set()
        return update_id

    def enable_inline_mode(self) -> None:
        """As /setinline in BotFather: getMe says so, users may type ``@bot query``."""
        self.bot_user["supports_inline_queries"] = True

    def new_callback_id(self) -> str:
        return f"{4_000_000_000_000 + next(self._callback_ids)}"

    @property
    def unanswered_callback_queries(self) -> list[dict[str, Any]]:
        """Callback queries pushed but never answered (the user's button keeps spinning)."""
        return [q for qid, q in self.callback_queries.items() if qid not in self.callback_answers]
