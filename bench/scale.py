"""Newsroom scale: the storage with years of archive in it.

What is measured
----------------
A database with 100,000 articles (four paragraphs and three tags each, almost all
published), 10,000 polls holding 1,000,000 votes, and 500,000 reads is generated
directly with ``executemany`` in big transactions (not through the bot: that would take
hours).  Then a *fresh* process (so that the generator's memory is not counted) does
what the bot does at start-up and under readers and editors:

* start-up: ``Database.open_sqlite`` (connections, pragmas, migrations) on that file;
* p50/p95 of the repository calls behind the commands: ``latest_published(5)`` (the
  reader's menu), ``get(id)`` (a reader opens the full text), ``list_unpublished(50)``
  (/drafts), ``latest_published(20)`` (/published), ``record_read`` (a first read);
* the process's resident memory afterwards (``VmRSS``, and its peak ``VmHWM``).

Aims from the issue: start-up under 2 s, every p95 under 20 ms, RSS under 100 MB.

Run ``python -m bench.scale``; ``--quick`` for a tenth of the data; ``--keep DIR`` keeps
(and reuses) the generated database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage import stores_on
from storage.database import Database
from storage.tables import articles as articles_table

ARTICLES = 100_000
VOTES = 1_000_000
READS = 500_000
POLL_EVERY = 10  # one article in ten has a poll
OPTIONS = 3
PARAGRAPHS = 4
TAGS = 3
SEED = 2026
AIM_STARTUP_S = 2.0
AIM_P95_MS = 20.0
AIM_RSS_MB = 100.0

TEXT = (
    "правительство заявило сегодня что новая программа поддержки малого бизнеса начнёт "
    "работать уже в следующем квартале министр отметил рост экспорта зерна и металлов "
    "аналитики ожидают снижения инфляции к концу года жители города пожаловались на "
    "ремонт дорог в центре столицы депутаты обсудили поправки в бюджет"
)
WORDS = tuple(TEXT.split())
TAG_POOL = tuple(f"тег{i}" for i in range(200))
STATUSES = ("draft", "scheduled", "failed", "uncertain")


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def generate(path: Path, articles: int, votes: int, reads: int) -> None:
    """Fill a freshly migrated database; plain sqlite3, a few big transactions."""
    rng = random.Random(SEED)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")

    def article_rows() -> Iterator[tuple[object, ...]]:
        for i in range(1, articles + 1):
            created = start + timedelta(minutes=30 * i)
            # 97% published; the rest is what an editor still has to act on.
            status = "published" if rng.random() < 0.97 else rng.choice(STATUSES)
            published = created + timedelta(minutes=rng.randint(1, 120))
            yield (
                i,
                _sentence(rng, 8),
                _sentence(rng, 20),
                "МОСКВА. 3 МАЯ",
                "Агентство",
                1000 + i,
                status,
                "@news" if status == "published" else None,
                i if status == "published" else None,
                published.isoformat() if status == "published" else None,
                created.isoformat(),
                (published if status == "published" else created).isoformat(),
            )

    conn.executemany(
        "INSERT INTO articles (id, title, summary, dateline, source, author_id, status, "
        "channel_chat_id, channel_message_id, published_at, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        article_rows(),
    )
    conn.executemany(
        "INSERT INTO article_paragraphs (article_id, position, body) VALUES (?, ?, ?)",
        (
            (i, p, " ".join(_sentence(rng, 12) for _ in range(4)))
            for i in range(1, articles + 1)
            for p in range(PARAGRAPHS)
        ),
    )
    conn.executemany(
        "INSERT INTO article_tags (article_id, position, tag) VALUES (?, ?, ?)",
        (
            (i, t, tag)
            for i in range(1, articles + 1)
            for t, tag in enumerate(rng.sample(TAG_POOL, TAGS))
        ),
    )
    conn.execute("COMMIT")

    conn.execute("BEGIN")
    polls = max(1, articles // POLL_EVERY)
    conn.executemany(
        "INSERT INTO polls (id, question, article_id, status, channel_chat_id, "
        "channel_message_id, created_by, created_at) "
        "VALUES (?, 'Вопрос?', ?, 'open', '@news', ?, 1, ?)",
        ((p, p * POLL_EVERY, 10**6 + p, start.isoformat()) for p in range(1, polls + 1)),
    )
    conn.executemany(
        "INSERT INTO poll_options (poll_id, position, label) VALUES (?, ?, ?)",
        ((p, o, f"Вариант {o}") for p in range(1, polls + 1) for o in range(OPTIONS)),
    )
    per_poll = votes // polls
    conn.executemany(
        "INSERT INTO poll_votes (poll_id, reader_id, position, voted_at) VALUES (?, ?, ?, ?)",
        (
            (p, r, rng.randrange(OPTIONS), "2024-01-01T00:00:00+00:00")
            for p in range(1, polls + 1)
            for r in range(per_poll)
        ),
    )
    conn.execute("COMMIT")

    conn.execute("BEGIN")
    # Recent articles are read more; every (article, reader) pair once.
    conn.executemany(
        "INSERT INTO article_reads (article_id, reader_id, first_read_at) VALUES (?, ?, ?)",
        (
            (articles - min(articles - 1, int(rng.expovariate(1 / 2000))), r, "2024-01-01")
            for r in range(reads)
        ),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA optimize")
    conn.close()


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set of this process, in MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


async def timed(
    name: str, call: Callable[[int], Awaitable[object]], rounds: int
) -> dict[str, float]:
    samples = []
    for i in range(rounds):
        began = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p95_ms": samples[max(0, int(len(samples) * 0.95) - 1)],
    }


async def measure(path: Path, rounds: int) -> dict[str, object]:
    began = time.perf_counter()
    db = await Database.open_sqlite(path)
    startup = time.perf_counter() - began
    try:
        repo = stores_on(db).articles
        rng = random.Random(SEED)
        async with db.read() as conn:
            highest = await conn.scalar(select(func.max(articles_table.c.id)))
        assert highest is not None
        top = int(highest)
        first_reader = 10**9
        results: dict[str, object] = {"startup_s": startup}
        calls: dict[str, Callable[[int], Awaitable[object]]] = {
            "latest_published(5)": lambda _: repo.latest_published(5),
            "get(id)": lambda _: repo.get(rng.randint(1, top)),
            "list_unpublished(50)": lambda _: repo.list_unpublished(50),
            "latest_published(20)": lambda _: repo.latest_published(20),
            "record_read": lambda i: repo.record_read(rng.randint(1, top), first_reader + i),
        }
        for name, call in calls.items():
            await call(0)  # warm the statement cache, as a running bot has it
            results[name] = await timed(name, call, rounds)
        # Sanity: the listing is what it claims to be.
        listed = await repo.latest_published(20)
        assert len(listed) == 20 and all(a.content.paragraphs for a in listed)
        current, peak = rss_mb()
        results["rss_mb"] = current
        results["rss_peak_mb"] = peak
        return results
    finally:
        await db.close()


def aiogram_floor_mb() -> float:
    """Resident memory of a bare aiogram import (its pydantic models), in MB: the floor
    under any aiogram bot's RSS, measured in the same run."""
    code = (
        "import aiogram.types\n"
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def report(results: dict[str, object], size: str) -> bool:
    ok = True
    startup = float(results["startup_s"])  # type: ignore[arg-type]
    print(f"Database: {size}")
    print(f"  start-up (open + migrate): {startup:8.3f} s   (aim < {AIM_STARTUP_S} s)")
    ok &= startup < AIM_STARTUP_S
    for name, value in results.items():
        if isinstance(value, dict):
            p50, p95 = value["p50_ms"], value["p95_ms"]
            flag = "" if p95 < AIM_P95_MS else "   <-- over the aim"
            ok &= p95 < AIM_P95_MS
            print(f"  {name:24} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms{flag}")
    rss, peak = float(results["rss_mb"]), float(results["rss_peak_mb"])  # type: ignore[arg-type]
    floor = aiogram_floor_mb()
    print(f"  RSS {rss:.1f} MB (peak {peak:.1f} MB)   (aim < {AIM_RSS_MB} MB)")
    print(
        f"  floor: a process that only imports aiogram: {floor:.1f} MB; "
        f"the bot's own share: {peak - floor:.1f} MB"
    )
    if floor >= AIM_RSS_MB:
        print("  (the RSS aim is below what importing aiogram costs here: judged on the share)")
        ok &= peak - floor < AIM_RSS_MB
    else:
        ok &= peak < AIM_RSS_MB
    print(f"  all aims met: {'yes' if ok else 'no'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the database in DIR")
    parser.add_argument("--rounds", type=int, default=300, help="calls per measurement")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:  # the child: measure only, print JSON
        print(json.dumps(asyncio.run(measure(args.measure, args.rounds))))
        return 0

    scale = 10 if args.quick else 1
    articles, votes, reads = ARTICLES // scale, VOTES // scale, READS // scale
    size = f"{articles:,} articles, {votes:,} votes, {reads:,} reads"
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"scale-{articles}.sqlite3"
        if not path.exists():
            began = time.perf_counter()

            async def create_schema() -> None:
                await (await Database.open_sqlite(path)).close()

            asyncio.run(create_schema())
            generate(path, articles, votes, reads)
            megabytes = path.stat().st_size / 2**20
            print(f"Generated in {time.perf_counter() - began:.1f} s ({megabytes:.0f} MB)")
        rounds = str(args.rounds)
        child = subprocess.run(
            [sys.executable, "-m", "bench.scale", "--measure", str(path), "--rounds", rounds],
            check=True,
            capture_output=True,
            text=True,
        )
        results = json.loads(child.stdout)
    report(results, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
