"""Several ``python -m bot`` processes in webhook mode, sharing one PostgreSQL database and
one Redis key prefix, behind the fake Bot API server delivering round-robin to them.

Like a deployment behind a load balancer: every instance is configured with the same
public ``WEBHOOK_URL`` (the balancer's; nothing listens there) and serves its path on a
127.0.0.1 port of its own; the fake's ``webhook_targets`` plays the balancer.  Plain
http is allowed because ``TELEGRAM_API_URL`` is set (a self-hosted Bot API server).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import aiohttp

from tests.e2e.process import BotProcess
from tests.e2e.webhook_harness import SECRET, WEBHOOK_PATH, free_port
from tests.fakes.botapi_server import FakeBotAPI

# What every instance of a test cluster runs with: Telegram's real limits (the fake
# enforces them when ``rate_limits`` is on) and a short shutdown.  What a killed instance
# held is free after the lease its holders renew (storage/redis/leases.py).
CLUSTER_SETTINGS = {
    "RATE_CHAT_PER_SECOND": "1",
    "RATE_GROUP_PER_MINUTE": "20",
    "POLL_REFRESH_SECONDS": "3",
    "SHUTDOWN_GRACE_SECONDS": "3",
    "REQUEST_TIMEOUT_SECONDS": "5",
    "UPDATE_CONCURRENCY": "64",
}
WEBHOOK_LOG_LINES = ("Webhook set to", "Webhook already set to")


class WebhookProcess(BotProcess):
    """One instance: ``python -m bot`` serving the webhook on a port of its own."""

    def __init__(
        self, server: FakeBotAPI, workdir: Path, *, name: str, public_url: str, **env: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"
        super().__init__(
            server,
            workdir,
            name=name,
            database_path=workdir / f"{name}-unused.sqlite3",
            **{
                **CLUSTER_SETTINGS,
                "WEBHOOK_URL": public_url,
                "WEBHOOK_SECRET": SECRET,
                "WEB_SERVER_HOST": "127.0.0.1",
                "WEB_SERVER_PORT": str(self.port),
                **env,
            },
        )

    async def healthy(self, client: aiohttp.ClientSession) -> bool:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with client.get(f"http://127.0.0.1:{self.port}/healthz") as answer:
                return answer.status == 200
        return False

    async def wait_ready(self, timeout: float = 120.0) -> None:
        """/healthz answers 200 (database and Redis reachable) and start-up work is done
        (the log says the webhook is set, the last step before updates are taken)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as client:
            while not await self.healthy(client):
                if self.returncode is not None:
                    raise AssertionError(f"exited with {self.returncode}\n{self.report()}")
                if loop.time() >= deadline:
                    raise AssertionError(f"/healthz not 200 within {timeout}s\n{self.report()}")
                await asyncio.sleep(0.05)
        remaining = max(0.1, deadline - loop.time())
        await self.wait_until(
            lambda: any(line in self.stderr for line in WEBHOOK_LOG_LINES),
            remaining,
            "webhook set",
        )


class Cluster:
    """``n`` instances on one database and one Redis prefix; the fake round-robins."""

    def __init__(
        self,
        server: FakeBotAPI,
        workdir: Path,
        *,
        n: int,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
        **env: str,
    ) -> None:
        self.server = server
        self.public_url = f"http://127.0.0.1:{free_port()}{WEBHOOK_PATH}"
        self.instances = [
            WebhookProcess(
                server,
                workdir,
                name=f"bot{i}",
                public_url=self.public_url,
                DATABASE_URL=database_url,
                REDIS_URL=redis_url,
                REDIS_PREFIX=redis_prefix,
                **env,
            )
            for i in range(n)
        ]
        server.webhook_targets = [bot.url for bot in self.instances]

    async def start(self) -> None:
        """Start all at once (as an orchestrator would) and wait until each is ready."""
        for bot in self.instances:
            await bot.start()
        await asyncio.gather(*(bot.wait_ready() for bot in self.instances))

    @property
    def alive(self) -> list[WebhookProcess]:
        return [bot for bot in self.instances if bot.returncode is None]

    async def stop(self) -> list[int]:
        """SIGTERM to every live instance; their exit codes."""
        live = self.alive
        for bot in live:
            bot.send_signal(signal.SIGTERM)
        return list(await asyncio.gather(*(bot.wait(timeout=20) for bot in live)))

    async def ensure_dead(self) -> None:
        for bot in self.instances:
            await bot.ensure_dead()

    def report(self) -> str:
        return (
            "\n".join(
                f"===== {bot.stdout_path.stem} (exit {bot.returncode}) =====\n{bot.stderr[-4000:]}"
                for bot in self.instances
            )
            + f"\n--- fake server ---\n{self.server.summary()}"
        )
