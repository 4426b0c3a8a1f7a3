"""Archive imports started in chat: in the background, one at a time per editor, each
with one message in the editor's chat that shows its progress (edited in place at most
every ``PROGRESS_INTERVAL``) and a button that stops it, then the final report.

An import lives in the instance that downloaded its zip; the database knows which run
(one per editor, whatever the instance) and carries the stop button's press from the
instance that got it to the one importing, which reads it after every batch.  What the
imports store is decided by the database too (see
:meth:`bot.repositories.ArchiveStore.import_archived`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.feeds.archive import Archive, ImportState, import_archive
from bot.repositories import ImportLedger
from bot.telegram.progress import PROGRESS_INTERVAL, ChatProgress
from bot.telegram.refusals import expected_refusal
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

logger = logging.getLogger(__name__)

BAD_FILES_LISTED = 20
_NAME_CHARS = 100
# An import whose instance has not reported for this long is gone (killed, cut off): the
# editor may start another.  A batch reports in well within it.
STALE_AFTER = timedelta(minutes=2)


class CancelImport(CallbackData, prefix="imp"):
    """The button under an import's progress: names the editor who started it."""

    editor: int = Field(ge=1, lt=2**63)


class StartOutcome(StrEnum):
    STARTED = "started"
    BUSY = "busy"  # this editor's previous import still runs


class CancelOutcome(StrEnum):
    CANCELLING = "cancelling"
    NOT_YOURS = "not_yours"
    NOT_RUNNING = "not_running"


def grouped(number: int) -> str:
    """``5000`` -> ``"5 000"``, as the newsroom writes numbers."""
    return f"{number:,}".replace(",", " ")


def progress_text(state: ImportState, texts: Texts) -> str:
    return texts.archive_progress.format(
        done=grouped(state.done), total=grouped(state.total), skipped=grouped(state.skipped)
    )


def report_text(state: ImportState, texts: Texts) -> str:
    """The final report: how it ended, the counts, and the files skipped, by name."""
    counts = {
        "done": grouped(state.done),
        "total": grouped(state.total),
        "imported": grouped(state.imported),
        "duplicates": grouped(state.duplicates),
        "bad": grouped(len(state.bad)),
    }
    template = texts.archive_done
    if state.failed:
        template = texts.archive_failed
    elif state.cancelled:
        template = texts.archive_cancelled
    lines = [template.format(**counts)]
    if state.bad:
        lines += ["", texts.archive_bad_heading]
        lines += [
            texts.archive_bad_line.format(
                name=bad.name[:_NAME_CHARS], reason=texts.archive_bad_reason(bad.reason)
            )
            for bad in state.bad[:BAD_FILES_LISTED]
        ]
        if len(state.bad) > BAD_FILES_LISTED:
            lines.append(texts.archive_bad_more.format(count=len(state.bad) - BAD_FILES_LISTED))
    return "\n".join(lines)


class ImportBoard:
    """The one message of an import in the editor's chat (the ``progress`` callback): a
    chat progress message with the stop button, replaced by the report at the end."""

    def __init__(self, progress: ChatProgress, editor_id: int, texts: Texts) -> None:
        self._progress = progress
        self._texts = texts
        builder = InlineKeyboardBuilder()
        builder.button(
            text=texts.archive_cancel_button, callback_data=CancelImport(editor=editor_id)
        )
        self._keyboard: InlineKeyboardMarkup = builder.as_markup()

    async def open(self, state: ImportState) -> None:
        """The progress message, at once: it is the answer to the editor's /import."""
        html = escaped_html(progress_text(state, self._texts))
        await self._progress.show(html, reply_markup=self._keyboard)

    async def __call__(self, state: ImportState) -> None:
        """A failed edit never stops the import (the next one shows)."""
        try:
            if state.finished:
                await self._progress.finish(escaped_html(report_text(state, self._texts)))
            else:
                html = escaped_html(progress_text(state, self._texts))
                await self._progress.show(html, reply_markup=self._keyboard)
        except TelegramAPIError as exc:
            if expected_refusal(exc) is None:
                logger.warning("Archive import: progress not shown: %s", type(exc).__name__)


