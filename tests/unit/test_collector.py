"""The bot's collector settings hold while it runs and are undone at its shutdown."""

from __future__ import annotations

import gc

from bot.collector import YOUNG_GENERATION, Collector


def test_tune_then_restore() -> None:
    before = gc.get_threshold()
    collector = Collector()
    collector.tune()
    try:
        assert gc.get_threshold() == (YOUNG_GENERATION, *before[1:])
        assert gc.get_freeze_count() > 0  # start-up's heap is out of every collection
        collector.tune()  # a second start-up hook changes nothing
        assert gc.get_threshold()[0] == YOUNG_GENERATION
    finally:
        collector.restore()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    collector.restore()  # a second shutdown hook neither
    assert gc.get_threshold() == before
