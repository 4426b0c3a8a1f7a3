"""The outlet's archive: reading article pages, and importing a 5,000-file zip.

What is measured
----------------
* Extraction: ``bot.feeds.pages.extract_article`` over 1,000 local article pages built
  like the seed page (header, navigation, figure, JSON-LD, a body of 4 to 12 paragraphs,
  related and most-read lists, a sidebar of 150 teasers, the poll, the footer: about
  60 KB each, as a news site's pages are): pages per second, one core.
* The archive: a zip of 5,000 files (4,000 saved pages, 1,000 page dumps, 1 % of them
  without an article) imported by ``bot.feeds.archive.import_archive`` into a fresh
  SQLite database through the real repository (batches of ``BATCH_SIZE``, each one
  transaction, indexed for search as it comes in): articles per second, and the growth
  of the process's peak RSS over the import. Then the same zip again (every page is a
  duplicate).

Aims from the issue: extraction at least 50 pages/s, the archive at least 200
articles/s, RSS growth under 50 MB.  ``python -m bench.archive``; ``--quick`` for a
tenth of the work.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.processes import workers_as_in_the_bot
from bot.feeds.archive import Archive, ImportState, import_archive
from bot.feeds.pages import extract_article
from storage import stores_on
from storage.database import Database

ROOT = Path(__file__).resolve().parents[1]
SEED_HTML = (ROOT / "tests" / "fixtures" / "seed_article.html").read_text(encoding="utf-8")
SEED_TXT = (ROOT / "tests" / "fixtures" / "seed_article.txt").read_text(encoding="utf-8")
PAGES = 1_000
FILES = 5_000
SEED = 2026
AIM_PAGES_PER_S = 50.0
AIM_ARTICLES_PER_S = 200.0
AIM_RSS_MB = 50.0

# fmt: off
_WORDS = (
    "город", "служба", "проспект", "ремонт", "водопровод", "бюджет", "министр", "встреча",
    "визит", "сотрудничество", "проект", "строительство", "школа", "больница", "дорога",
    "аким", "жители", "решение", "правительство", "закон", "экономика", "рост", "инфляция",
    "банк", "ставка", "урожай", "погода", "снег", "фестиваль", "театр", "выставка",
)
# fmt: on


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(2, 5)))


def page_html(n: int, rng: random.Random) -> str:
    """The seed page with its own title, date, body and a sidebar of teasers."""
    title = f"Новость {n}: " + _sentence(rng, 7).rstrip(".")
    body = "".join(f"<p>{_paragraph(rng)}</p>" for _ in range(rng.randint(4, 12)))
    teasers = "".join(
        f'<div class="card"><a href="/n/{n}-{i}.html"><img src="/i/{i}.jpg">'
        f'<span class="t">{_sentence(rng, 6)}</span></a>'
        f'<p class="small">{_sentence(rng, 12)}</p></div>'
        for i in range(150)
    )
    day = 1 + n % 28
    page = SEED_HTML.replace(
        "2022-04-29T11:38", f"2021-{1 + n % 12:02d}-{day:02d}T11:{n % 60:02d}"
    )
    page = page.replace("minoborony_knr_1377931563", f"archive_{n}")
    start = page.index('<div class="article__body"')
    end = page.index('<div class="share">')
    page = page[:start] + f'<div class="article__body">{body}</div>' + page[end:]
    page = page.replace("</aside>", teasers + "</aside>")
    return page.replace(
        'провоцирующих "цветную революцию" в Казахстане</h1>', f"{title}</h1>", 1
    ).replace('"headline": "Минобороны', f'"headline": "{title}", "x": "', 1)


def page_dump(n: int, rng: random.Random) -> str:
    lines = SEED_TXT.splitlines()
    lines[0] = f"{1 + n % 28:02d}.03.2020, 10:{n % 60:02d} {n}"
    lines[2] = lines[3] = f"Архив {n}: " + _sentence(rng, 6)
    return "\n".join(lines)


def bench_extraction(count: int) -> float:
    rng = random.Random(SEED)
    pages = [page_html(n, rng).encode() for n in range(count)]
    size = sum(map(len, pages)) / len(pages)
    started, cpu = time.perf_counter(), time.process_time()
    found = sum(extract_article(page, "https://www.kt.kz/") is not None for page in pages)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    rate = count / elapsed
    print(f"extraction: {count} pages of {size / 1024:.0f} KB on average, {found} articles")
    print(
        f"  {rate:.0f} pages/s  (aim >= {AIM_PAGES_PER_S:.0f}); "
        f"{count / cpu:.0f} pages per CPU second"
    )
    return rate


def build_zip(files: int, path: Path) -> None:
    rng = random.Random(SEED)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(files):
            if n % 100 == 99:
                archive.writestr(f"broken/{n}.html", "<html><body>404</body></html>")
            elif n % 5 == 0:
                archive.writestr(f"dumps/{n}.txt", page_dump(n, rng))
            else:
                archive.writestr(f"site/{n}.html", page_html(n, rng))


def _cpu_seconds() -> float:
    """This process's CPU time and that of its finished children (the reading processes,
    reaped when the import ends): on a shared machine, the work done, whatever the wait."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def bench_import(files: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "archive.zip"
        build_zip(files, path)
        print(f"archive: {files} files, {path.stat().st_size / 1024 / 1024:.1f} MB zipped")
        stores = stores_on(await Database.open_sqlite(Path(folder) / "bench.sqlite3"))
        try:
            rss_before = _rss_kb("VmRSS")

            async def quiet(state: ImportState) -> None:
                pass

            rates = []
            for run in ("first import", "same zip again"):
                archive = Archive.open(path)
                started, cpu = time.perf_counter(), _cpu_seconds()
                state = await import_archive(
                    archive, stores.archive, 1, ZoneInfo("Asia/Almaty"), progress=quiet
                )
                elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
                archive.close()
                rate = state.done / elapsed
                rates.append(rate)
                print(
                    f"  {run}: {elapsed:.1f} s ({cpu:.1f} CPU s, readers included), "
                    f"{rate:.0f} files/s, "
                    f"{state.done / cpu:.0f} per CPU second; {state.imported} imported, "
                    f"{state.duplicates} duplicates, {len(state.bad)} bad"
                )
            growth = (_rss_kb("VmHWM") - rss_before) / 1024
            found = await stores.search.search("водопровод")
            print(f"  search after import: {len(found)} results for «водопровод»")
        finally:
            await stores.close()
    print(f"  first import {rates[0]:.0f} articles/s  (aim >= {AIM_ARTICLES_PER_S:.0f})")
    reader_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"  peak RSS growth {growth:.1f} MB  (aim < {AIM_RSS_MB:.0f})", end="")
    print(f"; a reading process peaked at {reader_peak:.0f} MB" if reader_peak else "")
    return rates[0], growth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the work")
    args = parser.parse_args()
    workers_as_in_the_bot()
    scale = 10 if args.quick else 1
    bench_extraction(PAGES // scale)
    asyncio.run(bench_import(FILES // scale))


if __name__ == "__main__":
    main()
