"""Reading the archive's zip (``bot.feeds.archive``): what is refused as a whole, what is
skipped and named, and that a batch committed stays when the import stops."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.feeds import archive as archive_module
from bot.feeds.archive import (
    MAX_MEMBER_BYTES,
    Archive,
    ArchiveRefused,
    BadFile,
    ImportState,
    import_archive,
)
from bot.models import ArchivedPage, ImportedBatch

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED_TXT = (FIXTURES / "seed_article.txt").read_bytes()
SEED_HTML = (FIXTURES / "seed_article.html").read_bytes()
TZ = ZoneInfo("Asia/Almaty")


def zipped(members: Sequence[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def read_all(data: bytes) -> tuple[list[ArchivedPage], list[BadFile]]:
    archive = Archive.open(data)
    read = archive.read_all(archive.pages, TZ)
    pages = [item for item in read if isinstance(item, ArchivedPage)]
    bad = archive.refused + [item for item in read if isinstance(item, BadFile)]
    return pages, bad


def test_dumps_and_saved_pages_are_read_and_the_rest_ignored() -> None:
    cp1251 = SEED_TXT.decode("utf-8").encode("cp1251", "replace")
    pages, bad = read_all(
        zipped(
            [
                ("a/seed.txt", SEED_TXT),
                ("b/seed.HTML", SEED_HTML),
                ("c/seed-cp1251.txt", cp1251),
                ("b/seed_files/photo.jpg", b"\xff\xd8\xff"),
                ("b/seed_files/", b""),
            ]
        )
    )
    assert bad == []
    assert len(pages) == 3
    titles = {page.content.title for page in pages}
    assert len(titles) == 1 and "Минобороны КНР" in titles.pop()
    # The dump and the page are the same page: the same title-and-date key.
    assert pages[0].keys[0] == pages[1].keys[0] == pages[2].keys[0]
    assert pages[1].keys[1] == "url:kt.kz/rus/politics/minoborony_knr_1377931563.html"
    # The outlet's 11:38 in Almaty (UTC+6 in 2022), as a moment.
    assert pages[0].published_at.isoformat() == "2022-04-29T05:38:00+00:00"


@pytest.mark.parametrize(
    "name", ["../evil.txt", "a/../../evil.html", "/etc/passwd.txt", "C:\\Windows\\x.txt"]
)
def test_path_traversal_names_are_skipped_and_named(name: str) -> None:
    pages, bad = read_all(zipped([(name, SEED_TXT), ("ok.txt", SEED_TXT)]))
    assert len(pages) == 1
    assert [b.reason for b in bad] == ["unsafe_name"]


def test_nested_archives_are_skipped_and_named() -> None:
    inner = zipped([("seed.txt", SEED_TXT)])
    pages, bad = read_all(zipped([("inner.zip", inner), ("ok.txt", SEED_TXT)]))
    assert len(pages) == 1
    assert bad == [BadFile("inner.zip", "nested_zip")]


def test_a_name_in_the_dos_code_page_reads_as_typed() -> None:
    """Windows' zip tools write names in cp866 without the UTF-8 flag."""
    placeholder, russian = "XXXXX.txt", "Архив.txt"
    data = zipped([(placeholder, b"\x00binary")])
    data = data.replace(placeholder.encode(), russian.encode("cp866"))
    _, bad = read_all(data)
    assert bad == [BadFile("Архив.txt", "encoding")]


def test_bombs_and_oversized_members_are_skipped() -> None:
    pages, bad = read_all(
        zipped(
            [
                ("bomb.html", b"\x00" * (2 * 1024 * 1024)),  # a thousand times smaller zipped
                ("big.html", b" " * (MAX_MEMBER_BYTES + 1)),
                ("ok.txt", SEED_TXT),
            ]
        )
    )
    assert len(pages) == 1
    assert bad == [BadFile("bomb.html", "bomb"), BadFile("big.html", "too_big")]


