"""What makes two feed items "the same item": one normalisation of links and one key of
title and date, used by every feed, so the database's UNIQUE keys decide."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only say where a reader came from.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "yclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref",
        "ref_src",
        "_openstat",
        "from",
        "utm",
    }
)
TRACKING_PREFIXES = ("utm_",)
_SPACES = re.compile(r"\s+")


def is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def normalise_link(url: str) -> str | None:
    """The link as the same article's other links would be: no scheme, no ``www.``,
    lower-case host, no default port, no trailing slash, no fragment, no tracking
    parameters (the rest sorted).  None when it is not an http(s) link."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking(name)
    )
    return urlunsplit(("", host, path, urlencode(query), "")).removeprefix("//")


def title_key(title: str, published: datetime | None) -> str | None:
    """The title (case and spaces folded) with the item's date and time to the minute, in
    UTC; None without a date (a title alone is too weak to call two items one)."""
    folded = _SPACES.sub(" ", title).strip().casefold()
    if not folded or published is None:
        return None
    when = published.astimezone(UTC) if published.tzinfo else published.replace(tzinfo=UTC)
    return f"{when:%Y-%m-%dT%H:%M}|{folded}"


def content_hash(title: str, text: str) -> str:
    """What a correction changes: the title or the text (spaces folded)."""
    folded = f"{_SPACES.sub(' ', title).strip()}\n{_SPACES.sub(' ', text).strip()}"
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()
