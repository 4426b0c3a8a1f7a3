"""The monitoring port and what deploy/ builds on it: the dashboard asks only for metrics
(and labels) the bot really exports; /healthz says 503 when a store does not answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.articles.publishing import Outcome
from bot.metrics import Metrics
from bot.models import VoteOutcome
from bot.monitoring import MonitoringServer
from bot.telegram.lanes import UpdateLanes
from bot.telegram.pacing.priorities import Priority
from tests.e2e.webhook_harness import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "newsroom.json"
METRIC = re.compile(r"\bnewsroom_[a-z0-9_]+")
SELECTOR = re.compile(r"(newsroom_[a-z0-9_]+)\{([^}]*)\}")
BY = re.compile(r"\bby \(([^)]*)\) \(\s*(?:rate|increase)?\(?\s*(newsroom_[a-z0-9_]+)")
# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"instance", "job"}


def exercised() -> Metrics:
    """A real registry with one series of each metric, as a running bot would have."""
    metrics = Metrics()
    metrics.updates.labels("message", "handled").inc()
    metrics.handler_seconds.labels("message").observe(0.01)
    metrics.telegram_requests.labels("sendMessage", "429").inc()
    metrics.telegram_seconds.labels("sendMessage").observe(0.02)
    metrics.slot_waited(Priority.PUBLISH, 0.5)
    metrics.watch_lanes(UpdateLanes(lambda user_id: False, 4))
    metrics.vote(VoteOutcome.RECORDED)
    metrics.publication(Outcome.PUBLISHED)
    metrics.database_seconds.labels("polls", "vote").observe(0.001)
    metrics.feed_checks.labels("new").inc()
    return metrics


def exported() -> dict[str, set[str]]:
    """Every sample name in the exposition, with the label names its series carry."""
    text = exercised().exposition().decode()
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
    return found


def queries(node: Any) -> Iterator[str]:
    """Every PromQL string in the dashboard: panel targets and template variables."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query", "definition") and isinstance(value, str):
                yield value
            else:
                yield from queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from queries(item)


def dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_dashboard_asks_only_for_what_the_bot_exports() -> None:
    names = exported()
    asked = [q for q in queries(dashboard()) if "newsroom_" in q]
    assert asked
    for query in asked:
        for metric in METRIC.findall(query):
            assert metric in names, f"{metric} is not exported (query: {query})"
        for metric, selector in SELECTOR.findall(query):
            for label in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector):
                assert label in names[metric] | TARGET_LABELS, (metric, label)
        for labels, metric in BY.findall(query):
            for label in (part.strip() for part in labels.split(",")):
                assert label in names[metric] | TARGET_LABELS | {"le"}, (metric, label)


def test_the_dashboard_shows_what_the_issue_asks_per_instance() -> None:
    panels = {panel["title"]: list(queries(panel)) for panel in dashboard()["panels"]}
    wanted = {
        "newsroom_updates_total",
        "newsroom_handler_seconds_bucket",
        "newsroom_send_slot_wait_seconds_bucket",
        "newsroom_publications_total",
    }
    every = " ".join(q for found in panels.values() for q in found)
    assert wanted <= set(METRIC.findall(every))
    assert (
        'outcome="429"' in every
        and 'newsroom_votes_total{instance=~"$instance", outcome="recorded"}' in every
    )
    for title in (
        "Updates per second",
        "Handling time, p95",
        "Telegram 429s",
        "Send-slot wait, p95",
        "Votes per second",
        "Publications",
    ):
        assert any("instance" in q for q in panels[title]), title


def test_grafana_prometheus_and_compose_agree() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"], name
    port = services["bot"]["environment"]["METRICS_PORT"]
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text(encoding="utf-8"))
    [job] = prometheus["scrape_configs"]
    assert job["dns_sd_configs"][0]["names"] == ["bot"]
    assert str(job["dns_sd_configs"][0]["port"]) == port
    datasource = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text(encoding="utf-8")
    )["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    uids = {target["datasource"]["uid"] for p in dashboard()["panels"] for target in p["targets"]}
    assert uids == {datasource["uid"]}
    provider = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/newsroom.yml").read_text(encoding="utf-8")
    )["providers"][0]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in services["grafana"]["volumes"]}
    assert mounts[provider["options"]["path"]] == "./grafana/dashboards"
    assert "METRICS_PORT" in (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


@pytest.mark.parametrize(("answers", "status"), [(True, 200), (False, 503)])
async def test_healthz_on_the_metrics_port_says_whether_the_stores_answer(
    answers: bool, status: int
) -> None:
    async def health() -> dict[str, bool]:
        return {"database": True, "redis": answers}

    port = free_port()
    server = MonitoringServer(exercised(), health, host="127.0.0.1", port=port)
    await server.start()
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{port}/healthz") as answer:
                assert answer.status == status
                assert await answer.json() == {
                    "database": True,
                    "redis": answers,
                    "stopping": False,
                }
            async with client.get(f"http://127.0.0.1:{port}/metrics") as answer:
                assert answer.status == 200
                assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                assert "newsroom_votes_total" in await answer.text()
    finally:
        await server.stop()


class Repository:
    """A stand-in repository: one coroutine method, one plain one, one that fails."""

    limit = 10

    async def vote(self, poll_id: int) -> int:
        return poll_id * 2

    def name(self) -> str:
        return "polls"

    async def broken(self) -> None:
        raise LookupError("gone")


async def test_each_repository_call_is_timed_and_answers_as_before() -> None:
    metrics = Metrics()
    repository = metrics.timed("polls", Repository())
    assert await repository.vote(21) == 42
    assert await repository.vote(1) == 2
    assert repository.name() == "polls" and repository.limit == 10
    with pytest.raises(LookupError):
        await repository.broken()
    samples = {
        (s.name, s.labels.get("method")): s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
    }
    assert samples[("newsroom_database_seconds_count", "vote")] == 2
    assert samples[("newsroom_database_seconds_count", "broken")] == 1
    assert ("newsroom_database_seconds_count", "name") not in samples
