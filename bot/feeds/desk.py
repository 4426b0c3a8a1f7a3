"""The feeds as the desk's queue: adding and removing feeds, checking each when it is
due, making drafts of new items (or publishing them, in ``auto`` feeds), following the
site's corrections, and telling the editors when a feed fails and when it recovers.

Every decision that must hold across instances is the store's: which instance checks a
feed (a claim on its next-check time), whether an item is new (UNIQUE keys), who reports
a change (a conditional UPDATE of its hash), who tells the editors of a failure (a
conditional flip of a flag).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.articles.drafts import ActionOutcome, ActionResult
from bot.articles.publishing import Publisher
from bot.articles.revisions import EditOutcome, EditResult, Revisions
from bot.background import BackgroundLoop
from bot.desk.history import NO_HISTORY, ActionLog
from bot.feeds.cards import Cards
from bot.feeds.fetching import Fetched, Fetcher, FetchError
from bot.feeds.pages import ExtractedPage, extract_article
from bot.feeds.parsing import FeedFormatError, FeedItem, ParsedFeed, parse_feed
from bot.models import (
    Article,
    ArticleContent,
    ArticleStatus,
    CheckedItems,
    Feed,
    FeedCheck,
    FeedMode,
    ItemOutcome,
    RecordedItem,
)
from bot.repositories import EDITABLE, ArticleStore, FeedStore, Revision
from bot.telegram_text.html import escaped_html
from bot.texts import Texts
from bot.workers import WorkerProcess

logger = logging.getLogger(__name__)

# Failed checks in a row before the editors hear of it (once), and the backoff's ceiling.
FAILURES_BEFORE_NOTICE = 3
MAX_BACKOFF_FACTOR = 64
# Feeds checked at once, and claimed by one instance in one cycle.
CHECKS_AT_ONCE = 50
CLAIMED_AT_ONCE = 1000
# How much of a changed title or paragraph a correction notice quotes.
QUOTE_CHARS = 200
# Telegram takes photos of up to 10 MB.
PHOTO_MAX_BYTES = 10_000_000
# The most of a feed's newest items /feed add drafts at once.
MAX_DRAFTED_AT_ADD = 20
# New items drafted by one check: a feed that suddenly shows thousands (a site that
# changed its addresses) is taken in this many at a time, oldest first; the next check
# reads the feed again in full for the rest.
NEW_PER_CHECK = 30
# Article pages (and photos) of one check read at once.
PAGES_AT_ONCE = 4

Notify = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Draft:
    """What a feed item becomes: the content of its draft, the item's link, the main
    photo's address, and whether the page failed us (the draft is the item itself)."""

    content: ArticleContent
    link: str | None
    photo: bytes | None = None  # the main photo, downloaded once (size-capped)
    from_item: bool = False


class CheckOutcome(StrEnum):
    """How one check of a feed went (the metrics' label: a handful of values)."""

    UNCHANGED = "unchanged"  # a 304, or the same items as before
    NEW_ITEMS = "new_items"  # new or corrected items recorded
    NOTHING_NEW = "nothing_new"  # read again, nothing new in it
    CUT = "cut"  # larger than FEED_MAX_BYTES: what fit was read, the cut reported
    FAILED = "failed"  # unreachable, refused, not a feed
    BROKEN = "broken"  # a bug of ours; logged with its traceback


class AddOutcome(StrEnum):
    ADDED = "added"
    EXISTS = "exists"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AddResult:
    outcome: AddOutcome
    feed: Feed | None = None
    seen: int = 0
    drafted: tuple[tuple[Article, Draft], ...] = ()
    skipped: tuple[str, ...] = ()
    # Why it failed (or, when added, that the feed was cut at the size cap).
    error: str | None = None
    error_params: dict[str, object] = dataclasses.field(default_factory=dict)


class ApplyOutcome(StrEnum):
    APPLIED = "applied"
    NOTHING = "nothing"  # no correction is waiting for this article


