"""The /stats charts: each drawn from fixed data and decoded as a PNG of the promised
width; the numbers behind them; drawn off the event loop; matplotlib not loaded until a
chart is drawn."""

from __future__ import annotations

import dataclasses
import io
import multiprocessing
import signal
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.desk import charts, drawing
from bot.desk.charts import ChartWorker, article_panels, overview_panels
from bot.desk.drawing import Bars, Columns, Panel
from bot.desk.stats import CHART_DAYS, CHART_HOURS, ArticleStats, Overview, Stats
from bot.models import ArticleContent, ChannelPost, PeriodStats, Poll, PollStatus, TopArticle
from bot.texts import RU
from bot.texts_en import EN
from tests.fakes.stores import MemoryDesk, MemoryReadership, stores
from tests.fresh import fresh_python

ROOT = Path(__file__).resolve().parents[2]
ALMATY = ZoneInfo("Asia/Almaty")
MIN_WIDTH = 800
POLL = Poll(
    id=3,
    question="Нужен ли городу новый мост через Иртыш?",
    options=("Да", "Нет", "Не знаю, но очень длинный вариант ответа, который не влезет"),
    counts=(41, 17, 5),
    status=PollStatus.OPEN,
    created_by=1,
)


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


def test_article_chart_with_and_without_a_poll() -> None:
    per_hour = [0, 12, 30, 22, 9, 4, *([1] * (CHART_HOURS - 6))]
    alone = decoded(drawing.render(article_panels(7, per_hour, None, RU)))
    with_poll = decoded(drawing.render(article_panels(7, per_hour, POLL, RU)))
    assert alone.width >= MIN_WIDTH and with_poll.width >= MIN_WIDTH
    assert with_poll.height > alone.height  # the poll's bars: a second panel
    panels = article_panels(7, per_hour, POLL, EN)
    assert panels[0] == Columns(
        title="Article #7: new readers per hour, first 48 h",
        x_label="Hours after publication",
        y_label="Readers",
        labels=tuple(str(hour) for hour in range(CHART_HOURS)),
        values=tuple(per_hour),
        tick_every=charts.HOUR_TICKS,
    )
    assert panels[1] == Bars(
        title="Poll: Нужен ли городу новый мост через Иртыш?",
        x_label="Votes",
        names=POLL.options,
        values=(41, 17, 5),
    )


def test_overview_chart() -> None:
    first = date(2026, 11, 24)
    days = [(first + timedelta(days=i), 10 * i) for i in range(CHART_DAYS)]
    top = [TopArticle(i, f"Статья номер {i} " * 5, 50 - i) for i in range(1, 6)]
    image = decoded(drawing.render(overview_panels(days, top, RU)))
    assert image.width >= MIN_WIDTH
    panels = overview_panels(days, top, RU)
    assert isinstance(panels[0], Columns) and panels[0].labels[:2] == ("24.11", "25.11")
    assert panels[0].x_label == "День" and panels[0].y_label == "Читателей"
    assert isinstance(panels[1], Bars) and panels[1].values == (49, 48, 47, 46, 45)
    # Nothing read in the week: the days alone.
    assert len(overview_panels(days, [], RU)) == 1


