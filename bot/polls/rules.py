"""Reader polls, the domain side: what an editor typed, percentages, labels, results.

Plain data in and out; the Telegram side (buttons, edits) is the poll board's.
"""

from __future__ import annotations

from functools import lru_cache

from aiogram.utils.formatting import Bold, Text, as_line

from bot.errors import InputError
from bot.models import ArticleContent, Poll, PollSpec
from bot.telegram_text.cleaning import clean_line
from bot.texts import Texts

MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_QUESTION_CHARS = 300
MAX_INTRO_CHARS = 600
# A button shows "label · 12345": keep labels short enough to read on a phone.
MAX_OPTION_CHARS = 40
BAR_WIDTH = 10


def parse_poll_spec(text: str | None, *, question: str | None = None) -> PollSpec:
    """``/poll`` text: optional intro lines, the question, then one option per line.

    The question is the first line ending with ``?``; lines before it are the intro.
    Without any ``?`` the first line is the question.  When ``question`` is given (a
    draft's "Ваше мнение" question), every line is an option.
    """
    lines = [clean_line(line) for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    intro: str | None = None
    if question is None:
        if not lines:
            raise InputError("poll_no_question")
        at = next((i for i, line in enumerate(lines) if line.endswith("?")), 0)
        intro = " ".join(lines[:at]) or None
        question, lines = lines[at], lines[at + 1 :]
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError("poll_question_too_long", length=len(question), limit=MAX_QUESTION_CHARS)
    if intro is not None and len(intro) > MAX_INTRO_CHARS:
        raise InputError("poll_intro_too_long", limit=MAX_INTRO_CHARS)
    options = tuple(line.lstrip("-•*–— ").strip() or line for line in lines)
    if len(options) < MIN_OPTIONS:
        raise InputError("poll_too_few_options", min=MIN_OPTIONS)
    if len(options) > MAX_OPTIONS:
        raise InputError("poll_too_many_options", count=len(options), max=MAX_OPTIONS)
    seen: set[str] = set()
    for option in options:
        if len(option) > MAX_OPTION_CHARS:
            raise InputError("poll_option_too_long", option=option[:50], limit=MAX_OPTION_CHARS)
        if option.casefold() in seen:
            raise InputError("poll_duplicate_option", option=option)
        seen.add(option.casefold())
    return PollSpec(question=question, options=options, intro=intro)


def spec_for_draft(text: str, content: ArticleContent) -> PollSpec:
    """``/addpoll`` text for a draft: with a "Ваше мнение" question on the draft the lines
    are only the options, unless the editor typed a question of their own (a line ending
    with "?"); the draft's intro goes with the draft's question."""
    question = content.poll_question
    if question and any(line.strip().endswith("?") for line in text.splitlines()):
        question = None
    spec = parse_poll_spec(text, question=question)
    if question is not None:
        return PollSpec(question=spec.question, options=spec.options, intro=content.poll_intro)
    return spec


@lru_cache(maxsize=256)  # a storm's presses answered from one commit share its counts
def percentages(counts: tuple[int, ...]) -> tuple[int, ...]:
    """Whole percentages that add up to 100 (largest remainder), all 0 with no votes."""
    total = sum(counts)
    if total == 0:
        return tuple(0 for _ in counts)
    exact = [count * 100 / total for count in counts]
    floors = [int(value) for value in exact]
    short = 100 - sum(floors)
    by_remainder = sorted(range(len(counts)), key=lambda i: (floors[i] - exact[i], i))
    for i in by_remainder[:short]:
        floors[i] += 1
    return tuple(floors)


def option_button_label(poll: Poll, position: int, texts: Texts) -> str:
    return texts.poll_option_button.format(
        label=poll.options[position], count=poll.counts[position]
    )


def vote_toast(poll: Poll, position: int, *, changed: bool, texts: Texts) -> str:
    template = texts.vote_recorded if changed else texts.vote_unchanged
    percent = percentages(poll.counts)[position]
    return template.format(label=poll.options[position], percent=percent)[:200]


def question_text(poll: Poll) -> Text:
    """The standalone poll post: the intro, then the question in bold."""
    if poll.intro:
        return Text(poll.intro, "\n\n", Bold(poll.question))
    return Text(Bold(poll.question))


def results_text(poll: Poll, texts: Texts) -> Text:
    """Final results: a text bar, the count and the percentage per option."""
    shares = percentages(poll.counts)
    lines = [as_line(Bold(texts.poll_closed_title))]
    for label, count, percent in zip(poll.options, poll.counts, shares, strict=True):
        filled = round(percent * BAR_WIDTH / 100)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        lines.append(as_line(label, f"\n{bar} {percent}% ({count})"))
    lines.append(Text(texts.poll_voters_total.format(voters=poll.voters)))
    return Text(*lines)


def results_report(poll: Poll, texts: Texts) -> str:
    """The editor's ``/results``: plain text."""
    status = {
        "open": texts.poll_status_open,
        "closed": texts.poll_status_closed,
    }.get(poll.status.value, texts.poll_status_pending)
    lines = [texts.poll_results_header.format(id=poll.id, status=status, question=poll.question)]
    shares = percentages(poll.counts)
    lines += [
        texts.poll_results_line.format(label=label, count=count, percent=percent)
        for label, count, percent in zip(poll.options, poll.counts, shares, strict=True)
    ]
    lines.append(texts.poll_results_voters.format(voters=poll.voters))
    return "\n".join(lines)
