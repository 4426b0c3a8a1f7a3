"""The outlet's archive: a zip of page dumps (.txt) and saved pages (.html, .htm) brought
in as archived articles, batch by batch, with progress.

The zip is untrusted. It is read in memory, member by member, and never extracted to
disk, so a name such as ``../../etc/passwd`` names nothing here; such names are still
refused and reported, as are nested archives. Sizes are capped before anything is read
(the archive, each member, their total) and each member is read with a cap whatever its
header claims; a member that inflates more than ``MAX_RATIO`` times is a bomb. A bad
member is skipped and named in the report; the archive as a whole is refused only when it
is not a zip or too big.

Every batch is committed as it is stored, so stopping half-way (a cancel, a failure)
loses nothing already imported; importing the same archive again imports nothing twice
(the storage decides by the pages' keys). Pages are read in a worker thread, so the bot
keeps answering while a large archive comes in.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import io
import multiprocessing
import os
import zipfile
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from bot.articles.parsing import ParseError, parse_article
from bot.feeds.pages import decode_page, extract_article
from bot.models import ArchivedPage, ArticleContent
from bot.repositories import ArchiveStore
from bot.telegram_text.cleaning import clean_line
from bot.workers import watch_parent

__all__ = [
    "BATCH_SIZE",
    "MAX_ARCHIVE_BYTES",
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "Archive",
    "ArchiveRefused",
    "BadFile",
    "ImportState",
    "import_archive",
    "page_keys",
]

MB = 1024 * 1024
MAX_ARCHIVE_BYTES = 20 * MB
"""The largest file a bot may download from Telegram (getFile), and so the largest zip."""
MAX_MEMBER_BYTES = 5 * MB
"""A saved page larger than this is no article page."""
MAX_TOTAL_BYTES = 1024 * MB
"""What all pages of one archive may inflate to: 5,000 pages of 200 KB fit."""
MAX_RATIO = 100
"""HTML compresses 5 to 15 times; a member inflating more than this is a bomb."""
MAX_MEMBERS = 100_000
BATCH_SIZE = 200
"""Pages per transaction: small enough to show progress often, large enough to be fast."""

_DUMPS = (".txt", ".text")
_PAGES = (".html", ".htm")
_ARCHIVES = (".zip", ".rar", ".7z", ".gz", ".tgz", ".tar")
# CRC or header damage, an encrypted member, an unknown compression.
_UNREADABLE = (
    zipfile.BadZipFile,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    OSError,
    EOFError,
)
# The flag of a zip entry whose name is UTF-8; without it the name is in the DOS code
# page of the machine that made the zip (cp866 on Russian Windows), read as cp437.
_UTF8_NAME = 0x800


class ArchiveRefused(Exception):
    """The archive as a whole cannot be imported; ``code`` says why (texts'
    ``archive_refused``) and ``limit`` is the limit it broke, in its unit."""

    def __init__(self, code: str, limit: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.limit = limit


@dataclass(frozen=True, slots=True)
class BadFile:
    """A member skipped, and why (texts' ``archive_bad_reasons``)."""

    name: str
    reason: str


def _display_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author typed it, whatever the zip tool's encoding."""
    name = info.filename
    if not info.flag_bits & _UTF8_NAME:
        raw = name.encode("cp437", "replace")
        for encoding in ("utf-8", "cp866"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return clean_line(name)[:200] or "?"


def _unsafe(name: str) -> bool:
    """Would the name leave the folder it is extracted to (absolute, ``..``, a drive)?"""
    path = PurePosixPath(name.replace("\\", "/"))
    first = path.parts[0] if path.parts else ""
    return path.is_absolute() or ".." in path.parts or ":" in first


@dataclass(slots=True)
class Archive:
    """An opened zip: its page members in order, and those refused on sight."""

    zip: zipfile.ZipFile
    pages: list[tuple[zipfile.ZipInfo, str]]
    refused: list[BadFile]
    # What it was opened from: the processes that read its pages open it again.
    source: bytes | Path

    @classmethod
    def open(cls, source: bytes | Path) -> Archive:
        """A zip downloaded from Telegram (``bytes``, within its download limit) or the
        operator's file (a ``Path``: read member by member, any size).

        Raises :class:`ArchiveRefused` when it is no zip, too big, or holds no page.
        """
        if isinstance(source, bytes) and len(source) > MAX_ARCHIVE_BYTES:
            raise ArchiveRefused("too_big", MAX_ARCHIVE_BYTES // MB)
        stream: BinaryIO | Path = io.BytesIO(source) if isinstance(source, bytes) else source
        try:
            archive = zipfile.ZipFile(stream)
            members = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise ArchiveRefused("not_zip") from exc
        if len(members) > MAX_MEMBERS:
            raise ArchiveRefused("too_many", MAX_MEMBERS)
        pages: list[tuple[zipfile.ZipInfo, str]] = []
        refused: list[BadFile] = []
        for info in members:
            name = _display_name(info)
            lower = info.filename.lower()
            if info.is_dir():
                continue
            if _unsafe(info.filename):
                refused.append(BadFile(name, "unsafe_name"))
            elif lower.endswith(_ARCHIVES):
                refused.append(BadFile(name, "nested_zip"))
            elif lower.endswith(_DUMPS + _PAGES):
                pages.append((info, name))
            # Anything else (a saved page's images and styles) is no page: not counted.
        if sum(info.file_size for info, _ in pages) > MAX_TOTAL_BYTES:
            raise ArchiveRefused("bomb", MAX_TOTAL_BYTES // MB)
        if not pages:
            raise ArchiveRefused("empty")
        return cls(archive, pages, refused, source)

    @property
    def total(self) -> int:
        """Files that count: the pages and those refused on sight."""
        return len(self.pages) + len(self.refused)

    def close(self) -> None:
        self.zip.close()

    def read_all(
        self, members: list[tuple[zipfile.ZipInfo, str]], tz: ZoneInfo
    ) -> list[ArchivedPage | BadFile]:
        return [self.read(info, name, tz) for info, name in members]

    def read_range(self, start: int, stop: int, tz: ZoneInfo) -> list[ArchivedPage | BadFile]:
        """Pages ``start`` to ``stop`` (their order in the zip)."""
        return self.read_all(self.pages[start:stop], tz)

    def read(self, info: zipfile.ZipInfo, name: str, tz: ZoneInfo) -> ArchivedPage | BadFile:
        """One member as a page to store, or why it is skipped; CPU and memory bounded."""
        if info.file_size > MAX_MEMBER_BYTES:
            return BadFile(name, "too_big")
        if info.file_size > MB and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return BadFile(name, "bomb")
        try:
            with self.zip.open(info) as member:
                data = member.read(MAX_MEMBER_BYTES + 1)
        except _UNREADABLE:
            return BadFile(name, "unreadable")
        if len(data) > MAX_MEMBER_BYTES:
            return BadFile(name, "too_big")
        return _page(data, info.filename, name, tz)


def _page(data: bytes, filename: str, name: str, tz: ZoneInfo) -> ArchivedPage | BadFile:
    canonical: str | None = None
    if filename.lower().endswith(_PAGES):
        extracted = extract_article(data, "")
        if extracted is None:
            return BadFile(name, "not_article")
        content, canonical = extracted.content, extracted.canonical_url
    else:
        if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return BadFile(name, "encoding")  # a binary file named .txt
        try:
            # As a page is read: UTF-8, else a declared or the legacy cp1251 encoding.
            content = parse_article(decode_page(data))
        except ParseError:
            return BadFile(name, "not_article")
    return ArchivedPage(
        content=content, keys=page_keys(content, canonical), published_at=_moment(content, tz)
    )


def _moment(content: ArticleContent, tz: ZoneInfo) -> datetime:
    """The page's date (the outlet's wall-clock time) as a moment; now without one."""
    local = content.original_published_at
    if local is None:
        return datetime.now(UTC)
    return local.replace(tzinfo=tz).astimezone(UTC)


def _normal_url(url: str) -> str:
    """The address as a key: scheme and ``www.`` ignored, no fragment, no trailing slash."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    return urlunsplit(("", host, parts.path.rstrip("/"), parts.query, "")).lstrip("/")


def page_keys(content: ArticleContent, canonical: str | None) -> tuple[str, ...]:
    """What tells the page again: its title and date (its text when it has no date), and
    its canonical address when it has one."""
    title = " ".join(content.title.casefold().split())
    when = content.original_published_at
    if when is not None:
        stamp = when.isoformat(timespec="minutes")
    else:
        body = "\n".join(content.paragraphs).encode()
        stamp = "text:" + hashlib.sha256(body).hexdigest()[:16]
    keys = [f"title:{title}|{stamp}"]
    if canonical:
        keys.append(f"url:{_normal_url(canonical)}")
    return tuple(keys)


# --- the import ---------------------------------------------------------------------------


@dataclass(slots=True)
class ImportState:
    """Where an import stands; what progress messages and the final report show."""

    total: int
    done: int = 0
    imported: int = 0
    duplicates: int = 0
    bad: list[BadFile] = field(default_factory=list)
    cancelled: bool = False
    failed: bool = False
    finished: bool = False

    @property
    def skipped(self) -> int:
        return self.duplicates + len(self.bad)


Progress = Callable[[ImportState], Awaitable[None]]


# --- reading pages in parallel ------------------------------------------------------------

READ_WORKERS = min(2, os.cpu_count() or 1)
"""Processes that read a large archive's pages, one core each: reading is the work."""
_POOL_FROM = 4 * BATCH_SIZE
"""Smaller archives are read in a thread: starting the processes would cost more."""

_opened: Archive | None = None  # a reading process's own copy of the archive


def _open_here(source: bytes | Path) -> None:
    global _opened  # one archive per process, for the life of the pool
    watch_parent()
    _opened = Archive.open(source)


def _read_here(start: int, stop: int, tz: ZoneInfo) -> list[ArchivedPage | BadFile]:
    assert _opened is not None
    return _opened.read_range(start, stop, tz)


class _Reader:
    """Reads batches ahead of the one being stored: in ``workers`` processes (spawned:
    the bot's threads are not forked), or in a thread when ``workers`` < 2."""

    def __init__(self, archive: Archive, tz: ZoneInfo, workers: int) -> None:
        self._archive = archive
        self._tz = tz
        self._pool = (
            ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_open_here,
                initargs=(archive.source,),
            )
            if workers > 1
            else None
        )
        self.ahead = max(workers, 1)

    def submit(self, start: int, stop: int) -> asyncio.Future[list[ArchivedPage | BadFile]]:
        if self._pool is None:
            return asyncio.ensure_future(
                asyncio.to_thread(self._archive.read_range, start, stop, self._tz)
            )
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._pool, _read_here, start, stop, self._tz)

    async def close(self) -> None:
        if self._pool is not None:
            await asyncio.to_thread(self._pool.shutdown, True, cancel_futures=True)


async def import_archive(
    archive: Archive,
    store: ArchiveStore,
    author_id: int,
    tz: ZoneInfo,
    *,
    progress: Progress,
    cancel: asyncio.Event | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> ImportState:
    """Import every page of ``archive``; ``progress`` is awaited after each batch (and
    once at the end, with ``finished`` set). ``cancel`` stops it between batches.
    Pages are read ahead of the batch being stored, in ``workers`` processes (default:
    ``READ_WORKERS`` for a large archive, a thread for a small one).

    A storage error ends the import (``failed``; what was committed stays) and is
    raised after the final progress, for the caller to log.
    """
    state = ImportState(total=archive.total, bad=list(archive.refused))
    state.done = len(archive.refused)
    count = len(archive.pages)
    if workers is None:
        workers = READ_WORKERS if count >= _POOL_FROM else 0
    ranges = iter([(at, min(at + batch_size, count)) for at in range(0, count, batch_size)])
    reader = _Reader(archive, tz, workers)
    pending: deque[tuple[int, asyncio.Future[list[ArchivedPage | BadFile]]]] = deque()

    def read_ahead() -> None:
        while len(pending) <= reader.ahead and (batch := next(ranges, None)) is not None:
            pending.append((batch[1] - batch[0], reader.submit(*batch)))

    try:
        read_ahead()
        while pending:
            if cancel is not None and cancel.is_set():
                state.cancelled = True
                break
            members, future = pending.popleft()
            read = await future
            read_ahead()
            pages = [item for item in read if isinstance(item, ArchivedPage)]
            state.bad += [item for item in read if isinstance(item, BadFile)]
            if pages:
                stored = await store.import_archived(pages, author_id)
                state.imported += stored.imported
                state.duplicates += stored.duplicates
            state.done += members
            await progress(state)
    except asyncio.CancelledError:
        state.cancelled = True  # the bot is stopping: what is committed stays
        raise
    except Exception:
        state.failed = True
        raise
    finally:
        for _, future in pending:
            future.cancel()
        await asyncio.gather(*(future for _, future in pending), return_exceptions=True)
        await reader.close()
        state.finished = True
        await progress(state)
    return state
