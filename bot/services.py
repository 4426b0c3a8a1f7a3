"""What the handlers are given: the domain services, built once per bot.

The dispatcher hands every handler three values by name: ``services`` (this object),
``settings`` and ``texts`` (the catalogue in the language of the person behind the update,
so it is chosen per update and cannot live here).  One typed object instead of a key per
service: a handler's signature says what it uses, and mypy checks the name.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.articles.digest import Digest
from bot.articles.discovery import Discovery
from bot.articles.drafts import Drafts
from bot.articles.publishing import Publisher
from bot.articles.reading import Reading
from bot.articles.revisions import Revisions
from bot.articles.scheduling import Scheduler
from bot.articles.withdrawal import Withdrawal
from bot.desk.editors import Editors
from bot.desk.history import ActionLog
from bot.desk.stats import Stats
from bot.feeds.desk import FeedDesk
from bot.feeds.imports import ArchiveImports
from bot.polls.board import PollBoard
from bot.telegram.channel import Channel
from bot.telegram.notices import Notifier
from bot.telegram.progress import ProgressMessages


@dataclass(frozen=True, slots=True)
class Services:
    drafts: Drafts
    revisions: Revisions
    publisher: Publisher
    scheduler: Scheduler
    withdrawal: Withdrawal
    reading: Reading
    discovery: Discovery
    digest: Digest
    board: PollBoard
    editors: Editors
    history: ActionLog
    stats: Stats
    notifier: Notifier
    channel: Channel
    # The progress message of a command that takes a while (/digest).
    progress: ProgressMessages
    imports: ArchiveImports
    feeds: FeedDesk
