"""What an instance tells Prometheus: every metric it exports, defined here once.

Each ``App`` owns one ``Metrics`` with its own ``CollectorRegistry`` (not prometheus-
client's global default one): several bots built in one process (the tests, the
benchmarks) never collide, and ``/metrics`` shows only this instance's numbers.  With
several instances each exposes its own; Prometheus adds them up.

Labels take a handful of values each (kinds of update, Bot API method names, outcomes,
priorities, repositories and their methods), never a user's or an article's id.  When
``METRICS_PORT`` is unset nothing is built and nothing is measured: the middlewares and
the repository wrapper are simply not installed.
"""

from __future__ import annotations

import inspect
import time
from functools import partial
from typing import Any, Generic, TypeVar, cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from bot.articles.publishing import Outcome
from bot.models import VoteOutcome
from bot.telegram.lanes import UpdateLanes
from bot.telegram.pacing.priorities import Priority

# Handling an update, a Telegram request, a database call: milliseconds to seconds.
_FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Waiting for a send slot: nothing at all, up to a channel's 3 s per post and a 429's wait.
_WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# What each metric measures, as ``/metrics`` tells it (its HELP line).
_HELP = {
    "newsroom_updates": (
        "Updates handled, by kind (message, callback_query, ...) and outcome (handled, "
        "unhandled: no handler wanted it, error, refused: Telegram's expected no, "
        "unavailable: a store was away)"
    ),
    "newsroom_handler_seconds": "Time to handle an update once its slot is taken, by kind",
    "newsroom_telegram_requests": (
        "Bot API requests, each try counted, by method and outcome "
        "(ok, refused, uncertain: outcome unknown, 429)"
    ),
    "newsroom_telegram_request_seconds": (
        "Time of a Bot API request (one try, its send slot not included), by method"
    ),
    "newsroom_send_slot_wait_seconds": (
        "Time a request waited for its send slot under Telegram's limits, by priority"
    ),
    "newsroom_lane_updates": (
        "Updates in hand in each lane (desk, readers): running, or waiting for a slot"
    ),
    "newsroom_votes": (
        "Poll button presses by outcome (recorded: a first or moved vote, unchanged, "
        "closed, unknown, not_here)"
    ),
    "newsroom_publications": (
        "Publishing attempts by outcome (published, failed, uncertain, not_posted)"
    ),
    "newsroom_database_seconds": "Time of a repository call, by repository and method",
    "newsroom_feed_checks": "Feed checks by outcome",
}

T = TypeVar("T")
M = TypeVar("M", bound=MetricWrapperBase)


class Children(Generic[M]):
    """A metric's labelled children, looked up once per set of label values: prometheus-
    client's own ``labels()`` checks and locks on every call (about 8 µs here, most of
    what measuring an update would cost)."""

    def __init__(self, metric: M) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], M] = {}

    def of(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child


class Metrics:
    """The metrics of one bot instance, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = self._counter("newsroom_updates", "kind", "outcome")
        self.handler_seconds = self._histogram("newsroom_handler_seconds", "kind")
        self.telegram_requests = self._counter("newsroom_telegram_requests", "method", "outcome")
        self.telegram_seconds = self._histogram("newsroom_telegram_request_seconds", "method")
        self.send_slot_wait = self._histogram(
            "newsroom_send_slot_wait_seconds", "priority", buckets=_WAIT_BUCKETS
        )
        self.lane_updates = Gauge(
            "newsroom_lane_updates",
            _HELP["newsroom_lane_updates"],
            ["lane", "state"],
            registry=self.registry,
        )
        self.votes = self._counter("newsroom_votes", "outcome")
        self.publications = self._counter("newsroom_publications", "outcome")
        self.database_seconds = self._histogram(
            "newsroom_database_seconds", "repository", "method"
        )
        self.feed_checks = self._counter("newsroom_feed_checks", "outcome")

        # The children of the hot paths, made once (and shown as 0 before the first event,
        # so a dashboard's rate() has a series from the start).
        self._slot_waits = {p: self.send_slot_wait.labels(p.name.lower()) for p in Priority}
        self._votes = {o: self.votes.labels(o.value) for o in VoteOutcome}
        self._publications = {
            o: self.publications.labels(o.value)
            for o in (Outcome.PUBLISHED, Outcome.FAILED, Outcome.UNCERTAIN, Outcome.NOT_POSTED)
        }

    def _counter(self, name: str, *labels: str) -> Counter:
        return Counter(name, _HELP[name], labels, registry=self.registry)

    def _histogram(
        self, name: str, *labels: str, buckets: tuple[float, ...] = _FAST_BUCKETS
    ) -> Histogram:
        return Histogram(name, _HELP[name], labels, buckets=buckets, registry=self.registry)

    def slot_waited(self, priority: Priority, seconds: float) -> None:
        self._slot_waits[priority].observe(seconds)

    def vote(self, outcome: VoteOutcome) -> None:
        self._votes[outcome].inc()

    def feed_check(self, outcome: str) -> None:
        self.feed_checks.labels(outcome).inc()

    def publication(self, outcome: Outcome) -> None:
        child = self._publications.get(outcome)
        if child is None:
            child = self._publications[outcome] = self.publications.labels(outcome.value)
        child.inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format."""
        return generate_latest(self.registry)

    def watch_lanes(self, lanes: UpdateLanes) -> None:
        """Read the lanes' counts at each scrape (nothing is paid per update)."""
        for lane in lanes.names:
            self.lane_updates.labels(lane, "running").set_function(partial(lanes.running, lane))
            self.lane_updates.labels(lane, "waiting").set_function(partial(lanes.waiting, lane))

    def timed(self, repository: str, target: T) -> T:
        """``target`` with each of its coroutine methods timed as ``repository``/method."""
        return cast(T, _TimedCalls(target, self.database_seconds, repository))


class _TimedCalls:
    """A stand-in for a repository: the same attributes, its coroutine methods timed.

    Wrapped methods are kept on the stand-in after their first use, so a call pays one
    clock read on each side and one histogram observation.
    """

    def __init__(self, target: Any, histogram: Histogram, repository: str) -> None:
        self._target = target
        self._histogram = histogram
        self._repository = repository

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        observe = self._histogram.labels(self._repository, name).observe

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await attribute(*args, **kwargs)
            finally:
                observe(time.perf_counter() - started)

        timed.__name__ = name
        timed.__doc__ = attribute.__doc__
        setattr(self, name, timed)
        return timed