@dataclass(slots=True)
class _Running:
    chat_id: int
    started_at: datetime
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class ArchiveImports:
    def __init__(
        self,
        bot: Bot,
        store: ImportLedger,
        tz: ZoneInfo,
        *,
        every: float = PROGRESS_INTERVAL,
        batch_size: int | None = None,
    ) -> None:
        self._bot = bot
        self._store = store
        self._tz = tz
        # Public: tests and benchmarks show every batch, in smaller batches.
        self.every = every
        self.batch_size = batch_size
        self._running: dict[int, _Running] = {}

    def busy(self, editor_id: int) -> bool:
        return editor_id in self._running

    async def start(self, chat_id: int, editor_id: int, data: bytes, texts: Texts) -> StartOutcome:
        """Open the zip and start importing it in the background; its progress message is
        the answer. Raises :class:`ArchiveRefused` when the zip cannot be imported."""
        if self.busy(editor_id):
            return StartOutcome.BUSY
        now = datetime.now(UTC)
        running = _Running(chat_id, now)
        self._running[editor_id] = running  # taken before the first await: one per editor
        try:
            if not await self._store.begin_import(editor_id, chat_id, now, now - STALE_AFTER):
                del self._running[editor_id]  # one of theirs runs in another instance
                return StartOutcome.BUSY
            try:
                archive = await asyncio.to_thread(Archive.open, data)
                progress = ChatProgress(self._bot, chat_id, interval=self.every)
                board = ImportBoard(progress, editor_id, texts)
                await board.open(ImportState(total=archive.total))
            except BaseException:
                await self._store.end_import(editor_id, now)
                raise
        except BaseException:
            self._running.pop(editor_id, None)
            raise
        running.task = asyncio.create_task(self._run(editor_id, archive, board, running))
        return StartOutcome.STARTED

    async def _reported(self, editor_id: int, running: _Running) -> None:
        """After each batch: in the database, this import goes on; a stop asked from any
        instance is taken here.  The database away costs a report, never the import."""
        try:
            if not await self._store.import_alive(
                editor_id, running.started_at, datetime.now(UTC)
            ):
                running.cancel.set()
        except Exception as exc:
            logger.warning("Archive import by %s: not reported: %s", editor_id, exc)

    async def _run(
        self, editor_id: int, archive: Archive, board: ImportBoard, running: _Running
    ) -> None:
        options = {} if self.batch_size is None else {"batch_size": self.batch_size}

        async def progress(state: ImportState) -> None:
            if not state.finished:
                await self._reported(editor_id, running)
            await board(state)

        try:
            state = await import_archive(
                archive,
                self._store,
                editor_id,
                self._tz,
                progress=progress,
                cancel=running.cancel,
                **options,
            )
            logger.info(
                "Archive import by %s: %d imported, %d duplicates, %d bad files%s",
                editor_id,
                state.imported,
                state.duplicates,
                len(state.bad),
                " (cancelled)" if state.cancelled else "",
            )
        except Exception:
            logger.exception("Archive import by %s stopped on an error", editor_id)
        finally:
            archive.close()
            self._running.pop(editor_id, None)
            try:
                await self._store.end_import(editor_id, running.started_at)
            except Exception as exc:  # its row goes stale: the editor may start again
                logger.warning("Archive import by %s: end not recorded: %s", editor_id, exc)

    async def cancel(self, chat_id: int | None, editor_id: int, presser_id: int) -> CancelOutcome:
        """Only the editor who started the import, in the chat where they did; the press
        may reach any instance, the import stops after its batch in hand."""
        if presser_id != editor_id:
            return CancelOutcome.NOT_YOURS
        if chat_id is None or not await self._store.cancel_import(editor_id, chat_id):
            return CancelOutcome.NOT_RUNNING
        running = self._running.get(editor_id)
        if running is not None and running.chat_id == chat_id:
            running.cancel.set()  # here: no need to wait for its next report
        return CancelOutcome.CANCELLING

    async def stop(self, grace: float) -> None:
        """At shutdown: every import stops after its batch in hand (cut after ``grace``
        seconds); what is committed stays and each editor gets the report."""
        tasks = [r.task for r in self._running.values() if r.task is not None]
        for running in self._running.values():
            running.cancel.set()
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
