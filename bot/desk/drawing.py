"""Drawing the /stats charts: panels of plain data in, a PNG out, with matplotlib's Agg
backend (no display) on ``Figure`` objects of its own, never pyplot's global state.

This module imports nothing of the bot's: the chart worker process (``charts.ChartWorker``)
imports it to draw, and stays as small as matplotlib itself.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def shortened(label: str) -> str:
    """One line, cut at ``LABEL_CHARS`` with an ellipsis."""
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
    axis.set_yticks(positions, [shortened(name) for name in panel.names])
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
