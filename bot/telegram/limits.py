"""Telegram's size limits, in one place.  Lengths are UTF-16 code units, as Telegram
counts them (``aiogram.utils.formatting.sizeof``)."""

from __future__ import annotations

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
# The text of an answer to a button press (a toast or an alert).
CALLBACK_ANSWER_LIMIT = 200
# Editing a channel post is possible for this long; deleting one, for 48 hours.
DELETE_WINDOW_HOURS = 48
# A rich message (sendRichMessage, Bot API 10.1): characters of all its text; blocks,
# counting nested blocks, list items and table rows; nesting depth; media.
RICH_CHARACTERS = 32_768
RICH_BLOCKS = 500
RICH_DEPTH = 16
RICH_MEDIA = 50
