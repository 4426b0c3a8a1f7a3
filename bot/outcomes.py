"""What a service call did, as one record for every service that acts on an article.

Each service names its outcomes in its own enum; the record around it is the same: the
outcome, the article as it now stands (when there is one), the channel link the call made
or found, and why it failed when it did. A service that has more to say adds fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from bot.failures import Failure
from bot.models import Article

OutcomeT = TypeVar("OutcomeT", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Result(Generic[OutcomeT]):
    outcome: OutcomeT
    article: Article | None = None
    link: str | None = None
    reason: Failure | None = None
