"""Extract the part of the scraped Bot API spec that the fake server's validator needs.

Tests must not depend on the shared scrape at run time, so this script condenses it into
``tests/data/botapi_spec.json`` (committed).  Re-run it when the scrape is updated::

    .venv/bin/python tests/data/make_botapi_spec.py [/path/to/api.json]

Kept per method: parameters (types, required flag, limits parsed from the descriptions)
and return types.  Kept per type: only the types reachable from some method parameter
(InlineKeyboardMarkup, BotCommandScope*, MessageEntity, ...), with their fields, their
subtypes and, for subtypes, the discriminating ``type``/``status`` value.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

DEFAULT_SOURCE = Path("/work/shared/telegram-bot-api/api.json")
OUTPUT = Path(__file__).with_name("botapi_spec.json")

_STRING_LENGTH = re.compile(r"\b(\d+)-(\d+) (characters|bytes)( after entit(?:y|ies) parsing)?")
_ARRAY_RANGE = re.compile(r"\b(\d+)-(\d+) (?!characters|bytes)[a-z]")
_ARRAY_MAX = re.compile(r"\bAt most (\d+) [\w ]+? can be specified")
_INT_RANGE = re.compile(r"Values between (\d+)-(\d+) are accepted")
_DISCRIMINATOR = re.compile(r"(?:must be|always) \"?([a-z_]+)\"?")


def _base_types(type_names: list[str]) -> set[str]:
    """``Array of Array of X`` -> ``X``; used to find which types the params reach."""
    return {name.rsplit("Array of ", 1)[-1] for name in type_names}


def _field(raw: dict[str, Any]) -> dict[str, Any]:
    """One parameter/field: types, required flag and any limits its description states."""
    out: dict[str, Any] = {"types": raw["types"], "required": raw["required"]}
    description: str = raw.get("description", "")
    is_array = any(t.startswith("Array of") for t in raw["types"])
    if raw["types"] == ["String"] and (m := _STRING_LENGTH.search(description)):
        out["length"] = [int(m.group(1)), int(m.group(2))]
        out["unit"] = "bytes" if m.group(3) == "bytes" else "chars"
        if m.group(4):
            out["after_entities"] = True
    if is_array:
        m = _ARRAY_RANGE.search(description)
        if m and int(m.group(1)) < int(m.group(2)):
            out["items"] = [int(m.group(1)), int(m.group(2))]
        elif m2 := _ARRAY_MAX.search(description):
            out["items"] = [0, int(m2.group(1))]
    if raw["types"] == ["Integer"] and (m := _INT_RANGE.search(description)):
        out["range"] = [int(m.group(1)), int(m.group(2))]
    return out


def build(source: dict[str, Any]) -> dict[str, Any]:
    """Condense the scrape; see the module docstring for what is kept."""
    all_types: dict[str, Any] = source["types"]
    methods: dict[str, Any] = {}
    wanted: set[str] = set()
    for name, method in sorted(source["methods"].items()):
        params = {f["name"]: _field(f) for f in method.get("fields", [])}
        for f in method.get("fields", []):
            wanted |= _base_types(f["types"])
        methods[name] = {"params": params, "returns": method.get("returns", [])}

    types: dict[str, Any] = {}
    pending = sorted(wanted)
    while pending:
        name = pending.pop()
        if name in types or name not in all_types:
            continue
        raw = all_types[name]
        entry: dict[str, Any] = {}
        if "fields" in raw:
            entry["fields"] = {f["name"]: _field(f) for f in raw["fields"]}
            for f in raw["fields"]:
                pending.extend(sorted(_base_types(f["types"])))
        if "subtypes" in raw:
            entry["subtypes"] = raw["subtypes"]
            pending.extend(raw["subtypes"])
        if raw.get("subtype_of") and raw.get("fields"):
            first = raw["fields"][0]
            if m := _DISCRIMINATOR.search(first.get("description", "")):
                entry["discriminator"] = [first["name"], m.group(1)]
        types[name] = entry
    return {
        "version": source["version"],
        "release_date": source.get("release_date"),
        "methods": methods,
        "types": dict(sorted(types.items())),
    }


def dump(spec: dict[str, Any]) -> str:
    """Compact JSON, one method/type per line so that diffs stay readable."""
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    lines = ["{"]
    lines.append(f'"version":{json.dumps(spec["version"])},')
    lines.append(f'"release_date":{json.dumps(spec["release_date"])},')
    for section in ("methods", "types"):
        lines.append(f'"{section}":{{')
        items = list(spec[section].items())
        for i, (name, value) in enumerate(items):
            comma = "," if i < len(items) - 1 else ""
            lines.append(f"{json.dumps(name)}:{json.dumps(value, **compact)}{comma}")  # type: ignore[arg-type]
        lines.append("}," if section == "methods" else "}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    source_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    spec = build(json.loads(source_path.read_text(encoding="utf-8")))
    OUTPUT.write_text(dump(spec), encoding="utf-8")
    sys.stdout.write(
        f"wrote {OUTPUT} ({spec['version']}, {len(spec['methods'])} methods, "
        f"{len(spec['types'])} types)\n"
    )


if __name__ == "__main__":
    main(sys.argv)
