"""Poll domain: what editors type, percentages, the refresher's coalescing."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InputError
from bot.models import Poll, PollStatus
from bot.polls.callbacks import Vote
from bot.polls.refresher import Refresher
from bot.polls.rules import MAX_OPTIONS, parse_poll_spec, percentages, results_text, vote_toast
from bot.texts import RU
from tests.fakes.telegram_html import parse_html


def test_spec_with_intro_question_and_options() -> None:
    spec = parse_poll_spec(
        "Эра космоса началась с Гагарина.\nВ Алматы назван проспект.\n"
        "Считаете ли Вы необходимым переименование?\n- Да\n• Нет\n\nНе знаю"
    )
    assert spec.intro == "Эра космоса началась с Гагарина. В Алматы назван проспект."
    assert spec.question == "Считаете ли Вы необходимым переименование?"
    assert spec.options == ("Да", "Нет", "Не знаю")


def test_spec_for_a_draft_question_takes_only_options() -> None:
    spec = parse_poll_spec("Да\nНет", question="Вопрос со страницы?")
    assert (spec.question, spec.options, spec.intro) == (
        "Вопрос со страницы?",
        ("Да", "Нет"),
        None,
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "poll_no_question"),
        ("Вопрос?\nДа", "poll_too_few_options"),
        ("Вопрос?\n" + "\n".join(str(i) for i in range(MAX_OPTIONS + 1)), "poll_too_many_options"),
        ("Вопрос?\nДа\nДА", "poll_duplicate_option"),
        ("Вопрос?\nДа\n" + "x" * 41, "poll_option_too_long"),
        ("x" * 301 + "?\nДа\nНет", "poll_question_too_long"),
    ],
)
def test_spec_errors(text: str, key: str) -> None:
    with pytest.raises(InputError) as info:
        parse_poll_spec(text)
    assert info.value.key == key
    assert getattr(RU, key).format(**info.value.params)


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=2, max_size=10))
def test_percentages_add_up_to_100(counts: list[int]) -> None:
    shares = percentages(tuple(counts))
    if sum(counts) == 0:
        assert set(shares) == {0}
    else:
        assert sum(shares) == 100
        for count, share in zip(counts, shares, strict=True):
            assert abs(share - count * 100 / sum(counts)) < 1


def _poll(counts: tuple[int, ...], status: PollStatus = PollStatus.OPEN) -> Poll:
    return Poll(
        id=3,
        question='Вопрос <b>"&"</b>?',
        options=("Да", "Нет <i>", "🎉"),
        counts=counts,
        status=status,
        created_by=1,
    )


def test_toast_and_results() -> None:
    assert vote_toast(_poll((1, 1, 0)), 0, changed=True, texts=RU) == "Ваш голос учтён: Да — 50%"
    html = results_text(_poll((4, 3, 0), PollStatus.CLOSED), RU).as_html()
    plain, _ = parse_html(html)
    assert "57% (4)" in plain and "43% (3)" in plain and "Нет <i>" in plain
    assert "Всего голосов: 7" in plain


def test_vote_callback_data_is_small() -> None:
    packed = Vote(poll=2**31 - 1, option=9).pack()
    assert len(packed.encode()) <= 64
    assert Vote.unpack(packed) == Vote(poll=2**31 - 1, option=9)


async def test_refresher_coalesces_and_keeps_the_latest() -> None:
    renders: list[float] = []
    loop = asyncio.get_running_loop()

    async def render(poll_id: int) -> None:
        renders.append(loop.time())

    refresher = Refresher(render, interval=0.2)
    for _ in range(50):
        refresher.mark_dirty(1)
        last_vote = loop.time()
        await asyncio.sleep(0.01)  # about 0.5 s of steady votes
    await asyncio.sleep(0.3)
    # One immediate render, then at most one per interval, and one after the last vote;
    # bounds follow the time the votes really took, so a slow machine cannot fail it.
    elapsed = last_vote - renders[0]
    assert 2 <= len(renders) <= 2 + elapsed / 0.2
    gaps = [b - a for a, b in itertools.pairwise(renders)]
    assert all(gap >= 0.19 for gap in gaps)
    assert renders[-1] >= last_vote  # the final counts were rendered after the last vote
    assert refresher.pending == 0


async def test_refresher_flush_renders_pending_now() -> None:
    rendered: list[int] = []

    async def render(poll_id: int) -> None:
        rendered.append(poll_id)

    refresher = Refresher(render, interval=3600)
    refresher.mark_dirty(1)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    refresher.mark_dirty(1)  # within the interval: pending for an hour
    refresher.mark_dirty(2)
    await asyncio.sleep(0.01)
    assert rendered == [1, 2]
    await refresher.flush()
    assert sorted(rendered) == [1, 1, 2]
    assert refresher.pending == 0