class Drawn(ChartWorker):
    """Stands in for the worker: keeps the panels it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.panels: list[Panel] = []

    async def draw(self, panels: Sequence[Panel]) -> bytes:
        self.panels = list(panels)
        return b"png"


@pytest.fixture
def drawn() -> Drawn:
    return Drawn()


async def test_article_chart_counts_readers_per_hour_after_publication(drawn: Drawn) -> None:
    articles, polls = stores()
    readership = MemoryReadership()
    service = Stats(articles, polls, MemoryDesk(), readership, "-100", ALMATY, EN, charts=drawn)
    article = await articles.create(ArticleContent(title="Мост", paragraphs=("Текст.",)), 1)
    claimed = await articles.claim(article.id)
    assert claimed is not None
    published = await articles.mark_published(claimed.attempt, ChannelPost("-100", 5))
    assert published is not None and published.published_at is not None
    at = published.published_at
    # Nobody has read it: no chart, words instead.
    assert await service.article_chart(ArticleStats(published, None, None)) is None

    readership.reads += [
        (article.id, 1, at + timedelta(minutes=5)),
        (article.id, 2, at + timedelta(minutes=50)),
        (article.id, 3, at + timedelta(hours=47, minutes=59)),
        (article.id, 4, at + timedelta(hours=48)),  # after the first 48 hours
        (article.id + 1, 5, at + timedelta(minutes=5)),  # another article's reader
    ]
    read = dataclasses.replace(published, reads=4)
    assert await service.article_chart(ArticleStats(read, POLL, None)) == b"png"
    hours, poll = drawn.panels
    assert isinstance(hours, Columns) and isinstance(poll, Bars)
    assert hours.values == (2, *([0] * 46), 1)
    assert hours.title == f"Article #{article.id}: new readers per hour, first 48 h"
    assert poll.values == POLL.counts


async def test_overview_chart_counts_readers_per_local_day(drawn: Drawn) -> None:
    articles, polls = stores()
    readership = MemoryReadership()
    # 2026-12-07 00:30 in Almaty (UTC+5) is still the 6th in UTC.
    now = datetime(2026, 12, 6, 19, 30, tzinfo=UTC)
    service = Stats(
        articles,
        polls,
        MemoryDesk(),
        readership,
        "-100",
        ALMATY,
        RU,
        clock=lambda: now,
        charts=drawn,
    )
    empty = Overview(PeriodStats(0, 0, 0), PeriodStats(0, 0, 0))
    assert await service.overview_chart(empty) is None

    midnight = datetime(2026, 12, 7, tzinfo=ALMATY)
    readership.reads += [
        (1, 1, midnight),  # today
        (2, 1, midnight + timedelta(minutes=10)),  # the same reader today: one
        (1, 2, midnight - timedelta(seconds=1)),  # yesterday
        (1, 3, midnight - timedelta(days=CHART_DAYS - 1)),  # the first day shown
        (1, 4, midnight - timedelta(days=CHART_DAYS - 1, seconds=1)),  # before it
    ]
    top = (TopArticle(1, "Мост", 3),)
    week = Overview(PeriodStats(0, 3, 0), PeriodStats(1, 3, 0, top))
    assert await service.overview_chart(week) == b"png"
    days, most_read = drawn.panels
    assert isinstance(days, Columns) and isinstance(most_read, Bars)
    assert days.labels[0] == "24.11" and days.labels[-1] == "07.12"
    assert days.values == (1, *([0] * (CHART_DAYS - 3)), 1, 1)
    assert most_read.names == ("Мост",)


async def test_a_dead_worker_is_replaced_for_the_next_chart() -> None:
    worker = ChartWorker(idle_seconds=60)
    try:
        png = await worker.draw(article_panels(1, [1, 2, 3], None, RU))
        assert decoded(png).width >= MIN_WIDTH
        killed = [process.pid for process in multiprocessing.active_children()]
        for process in multiprocessing.active_children():
            process.kill()
        assert decoded(await worker.draw(article_panels(1, [3, 2, 1], None, RU))).width
        assert not {p.pid for p in multiprocessing.active_children()} & set(killed)
    finally:
        worker.close()
    assert not worker.running


BOT_PROCESS = """
import asyncio, io, os, sys
from bot.app import create_app
from bot.desk.charts import article_panels
from bot.settings import Settings
from bot.texts import RU

async def main():
    settings = Settings(
        _env_file=None,
        bot_token="123456:ABCdefGHIjklMNOpqrSTUvwxYZ",
        channel_id="@news_channel",
        database_path="db.sqlite3",
    )
    app = await create_app(settings)
    loaded = [name for name in sys.modules if name.split(".")[0] in ("matplotlib", "PIL")]
    print("built:", loaded)
    charts = app.services.stats.charts
    png = await charts.draw(article_panels(1, [5, 3, 1], None, RU))
    print("drawn:", png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", "matplotlib" in sys.modules)
    charts.close()
    await app.close()

asyncio.run(main())
"""


def test_the_bot_process_never_loads_matplotlib(tmp_path: Path) -> None:
    """In a fresh interpreter (other tests here have loaded it): not when the app is
    built, not when a chart is drawn (in the worker process)."""
    result = fresh_python(BOT_PROCESS, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["built: []", "drawn: True False"]


KILLED_BOT = """
import asyncio, multiprocessing, os, signal
from bot.desk.charts import ChartWorker, article_panels
from bot.texts import RU

async def main():
    worker = ChartWorker()
    await worker.draw(article_panels(1, [1, 2], None, RU))
    print(*[child.pid for child in multiprocessing.active_children()], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


def test_the_worker_does_not_outlive_a_killed_bot(tmp_path: Path) -> None:
    result = fresh_python(KILLED_BOT, tmp_path)
    assert result.returncode == -signal.SIGKILL, result.stderr
    children = [int(pid) for pid in result.stdout.split()]
    assert children  # the worker and multiprocessing's resource tracker
    deadline = time.monotonic() + 30
    while (alive := [pid for pid in children if running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)  # another process's exit cannot be awaited
    assert not alive


def running(pid: int) -> bool:
    """The process exists and is not a zombie (an orphan is reaped by init)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
