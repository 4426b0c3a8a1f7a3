"""Validate a Bot API request the way Telegram would, so tests fail where production would.

Checks come from the condensed spec (method exists, required params, types, lengths
stated in the docs) plus Telegram rules the spec only describes in prose: text limits
counted in UTF-16 after entity parsing, HTML that must parse, inline-button rules,
bot-command syntax.  Errors are Telegram-style descriptions ("Bad Request: ...");
warnings are for things Telegram tolerates, such as parameters newer than the spec.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.rich import check_rich_message
from tests.fakes.spec import PRIMITIVES, UploadedFile, load_spec
from tests.fakes.telegram_html import TelegramHTMLError, parse_html, sizeof, trim_text

__all__ = [
    "ValidationResult",
    "formatted_text",
    "validate",
    "validate_request",
]

# Fields of an InlineKeyboardButton that do not define what the button does.
_BUTTON_DECORATION = frozenset({"text", "icon_custom_emoji_id", "style"})
_BUTTON_STYLES = frozenset({"danger", "success", "primary"})
_BUTTON_URL = re.compile(r"(https?|tg)://\S+", re.IGNORECASE)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_MAX_INLINE_BUTTONS = 100
_MAX_ROW_WIDTH = 8
# Parse modes Telegram knows; the project only uses HTML, so the others are errors here.
_MARKDOWN_MODES = frozenset({"markdown", "markdownv2"})

_REQUIRED_MESSAGES = {
    "chat_id": "Bad Request: chat_id is empty",
    "text": "Bad Request: message text is empty",
    "message_id": "Bad Request: message_id is empty",
    "callback_query_id": "Bad Request: query_id is empty",
    "file_id": "Bad Request: file_id is empty",
}


@dataclass
class ValidationResult:
    """Errors make Telegram answer 400; warnings are accepted but worth a look."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_request(
    method: str,
    params: dict[str, Any],
    warnings: list[str] | None = None,
    *,
    strict_html: bool = True,
) -> list[str]:
    """Errors for one request (empty if Telegram would accept it); warnings appended."""
    result = validate(method, params, strict_html=strict_html)
    if warnings is not None:
        warnings.extend(result.warnings)
    return result.errors


def validate(method: str, params: dict[str, Any], *, strict_html: bool = True) -> ValidationResult:
    """Validate decoded params (see spec.decode_params) of ``method``.

    ``strict_html=False`` accepts HTML exactly as Telegram does (see telegram_html).
    """
    result = ValidationResult()
    spec = load_spec()
    name = spec.method_name(method)
    if name is None:
        result.errors.append(f'Not Found: method "{method}" is not in {spec.version}')
        return result
    checker = _Checker(result, strict_html)
    params_spec = spec.params(name)
    for param, param_spec in params_spec.items():
        if param_spec["required"] and _absent(params.get(param)):
            result.errors.append(
                _REQUIRED_MESSAGES.get(param, f'Bad Request: parameter "{param}" is required')
            )
    for param in params:
        if param not in params_spec:
            result.warnings.append(
                f'{name}: parameter "{param}" is not in {spec.version} (newer API or a typo?)'
            )
            continue
        checker.check_field(params, param, params_spec[param], param)
    if name == "setMyCommands":
        _check_unique_commands(params.get("commands"), result)
    if name == "sendRichMessage" and "rich_message" in params:
        _check_rich(params["rich_message"], result, strict_html)
    return result


def validate_object(value: Any, type_name: str, path: str) -> list[str]:
    """Errors of an object of a spec type (e.g. what a fake update carries)."""
    checker = _Checker(ValidationResult(), strict_html=True)
    return checker.value_errors(value, [type_name], path) + checker.result.errors


def _check_rich(value: Any, result: ValidationResult, strict: bool) -> None:
    """The blocks form is newer than the spec: aiogram's models check it instead."""
    newer = [f'field "{name}" is not in InputRichMessage' for name in ("blocks", "media")]
    result.warnings[:] = [w for w in result.warnings if not any(n in w for n in newer)]
    errors, warnings, _ = check_rich_message(value, strict=strict)
    result.errors.extend(errors)
    result.warnings.extend(warnings)


