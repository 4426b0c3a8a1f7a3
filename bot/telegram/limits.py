"""Telegram's size limits, in one place.  Lengths are UTF-16 code units, as Telegram
counts them (``aiogram.utils.formatting.sizeof``)."""

from __future__ import annotations

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
# The text of an answer to a button press (a toast or an alert).
CALLBACK_ANSWER_LIMIT = 200
# Editing a channel post is possible for this long; deleting one, for 48 hours.
DELETE_WINDOW_HOURS = 48
