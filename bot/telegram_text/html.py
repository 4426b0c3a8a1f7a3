"""Plain text as Telegram HTML: every character shown literally, values included."""

from __future__ import annotations

from typing import Any

from aiogram.utils.formatting import Text


def escaped_html(template: str, **values: Any) -> str:
    """A user-facing message as HTML: ``template.format(**values)``, escaped."""
    return Text(template.format(**values) if values else template).as_html()
