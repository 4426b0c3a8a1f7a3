"""The history of what editors did: every action, who and when.

The services record an action where its outcome is known (articles, polls).  Who
acts reaches them as ambient context rather than as a parameter of every service call:
the editors' router sets ``acting`` for the update it handles, and
anything the bot does on its own (a scheduled publication) runs outside any update, so it
is recorded with no editor.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime, tzinfo

from bot.models import ActionRecord, Actor, ArticleVersion, EditorAction
from bot.repositories import HistoryStore
from bot.texts import WHEN_FORMAT, Texts

logger = logging.getLogger(__name__)


acting: ContextVar[Actor | None] = ContextVar("acting", default=None)


class ActionLog:
    """``ActionLog(None)`` (``NO_HISTORY``) records nothing: services built without a
    history (unit tests, tools) call it all the same."""

    def __init__(self, store: HistoryStore | None) -> None:
        self._store = store

    async def record(
        self,
        action: str,
        *,
        article_id: int | None = None,
        poll_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Add a history line for the editor acting now (or the bot itself).

        Called after the action took effect: if the line cannot be stored, the action
        still stands, so the failure is logged and the editor still gets their answer.
        """
        if self._store is None:
            return
        actor = acting.get()
        try:
            await self._store.record_action(
                ActionRecord(
                    action,
                    actor.user_id if actor else None,
                    editor_name=actor.name if actor else None,
                    article_id=article_id,
                    poll_id=poll_id,
                    detail=detail,
                )
            )
        except Exception:
            logger.exception(
                "Could not record %s (article %s, poll %s)", action, article_id, poll_id
            )

    async def article(self, article_id: int) -> list[EditorAction]:
        return [] if self._store is None else await self._store.article_history(article_id)


NO_HISTORY = ActionLog(None)


def who(editor_id: int | None, editor_name: str | None, texts: Texts) -> str:
    """An editor as the history names them (None: the bot itself)."""
    if editor_id is None:
        return texts.history_bot
    return f"{editor_name} ({editor_id})" if editor_name else str(editor_id)


def version_lines(versions: list[ArticleVersion], tz: tzinfo, texts: Texts) -> list[str]:
    """``/history``'s list of an article's earlier versions, oldest first."""
    return [
        texts.version_line.format(
            number=version.number,
            when=version.saved_at.astimezone(tz).strftime(WHEN_FORMAT),
            who=who(version.editor_id, version.editor_name, texts),
            title=version.content.title,
        )
        for version in versions
    ]


def history_lines(actions: list[EditorAction], tz: tzinfo, texts: Texts) -> list[str]:
    """The lines of ``/history``, times in the newsroom's zone."""
    lines = []
    for action in actions:
        detail = action.detail
        when = ""
        if action.action == "schedule" and detail:
            when = datetime.fromisoformat(detail).astimezone(tz).strftime(WHEN_FORMAT)
            detail = None
        line = texts.history_line.format(
            when=action.at.astimezone(tz).strftime(WHEN_FORMAT),
            who=who(action.editor_id, action.editor_name, texts),
            action=texts.history_action(action.action).format(when=when),
        )
        details = [texts.history_detail_name(detail)] if detail else []
        if action.poll_id is not None:
            details.append(texts.history_poll.format(poll_id=action.poll_id))
        if details:
            line = texts.history_detail.format(line=line, detail=", ".join(details))
        lines.append(line)
    return lines
