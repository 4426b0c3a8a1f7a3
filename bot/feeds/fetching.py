"""Fetching a feed, a page or a photo from someone else's server, safely.

``http``/``https`` only; redirects followed by hand (at most ``MAX_REDIRECTS``), each hop's
address checked before it is requested, and checked again by the connector's resolver
when it connects (a name that resolves to a public address for the check and a private
one for the connection gets nowhere).  Loopback, private, link-local, reserved and
multicast addresses are refused unless the newsroom allows them (a site on its own
network; the tests).  A body is read in chunks up to a cap and cut there, never read
whole into memory.  Conditional GET: a stored ``ETag``/``Last-Modified`` is sent, and a
304 carries no body.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
TIMEOUT_SECONDS = 20.0
CONNECT_TIMEOUT_SECONDS = 10.0
USER_AGENT = "NewsroomBot/1.0 (+feed reader)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Longest wait a server's Retry-After is taken at (a week-long one would stop the feed).
MAX_RETRY_AFTER_SECONDS = 86_400.0


class FetchError(Exception):
    """The fetch failed; ``code`` names the ``Texts`` explanation (``feed_error_<code>``)
    and ``params`` fill it.  ``retry_after`` is the server's own wait, when it gave one."""

    def __init__(self, code: str, *, retry_after: float | None = None, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int  # 200 (or another 2xx) with a body; 304: unchanged, no body
    url: str  # after redirects
    body: bytes = b""
    truncated: bool = False  # the body was larger than the cap and is cut there
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    charset: str | None = None

    @property
    def unchanged(self) -> bool:
        return self.status == 304


def address_allowed(address: str, *, allow_private: bool) -> bool:
    """Only public unicast addresses, unless private ones are allowed."""
    if allow_private:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class GuardedResolver(AbstractResolver):
    """The connector's resolver: refuses a name that resolves to a refused address, at
    the moment of connecting (so a name cannot point elsewhere after the check)."""

    def __init__(self, allowed: Callable[[str], bool]) -> None:
        self._inner = DefaultResolver()
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if not all(self._allowed(r["host"]) for r in found):
            raise OSError(f"{host} resolves to an address that is not allowed")
        return found

    async def close(self) -> None:
        await self._inner.close()


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (a number or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    seconds: float
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


async def read_capped(content: aiohttp.StreamReader, cap: int) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of a body, chunk by chunk; True when there was more."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in content.iter_chunked(CHUNK_BYTES):
        if size + len(chunk) > cap:
            chunks.append(chunk[: cap - size])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


class Fetcher:
    """One HTTP client for feeds, pages and photos (its connections are reused)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        max_bytes: int,
        timeout: float = TIMEOUT_SECONDS,
        connections: int = 64,
    ) -> None:
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(
            total=timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS)
        )
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self.allowed), limit=self._connections
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers={"User-Agent": USER_AGENT}
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def allowed(self, address: str) -> bool:
        """May this instance connect to ``address``?"""
        return address_allowed(address, allow_private=self.allow_private)

    async def check_url(self, url: str) -> None:
        """Refuse what is not http(s), or whose host resolves to a refused address."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError("bad_url") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise FetchError("scheme", scheme=parts.scheme or "?")
        host = parts.hostname
        if not host:
            raise FetchError("bad_url")
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except (OSError, UnicodeError):
                raise FetchError("network", reason="DNS") from None
            addresses = [str(info[4][0]) for info in infos]
        if not addresses or not all(self.allowed(a) for a in addresses):
            raise FetchError("private", host=host)

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> Fetched:
        """GET ``url``, following redirects by hand; raises ``FetchError``."""
        cap = max_bytes or self.max_bytes
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(MAX_REDIRECTS + 1):
            await self.check_url(url)
            try:
                async with self._client().get(
                    url, headers=headers, allow_redirects=False
                ) as response:
                    if response.status in REDIRECTS:
                        location = response.headers.get("Location")
                        if not location:
                            raise FetchError("http", status=response.status)
                        url = urljoin(url, location)
                        continue
                    if response.status == 304:
                        return Fetched(304, url, etag=etag, last_modified=last_modified)
                    if response.status >= 400 or response.status < 200:
                        raise FetchError(
                            "http",
                            status=response.status,
                            retry_after=retry_after(response.headers.get("Retry-After")),
                        )
                    body, truncated = await read_capped(response.content, cap)
                    return Fetched(
                        response.status,
                        url,
                        body,
                        truncated,
                        etag=response.headers.get("ETag"),
                        last_modified=response.headers.get("Last-Modified"),
                        content_type=response.content_type,
                        charset=response.charset,
                    )
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise FetchError("network", reason=type(exc).__name__) from None
        raise FetchError("redirects", limit=MAX_REDIRECTS)
