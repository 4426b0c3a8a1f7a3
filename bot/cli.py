"""Command line: ``python -m bot`` runs the bot; ``python -m bot preview FILE`` shows,
with no token and no network, what the bot would make of a raw article file;
``python -m bot import-archive FILE`` brings the outlet's archive in."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Never, TextIO

from bot.articles.intake import decode_document
from bot.articles.parsing import ParseError, parse_article
from bot.errors import InputError
from bot.feeds.archive import ImportState
from bot.telegram.limits import CAPTION_LIMIT, MESSAGE_LIMIT
from bot.texts import Texts, get_texts

if TYPE_CHECKING:
    from tqdm import tqdm

    from bot.settings import SettingsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Telegram news-publishing bot. Without a subcommand it runs the bot.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (long polling); the default")
    preview = sub.add_parser(
        "preview",
        help="render the channel post and the full text of a raw article file, offline",
    )
    preview.add_argument("file", type=Path, help="a page dump, e.g. a .txt of an article")
    preview.add_argument(
        "--photo",
        action="store_true",
        help=f"render the post as a photo caption ({CAPTION_LIMIT} limit)",
    )
    migrate = sub.add_parser(
        "migrate-to-postgres",
        help="copy the SQLite database into the empty PostgreSQL database of DATABASE_URL",
    )
    migrate.add_argument(
        "--sqlite", type=Path, default=None, help="the SQLite file (default: DATABASE_PATH)"
    )
    archive = sub.add_parser(
        "import-archive",
        help="import the outlet's archive (a .zip of page dumps or saved HTML pages) into "
        "the database as archived articles: searchable and readable, never posted",
    )
    archive.add_argument("file", type=Path, help="the .zip")
    return parser


def preview(path: Path, *, with_photo: bool) -> int:
    texts = get_texts()
    try:
        raw = decode_document(path.read_bytes(), path.name)
        content = parse_article(raw)
    except OSError as exc:
        print(f"Cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(getattr(texts, exc.key).format(**exc.params), file=sys.stderr)
        return 2
    except ParseError as exc:
        print(texts.import_error(exc.code), file=sys.stderr)
        return 2
    from bot.articles.formatting import channel_post, full_text, preview_plain

    rule = "═" * 72
    post = channel_post(content, with_photo=with_photo, texts=texts)
    limit = CAPTION_LIMIT if with_photo else MESSAGE_LIMIT
    print(f"{rule}\n{texts.preview_post_heading.format(length=len(post), limit=limit)}\n{rule}")
    print(post.as_html())
    print(f"[ {texts.read_more_button} ]")
    parts = full_text(content, texts=texts, published=datetime.now(UTC))
    print(f"\n{rule}\n{texts.preview_full_text_heading.format(count=len(parts))}\n{rule}")
    print(preview_plain(parts))
    if content.poll_question:
        print(f"\n{rule}\n{texts.preview_poll_heading}\n{rule}\n{content.poll_question}")
    return 0


def configuration_error(error: SettingsError) -> int:
    """Every problem on its own line, so all can be fixed at once; exit code 2."""
    for problem in error.problems:
        print(f"Configuration error: {problem}", file=sys.stderr)
    return 2


class TableProgress:
    """The copy's progress per table, on ``stream`` (stderr: stdout keeps the counts'
    table): a bar per table (tqdm) on a terminal; elsewhere (a log, CI) plain lines,
    one per batch, since a bar redrawn with carriage returns is noise in a file."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._terminal = stream.isatty()
        self._table: str | None = None
        self._bar: tqdm[Never] | None = None

    def __call__(self, table: str, done: int, total: int) -> None:
        if table != self._table:
            self.close()
            self._table = table
            if self._terminal:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=f"{table:<26}", unit=" rows", file=self._stream)
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
        elif done or not total:
            print(f"{table}: {done}/{total} rows", file=self._stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def migrate_to_postgres(sqlite: Path | None) -> int:
    """Copy everything into PostgreSQL, then print the counts of both sides per table."""
    from bot.app import TransferError, copy_sqlite_to_postgres
    from bot.errors import StorageError
    from bot.settings import SettingsError, load_database_settings

    try:
        settings = load_database_settings()
    except SettingsError as exc:
        return configuration_error(exc)
    if settings.database_url is None:
        print("Configuration error: DATABASE_URL is not set (the target)", file=sys.stderr)
        return 2
    source = sqlite or settings.database_path
    progress = TableProgress(sys.stderr)
    try:
        counts = asyncio.run(
            copy_sqlite_to_postgres(source, settings.database_url.get_secret_value(), progress)
        )
    except TransferError as exc:
        print(f"Cannot copy: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"Database error: {exc}", file=sys.stderr)
        return 3
    finally:
        progress.close()
    print(f"{'table':<26} {'sqlite':>10} {'postgresql':>10}")
    for count in counts:
        mark = "" if count.equal else "  MISMATCH"
        print(f"{count.table:<26} {count.source:>10} {count.target:>10}{mark}")
    if all(count.equal for count in counts):
        print(f"Copied {source} into PostgreSQL: every count matches.")
        return 0
    print("The counts differ: check the target before using it.", file=sys.stderr)
    return 1


class _Lines:
    """Progress as plain lines, when the output is no terminal (a log, a pipe)."""

    def __init__(self, texts: Texts) -> None:
        self.texts = texts

    async def __call__(self, state: ImportState) -> None:
        from bot.feeds.imports import progress_text

        if not state.finished:
            print(progress_text(state, self.texts), flush=True)


class _Bar:
    """Progress as a bar on a terminal."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="file")

    async def __call__(self, state: ImportState) -> None:
        self.bar.update(state.done - self.bar.n)
        self.bar.set_postfix(skipped=state.skipped, refresh=False)
        if state.finished:
            self.bar.close()


def import_archive(path: Path) -> int:
    """Import a zip of pages; the report names every file skipped."""
    from bot.errors import StorageError
    from bot.feeds.archive import Archive, ArchiveRefused
    from bot.settings import SettingsError, load_database_settings

    texts = get_texts()
    try:
        settings = load_database_settings()
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        archive = Archive.open(path)
    except OSError as exc:
        print(f"Cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except ArchiveRefused as exc:
        print(texts.archive_refusal(exc.code, exc.limit), file=sys.stderr)
        return 2
    # Only now the bot's storage and aiogram (seconds to import): a bad setting or file
    # is told at once.
    from bot.app import import_archive_file
    from bot.feeds.imports import report_text

    progress = _Bar(archive.total) if sys.stdout.isatty() else _Lines(texts)
    try:
        with archive.zip:
            state = asyncio.run(import_archive_file(settings, archive, progress))
    except StorageError as exc:
        print(f"Database error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("Stopped: what was imported stays.", file=sys.stderr)
        return 130
    print(report_text(state, texts))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "preview":
        return preview(args.file, with_photo=args.photo)
    if args.command == "migrate-to-postgres":
        return migrate_to_postgres(args.sqlite)
    if args.command == "import-archive":
        return import_archive(args.file)

    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        return configuration_error(exc)
    # Only now the bot and aiogram (seconds to import): a configuration error is told at
    # once.
    from aiogram.exceptions import (
        TelegramNetworkError,
        TelegramRetryAfter,
        TelegramServerError,
        TelegramUnauthorizedError,
    )

    from bot.app import run
    from bot.errors import StorageError
    from bot.logs import redact, setup_logging

    secrets = settings.secrets
    setup_logging(settings.log_level, secrets, settings.log_format)
    try:
        asyncio.run(run(settings))
    except StorageError as exc:
        print(f"Database error: {redact(str(exc), secrets)}", file=sys.stderr)
        return 3
    except TelegramUnauthorizedError:
        print(
            "Configuration error: BOT_TOKEN was rejected by Telegram (Unauthorized)",
            file=sys.stderr,
        )
        return 2
    except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
        where = settings.telegram_api_url or "api.telegram.org"
        print(f"Cannot reach Telegram at {where}: {redact(exc.message, secrets)}", file=sys.stderr)
        return 4
    except KeyboardInterrupt:
        pass
    return 0
