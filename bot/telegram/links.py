"""Links: to channel posts, and the bot's deep links that open an article's full text."""

from __future__ import annotations

from urllib.parse import urlsplit

# ``t.me/<bot>?start=a12``: the payload that opens article 12 in the bot's chat.
ARTICLE_PAYLOAD_PREFIX = "a"
_MAX_ID = 2**31


def article_payload(article_id: int) -> str:
    return f"{ARTICLE_PAYLOAD_PREFIX}{article_id}"


def article_id_from_payload(payload: str | None) -> int | None:
    """``"a12"`` → 12; anything else (forged, truncated, another bot's) → None."""
    digits = (payload or "").strip().removeprefix(ARTICLE_PAYLOAD_PREFIX)
    if not payload or digits == payload.strip() or not _is_id(digits):
        return None
    return int(digits)


def chat_ref(chat: int | str) -> int | str:
    """A stored chat (``"-100…"`` or ``"@name"``) as the Bot API takes it."""
    text = str(chat)
    return int(text) if text.lstrip("-").isdigit() else text


def channel_post_link(chat: int | str, message_id: int) -> str:
    """Public link to a channel message (``t.me/name/1`` or ``t.me/c/123/1``)."""
    text = str(chat)
    if text.startswith("@"):
        return f"https://t.me/{text[1:]}/{message_id}"
    return f"https://t.me/c/{text.removeprefix('-100')}/{message_id}"


def message_id_from_link(link: str, *chats: int | str) -> int | None:
    """The message id of a link to a post in one of ``chats`` (the channel's id and its
    @username, when it has one); None for anything else.

    Accepts what Telegram's "Copy link" gives (``https://t.me/name/345``, ``t.me/c/123/345``,
    with or without a scheme, ``?single`` and the like), and the bare message id.
    """
    link = link.strip()
    if _is_id(link):
        return int(link)
    parts = urlsplit(link if "://" in link else f"https://{link}")
    if parts.hostname not in ("t.me", "telegram.me", "www.t.me"):
        return None
    path = [p.lower() for p in parts.path.split("/") if p]
    if not path or not _is_id(path[-1]):
        return None
    for chat in chats:
        expected = channel_post_link(chat, 1).removeprefix("https://t.me/").lower()
        if path[:-1] == expected.split("/")[:-1]:
            return int(path[-1])
    return None


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and text[0] != "0" and int(text) < _MAX_ID
