"""The /stats charts as PNG images: an article's new readers per hour over its first
48 hours (with its poll's results as bars), and the newsroom's readers per day with the
week's most read.

Drawn in a worker process of their own (``ChartWorker``), never in the bot's: matplotlib's
Agg renderer holds the GIL while it draws, so on a thread it stalled the event loop for
as long as a chart took (bench/charts.py: a 5 ms tick lagged 0.4-1.2 s on a thread,
under 0.07 s with a process, on the same loaded machine).  The bot's process never
imports matplotlib, so its start-up time and memory do not grow; the worker is started
at the first chart and stopped after ``IDLE_SECONDS`` without one, which gives its
memory back.  It draws with the Agg backend (no display) on ``Figure`` objects of its
own, never pyplot's global state.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.models import Poll, TopArticle
from bot.texts import Texts

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# 10 × 100 dpi: 1000 px wide, legible on a phone once Telegram scales it down.
WIDTH_INCHES = 10.0
PANEL_INCHES = 4.2
DPI = 100
# Longer titles and poll options are cut on the bars' axis.
LABEL_CHARS = 42
BAR_COLOUR = "#2a7ab9"
ACCENT_COLOUR = "#e07b39"
HOUR_TICKS = 6
# The worker process is stopped after this long without a chart (its memory returned).
IDLE_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Columns:
    """Vertical bars over a sequence: readers per hour or per day."""

    title: str
    x_label: str
    y_label: str
    labels: tuple[str, ...]
    values: tuple[int, ...]
    tick_every: int = 1


@dataclass(frozen=True, slots=True)
class Bars:
    """Horizontal bars, largest on top: a poll's options, the most read articles."""

    title: str
    x_label: str
    names: tuple[str, ...]
    values: tuple[int, ...]


Panel = Columns | Bars


def _short(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _integer_axis(axis: Axes, which: str) -> None:
    from matplotlib.ticker import MaxNLocator

    target = axis.yaxis if which == "y" else axis.xaxis
    target.set_major_locator(MaxNLocator(integer=True))


def _draw_columns(axis: Axes, panel: Columns) -> None:
    positions = range(len(panel.values))
    axis.bar(positions, panel.values, color=BAR_COLOUR, width=0.8)
    shown = [i for i in positions if i % panel.tick_every == 0]
    axis.set_xticks(shown, [panel.labels[i] for i in shown])
    axis.set_xlim(-0.6, len(panel.values) - 0.4)
    axis.set_xlabel(panel.x_label)
    axis.set_ylabel(panel.y_label)
    _integer_axis(axis, "y")
    axis.grid(axis="y", alpha=0.3)


def _draw_bars(axis: Axes, panel: Bars) -> None:
    positions = range(len(panel.values))
    drawn = axis.barh(positions, panel.values, color=ACCENT_COLOUR, height=0.6)
    axis.set_yticks(positions, [_short(name) for name in panel.names])
    axis.invert_yaxis()  # the first (largest) on top
    axis.bar_label(drawn, padding=3)
    axis.set_xlabel(panel.x_label)
    axis.set_xmargin(0.12)  # room for the numbers at the bars' ends
    _integer_axis(axis, "x")
    axis.grid(axis="x", alpha=0.3)


def render(panels: Sequence[Panel]) -> bytes:
    """The panels one above the other, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Constrained layout per panel (a subfigure each): long names on one panel's axis do
    # not squeeze the other panel's plot.
    figure = Figure(
        figsize=(WIDTH_INCHES, PANEL_INCHES * len(panels)), dpi=DPI, layout="constrained"
    )
    FigureCanvasAgg(figure)
    parts = figure.subfigures(len(panels), 1, squeeze=False)[:, 0]
    for part, panel in zip(parts, panels, strict=True):
        axis = part.subplots()
        axis.set_title(panel.title, loc="left", fontsize=13)
        axis.spines[["top", "right"]].set_visible(False)
        if isinstance(panel, Columns):
            _draw_columns(axis, panel)
        else:
            _draw_bars(axis, panel)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


class ChartWorker:
    """One worker process that draws the charts, one at a time, in the order asked."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self._idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._drawing = 0

    async def draw(self, panels: Sequence[Panel]) -> bytes:
        """``render`` in the worker: the event loop goes on serving updates meanwhile.
        A worker that died (killed, out of memory) is replaced for the next chart."""
        loop = asyncio.get_running_loop()
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is None:
            # Spawned, not forked: a fork of the running bot would copy its threads'
            # locks in whatever state they are.
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        pool = self._pool
        self._drawing += 1
        try:
            return await loop.run_in_executor(pool, render, tuple(panels))
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool = None
            raise
        finally:
            self._drawing -= 1
            if not self._drawing and self._pool is not None:
                self._idle = loop.call_later(self._idle_seconds, self.close)

    @property
    def running(self) -> bool:
        return self._pool is not None

    def close(self) -> None:
        """Stop the worker (idle, or the bot stopping); the next chart starts another."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


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
                title=texts.chart_poll_title.format(question=_short(poll.question)),
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