def test_an_archive_that_inflates_past_the_total_cap_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(archive_module, "MAX_TOTAL_BYTES", 2 * len(SEED_TXT))
    with pytest.raises(ArchiveRefused) as refused:
        Archive.open(zipped([(f"{n}.txt", SEED_TXT) for n in range(3)]))
    assert refused.value.code == "bomb"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "not_zip"),
        (b"PK\x03\x04garbage", "not_zip"),
        (SEED_TXT, "not_zip"),
        (zipped([("readme.md", b"# nothing")]), "empty"),
        (b"PK" + b"\x00" * (20 * 1024 * 1024), "too_big"),  # more than Telegram gives
    ],
)
def test_what_is_refused_as_a_whole(data: bytes, code: str) -> None:
    with pytest.raises(ArchiveRefused) as refused:
        Archive.open(data)
    assert refused.value.code == code


def test_too_many_members_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_module, "MAX_MEMBERS", 3)
    with pytest.raises(ArchiveRefused) as refused:
        Archive.open(zipped([(f"{n}.txt", b"x") for n in range(4)]))
    assert refused.value.code == "too_many"


def test_damaged_encrypted_and_pageless_members_are_skipped() -> None:
    data = bytearray(zipped([("damaged.txt", SEED_TXT), ("ok.txt", SEED_TXT)], zipfile.ZIP_STORED))
    # A byte of the first member's text changed: its CRC no longer matches.
    at = data.index("Минобороны".encode())
    data[at] ^= 0x01
    encrypted = bytearray(zipped([("secret.txt", SEED_TXT)]))
    # The "encrypted" flag in the local header and in the central directory.
    encrypted[6] |= 0x01
    central = encrypted.index(b"PK\x01\x02")
    encrypted[central + 8] |= 0x01
    pages, bad = read_all(bytes(data))
    assert len(pages) == 1 and bad == [BadFile("damaged.txt", "unreadable")]
    _, bad = read_all(bytes(encrypted))
    assert bad == [BadFile("secret.txt", "unreadable")]
    _, bad = read_all(zipped([("empty.txt", b"  \n"), ("nav.html", b"<nav>Menu</nav>")]))
    assert bad == [BadFile("empty.txt", "not_article"), BadFile("nav.html", "not_article")]


class FailingStore:
    """Stores the first batch, then the database goes away."""

    def __init__(self) -> None:
        self.stored: list[ArchivedPage] = []

    async def import_archived(
        self, batch: Sequence[ArchivedPage], author_id: int
    ) -> ImportedBatch:
        if self.stored:
            raise ConnectionError("database gone")
        self.stored += batch
        return ImportedBatch(imported=len(batch), duplicates=0)


async def test_a_failure_half_way_reports_what_is_in() -> None:
    members = [(f"{n}.txt", SEED_TXT.replace(b"11:38", f"11:{n:02d}".encode())) for n in range(6)]
    archive = Archive.open(zipped(members))
    shown: list[tuple[int, int, bool, bool]] = []

    async def progress(state: ImportState) -> None:
        shown.append((state.done, state.imported, state.finished, state.failed))

    store = FailingStore()
    with pytest.raises(ConnectionError):
        await import_archive(archive, store, 1, TZ, progress=progress, batch_size=3)
    assert len(store.stored) == 3
    assert shown == [(3, 3, False, False), (3, 3, True, True)]


class MemoryStore:
    def __init__(self) -> None:
        self.stored: list[ArchivedPage] = []

    async def import_archived(
        self, batch: Sequence[ArchivedPage], author_id: int
    ) -> ImportedBatch:
        self.stored += batch
        return ImportedBatch(imported=len(batch), duplicates=0)


@pytest.mark.parametrize("source", ["bytes", "file"])
async def test_pages_read_in_processes_are_stored_in_order(source: str, tmp_path: Path) -> None:
    """A large archive is read in worker processes (each opens the zip again)."""
    members = [(f"{n}.txt", SEED_TXT.replace(b"11:38", f"11:{n:02d}".encode())) for n in range(7)]
    members.insert(3, ("bad.html", b"<p>no article</p>"))
    data = zipped(members)
    path = tmp_path / "archive.zip"
    path.write_bytes(data)
    archive = Archive.open(data if source == "bytes" else path)
    store = MemoryStore()

    async def progress(state: ImportState) -> None:
        pass

    state = await import_archive(archive, store, 1, TZ, progress=progress, batch_size=2, workers=2)
    archive.close()
    assert [
        p.content.original_published_at.minute
        for p in store.stored
        if p.content.original_published_at
    ] == list(range(7))
    assert (state.done, state.imported, state.bad) == (8, 7, [BadFile("bad.html", "not_article")])
