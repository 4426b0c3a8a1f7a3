"""Drafts: importing a page dump, building an article from the /new dialog, attaching a
photo, and the editor's preview (the post exactly as the channel will show it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from bot.articles.parsing import parse_article
from bot.desk.history import NO_HISTORY, ActionLog
from bot.models import Article, ArticleContent, PollSpec
from bot.repositories import ArticleStore, DraftExtras, PollStore
from bot.telegram_text.html import escaped_html
from bot.texts import Texts


class PreviewChannel(Protocol):
    """Rendering a post as the channel shows it, and sending it to an editor's chat."""

    async def render(self, article: Article, *, preview: bool = False) -> Any: ...

    async def send_rendered(self, chat_id: int | str, post: Any) -> int: ...


class ActionOutcome(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"  # the article is in a state that does not allow it


@dataclass(frozen=True, slots=True)
class ActionResult:
    outcome: ActionOutcome
    article_id: int
    article: Article | None = None


@dataclass(frozen=True, slots=True)
class DialogDraft:
    """What the /new dialog collected, step by step."""

    title: str
    paragraphs: tuple[str, ...]
    photo_file_id: str | None = None
    credit: str | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> DialogDraft:
        return cls(
            title=str(data["title"]),
            paragraphs=tuple(data.get("paragraphs", ())),
            photo_file_id=data.get("photo"),
            credit=data.get("credit"),
            tags=tuple(data.get("tags", ())),
        )

    def content(self) -> ArticleContent:
        return ArticleContent(
            title=self.title,
            paragraphs=self.paragraphs,
            photo_credit=self.credit,
            tags=self.tags,
        )


class Drafts:
    def __init__(
        self,
        articles: ArticleStore,
        polls: PollStore,
        channel: PreviewChannel,
        texts: Texts,
        *,
        history: ActionLog = NO_HISTORY,
    ) -> None:
        self._articles = articles
        self._polls = polls
        self._channel = channel
        self._texts = texts
        self._history = history

    async def import_text(self, raw: str, author_id: int) -> Article:
        """A page dump as a new draft; raises ParseError when it is not an article."""
        article = await self._articles.create(parse_article(raw), author_id)
        await self._history.record("import", article_id=article.id)
        return article

    async def create_from_dialog(
        self, draft: DialogDraft, poll: PollSpec | None, author_id: int
    ) -> Article:
        """The article of a finished /new dialog and its poll, stored in one transaction."""
        extras = DraftExtras(draft.photo_file_id, poll)
        article = await self._articles.create(draft.content(), author_id, extras)
        await self._history.record("new", article_id=article.id)
        return article

    async def unpublished(self) -> list[Article]:
        return await self._articles.list_unpublished()

    async def attach_photo(self, article_id: int, file_id: str) -> ActionResult:
        article = await self._articles.set_photo(article_id, file_id)
        if article is not None:
            await self._history.record("photo", article_id=article_id)
            return ActionResult(ActionOutcome.DONE, article_id, article)
        return await self.refusal(article_id)

    async def attach_photo_to_preview(
        self, chat_id: int, preview_message_id: int, file_id: str
    ) -> ActionResult | None:
        """A photo sent in reply to a draft's preview; None when the replied-to message
        is not a preview."""
        article_id = await self._articles.article_for_preview(chat_id, preview_message_id)
        if article_id is None:
            return None
        return await self.attach_photo(article_id, file_id)

    async def refusal(self, article_id: int) -> ActionResult:
        """Why an action on an article was not applied: missing, or in the way."""
        existing = await self._articles.get(article_id)
        if existing is None:
            return ActionResult(ActionOutcome.NOT_FOUND, article_id)
        return ActionResult(ActionOutcome.NOT_ALLOWED, article_id, existing)

    async def preview(
        self,
        chat_id: int,
        article: Article,
        notice: str | None = None,
        *,
        texts: Texts | None = None,
    ) -> str:
        """Send the draft's post exactly as the channel will show it to ``chat_id`` and
        remember it (a photo in reply attaches to the draft); returns what the editor
        can do next, as HTML, in the editor's ``texts`` (the post itself stays in the
        channel's language)."""
        post = await self._channel.render(article, preview=True)
        preview_id = await self._channel.send_rendered(chat_id, post)
        await self._articles.remember_preview(chat_id, preview_id, article.id)
        poll = await self._polls.for_article(article.id)
        t = texts or self._texts
        lines = [t.draft_actions.format(id=article.id, title=article.title)]
        if poll is not None:
            lines.append(t.draft_has_poll.format(poll_id=poll.id, question=poll.question))
        elif article.content.poll_question:
            lines.append(
                t.draft_poll_offer.format(question=article.content.poll_question, id=article.id)
            )
        if notice:
            lines.insert(0, notice)
        return escaped_html("\n\n".join(lines))


def describe_action(result: ActionResult, texts: Texts, done: str) -> str:
    """The editor's answer to an action on an article (``done`` when it was applied)."""
    if result.outcome is ActionOutcome.DONE:
        return escaped_html(done, id=result.article_id)
    if result.outcome is ActionOutcome.NOT_FOUND or result.article is None:
        return escaped_html(texts.not_found, id=result.article_id)
    return escaped_html(
        texts.publish_not_allowed,
        id=result.article_id,
        status=texts.status_name(result.article.status),
    )
