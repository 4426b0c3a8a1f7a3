"""The monitoring port (``METRICS_HOST:METRICS_PORT``): ``GET /metrics`` for Prometheus and
``GET /healthz`` for the container's health check, in polling and webhook mode alike.

A server of its own, not a route on the webhook's: polling has no web server, and the
webhook's port faces Telegram through the proxy while this one faces the operator's
network.  It is started first at start-up and stopped last at shutdown, so a health
check has an answer for as long as the bot runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from bot.metrics import Metrics

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

# What each store this instance needs says: {"database": True, "redis": False}.
HealthCheck = Callable[[], Awaitable[dict[str, bool]]]


async def health_response(health: HealthCheck, *, stopping: bool = False) -> web.Response:
    """200 when every store answers (and the instance is not stopping), else 503; the body
    says which."""
    checks = await health()
    ok = all(checks.values()) and not stopping
    return web.json_response({**checks, "stopping": stopping}, status=200 if ok else 503)


class MonitoringServer:
    """``/metrics`` and ``/healthz`` on their own port."""

    def __init__(self, metrics: Metrics, health: HealthCheck, *, host: str, port: int) -> None:
        self.metrics = metrics
        self.health = health
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def web_app(self) -> web.Application:
        async def metrics(request: web.Request) -> web.Response:
            # Text format 0.0.4: every Prometheus reads it, and our names need nothing newer.
            return web.Response(
                body=self.metrics.exposition(),
                headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4},
            )

        async def healthz(request: web.Request) -> web.Response:
            return await health_response(self.health)

        app = web.Application()
        app.router.add_get(METRICS_PATH, metrics)
        app.router.add_get(HEALTH_PATH, healthz)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        logger.info("Metrics and health on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
