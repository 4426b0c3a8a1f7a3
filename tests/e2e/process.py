"""Runs the bot as a real OS process (``python -m bot``) against the fake Bot API server.

The fake server runs inside the test's event loop; the bot is a child process that talks
to it over real HTTP, so signals, exit codes, start-up and shutdown are the real ones.
Its stdout and stderr go to files next to the database, for assertions and for failures.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from bot.models import Article
from bot.settings import Settings
from storage import stores_on
from storage.database import Database
from tests.e2e.harness import ADMIN_ID, CHANNEL_ID, EDITOR_ID, SECOND_EDITOR_ID, TOKEN
from tests.fakes.botapi_server import FakeBotAPI

REPO_ROOT = Path(__file__).resolve().parents[2]

# Every setting the bot reads; the test's own environment must not leak into the child.
SETTING_NAMES = frozenset(name.upper() for name in Settings.model_fields)


def bot_env(server: FakeBotAPI, database_path: Path, **overrides: str) -> dict[str, str]:
    """The child's environment: the test's, minus any bot setting, plus the test settings."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTING_NAMES}
    env.update(
        BOT_TOKEN=TOKEN,
        CHANNEL_ID=str(CHANNEL_ID),
        EDITOR_IDS=f"{EDITOR_ID},{SECOND_EDITOR_ID}",
        ADMIN_IDS=str(ADMIN_ID),
        DATABASE_PATH=str(database_path),
        TELEGRAM_API_URL=server.base_url,
        LOG_LEVEL="INFO",
        POLL_REFRESH_SECONDS="0.3",
        RATE_CHAT_PER_SECOND="50",
        RATE_GROUP_PER_MINUTE="6000",
        PYTHONPATH=str(REPO_ROOT),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return env


def polls_begun(server: FakeBotAPI) -> int:
    """How many getUpdates requests the fake has begun to answer."""
    return server.polls_begun


def fault_armed(server: FakeBotAPI, method: str) -> bool:
    """True while a ``fail_next`` rule for ``method`` has not met its request yet.

    A held request (``delay``) is recorded only when it ends; the rule leaves the queue
    the moment the request arrives, which is how a test sees it "in flight".
    """
    return any(rule.method == method for rule in server._faults)


class BotProcess:
    """One ``python -m bot`` child process."""

    def __init__(
        self,
        server: FakeBotAPI,
        workdir: Path,
        *,
        name: str = "bot",
        database_path: Path | None = None,
        **overrides: str,
    ) -> None:
        self.server = server
        self.workdir = workdir
        self.database_path = database_path or workdir / "news.sqlite3"
        self.env = bot_env(server, self.database_path, **overrides)
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process; returns at once (see ``wait_ready``)."""
        assert self.proc is None, "already started"
        # cwd is a scratch directory, not the checkout: a developer's .env (with a real
        # token) in the repository root must never be read by a test.
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    async def start_and_wait_ready(self, timeout: float = 120.0) -> None:
        """Start, and return once the bot long-polls the fake (start-up is done)."""
        before = polls_begun(self.server)
        await self.start()
        await self.wait_until(lambda: polls_begun(self.server) > before, timeout, "polling")

    async def wait_until(self, predicate: Callable[[], object], timeout: float, what: str) -> None:
        """Poll ``predicate``; fail early, with the log, if the process dies meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if self.returncode is not None:
                raise AssertionError(
                    f"the bot exited with {self.returncode} before {what}\n{self.report()}"
                )
            if loop.time() >= deadline:
                raise AssertionError(f"no {what} within {timeout}s\n{self.report()}")
            await asyncio.sleep(0.02)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    def send_signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float) -> int:
        """The exit code, or AssertionError (with the log) if it does not exit in time."""
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the bot did not exit within {timeout}s\n{self.report()}"
            ) from None

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 5.0) -> int:
        """Send ``sig`` and wait for the exit code."""
        self.send_signal(sig)
        return await self.wait(timeout)

    async def kill(self) -> int:
        """SIGKILL: no shutdown work of any kind."""
        assert self.proc is not None
        self.proc.kill()
        return await self.proc.wait()

    async def ensure_dead(self) -> None:
        """For ``finally``: whatever happened, no process outlives its test."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def report(self) -> str:
        return (
            f"--- bot stderr ---\n{self.stderr}\n--- bot stdout ---\n{self.stdout}\n"
            f"--- fake server ---\n{self.server.summary()}"
        )


async def stored_article(database_path: Path, article_id: int) -> Article | None:
    """The article as the database has it (read the way an operator would)."""
    stores = stores_on(await Database.open_sqlite(database_path))
    try:
        return await stores.articles.get(article_id)
    finally:
        await stores.close()
