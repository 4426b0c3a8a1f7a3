"""A shared service that stops answering (Redis, the database) is one log line when the
outage starts and one when it ends, with how many updates were refused meanwhile, not a
traceback per update: a storm of presses during a three-second Redis restart would
otherwise write hundreds."""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)


def service_of(exc: BaseException) -> str:
    """Which shared service an exception speaks for."""
    return "Redis" if type(exc).__module__.split(".", 1)[0] == "redis" else "the database"


class OutageLog:
    def __init__(self) -> None:
        self._since: float | None = None
        self._service = ""
        self.refused = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def refused_one(self, exc: BaseException) -> None:
        """An update could not be handled because a shared service did not answer."""
        if self._since is None:
            self._since = time.monotonic()
            self._service = service_of(exc)
            logger.error(
                "%s does not answer (%s: %s): updates are refused until it does",
                self._service,
                type(exc).__name__,
                exc,
            )
        self.refused += 1

    def answered(self) -> None:
        """An update went through: if an outage was on, it is over."""
        if self._since is None:
            return
        logger.error(
            "%s answers again after %.1f s; %d updates were refused meanwhile",
            self._service,
            time.monotonic() - self._since,
            self.refused,
        )
        self._since, self.refused = None, 0
