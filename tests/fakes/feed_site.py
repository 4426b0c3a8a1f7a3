"""A news site on 127.0.0.1 for the feed tests: feeds and pages served from memory,
every request recorded with its headers, ETags answered with 304, redirects, slow and
endless bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
JSON_FEED_TYPE = "application/feed+json"


@dataclass
class Resource:
    body: bytes
    content_type: str = RSS_TYPE
    status: int = 200
    etag: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # An endless body (for the size cap): this many bytes per chunk, until disconnected.
    endless_chunk: int = 0


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    status: int


@dataclass
class Item:
    title: str
    link: str
    guid: str | None = None
    text: str = "Первый абзац новости.\n\nВторой абзац новости."
    published: datetime | None = field(
        default_factory=lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    )
    categories: tuple[str, ...] = ()


def _html(text: str) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))


def rss(items: list[Item], *, encoding: str = "utf-8") -> bytes:
    entries = []
    for item in items:
        parts = [f"<title>{escape(item.title)}</title>", f"<link>{escape(item.link)}</link>"]
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.published is not None:
            parts.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        parts += [f"<category>{escape(c)}</category>" for c in item.categories]
        parts.append(f"<content:encoded><![CDATA[{_html(item.text)}]]></content:encoded>")
        entries.append("<item>" + "".join(parts) + "</item>")
    document = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>Сайт</title><link>https://news.example.kz/</link>"
        "<description>Новости</description>" + "".join(entries) + "</channel></rss>"
    )
    return document.encode(encoding)


def atom(items: list[Item]) -> bytes:
    entries = []
    for item in items:
        when = (item.published or datetime(2026, 1, 1, tzinfo=UTC)).isoformat()
        entries.append(
            "<entry>"
            f"<title>{escape(item.title)}</title>"
            f'<link href="{escape(item.link)}"/>'
            f"<id>{escape(item.guid or item.link)}</id>"
            f"<updated>{when}</updated>"
            f'<content type="html">{escape(_html(item.text))}</content>'
            "</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Сайт</title><id>urn:site</id><updated>2026-12-07T09:00:00Z</updated>"
        + "".join(entries)
        + "</feed>"
    ).encode()


def json_feed(items: list[Item]) -> bytes:
    import json

    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Сайт",
            "items": [
                {
                    "id": item.guid or item.link,
                    "url": item.link,
                    "title": item.title,
                    "content_html": _html(item.text),
                    "tags": list(item.categories),
                    **({"date_published": item.published.isoformat()} if item.published else {}),
                }
                for item in items
            ],
        },
        ensure_ascii=False,
    ).encode()


class FeedSite:
    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.requests: list[Request] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def serve(self, path: str, body: bytes, **options: Any) -> None:
        self.resources[path] = Resource(body, **options)

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        self.resources[path] = Resource(b"", status=status, headers={"Location": to})

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        resource = self.resources.get(request.path)
        headers = dict(request.headers)
        if resource is None:
            self.requests.append(Request(request.path, headers, 404))
            return web.Response(status=404, text="not found")
        if resource.etag is not None and request.headers.get("If-None-Match") == resource.etag:
            self.requests.append(Request(request.path, headers, 304))
            return web.Response(status=304, headers={"ETag": resource.etag})
        self.requests.append(Request(request.path, headers, resource.status))
        out_headers = dict(resource.headers)
        if resource.etag is not None:
            out_headers["ETag"] = resource.etag
        if resource.endless_chunk:
            response = web.StreamResponse(headers={"Content-Type": resource.content_type})
            await response.prepare(request)
            chunk = b"<" + b"x" * (resource.endless_chunk - 1)
            try:
                for _ in range(100_000):
                    await response.write(chunk)
            except (ConnectionError, RuntimeError):
                pass
            return response
        return web.Response(
            status=resource.status,
            body=resource.body,
            headers={**out_headers, "Content-Type": resource.content_type},
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
