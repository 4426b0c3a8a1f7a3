"""Rich messages (``sendRichMessage``) as the fake Bot API checks and stores them.

The 10.1 spec in tests/data/botapi_spec.json knows only the ``html`` and ``markdown``
forms of InputRichMessage; the ``blocks`` form came with 10.2/10.3, so aiogram's own
models (``InputRichMessage.model_validate``) are the reference for its structure.  On
top of that: the limits Telegram states (32,768 characters, 500 blocks counting nested
blocks, list items and table rows, nesting depth 16, 50 media) and, in strict mode,
text that was HTML-escaped for a plain-text field (the reader would see ``&lt;b&gt;``).
"""

from __future__ import annotations

import re
from typing import Any

from aiogram.types import (
    InputMedia,
    InputRichBlock,
    InputRichBlockListItem,
    InputRichBlockTable,
    InputRichMessage,
)
from pydantic import BaseModel, ValidationError

from tests.fakes.telegram_html import sizeof

__all__ = [
    "MAX_BLOCKS",
    "MAX_CHARACTERS",
    "MAX_DEPTH",
    "MAX_MEDIA",
    "check_rich_message",
    "rich_plain",
]

MAX_CHARACTERS = 32_768
MAX_BLOCKS = 500
MAX_DEPTH = 16
MAX_MEDIA = 50
_FORMS = ("html", "markdown", "blocks")
_TEXT_FIELDS = frozenset({"text", "credit"})
_ESCAPED = re.compile(r"&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);")


def check_rich_message(
    value: Any, *, strict: bool = True
) -> tuple[list[str], list[str], InputRichMessage | None]:
    """(errors, warnings, the parsed message) for a ``rich_message`` parameter."""
    errors: list[str] = []
    warnings: list[str] = []
    if not isinstance(value, dict):
        return ['Bad Request: can\'t parse InputRichMessage "rich_message"'], warnings, None
    used = [form for form in _FORMS if value.get(form) not in (None, "", [])]
    if len(used) != 1:
        errors.append(
            "Bad Request: exactly one of html, markdown or blocks must be used in "
            f"rich_message (got {used or 'none'})"
        )
        return errors, warnings, None
    if used[0] != "blocks":
        # The project sends blocks; the html/markdown forms have their own markup rules
        # (block tags, tg://photo links) that this fake does not model.
        errors.append(
            f"Bad Request: rich_message.{used[0]} is not implemented by the fake Bot API "
            "(send blocks)"
        )
        return errors, warnings, None
    try:
        message = InputRichMessage.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        errors.append(f"Bad Request: can't parse rich_message: {where}: {first['msg']}")
        return errors, warnings, None
    counter = _Counter(strict)
    counter.walk(message.blocks or [], is_text=False, depth=0, path="rich_message.blocks")
    counter.walk(message.media or [], is_text=False, depth=0, path="rich_message.media")
    errors += counter.errors
    warnings += counter.warnings
    if counter.characters > MAX_CHARACTERS:
        errors.append(
            f"Bad Request: rich message is too long ({counter.characters} characters, "
            f"at most {MAX_CHARACTERS})"
        )
    if counter.blocks > MAX_BLOCKS:
        errors.append(
            f"Bad Request: too many blocks in the rich message ({counter.blocks}, "
            f"at most {MAX_BLOCKS})"
        )
    if counter.depth > MAX_DEPTH:
        errors.append(
            f"Bad Request: rich message blocks are nested too deep ({counter.depth}, "
            f"at most {MAX_DEPTH})"
        )
    if counter.media > MAX_MEDIA:
        errors.append(
            f"Bad Request: too many media in the rich message ({counter.media}, "
            f"at most {MAX_MEDIA})"
        )
    return errors, warnings, message


class _Counter:
    """One walk over aiogram's models: the limits, unknown fields, escaped text."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.characters = 0
        self.blocks = 0
        self.depth = 0
        self.media = 0
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def walk(self, value: object, *, is_text: bool, depth: int, path: str) -> None:
        if isinstance(value, str):
            if is_text:
                self.text(value, path)
            return
        if isinstance(value, list | tuple):
            for i, item in enumerate(value):
                self.walk(item, is_text=is_text, depth=depth, path=f"{path}[{i}]")
            return
        if not isinstance(value, BaseModel):
            return
        if isinstance(value, InputRichBlock | InputRichBlockListItem):
            depth += 1
            self.blocks += 1
            self.depth = max(self.depth, depth)
        if isinstance(value, InputRichBlockTable):
            self.blocks += len(value.cells)
        if isinstance(value, InputMedia):
            self.media += 1
        for name in value.model_extra or {}:
            self.warnings.append(
                f'"{path}": field "{name}" is not in {type(value).__name__} (aiogram 3.31)'
            )
        for name in type(value).model_fields:
            self.walk(
                getattr(value, name),
                is_text=name in _TEXT_FIELDS,
                depth=depth,
                path=f"{path}.{name}",
            )
        size = getattr(value, "size", None)
        if type(value).__name__ == "InputRichBlockSectionHeading" and not (
            isinstance(size, int) and 1 <= size <= 6
        ):
            self.errors.append(f'Bad Request: "{path}.size" must be 1-6')

    def text(self, value: str, path: str) -> None:
        self.characters += sizeof(value)
        escaped = _ESCAPED.search(value) if self.strict else None
        if escaped is not None:
            self.errors.append(
                f"Bad Request: (fake-strict: {path} is plain text, but contains an HTML "
                f"entity {escaped.group(0)!r} that the reader would see as "
                "is: rich blocks are not parsed, do not escape their text)"
            )


def rich_plain(value: Any) -> str:
    """The text of a stored rich block (or of a RichText), for assertions."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(rich_plain(item) for item in value)
    if isinstance(value, dict):
        parts = [rich_plain(value[key]) for key in ("text", "credit") if key in value]
        return " ".join(part for part in parts if part)
    return ""
