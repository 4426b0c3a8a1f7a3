"""Telegram's HTML parse mode, reimplemented the way Telegram's server parses it.

Modelled on tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp): the same tag set, the
same byte-offset error messages and the same UTF-16 entity offsets, so a message that this
module rejects is one that real Telegram rejects with "can't parse entities".

``strict=True`` (the default) additionally rejects markup that Telegram accepts but
silently mangles, because in a bot it is always a bug: a bare ``&`` or an unknown named
entity such as ``&nbsp;`` (Telegram shows it literally), unknown attributes (ignored),
``<a>`` without a usable ``href`` (the link is dropped) and ``<code class="x">`` without
the ``language-`` prefix.  Those messages say "(fake-strict: ...)".
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["TelegramHTMLError", "check_link", "parse_html", "sizeof", "trim_text"]

_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "tg-time", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler",
}  # fmt: skip
# Attributes that Telegram reads; anything else it ignores (and strict mode rejects).
_KNOWN_ATTRIBUTES = {
    "a": {"href"},
    "code": {"class"},
    "span": {"class"},
    "tg-emoji": {"emoji-id"},
    "tg-time": {"unix", "format"},
    "blockquote": {"expandable"},
}
# Sort order of entities that start at the same offset with the same length (tdlib's
# type priority, roughly: containers before text styles).
_PRIORITY = {
    "blockquote": 0, "expandable_blockquote": 0, "pre": 1, "code": 2, "text_link": 3,
    "text_mention": 3, "custom_emoji": 4, "date_time": 4, "bold": 5, "italic": 6,
    "underline": 7, "strikethrough": 8, "spoiler": 9,
}  # fmt: skip
_SPACES = b" \t\r\n\x00\x0b\x0c"
_TRIM_CHARS = " \t\r\n\x0b\x0c"
_TIME_FORMAT = re.compile(r"r|w?[dD]?[tT]?")
_URL_HOST = re.compile(r"[A-Za-z0-9\-._~%\[\]:@]+")


class TelegramHTMLError(ValueError):
    """Raised for text that Telegram answers with 400 "can't parse entities"."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Bad Request: can't parse entities: {detail}")
        self.detail = detail


