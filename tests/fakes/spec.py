"""The condensed Bot API spec (tests/data/botapi_spec.json) and form-value decoding.

Telegram receives every parameter as a string (aiogram form-encodes scalars with
``json.dumps`` and nested objects as JSON text), and decides by the parameter's declared
type whether to read it as JSON.  :func:`decode_params` does the same, so the validator
sees ints, bools and dicts where Telegram would.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "botapi_spec.json"

PRIMITIVES = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})


@dataclass(frozen=True)
class UploadedFile:
    """A file sent as a multipart part (Bot API "InputFile")."""

    field: str
    filename: str
    content_type: str
    data: bytes = dataclasses.field(repr=False)


@dataclass(frozen=True)
class BotAPISpec:
    """Read-only view of the condensed spec with case-insensitive method lookup."""

    version: str
    methods: dict[str, Any]
    types: dict[str, Any]
    _by_lower: dict[str, str]

    def method_name(self, name: str) -> str | None:
        """Canonical spelling of a method (Telegram method names are case-insensitive)."""
        return self._by_lower.get(name.lower())

    def params(self, method: str) -> dict[str, Any]:
        return dict(self.methods[method]["params"])


@cache
def load_spec() -> BotAPISpec:
    """Load tests/data/botapi_spec.json once per process."""
    raw = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    methods: dict[str, Any] = raw["methods"]
    return BotAPISpec(
        version=raw["version"],
        methods=methods,
        types=raw["types"],
        _by_lower={name.lower(): name for name in methods},
    )


def _fits(value: Any, types: list[str]) -> bool:
    """Whether a JSON-decoded value could be one of the declared (non-String) types."""
    for type_name in types:
        if type_name.startswith("Array of"):
            if isinstance(value, list):
                return True
        elif type_name == "Boolean":
            if isinstance(value, bool):
                return True
        elif type_name == "Integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return True
        elif type_name == "Float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return True
        elif type_name not in PRIMITIVES and isinstance(value, dict):
            return True
    return False


def decode_value(raw: str, types: list[str] | None) -> Any:
    """Decode one form value the way Telegram does, given the parameter's types."""
    if types == ["String"]:
        return raw
    try:
        decoded = json.loads(raw)
    except ValueError:
        return raw
    if types is None:  # unknown parameter: only obvious JSON structures
        return decoded if isinstance(decoded, dict | list | bool | int | float) else raw
    if _fits(decoded, types):
        return decoded
    return raw


def decode_params(method: str | None, raw: dict[str, str | UploadedFile]) -> dict[str, Any]:
    """Form fields -> typed params; ``attach://name`` top-level values -> the upload."""
    spec = load_spec()
    params_spec = spec.params(method) if method else {}
    uploads = {k: v for k, v in raw.items() if isinstance(v, UploadedFile)}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, UploadedFile):
            if name in params_spec:
                out[name] = value
            continue  # a part referenced via attach://
        types = params_spec[name]["types"] if name in params_spec else None
        if value.startswith("attach://") and value[len("attach://") :] in uploads:
            out[name] = uploads[value[len("attach://") :]]
        else:
            out[name] = decode_value(value, types)
    return out
