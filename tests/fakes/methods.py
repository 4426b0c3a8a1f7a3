"""Bot API methods as Telegram executes them, on the shared BotState.

Each handler receives params that already passed validation.py and either returns the
``result`` or raises APIError with Telegram's status and description for semantic
failures (chat not found, blocked by the user, message is not modified, ...).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from tests.fakes.spec import UploadedFile
from tests.fakes.state import BotState, ChatState, FileRecord, bad_request, forbidden
from tests.fakes.telegram_html import sizeof
from tests.fakes.validation import formatted_text

__all__ = ["Handler", "TelegramMethods"]

Handler = Callable[[dict[str, Any]], Any]

_MAX_DOWNLOAD = 20 * 1024 * 1024
# Bots delete messages (channel posts too) for 48 hours after they were sent.
_DELETE_WINDOW = 48 * 3600
_INLINE_RESULTS_MAX = 50
_INLINE_ID_BYTES = 64
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_send_welcome_messages",
)  # fmt: skip
DEFAULT_UPDATES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "callback_query",
        "inline_query", "chosen_inline_result", "my_chat_member", "poll", "poll_answer",
        "chat_join_request", "shipping_query", "pre_checkout_query",
    }
)  # fmt: skip


def _inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """The keyboard a message keeps: only inline keyboards are part of a Message."""
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return copy.deepcopy(markup)
    return None


def _set_or_drop(message: dict[str, Any], key: str, value: Any) -> None:
    if value in (None, [], ""):
        message.pop(key, None)
    else:
        message[key] = value


class TelegramMethods(BotState):
    """The implemented Bot API methods; see ``handlers`` for the list."""

    def __init__(self, token: str, bot_username: str, bot_id: int) -> None:
        super().__init__(token, bot_username, bot_id)
        self.strict_html = True  # False: accept HTML exactly as lenient as Telegram
        # Methods this server does not know (404 Not Found), as a self-hosted
        # telegram-bot-api older than the spec answers: see ``behave_as_old_server``.
        self.unknown_methods: set[str] = set()
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_sets = 0
        self.webhook_deletes = 0
        self.handlers: dict[str, Handler] = {
            "getMe": lambda p: dict(self.bot_user),
            "logOut": lambda p: True,
            "close": lambda p: True,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setWebhook": self.set_webhook,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendRichMessage": self.send_rich_message,
            "copyMessage": self.copy_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "sendChatAction": self.send_chat_action,
            "answerCallbackQuery": self.answer_callback_query,
            "answerInlineQuery": self.answer_inline_query,
            "setMyCommands": self.set_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getMyCommands": self.get_my_commands,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getFile": self.get_file,
        }

    # -- access rules ---------------------------------------------------------------------

    def resolve_chat(self, chat_id: Any) -> ChatState:
        chat = self.find_chat(chat_id) if isinstance(chat_id, int | str) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def check_can_write(self, chat: ChatState) -> None:
        """Whether the bot may post (or edit its posts) in the chat right now."""
        if chat.type == "private":
            if chat.id in self.users and chat.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif chat.type == "channel":
            if chat.bot_status in ("left", "kicked"):
                raise forbidden("bot is not a member of the channel chat")
            if not chat.bot_can_post:
                raise bad_request("need administrator rights in the channel chat")
        elif chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        elif chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")

    def target_chat(self, params: dict[str, Any]) -> ChatState:
        if params.get("chat_id") == self.bot_user["id"]:
            raise forbidden("bots can't send messages to bots")
        chat = self.resolve_chat(params.get("chat_id"))
        self.check_can_write(chat)
        return chat

    def reply_target(self, chat: ChatState, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        reply_chat = chat
        if reply.get("chat_id") is not None:
            reply_chat = self.resolve_chat(reply["chat_id"])
        target = self.message(reply_chat.id, message_id)
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        embedded = copy.deepcopy(target)
        embedded.pop("reply_to_message", None)
        return embedded

    # -- sending --------------------------------------------------------------------------

    def _send(
        self, chat: ChatState, params: dict[str, Any], raw_text: str | None, **content: Any
    ) -> dict[str, Any]:
        message = self.new_message(
            chat,
            from_user=self.bot_user,
            reply_to_message=self.reply_target(chat, params),
            reply_markup=_inline_markup(params),
            **content,
        )
        if params.get("protect_content"):
            message["has_protected_content"] = True
        self.meta[(chat.id, message["message_id"])].raw_text = raw_text
        return message

    def send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.target_chat(params)
        parsed = formatted_text(params, "text", strict=self.strict_html)
        assert parsed is not None  # required, checked by the validator
        text, entities = parsed
        return self._send(
            chat,
            params,
            params["text"],
            text=text,
            entities=entities or None,
            link_preview_options=params.get("link_preview_options"),
        )

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        parsed = formatted_text(params, "caption", strict=self.strict_html)
        if parsed is None or not parsed[0]:
            return {}
        caption, entities = parsed
        content: dict[str, Any] = {"caption": caption, "caption_entities": entities or None}
        if params.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        return content

    def input_file(self, value: Any, kind: str, file_name: str | None = None) -> FileRecord:
        """The file for a photo/document param: an upload, a known file_id or an URL."""
        if isinstance(value, UploadedFile):
            return self.new_file(
                value.data,
                kind,
                file_name or (value.filename if kind == "document" else None),
                value.content_type if kind == "document" else None,
            )
        if not isinstance(value, str):
            raise bad_request("wrong file identifier/HTTP URL specified")
        if value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or "file"
            return self.new_file(f"downloaded from {value}".encode(), kind, name)
        record = self.files.get(value)
        if record is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if record.kind != kind:
            raise bad_request("type of file mismatch")
        return record

    def send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.target_chat(params)
        photo = self.input_file(params.get("photo"), "photo").as_photo()
        extra = {"has_media_spoiler": True} if params.get("has_spoiler") else {}
        return self._send(
            chat, params, params.get("caption"), photo=photo, **self._caption(params), **extra
        )

    def send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.target_chat(params)
        document = self.input_file(params.get("document"), "document").as_document()
        return self._send(
            chat, params, params.get("caption"), document=document, **self._caption(params)
        )

    def copy_message(self, params: dict[str, Any]) -> dict[str, Any]:
        source_chat = self.resolve_chat(params.get("from_chat_id"))
        source = self.message(source_chat.id, params["message_id"])
        if source is None:
            raise bad_request("message to copy not found")
        chat = self.target_chat(params)
        keys = ("text", "entities", "photo", "document", "caption", "caption_entities")
        content = {k: copy.deepcopy(source[k]) for k in keys if k in source}
        raw_text = source.get("text", source.get("caption"))
        if "caption" in params and "text" not in source:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption(params))
            raw_text = params["caption"]
        message = self._send(chat, params, raw_text, **content)
        return {"message_id": message["message_id"]}

    def behave_as_old_server(self) -> None:
        """Answer like a telegram-bot-api older than Bot API 10.1: no sendRichMessage."""
        self.unknown_methods.add("sendRichMessage")

    def send_rich_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """Stored as Telegram shows it: a Message whose ``rich_message`` has the blocks,
        photos resolved to PhotoSize arrays (validation.py checked the structure)."""
        chat = self.target_chat(params)
        blocks = copy.deepcopy(params["rich_message"].get("blocks") or [])
        rich: dict[str, Any] = {"blocks": [self._stored_block(b) for b in blocks]}
        if params["rich_message"].get("is_rtl"):
            rich["is_rtl"] = True
        return self._send(chat, params, None, rich_message=rich)

    def _stored_block(self, block: Any) -> Any:
        """An input block as the sent message carries it (nested blocks too)."""
        if isinstance(block, list):
            return [self._stored_block(item) for item in block]
        if not isinstance(block, dict):
            return block
        out = {key: self._stored_block(value) for key, value in block.items()}
        media = block.get(block.get("type", ""))
        if isinstance(media, dict) and "media" in media:
            if block["type"] != "photo":
                raise bad_request(f"{block['type']} blocks are not implemented by the fake")
            out["photo"] = self.input_file(media["media"], "photo").as_photo()
        return out

    def send_chat_action(self, params: dict[str, Any]) -> bool:
        self.target_chat(params)
        return True

    # -- editing --------------------------------------------------------------------------

    def editable(self, params: dict[str, Any]) -> tuple[ChatState, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID (the fake has no inline messages)")
        if params.get("chat_id") is None:
            raise bad_request("chat_id is empty")
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        chat = self.resolve_chat(params["chat_id"])
        message = self.message(chat.id, params["message_id"])
        if message is None:
            raise bad_request("message to edit not found")
        if not self.meta[(chat.id, message["message_id"])].sent_by_bot:
            raise bad_request("message can't be edited")
        self.check_can_write(chat)
        return chat, message

    def _apply_edit(
        self, chat: ChatState, message: dict[str, Any], changes: dict[str, Any], raw: str | None
    ) -> dict[str, Any]:
        if all(message.get(k) == v or (v in (None, []) and k not in message)
               for k, v in changes.items()):  # fmt: skip
            raise bad_request(_NOT_MODIFIED)
        meta = self.meta[(chat.id, message["message_id"])]
        meta.history.append(copy.deepcopy(message))
        for key, value in changes.items():
            _set_or_drop(message, key, value)
        message["edit_date"] = int(time.time())
        meta.edits += 1
        if raw is not None:
            meta.raw_text = raw
        return message

    def edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self.editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        parsed = formatted_text(params, "text", strict=self.strict_html)
        assert parsed is not None
        text, entities = parsed
        changes: dict[str, Any] = {
            "text": text,
            "entities": entities,
            "reply_markup": _inline_markup(params),  # omitted markup removes the keyboard
        }
        if "link_preview_options" in params:
            changes["link_preview_options"] = params["link_preview_options"]
        return self._apply_edit(chat, message, changes, params["text"])

    def edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self.editable(params)
        if not any(k in message for k in ("photo", "document")):
            raise bad_request("there is no caption in the message to edit")
        content = self._caption(params)
        changes: dict[str, Any] = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
            "reply_markup": _inline_markup(params),
        }
        return self._apply_edit(chat, message, changes, params.get("caption"))

    def edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self.editable(params)
        return self._apply_edit(chat, message, {"reply_markup": _inline_markup(params)}, None)

    def delete_message(self, params: dict[str, Any]) -> bool:
        chat = self.resolve_chat(params.get("chat_id"))
        key = (chat.id, params["message_id"])
        message = self.all_messages.get(key)
        if message is None:
            raise bad_request("message to delete not found")
        own = self.meta[key].sent_by_bot
        if not own and chat.type != "private" and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        if time.time() - message["date"] > _DELETE_WINDOW:
            raise bad_request("message can't be deleted for everyone")
        del self.all_messages[key]
        if own:
            self.messages[chat.id] = [m for m in self.messages[chat.id] if m is not message]
        self.deleted.append(message)
        return True

    # -- callback queries -----------------------------------------------------------------

    def answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params["callback_query_id"]
        if query_id not in self.callback_queries or query_id in self.callback_answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self.callback_answers[query_id] = dict(params)
        return True

    # -- inline queries -------------------------------------------------------------------

    def answer_inline_query(self, params: dict[str, Any]) -> bool:
        """Telegram's rules beyond the schema: a known, unanswered query; at most 50
        results with distinct ids of 1-64 bytes; a message text of 1-4096 characters
        (after entity parsing); next_offset of at most 64 bytes."""
        query_id = params["inline_query_id"]
        if query_id not in self.inline_queries or query_id in self.inline_answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results") or []
        if len(results) > _INLINE_RESULTS_MAX:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [str(result.get("id", "")) for result in results]
        if any(not 1 <= len(i.encode()) <= _INLINE_ID_BYTES for i in ids):
            raise bad_request("RESULT_ID_INVALID")
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        if len(str(params.get("next_offset") or "").encode()) > _INLINE_ID_BYTES:
            raise bad_request("NEXT_OFFSET_INVALID")
        if int(params.get("cache_time") or 0) < 0:
            raise bad_request("CACHE_TIME_INVALID")
        for result in results:
            content = result.get("input_message_content") or {}
            if "message_text" in content:
                try:
                    parsed = formatted_text(content, "message_text", strict=self.strict_html)
                except ValueError as exc:
                    message = str(exc).removeprefix("Bad Request: ")
                    raise bad_request(message) from exc
                text = parsed[0] if parsed else ""
                if not text.strip() or sizeof(text) > 4096:
                    raise bad_request("MESSAGE_EMPTY" if not text.strip() else "MESSAGE_TOO_LONG")
        self.inline_answers[query_id] = copy.deepcopy(dict(params))
        return True

    # -- commands and menu ----------------------------------------------------------------

    def scope_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = dict(params.get("scope") or {"type": "default"})
        if "chat_id" in scope:
            chat = self.resolve_chat(scope["chat_id"])
            if chat.type == "private" and not chat.started:
                raise bad_request("chat not found")  # a user who never wrote to the bot
            scope["chat_id"] = chat.id
        key = ",".join(f"{k}={scope[k]}" for k in sorted(scope))
        return key, str(params.get("language_code") or "")

    def set_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands[self.scope_key(params)] = copy.deepcopy(params["commands"])
        return True

    def delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self.scope_key(params), None)
        return True

    def get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self.scope_key(params), []))

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """Commands stored for a scope (default scope if None), for assertions."""
        params: dict[str, Any] = {"scope": scope, "language_code": language_code}
        return self.get_my_commands(params)

    def set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        key = self.resolve_chat(params["chat_id"]).id if "chat_id" in params else None
        self.menu_buttons[key] = dict(params.get("menu_button") or {"type": "default"})
        return True

    def get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        key = self.resolve_chat(params["chat_id"]).id if "chat_id" in params else None
        return dict(self.menu_buttons.get(key) or {"type": "default"})

    # -- chats and files ------------------------------------------------------------------

    def get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.resolve_chat(params.get("chat_id"))
        if chat.type == "private" and not chat.started:
            raise bad_request("chat not found")
        if chat.type != "private" and chat.bot_status in ("left", "kicked") and not chat.username:
            raise bad_request("chat not found")
        info = chat.as_chat()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info

    def get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.resolve_chat(params.get("chat_id"))
        user_id = params["user_id"]
        user = self.bot_user if user_id == self.bot_user["id"] else self.users.get(user_id)
        if user is None:
            raise bad_request("PARTICIPANT_ID_INVALID")
        if user is self.bot_user:
            status = chat.bot_status
        else:
            status = chat.members.get(user_id, "member" if chat.id == user_id else "left")
        member: dict[str, Any] = {"status": status, "user": dict(user)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            is_bot = user_id == self.bot_user["id"]
            member.update(dict.fromkeys(_ADMIN_RIGHTS, False))
            member.update(can_be_edited=False, is_anonymous=False, can_manage_chat=True)
            if chat.type == "channel":
                member.update(
                    can_post_messages=chat.bot_can_post if is_bot else True,
                    can_edit_messages=True,
                    can_delete_messages=True,
                )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self.files.get(params["file_id"])
        if record is None:
            raise bad_request("invalid file_id")
        if len(record.data) > _MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": params["file_id"],
            "file_unique_id": record.file_unique_id,
            "file_size": len(record.data),
            "file_path": record.file_path,
        }

    # -- updates --------------------------------------------------------------------------

    def delete_webhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self.updates.clear()
            self.undelivered.clear()
        self.webhook_url = ""
        self.webhook_secret = None
        self.webhook_deletes += 1
        return True

    def set_webhook(self, params: dict[str, Any]) -> bool:
        """Updates are then posted to ``url`` (see FakeBotAPI's delivery), not fetched."""
        url = str(params["url"])
        if not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided")
        if params.get("drop_pending_updates"):
            self.updates.clear()
            self.undelivered.clear()
        self.webhook_url = url
        self.webhook_secret = params.get("secret_token")
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"]) or None
        self.webhook_sets += 1
        self.webhook_changed()
        return True

    def webhook_changed(self) -> None:
        """Hook for the HTTP side: start delivering what is pending."""

    def get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook_url and self.allowed_updates is not None:
            info["allowed_updates"] = list(self.allowed_updates)
        return info

    def take_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        """Confirm updates below ``offset`` and return the next batch (no waiting)."""
        if offset is not None and offset < 0:
            self.updates = self.updates[offset:]
        elif offset:
            # The queue is in update_id order: confirm its head (a backlog of thousands
            # must not cost every poll a pass over all of them).
            confirmed = 0
            while confirmed < len(self.updates) and self.updates[confirmed]["update_id"] < offset:
                confirmed += 1
            del self.updates[:confirmed]
        allowed = set(self.allowed_updates or DEFAULT_UPDATES)
        batch: list[dict[str, Any]] = []
        position = 0
        while position < len(self.updates) and len(batch) < limit:
            update = self.updates[position]
            kind = next(k for k in update if k != "update_id")
            if kind in allowed:
                batch.append(update)
                position += 1
                continue
            del self.updates[position]
            if update["update_id"] in self.undelivered:
                self.undelivered.discard(update["update_id"])
                self.warnings.append(
                    f"update {update['update_id']} ({kind}) dropped: the bot's "
                    f"allowed_updates {sorted(allowed)} do not include it"
                )
        for update in batch:
            self.undelivered.discard(update["update_id"])
        return copy.deepcopy(batch)