def formatted_text(
    obj: dict[str, Any], field_name: str, *, strict: bool = True
) -> tuple[str, list[dict[str, Any]]] | None:
    """(plain text, entities) of a text/caption field as Telegram would store it.

    Applies the sibling parse mode (HTML only) or entities, then trims.  None if the field
    is absent.  Raises TelegramHTMLError / ValueError for what Telegram would reject.
    """
    raw = obj.get(field_name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueError(f'Bad Request: field "{field_name}" must be of type String')
    mode_field, entities_field = _format_siblings(field_name)
    mode = obj.get(mode_field)
    entities = obj.get(entities_field)
    if isinstance(mode, str) and mode and mode.lower() != "none":
        if mode.lower() == "html":
            return parse_html(raw, strict=strict, trim=True)
        if mode.lower() in _MARKDOWN_MODES:
            if isinstance(entities, list):
                return trim_text(raw, [e for e in entities if isinstance(e, dict)])
            raise ValueError(
                f"Bad Request: parse_mode {mode} is not used by this project "
                "(fake policy: use HTML)"
            )
        raise ValueError("Bad Request: unsupported parse_mode")
    if isinstance(entities, list):
        return trim_text(raw, [e for e in entities if isinstance(e, dict)])
    return trim_text(raw, [])


def _format_siblings(field_name: str) -> tuple[str, str]:
    """Names of the parse-mode and entities fields that belong to a formatted field."""
    if field_name in ("text", "message_text"):
        return "parse_mode", "entities"
    if field_name == "caption":
        return "parse_mode", "caption_entities"
    return f"{field_name}_parse_mode", f"{field_name}_entities"


def _absent(value: Any) -> bool:
    return value is None or value == ""


def _type_label(types: list[str]) -> str:
    return " or ".join(types)


class _Checker:
    """Recursive type/limit checker writing into one ValidationResult."""

    def __init__(self, result: ValidationResult, strict_html: bool) -> None:
        self.result = result
        self.strict_html = strict_html
        self.spec = load_spec()
        self.extra_checks: dict[str, Callable[[dict[str, Any], str], None]] = {
            "InlineKeyboardButton": self.check_inline_button,
            "InlineKeyboardMarkup": self.check_inline_markup,
            "BotCommand": self.check_bot_command,
        }

    # -- fields ---------------------------------------------------------------------------

    def check_field(
        self, obj: dict[str, Any], name: str, field_spec: dict[str, Any], path: str
    ) -> None:
        value = obj[name]
        if value is None:
            return
        types: list[str] = field_spec["types"]
        errors = self.value_errors(value, types, path)
        if errors:
            self.result.errors.extend(errors)
            return
        if field_spec.get("after_entities"):
            self.check_formatted(obj, name, field_spec, path)
        elif "length" in field_spec and isinstance(value, str) and name != "callback_data":
            lo, hi = field_spec["length"]
            size = len(value.encode()) if field_spec["unit"] == "bytes" else len(value)
            if not lo <= size <= hi:
                unit = "bytes" if field_spec["unit"] == "bytes" else "characters"
                self.result.errors.append(
                    f'Bad Request: "{path}" must be {lo}-{hi} {unit}, got {size}'
                )
        if "items" in field_spec and isinstance(value, list):
            lo, hi = field_spec["items"]
            if not lo <= len(value) <= hi:
                self.result.errors.append(
                    f'Bad Request: "{path}" must have {lo}-{hi} elements, got {len(value)}'
                )
        if "range" in field_spec and isinstance(value, int):
            lo, hi = field_spec["range"]
            if not lo <= value <= hi:
                self.result.errors.append(f'Bad Request: "{path}" must be in {lo}..{hi}')

    def check_formatted(
        self, obj: dict[str, Any], name: str, field_spec: dict[str, Any], path: str
    ) -> None:
        """Length limits counted in UTF-16 units after entity parsing and trimming."""
        try:
            parsed = formatted_text(obj, name, strict=self.strict_html)
        except (TelegramHTMLError, ValueError) as exc:
            self.result.errors.append(str(exc))
            return
        if parsed is None:
            return
        text, _ = parsed
        size = sizeof(text)
        lo, hi = field_spec["length"]
        if size < lo:
            if name in ("text", "message_text"):
                self.result.errors.append("Bad Request: message text is empty")
            else:
                self.result.errors.append(f'Bad Request: "{path}" is empty')
        elif size > hi:
            if name in ("text", "message_text"):
                self.result.errors.append("Bad Request: message is too long")
            elif name == "caption":
                self.result.errors.append("Bad Request: message caption is too long")
            else:
                self.result.errors.append(f'Bad Request: "{path}" is too long')
        entities = obj.get(_format_siblings(name)[1])
        if isinstance(entities, list) and not obj.get(_format_siblings(name)[0]):
            for entity in entities:
                if isinstance(entity, dict) and isinstance(entity.get("offset"), int):
                    end = entity["offset"] + int(entity.get("length", 0))
                    if entity["offset"] < 0 or end > sizeof(str(obj[name])):
                        self.result.errors.append(
                            "Bad Request: can't parse entities: entity is out of the text "
                            f"({path})"
                        )

    # -- types ----------------------------------------------------------------------------

    def value_errors(self, value: Any, types: list[str], path: str) -> list[str]:
        """Errors of the best-matching type among ``types`` (empty if one matches)."""
        best: tuple[int, int, list[str], list[str]] | None = None
        for type_name in types:
            saved = self.result
            self.result = ValidationResult()
            errors = self.type_errors(value, type_name, path)
            attempt = self.result
            self.result = saved
            errors += attempt.errors
            if not errors:
                self.result.warnings.extend(attempt.warnings)
                return []
            missing = sum("is missing" in e for e in errors)
            candidate = (missing, len(errors), errors, attempt.warnings)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
        assert best is not None
        if len(types) > 1 and all(t in PRIMITIVES for t in types):
            return [f'Bad Request: "{path}" must be of type {_type_label(types)}']
        self.result.warnings.extend(best[3])
        return best[2]

    def type_errors(self, value: Any, type_name: str, path: str) -> list[str]:
        wrong = [f'Bad Request: "{path}" must be of type {type_name}']
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return wrong
            inner = type_name[len("Array of ") :]
            out: list[str] = []
            for i, item in enumerate(value):
                out += self.value_errors(item, [inner], f"{path}[{i}]")
            return out
        if type_name == "Integer":
            return [] if isinstance(value, int) and not isinstance(value, bool) else wrong
        if type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return [] if ok else wrong
        if type_name == "Boolean":
            return [] if isinstance(value, bool) else wrong
        if type_name == "String":
            return [] if isinstance(value, str) else wrong
        if type_name == "InputFile":
            return [] if isinstance(value, UploadedFile) else wrong
        if not isinstance(value, dict):
            return [f'Bad Request: can\'t parse {type_name} "{path}": an object expected']
        return self.object_errors(value, type_name, path)

    def object_errors(self, obj: dict[str, Any], type_name: str, path: str) -> list[str]:
        type_spec = self.spec.types.get(type_name)
        if type_spec is None:
            self.result.warnings.append(f'"{path}": type {type_name} is not in the spec')
            return []
        if "subtypes" in type_spec:
            return self.union_errors(obj, type_name, type_spec["subtypes"], path)
        fields: dict[str, Any] = type_spec.get("fields", {})
        errors: list[str] = []
        for name, field_spec in fields.items():
            if field_spec["required"] and _absent(obj.get(name)):
                errors.append(f'Bad Request: can\'t parse {type_name}: "{path}.{name}" is missing')
        if discriminator := type_spec.get("discriminator"):
            key, expected = discriminator
            if obj.get(key) not in (None, expected):
                errors.append(f'Bad Request: "{path}.{key}" must be "{expected}"')
        if errors:
            return errors
        saved_errors = len(self.result.errors)
        for name in obj:
            if name not in fields:
                self.result.warnings.append(
                    f'"{path}": field "{name}" is not in {type_name} ({self.spec.version})'
                )
                continue
            self.check_field(obj, name, fields[name], f"{path}.{name}")
        if (extra := self.extra_checks.get(type_name)) is not None:
            extra(obj, path)
        errors = self.result.errors[saved_errors:]
        del self.result.errors[saved_errors:]
        return errors

    def union_errors(
        self, obj: dict[str, Any], type_name: str, subtypes: list[str], path: str
    ) -> list[str]:
        for subtype in subtypes:
            discriminator = self.spec.types.get(subtype, {}).get("discriminator")
            if discriminator and obj.get(discriminator[0]) == discriminator[1]:
                return self.object_errors(obj, subtype, path)
        if any(self.spec.types.get(s, {}).get("discriminator") for s in subtypes):
            return [f'Bad Request: can\'t parse {type_name} "{path}": unsupported type']
        return self.value_errors(obj, subtypes, path)

    # -- Telegram rules the spec states in prose ----------------------------------------

    def check_inline_button(self, button: dict[str, Any], path: str) -> None:
        actions = sorted(k for k in button if k not in _BUTTON_DECORATION)
        if not actions:
            self.result.errors.append(
                "Bad Request: can't parse inline keyboard button: Text buttons are "
                f"unallowed in the inline keyboard ({path})"
            )
        elif len(actions) > 1:
            self.result.errors.append(
                "Bad Request: can't parse inline keyboard button: exactly one of "
                f"{', '.join(actions)} must be used ({path})"
            )
        if isinstance(button.get("text"), str) and not button["text"].strip():
            self.result.errors.append(f"Bad Request: BUTTON_TEXT_INVALID ({path})")
        data = button.get("callback_data")
        if isinstance(data, str) and not 1 <= len(data.encode()) <= 64:
            self.result.errors.append(
                f"Bad Request: BUTTON_DATA_INVALID ({path}: {len(data.encode())} bytes, "
                "must be 1-64)"
            )
        url = button.get("url")
        if isinstance(url, str) and not _BUTTON_URL.fullmatch(url):
            self.result.errors.append(f'Bad Request: BUTTON_URL_INVALID ({path}: "{url}")')
        style = button.get("style")
        if isinstance(style, str) and style not in _BUTTON_STYLES:
            self.result.errors.append(f'Bad Request: "{path}.style" is invalid: "{style}"')

    def check_inline_markup(self, markup: dict[str, Any], path: str) -> None:
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            return
        count = sum(len(row) for row in rows if isinstance(row, list))
        if count > _MAX_INLINE_BUTTONS:
            self.result.errors.append(
                f"Bad Request: reply markup is too long ({count} buttons, at most 100)"
            )
        for i, row in enumerate(rows):
            if isinstance(row, list) and len(row) > _MAX_ROW_WIDTH:
                self.result.warnings.append(
                    f"{path}.inline_keyboard[{i}] has {len(row)} buttons; Telegram shows at "
                    f"most {_MAX_ROW_WIDTH} per row"
                )

    def check_bot_command(self, command: dict[str, Any], path: str) -> None:
        name = command.get("command")
        if isinstance(name, str):
            if name.startswith("/"):
                self.result.warnings.append(f'{path}.command "{name}" has a leading "/"')
                name = name[1:]
            if not _COMMAND.fullmatch(name):
                self.result.errors.append(
                    f'Bad Request: BOT_COMMAND_INVALID ({path}.command "{name}": 1-32 '
                    "lowercase English letters, digits and underscores)"
                )
        description = command.get("description")
        if isinstance(description, str) and not description.strip():
            self.result.errors.append(
                f"Bad Request: BOT_COMMAND_DESCRIPTION_INVALID ({path}.description is empty)"
            )


def _check_unique_commands(commands: Any, result: ValidationResult) -> None:
    if not isinstance(commands, list):
        return
    names = [c.get("command") for c in commands if isinstance(c, dict)]
    duplicates = sorted({n for n in names if isinstance(n, str) and names.count(n) > 1})
    if duplicates:
        result.warnings.append(f"setMyCommands: duplicate commands {duplicates}")
