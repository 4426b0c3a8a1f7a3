"""Formatting benchmark: the full text of a 20,000-character article, split for Telegram.

Baseline, measured in the same run: aiogram rendering the same article to HTML in one
piece (``Text.as_html()``), which the bot has to do anyway.  The figure of interest is
what splitting at paragraph/sentence boundaries costs on top of that.

    .venv/bin/python -m bench.formatting [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from aiogram.utils.formatting import Bold, Text, as_list

from bot.articles.formatting import channel_post, full_text
from bot.models import ArticleContent


def article(paragraphs: int = 40, sentences: int = 8) -> ArticleContent:
    body = tuple(
        " ".join(
            f"Предложение {i}.{j} о событиях дня в Алматы, «цитата» & 🎉 подробности."
            for j in range(sentences)
        )
        for i in range(paragraphs)
    )
    return ArticleContent(
        title="Длинная статья для замера",
        paragraphs=body,
        dateline="АЛМАТЫ. 3 МАЯ",
        source="KAZAKHSTAN TODAY",
        photo_credit="Фото: Акорда",
        tags=("Алматы", "замер"),
    )


def measure(work: Callable[[], object], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    content = article()
    whole = Text(Bold(content.title), "\n\n", as_list(*content.paragraphs, sep="\n\n"))
    size = len(whole)

    baseline = measure(whole.as_html, args.rounds)
    ours = measure(lambda: [part.as_html() for part in full_text(content)], args.rounds)
    post = measure(lambda: channel_post(content, with_photo=True).as_html(), args.rounds)
    parts = len(full_text(content))
    print(f"article: {size} UTF-16 units, {len(content.paragraphs)} paragraphs -> {parts} parts")
    print(f"baseline (aiogram as_html, one piece): {baseline * 1000:.2f} ms")
    print(
        f"full text, split and rendered:         {ours * 1000:.2f} ms "
        f"({ours / baseline:.1f}x baseline)"
    )
    print(f"channel post (caption, 1024 limit):    {post * 1000:.2f} ms")


if __name__ == "__main__":
    main()