@dataclass(frozen=True, slots=True)
class ApplyResult:
    outcome: ApplyOutcome
    edit: EditResult | None = None


def corrected(new: ArticleContent) -> Callable[[ArticleContent], ArticleContent]:
    """A correction replaces the title and the text; what the editors added stays."""
    return lambda old: dataclasses.replace(old, title=new.title, paragraphs=new.paragraphs)


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def before_after(old: ArticleContent, new: ArticleContent) -> tuple[str, str]:
    """The first thing that differs: the title, else the first changed paragraph."""
    if old.title != new.title:
        return _quote(old.title), _quote(new.title)
    for was, now in zip(old.paragraphs, new.paragraphs, strict=False):
        if was != now:
            return _quote(was), _quote(now)
    before = old.paragraphs[len(new.paragraphs) :] or ("",)
    after = new.paragraphs[len(old.paragraphs) :] or ("",)
    return _quote(before[0]), _quote(after[0])


class FeedDesk:
    def __init__(
        self,
        store: FeedStore,
        articles: ArticleStore,
        fetcher: Fetcher,
        cards: Cards,
        publisher: Publisher,
        revisions: Revisions,
        texts: Texts,
        *,
        interval: float,
        notify: Notify,
        history: ActionLog = NO_HISTORY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        counted: Callable[[CheckOutcome], None] | None = None,
        worker: WorkerProcess | None = None,
    ) -> None:
        self._store = store
        # Feeds and pages are parsed there: a cycle of hundreds of feeds would hold the
        # event loop's core for seconds.
        self._worker = worker or WorkerProcess(idle_seconds=None)
        self._counted = counted
        self._articles = articles
        self.fetcher = fetcher
        self.cards = cards
        self._publisher = publisher
        self._revisions = revisions
        self._texts = texts
        self.interval = interval
        self._notify = notify
        self._history = history
        self._clock = clock
        self._background = BackgroundLoop("feed-checker", self._loop)
        self._photo_cap = min(fetcher.max_bytes, PHOTO_MAX_BYTES)
        self.new_per_check = NEW_PER_CHECK  # public: tests take fewer

    # --- editors' commands ---------------------------------------------------------------

    async def add(self, url: str, mode: FeedMode, newest: int, editor_id: int) -> AddResult:
        """Read the feed now: its items are recorded as seen (the newest ``newest`` become
        drafts with cards), so only items published from now on arrive as drafts."""
        try:
            fetched = await self.fetcher.get(url)
            parsed = await self._parse(fetched)
        except (FetchError, FeedFormatError) as exc:
            return AddResult(AddOutcome.FAILED, error=exc.code, error_params=self._params(exc))
        now = self._clock()
        feed = await self._store.add_feed(url, mode, editor_id, now + self._every())
        if feed is None:
            existing = next((f for f in await self._store.list_feeds() if f.url == url), None)
            return AddResult(AddOutcome.EXISTS, existing)
        newest = min(newest, MAX_DRAFTED_AT_ADD)
        # Oldest first, so that drafts are numbered in the order the site published them.
        found = list(reversed(parsed.items))
        drafts = [
            await self.read(item) if len(found) - i <= newest else None
            for i, item in enumerate(found)
        ]
        _, recorded = await self._store.finish_check(
            feed.id,
            FeedCheck(
                error=self._cut_error(fetched),
                next_check_at=now + self._every(),
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                items=tuple(
                    (item.keys, d.content if d else None)
                    for item, d in zip(found, drafts, strict=True)
                ),
                author_id=editor_id,
            ),
        )
        drafted = [
            (r.article, d)
            for r, d in zip(recorded, drafts, strict=True)
            if r.outcome is ItemOutcome.NEW and r.article and d
        ]
        for article, _ in drafted:
            await self._history.record("feed", article_id=article.id)
        return AddResult(
            AddOutcome.ADDED,
            feed,
            seen=len(parsed.items) - len(drafted),
            drafted=tuple(drafted),
            skipped=parsed.skipped,
            error="cut" if fetched.truncated else None,
            error_params={"limit": self.fetcher.max_bytes},
        )

    async def announce(self, added: AddResult) -> None:
        """The cards of the drafts /feed add made (sent after its answer)."""
        if added.feed is not None:
            for drafted, draft in added.drafted:
                article = drafted
                if draft.photo is not None:
                    article = await self.cards.attach_photo(article, draft.photo)
                await self.cards.send(
                    article, added.feed.id, link=draft.link, from_item=draft.from_item
                )

    async def feeds(self) -> list[Feed]:
        return await self._store.list_feeds()

    async def remove(self, feed_id: int) -> bool:
        """Stop checking the feed; its drafts (and the record of its items) stay."""
        return await self._store.remove_feed(feed_id)

    async def reject(self, article_id: int) -> ActionResult:
        """The editors turn a draft down: it is never published, and its item, being
        seen, never comes back; its cards say so."""
        rejected = await self._articles.reject(article_id)
        if rejected is None:
            existing = await self._articles.get(article_id)
            if existing is None:
                return ActionResult(ActionOutcome.NOT_FOUND, article_id)
            return ActionResult(ActionOutcome.NOT_ALLOWED, article_id, existing)
        await self._history.record("reject", article_id=article_id)
        await self.cards.settle(rejected)
        return ActionResult(ActionOutcome.DONE, article_id, rejected)

    async def apply(self, article_id: int) -> ApplyResult:
        """``/apply``: the site's correction of a published article edits its post, through
        the same revision as /edit (its locks and guarantees)."""
        correction = await self._store.correction(article_id)
        if correction is None:
            return ApplyResult(ApplyOutcome.NOTHING)
        result = await self._revisions.revise(article_id, corrected(correction))
        if result.outcome in (EditOutcome.POST_UPDATED, EditOutcome.DRAFT_UPDATED):
            await self._store.set_correction(article_id, None)
            await self._history.record("correction", article_id=article_id, detail="text")
        return ApplyResult(ApplyOutcome.APPLIED, result)

    # --- the checker -------------------------------------------------------------------------

    def _every(self) -> timedelta:
        return timedelta(seconds=self.interval)

    async def _parse(self, fetched: Fetched) -> ParsedFeed:
        """The feed's items; a feed cut at the size cap that cannot be read is "cut".
        Parsed in the worker process: a feed of a few megabytes takes half a second,
        which the event loop (everyone's answers) must not wait for."""
        try:
            return await self._worker.run(
                parse_feed, fetched.body, fetched.content_type, fetched.charset
            )
        except FeedFormatError as exc:
            raise FeedFormatError("cut") if fetched.truncated else exc from None
        except BrokenProcessPool:  # it broke a fresh worker too: this feed's own doing
            raise FeedFormatError("unreadable") from None

    def _params(self, exc: FetchError | FeedFormatError) -> dict[str, object]:
        if isinstance(exc, FetchError):
            return dict(exc.params)
        return {"limit": self.fetcher.max_bytes} if exc.code == "cut" else {}

    def _cut_error(self, fetched: Fetched) -> str | None:
        if not fetched.truncated:
            return None
        return self._texts.feed_error("cut", {"limit": self.fetcher.max_bytes})

    async def check_due(self) -> int:
        """Check every feed that is due and that this instance claims; returns how many."""
        now = self._clock()
        claimed = await self._store.claim_due(now, now + self._every(), CLAIMED_AT_ONCE)
        gate = asyncio.Semaphore(CHECKS_AT_ONCE)

        async def one(feed: Feed) -> None:
            async with gate:
                try:
                    outcome = await self.check(feed)
                except Exception:  # one feed's bug must not stop the others
                    logger.exception("Feed %s: the check failed", feed.id)
                    outcome = CheckOutcome.BROKEN
                if self._counted is not None:
                    self._counted(outcome)

        await asyncio.gather(*(one(feed) for feed in claimed))
        return len(claimed)

    async def check(self, feed: Feed) -> CheckOutcome:
        """One check of a claimed feed."""
        try:
            fetched = await self.fetcher.get(
                feed.url, etag=feed.etag, last_modified=feed.last_modified
            )
            parsed = ParsedFeed(()) if fetched.unchanged else await self._parse(fetched)
        except (FetchError, FeedFormatError) as exc:
            wait = exc.retry_after if isinstance(exc, FetchError) else None
            await self._failed(feed, self._texts.feed_error(exc.code, self._params(exc)), wait)
            return CheckOutcome.FAILED
        # Oldest first (drafts numbered in order); only those not seen as they are now.
        found = list(reversed(parsed.items))
        todo = await self._store.unsettled(feed.id, [item.keys for item in found])
        found = [found[i] for i in todo]
        more = len(found) > self.new_per_check
        found = found[: self.new_per_check]
        cut = self._cut_error(fetched)
        unchanged = (
            cut is None
            and not found
            and feed.failures == 0
            and (fetched.etag, fetched.last_modified) == (feed.etag, feed.last_modified)
        )
        if unchanged:  # a 304: the claim already moved the next check, nothing to write
            return CheckOutcome.UNCHANGED
        pages = asyncio.Semaphore(PAGES_AT_ONCE)

        async def read(item: FeedItem) -> Draft:
            async with pages:
                return await self.read(item)

        drafts = list(await asyncio.gather(*(read(item) for item in found)))
        entries = tuple((item.keys, d.content) for item, d in zip(found, drafts, strict=True))
        if cut is not None:
            recorded = await self._failed(feed, cut, None, entries=entries)
        else:
            done, recorded = await self._store.finish_check(
                feed.id,
                FeedCheck(
                    error=None,
                    next_check_at=self._clock() + self._every(),
                    # More than one check takes: no validators, so the next one reads it all.
                    etag=None if more else fetched.etag,
                    last_modified=None if more else fetched.last_modified,
                    items=entries,
                    author_id=feed.added_by,
                ),
            )
            if done is not None and feed.failure_notified:
                await self._recovered(done)
        for draft, result in zip(drafts, recorded, strict=True):
            if result.article is None:
                continue
            if result.outcome is ItemOutcome.NEW:
                await self._history.record("feed", article_id=result.article.id)
                await self._new_article(feed, result.article, draft)
            elif result.outcome is ItemOutcome.CHANGED:
                await self._changed(feed, draft.content, result.article)
        if cut is not None:
            return CheckOutcome.CUT
        return CheckOutcome.NEW_ITEMS if found else CheckOutcome.NOTHING_NEW

    async def read(self, item: FeedItem) -> Draft:
        """The draft an item makes: its article page read like an editor would, or,
        when the page cannot be fetched or holds no article, the item itself."""
        if item.link is not None:
            try:
                fetched = await self.fetcher.get(item.link)
            except FetchError as exc:
                logger.info("Page %s not read: %s", item.link, exc.code)
            else:
                page = await self._extract(fetched)
                if page is not None:
                    content = dataclasses.replace(
                        page.content,
                        source=page.content.source or item.link,
                        tags=page.content.tags or item.tags,
                        original_published_at=page.content.original_published_at or item.published,
                    )
                    photo = await self._photo(page.photo_url or item.image_url)
                    return Draft(content, item.link, photo)
        photo = await self._photo(item.image_url)
        return Draft(item.content(), item.link, photo, from_item=True)

    async def _photo(self, url: str | None) -> bytes | None:
        """The main photo's bytes, if it is an image within Telegram's and our caps."""
        if url is None:
            return None
        try:
            fetched = await self.fetcher.get(url, max_bytes=self._photo_cap)
        except FetchError as exc:
            logger.info("Photo %s not downloaded: %s", url, exc.code)
            return None
        if fetched.truncated or not (fetched.content_type or "").startswith("image/"):
            logger.info("Photo %s skipped: too large or not an image", url)
            return None
        return fetched.body

    async def _new_article(self, feed: Feed, article: Article, draft: Draft) -> None:
        if draft.photo is not None:
            article = await self.cards.attach_photo(article, draft.photo)
        if feed.mode is FeedMode.AUTO:
            result = await self._publisher.publish(article.id)
            logger.info("Feed %s: article %s published: %s", feed.id, article.id, result.outcome)
            return
        await self.cards.send(article, feed.id, link=draft.link, from_item=draft.from_item)

    async def _changed(self, feed: Feed, new: ArticleContent, article: Article) -> None:
        """The site changed an item the bot has seen: a draft follows at once; a published
        article is corrected at once in ``auto`` feeds, else when an editor says /apply."""
        if article.status in EDITABLE:
            await self._articles.revise(article.id, Revision(corrected(new)))
            await self._history.record("correction", article_id=article.id, detail="text")
            return
        if article.status is not ArticleStatus.PUBLISHED:
            return  # rejected, withdrawn, being published: nothing to follow
        if feed.mode is FeedMode.AUTO:
            result = await self._revisions.revise(article.id, corrected(new))
            await self._history.record("correction", article_id=article.id, detail="text")
            if result.outcome is EditOutcome.POST_UPDATED:
                await self._notify(
                    escaped_html(self._texts.feed_correction_applied, id=article.id)
                )
            return
        await self._store.set_correction(article.id, new)
        before, after = before_after(article.content, new)
        await self._notify(
            escaped_html(self._texts.feed_correction, id=article.id, before=before, after=after)
        )

    async def _failed(
        self,
        feed: Feed,
        error: str,
        wait: float | None,
        *,
        entries: CheckedItems = (),
    ) -> list[RecordedItem]:
        """A failed check (or a feed cut at the cap, whose ``entries`` are still taken):
        backoff, doubling with each failure in a row (or the server's own Retry-After
        when longer), and one notice at the third failure in a row."""
        factor = min(2**feed.failures, MAX_BACKOFF_FACTOR)
        delay = max(self.interval * factor, wait or 0.0)
        done, recorded = await self._store.finish_check(
            feed.id,
            FeedCheck(
                error=error,
                next_check_at=self._clock() + timedelta(seconds=delay),
                items=entries,
                author_id=feed.added_by,
            ),
        )
        logger.info("Feed %s: check failed (%s); next in %.0f s", feed.id, error, delay)
        if done is None or done.failures < FAILURES_BEFORE_NOTICE:
            return recorded
        if await self._store.flag_failure(done.id, True, FAILURES_BEFORE_NOTICE):
            await self._notify(
                escaped_html(
                    self._texts.feed_failing,
                    id=done.id,
                    url=done.url,
                    count=done.failures,
                    error=error,
                )
            )
        return recorded

    async def _recovered(self, feed: Feed) -> None:
        if await self._store.flag_failure(feed.id, False, FAILURES_BEFORE_NOTICE):
            await self._notify(escaped_html(self._texts.feed_recovered, id=feed.id, url=feed.url))

    # --- running -----------------------------------------------------------------------------

    @property
    def tick(self) -> float:
        """How often due feeds are looked for: a few times per interval, at most every 5 s."""
        return min(max(self.interval / 4, 0.1), 5.0)

    def start(self) -> None:
        self._background.start()

    async def _extract(self, fetched: Fetched) -> ExtractedPage | None:
        try:
            return await self._worker.run(
                extract_article, fetched.body, fetched.url, charset=fetched.charset
            )
        except BrokenProcessPool:  # it broke a fresh worker too: the item will do
            logger.warning("Page %s could not be read: the worker stopped", fetched.url)
            return None

    async def stop(self) -> None:
        """No more checks; an editor's ``/feed add`` in hand may still fetch and parse."""
        await self._background.stop()

    async def close(self) -> None:
        """Release the HTTP session and the worker, once no handler runs any more."""
        await self.fetcher.close()
        self._worker.close()

    async def _loop(self) -> None:
        while True:
            try:
                await self.check_due()
            except Exception as exc:  # the database may be away: next time
                logger.warning("Could not check the feeds: %s", exc)
            await asyncio.sleep(self.tick)