def sizeof(text: str) -> int:
    """Length in UTF-16 code units: what Telegram's offsets and length limits count."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def check_link(url: str) -> str | None:
    """The URL Telegram would store for a text link, or None if it would drop the link.

    Accepts http(s), tg:// and ton:// links, and scheme-less ``host/path`` (Telegram
    prefixes ``http://``); adds the "/" Telegram adds after a bare host.
    """
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    lower = url.lower()
    for scheme in ("tg:", "ton:"):
        if lower.startswith(scheme):
            rest = url[len(scheme) :].removeprefix("//")
            return f"{scheme}//{rest}" if rest else None
    scheme = "http://"
    if "://" in url:
        scheme_part, url = url.split("://", 1)
        if scheme_part.lower() not in ("http", "https"):
            return None
        scheme = scheme_part.lower() + "://"
    elif ":" in url.split("/", 1)[0] and not re.match(r"[^:/]+:\d+(/|$)", url):
        return None  # mailto:, javascript:, ...
    host_end = min((i for i in (url.find(c) for c in "/?#") if i >= 0), default=len(url))
    host, rest = url[:host_end], url[host_end:]
    if not _URL_HOST.fullmatch(host) or host.startswith(".") or host.endswith("."):
        return None
    if "." not in host and host.split(":")[0].lower() != "localhost":
        return None
    if not rest.startswith("/"):
        rest = "/" + rest
    return f"{scheme}{host}{rest}"


class _Parser:
    """State of one parse; mirrors tdlib's byte-wise loop over the UTF-8 text."""

    def __init__(self, text: str, strict: bool) -> None:
        try:
            self.data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise TelegramHTMLError("Strings must be encoded in UTF-8") from None
        self.strict = strict
        self.result = bytearray()
        self.utf16 = 0
        self.entities: list[dict[str, Any]] = []
        # open tags: (tag name, argument, utf16 offset, byte position in result, attributes)
        self.stack: list[tuple[str, str, int, int, dict[str, str]]] = []

    def at(self, i: int) -> int:
        """Byte at i, or 0 past the end (tdlib reads a NUL-terminated string)."""
        return self.data[i] if i < len(self.data) else 0

    def decode_entity(self, pos: int) -> tuple[int, int] | None:
        """Decode ``&...;`` at pos -> (code point, next pos), or None if not an entity."""
        end = pos + 1
        value = 0
        if self.at(end) == ord("#"):
            end += 1
            if self.at(end) == ord("x"):
                end += 1
                while chr(self.at(end)) in "0123456789abcdefABCDEF" and self.at(end):
                    value = value * 16 + int(chr(self.at(end)), 16)
                    end += 1
                    if value >= 0x10FFFF:
                        return None
            else:
                while ord("0") <= self.at(end) <= ord("9"):
                    value = value * 10 + self.at(end) - ord("0")
                    end += 1
                    if value >= 0x10FFFF:
                        return None
            if value == 0 or end - pos >= 10:
                return None
        else:
            while chr(self.at(end)).isascii() and chr(self.at(end)).isalpha():
                end += 1
            name = self.data[pos + 1 : end]
            named = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
            if name not in named:
                return None
            value = ord(named[name])
        if self.at(end) == ord(";"):
            end += 1
        return value, end

    def bad_ampersand(self, pos: int) -> TelegramHTMLError:
        end = pos + 1
        while end < len(self.data) and end - pos < 12 and self.at(end) not in b" ;<&":
            end += 1
        if self.at(end) == ord(";"):
            end += 1
        snippet = self.data[pos:end].decode("utf-8", "replace")
        return TelegramHTMLError(
            f'Unsupported HTML entity "{snippet}" at byte offset {pos} (fake-strict: Telegram '
            "would show it literally; escape & as &amp;)"
        )

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        i = 0
        data = self.data
        while i < len(data):
            c = data[i]
            if c == ord("&"):
                decoded = self.decode_entity(i)
                if decoded is not None:
                    ch, i = decoded
                    self.result += chr(ch).encode("utf-8", "surrogatepass")
                    self.utf16 += 2 if ch > 0xFFFF else 1
                    continue
                if self.strict:
                    raise self.bad_ampersand(i)
            if c != ord("<"):
                self.result.append(c)
                if c & 0xC0 != 0x80:  # first byte of a UTF-8 character
                    self.utf16 += 2 if c >= 0xF0 else 1
                i += 1
                continue
            i = self.end_tag(i) if self.at(i + 1) == ord("/") else self.start_tag(i)
        if self.stack:
            raise TelegramHTMLError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 10)))
        return self.result.decode("utf-8", "surrogatepass"), self.entities

    def start_tag(self, begin: int) -> int:
        i = begin + 1
        while self.at(i) not in _SPACES and self.at(i) != ord(">"):
            i += 1
        if self.at(i) == 0:
            raise TelegramHTMLError(f"Unclosed start tag at byte offset {begin}")
        tag = self.data[begin + 1 : i].decode("utf-8", "replace").lower()
        if tag not in _SUPPORTED_TAGS:
            raise TelegramHTMLError(f'Unsupported start tag "{tag}" at byte offset {begin}')
        argument = ""
        attributes: dict[str, str] = {}
        while self.at(i) != ord(">"):
            while self.at(i) != 0 and self.at(i) in _SPACES:
                i += 1
            if self.at(i) == ord(">"):
                break
            name_begin = i
            while self.at(i) not in _SPACES and self.at(i) not in b"=>":
                i += 1
            name = self.data[name_begin:i].decode("utf-8", "replace")
            if not name:
                raise TelegramHTMLError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                )
            while self.at(i) != 0 and self.at(i) in _SPACES:
                i += 1
            if self.at(i) != ord("="):
                if tag == "blockquote" and name == "expandable":
                    argument = "1"
                    attributes[name] = ""
                    continue
                raise TelegramHTMLError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {begin}'
                )
            i += 1
            while self.at(i) != 0 and self.at(i) in _SPACES:
                i += 1
            if self.at(i) == 0:
                raise TelegramHTMLError(f"Unclosed start tag at byte offset {begin}")
            value, i = self.attribute_value(i)
            if self.at(i) == 0:
                raise TelegramHTMLError(f"Unclosed start tag at byte offset {begin}")
            attributes[name] = value
            argument = self.apply_attribute(tag, name, value, argument, begin)
        if tag == "span" and argument != "spoiler":
            raise TelegramHTMLError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
            )
        self.stack.append((tag, argument, self.utf16, len(self.result), attributes))
        return i + 1

    def attribute_value(self, i: int) -> tuple[str, int]:
        quote = self.at(i)
        if quote not in (ord("'"), ord('"')):
            # A name token: letters, digits, periods, hyphens; case-insensitive.
            begin = i
            while chr(self.at(i)).isascii() and (chr(self.at(i)).isalnum() or self.at(i) in b".-"):
                i += 1
            if self.at(i) not in _SPACES and self.at(i) != ord(">"):
                raise TelegramHTMLError(f"Unexpected end of name token at byte offset {begin}")
            return self.data[begin:i].decode("ascii").lower(), i
        i += 1
        value = bytearray()
        while self.at(i) != quote and self.at(i) != 0:
            if self.at(i) == ord("&"):
                decoded = self.decode_entity(i)
                if decoded is not None:
                    value += chr(decoded[0]).encode("utf-8", "surrogatepass")
                    i = decoded[1]
                    continue
                if self.strict:
                    raise self.bad_ampersand(i)
            value.append(self.at(i))
            i += 1
        if self.at(i) == quote:
            i += 1
        return value.decode("utf-8", "surrogatepass"), i

    def apply_attribute(self, tag: str, name: str, value: str, argument: str, begin: int) -> str:
        """Return the tag's new argument; strict mode rejects what Telegram ignores."""
        if tag == "a" and name == "href":
            return value
        if tag == "code" and name == "class" and value.startswith("language-"):
            return value[len("language-") :]
        if tag == "span" and name == "class" and value.startswith("tg-"):
            return value[len("tg-") :]
        if tag == "tg-emoji" and name == "emoji-id":
            return value
        if tag == "tg-time" and name in ("unix", "format"):
            return argument
        if tag == "blockquote" and name == "expandable":
            return "1"
        if self.strict:
            if name in _KNOWN_ATTRIBUTES.get(tag, set()):
                problem = f'unsupported value "{value}" of attribute "{name}"'
            else:
                problem = f'attribute "{name}" is not supported'
            raise TelegramHTMLError(
                f'In the tag "{tag}" at byte offset {begin}: {problem} '
                "(fake-strict: Telegram would ignore it)"
            )
        return argument

    def end_tag(self, begin: int) -> int:
        if not self.stack:
            raise TelegramHTMLError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while self.at(i) not in _SPACES and self.at(i) != ord(">"):
            i += 1
        end_name = self.data[begin + 2 : i].decode("utf-8", "replace")
        while self.at(i) != 0 and self.at(i) in _SPACES:
            i += 1
        if self.at(i) != ord(">"):
            raise TelegramHTMLError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, offset, result_pos, attributes = self.stack[-1]
        if end_name and end_name != tag:
            raise TelegramHTMLError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16 > offset:
            self.close_entity(tag, argument, offset, result_pos, attributes)
        self.stack.pop()
        return i + 1

    def close_entity(
        self, tag: str, argument: str, offset: int, result_pos: int, attributes: dict[str, str]
    ) -> None:
        length = self.utf16 - offset
        entity: dict[str, Any] = {"offset": offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and last["offset"] == offset and last["length"] == length
        if tag in _SIMPLE_TYPES or tag == "span":
            entity["type"] = _SIMPLE_TYPES.get(tag, "spoiler")
        elif tag == "tg-emoji":
            if not re.fullmatch(r"-?\d{1,19}", argument) or int(argument) == 0:
                raise TelegramHTMLError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=argument)
        elif tag == "tg-time":
            unix = attributes.get("unix", "")
            if not unix.isdigit():
                raise TelegramHTMLError("Invalid Unix time specified")
            entity.update(type="date_time", unix_time=int(unix))
            if fmt := attributes.get("format"):
                if not _TIME_FORMAT.fullmatch(fmt):
                    raise TelegramHTMLError(f'Invalid date and time format "{fmt}" specified')
                entity["date_time_format"] = fmt
        elif tag == "a":
            if self.strict and not argument:
                raise TelegramHTMLError(
                    f'Tag "a" at UTF-16 offset {offset} has no href (fake-strict: Telegram '
                    "would use the link text as the URL, or drop the link)"
                )
            url = argument or self.result[result_pos:].decode("utf-8", "surrogatepass")
            if m := re.fullmatch(r"tg://user\?id=(\d+)", url):
                user = {"id": int(m.group(1)), "is_bot": False, "first_name": ""}
                entity.update(type="text_mention", user=user)
            elif (checked := check_link(url)) is not None:
                entity.update(type="text_link", url=checked)
            elif self.strict:
                what = f'href "{argument}"' if argument else "no href"
                raise TelegramHTMLError(
                    f"Link with {what} at UTF-16 offset {offset} is not a valid URL "
                    "(fake-strict: Telegram would silently drop the link)"
                )
            else:
                return
        elif tag == "pre":
            if last is not None and same_span and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
                return
            entity["type"] = "pre"
        elif tag == "code":
            if last is not None and same_span and last["type"] == "pre" and argument:
                last["language"] = argument
                return
            entity["type"] = "code"
            if argument:
                entity["language"] = argument
        else:  # blockquote
            entity["type"] = "expandable_blockquote" if argument else "blockquote"
        self.entities.append(entity)


def parse_html(
    text: str, *, strict: bool = True, trim: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, Bot API MessageEntity dicts).

    Offsets/lengths are UTF-16 code units.  Raises TelegramHTMLError with Telegram's
    message.  ``trim=True`` also strips surrounding whitespace as Telegram does when it
    stores a message (see :func:`trim_text`).
    """
    plain, entities = _Parser(text, strict).parse()
    return trim_text(plain, entities) if trim else (plain, entities)


def trim_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace like Telegram and shift/clip entities to match."""
    stripped_left = text.lstrip(_TRIM_CHARS)
    start = sizeof(text) - sizeof(stripped_left)
    result = stripped_left.rstrip(_TRIM_CHARS)
    end = start + sizeof(result)
    out: list[dict[str, Any]] = []
    for entity in entities:
        lo = max(entity["offset"], start)
        hi = min(entity["offset"] + entity["length"], end)
        if hi > lo:
            out.append({**entity, "offset": lo - start, "length": hi - lo})
    return result, out
