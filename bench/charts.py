"""The /stats charts: what drawing costs the bot.

What is measured
----------------
The app is built as the bot builds it (SQLite in a temporary folder, nothing started, no
network), then the two charts of ``/stats`` are drawn from fixed data by the app's own
``ChartWorker`` (a worker process), as the handler has them drawn:

* the bot process's resident memory (``VmRSS``) with the app built, after 21 charts, and
  ``--wait`` seconds later (default 600: the issue's "10 minutes later"; the worker stops
  after ``IDLE_SECONDS`` without a chart), and the worker's own;
* the time to draw each chart (p50, max), the first one (starting the worker, importing
  matplotlib there) apart;
* how long the event loop is held while charts are drawn: the largest lag of a 5 ms
  ticker running meanwhile.

``python -m bench.charts``; ``--wait 5`` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bot.desk.drawing import Panel

# The bot's modules are imported inside the functions: the chart worker process, spawned,
# re-imports this (main) module, and should weigh what it weighs under ``python -m bot``
# (whose entry point multiprocessing does not re-import).
ROUNDS = 20
TICK = 0.005
# The worker is stopped after bot.desk.charts.IDLE_SECONDS (300) without a chart.
WAIT = 600.0


def fixed_charts() -> list[list[Panel]]:
    from bot.desk.charts import article_panels, overview_panels
    from bot.desk.stats import CHART_DAYS, CHART_HOURS
    from bot.models import Poll, PollStatus, TopArticle
    from bot.texts import RU

    poll = Poll(
        id=1,
        question="Нужен ли городу новый мост через Иртыш?",
        options=("Да", "Нет", "Затрудняюсь ответить"),
        counts=(812, 341, 97),
        status=PollStatus.OPEN,
        created_by=1,
    )
    per_hour = [max(0, 900 - 40 * hour + (hour * 37) % 50) for hour in range(CHART_HOURS)]
    first = date(2026, 11, 24)
    days = [(first + timedelta(days=i), 2000 + 150 * (i % 5)) for i in range(CHART_DAYS)]
    top = [
        TopArticle(i, f"Заголовок самой читаемой статьи недели номер {i}", 900 - i)
        for i in range(5)
    ]
    return [article_panels(12, per_hour, poll, RU), overview_panels(days, top, RU)]


async def loop_lag(stop: asyncio.Event) -> float:
    """The largest delay of a ``TICK`` sleep over its due time while ``stop`` is unset."""
    worst = 0.0
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(TICK)
        worst = max(worst, time.perf_counter() - started - TICK)
    return worst


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "VmRSS":
            return int(value.split()[0]) / 1024
    return 0.0


def workers_mb() -> float:
    return sum(rss_mb(child.pid) for child in multiprocessing.active_children() if child.pid)


async def main(wait: float) -> None:
    from bot.app import create_app
    from bot.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,
            bot_token="123456:ABCdefGHIjklMNOpqrSTUvwxYZ",
            channel_id="@news_channel",
            database_path=Path(folder) / "bench.sqlite3",
        )
        app = await create_app(settings)
        worker = app.services.stats.charts
        try:
            gc.collect()
            built = rss_mb()
            charts = fixed_charts()

            stop = asyncio.Event()
            lag = asyncio.create_task(loop_lag(stop))
            started = time.perf_counter()
            await worker.draw(charts[0])
            first = time.perf_counter() - started
            times: dict[int, list[float]] = {0: [], 1: []}
            for round_ in range(ROUNDS):
                kind = round_ % 2
                started = time.perf_counter()
                png = await worker.draw(charts[kind])
                times[kind].append(time.perf_counter() - started)
            stop.set()
            worst_lag = await lag
            gc.collect()
            print(f"PNG size (last): {len(png) / 1024:.0f} KB")
            print(f"bot RSS, app built:                 {built:.1f} MB")
            print(
                f"bot RSS after {ROUNDS + 1} charts:             {rss_mb():.1f} MB "
                f"(matplotlib loaded in the bot: {'matplotlib' in sys.modules})"
            )
            print(f"chart worker's RSS:                 {workers_mb():.1f} MB")
            print(f"first chart (starts the worker):    {first * 1000:.0f} ms")
            for kind, name in ((0, "article + poll"), (1, "14 days + top 5")):
                samples = times[kind]
                print(
                    f"{name:<16} p50 {statistics.median(samples) * 1000:.0f} ms, "
                    f"max {max(samples) * 1000:.0f} ms"
                )
            print(
                f"event loop: largest lag of a {TICK * 1000:.0f} ms tick while drawing: "
                f"{worst_lag * 1000:.1f} ms"
            )
            await asyncio.sleep(wait)
            gc.collect()
            print(
                f"{wait:.0f} s later: bot RSS {rss_mb():.1f} MB, worker running: "
                f"{worker.running} ({workers_mb():.1f} MB)"
            )
        finally:
            worker.close()
            await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wait",
        type=float,
        default=WAIT,
        help="seconds before the last RSS",
    )
    asyncio.run(main(parser.parse_args().wait))
