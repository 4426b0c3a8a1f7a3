"""The /stats charts as PNG images: an article's new readers per hour over its first
48 hours (with its poll's results as bars), and the newsroom's readers per day with the
week's most read.

Drawn in a worker process of their own (``ChartWorker``), never in the bot's: matplotlib's
Agg renderer holds the GIL while it draws, so on a thread it stalled the event loop for
as long as a chart took (a 5 ms tick lagged 0.4-1.2 s with the drawing on a thread,
0.07-0.12 s with it in a process, on the same loaded machine; bench/charts.py measures
the process).  The bot's process never
imports matplotlib, so its start-up time and memory do not grow; the worker is started
at the first chart and stopped after ``IDLE_SECONDS`` without one, which gives its
memory back.  It draws with the Agg backend (no display) on ``Figure`` objects of its
own (``drawing``), never pyplot's global state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from bot.desk.drawing import Bars, Columns, Panel, render, shortened
from bot.models import Poll, TopArticle
from bot.texts import Texts
from bot.workers import WorkerProcess

HOUR_TICKS = 6
# The worker process is stopped after this long without a chart (its memory returned).
IDLE_SECONDS = 300.0


class ChartWorker(WorkerProcess):
    """The worker process that draws the charts, one at a time, in the order asked."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        super().__init__(idle_seconds)

    async def draw(self, panels: Sequence[Panel]) -> bytes:
        """``render`` in the worker: the event loop goes on serving updates meanwhile."""
        return await self.run(render, tuple(panels))


def article_panels(
    article_id: int,
    readers_per_hour: Sequence[int],
    poll: Poll | None,
    texts: Texts,
) -> list[Panel]:
    """New readers in each hour after publication; the poll's options by votes."""
    panels: list[Panel] = [
        Columns(
            title=texts.chart_article_title.format(id=article_id, hours=len(readers_per_hour)),
            x_label=texts.chart_hours_axis,
            y_label=texts.chart_readers_axis,
            labels=tuple(str(hour) for hour in range(len(readers_per_hour))),
            values=tuple(readers_per_hour),
            tick_every=HOUR_TICKS,
        )
    ]
    if poll is not None:
        panels.append(
            Bars(
                title=texts.chart_poll_title.format(question=shortened(poll.question)),
                x_label=texts.chart_votes_axis,
                names=poll.options,
                values=poll.counts,
            )
        )
    return panels


def overview_panels(
    readers_per_day: Sequence[tuple[date, int]],
    top: Sequence[TopArticle],
    texts: Texts,
    day_label: Callable[[date], str] = lambda day: day.strftime("%d.%m"),
) -> list[Panel]:
    """Readers per day; the week's most read articles by readers."""
    panels: list[Panel] = [
        Columns(
            title=texts.chart_days_title.format(days=len(readers_per_day)),
            x_label=texts.chart_days_axis,
            y_label=texts.chart_readers_axis,
            labels=tuple(day_label(day) for day, _ in readers_per_day),
            values=tuple(count for _, count in readers_per_day),
        )
    ]
    if top:
        panels.append(
            Bars(
                title=texts.chart_top_title.format(count=len(top)),
                x_label=texts.chart_readers_axis,
                names=tuple(item.title for item in top),
                values=tuple(item.readers for item in top),
            )
        )
    return panels
