"""A fake Telegram Bot API server that a real aiogram ``Bot`` talks to over real HTTP.

Why a server and not a mocked session: the bot's own code, aiogram's request encoding and
its error mapping all run exactly as in production, and every request is checked against
the Bot API spec and Telegram's rules (validation.py), so a test fails where real Telegram
would answer 400.  Usage::

    async with FakeBotAPI() as server:
        bot = server.make_bot()
        editor = server.user(42, "Ann", started=True)
        ...
        await bot.session.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections.abc import Callable
from functools import cache
from types import TracebackType
from typing import Any, Self, TypeVar

import aiogram.methods
import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods.base import TelegramMethod
from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from tests.fakes.methods import DEFAULT_UPDATES, TelegramMethods
from tests.fakes.spec import UploadedFile, decode_params, load_spec
from tests.fakes.state import APIError, FaultRule, RateLimiter, RecordedRequest
from tests.fakes.users import FakeUser, command_entities
from tests.fakes.validation import validate, validate_object

__all__ = ["FakeBotAPI"]

T = TypeVar("T")

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_NOT_COUNTED = frozenset({"sendChatAction"})
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class _DropConnection(Exception):
    """Close the socket without answering (the answer is "lost")."""


@cache
def _result_adapter(method: str) -> TypeAdapter[Any] | None:
    """aiogram's own return type of a method, to check the fake's results against."""
    for obj in vars(aiogram.methods).values():
        if (
            isinstance(obj, type)
            and issubclass(obj, TelegramMethod)
            and getattr(obj, "__api_method__", None) == method
        ):
            return TypeAdapter(obj.__returning__)
    return None


def _counts_for_flood(method: str) -> bool:
    if method in _NOT_COUNTED:
        return False
    return method.startswith(("send", "edit", "copyMessage", "forwardMessage"))


class FakeBotAPI(TelegramMethods):
    """Fake Bot API: state (see BotState), recorded requests, fault injection, waiting."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        bot_username: str = "newsroom_test_bot",
        bot_id: int = 123456,
    ) -> None:
        super().__init__(token, bot_username, bot_id)
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.api_errors: list[str] = []  # semantic 4xx answers (chat not found, ...)
        self.downloads: list[str] = []  # file paths fetched from /file/
        self.rate_limits = False
        self.rate_limiter = RateLimiter()
        self.throttled = 0
        self.fake_users: dict[int, FakeUser] = {}
        self._faults: list[FaultRule] = []
        self._runner: web.AppRunner | None = None
        self._activity = asyncio.Event()
        self._in_flight = 0
        self._last_activity = 0.0
        self._poll_generation = 0
        self._stopping = False
        # Webhook delivery (after setWebhook), like Telegram: POST each update with the
        # secret header, again and again until the answer is 200.
        self.webhook_targets: list[str] | None = None  # round-robin instead of the URL
        self.redelivery_delay = 0.05
        self.deliveries: list[tuple[int, str, int]] = []  # (update id, url, HTTP status)
        self._lose_answers: dict[int, int] = {}  # update id → 200s to treat as lost
        self._delivering: dict[int, asyncio.Task[None]] = {}
        self._round_robin = 0
        self._client: aiohttp.ClientSession | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port; sets ``base_url``."""
        self._update_event = asyncio.Event()
        self._activity = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """End pending long polls (they answer []) and shut the server down."""
        self._stopping = True
        if self._update_event is not None:
            self._update_event.set()
        for task in list(self._delivering.values()):
            task.cancel()
        if self._delivering:
            await asyncio.gather(*self._delivering.values(), return_exceptions=True)
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def make_bot(self, *, parse_mode: str | None = "HTML") -> Bot:
        """A real aiogram Bot pointed at this server (close it: ``bot.session.close()``)."""
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(
            self.token, session=session, default=DefaultBotProperties(parse_mode=parse_mode)
        )

    # -- the incoming side ----------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test User",
        username: str | None = None,
        *,
        started: bool = False,
        language_code: str = "ru",
    ) -> FakeUser:
        """A user (created once per id).  ``started=True``: as if they had sent /start."""
        existing = self.fake_users.get(user_id)
        if existing is not None:
            existing.private_chat.started |= started
            return existing
        user = FakeUser(
            self, user_id, first_name, username, language_code=language_code, started=started
        )
        self.fake_users[user_id] = user
        return user

    def channel_post(self, chat_id: int, text: str) -> dict[str, Any]:
        """A post by a human admin in a channel; pushes a ``channel_post`` update."""
        chat = self.chats[chat_id]
        content: dict[str, Any] = {"text": text, "entities": command_entities(text) or None}
        message = self.new_message(chat, from_user=None, **content)
        update = {"channel_post": copy.deepcopy(message)}
        update_id = self.push_update(update)
        return {**update, "update_id": update_id}

    def reaction_count(
        self, chat_id: int, message_id: int, counts: dict[str, int], *, date: int | None = None
    ) -> dict[str, Any]:
        """Telegram's ``message_reaction_count`` update for a channel post: the counts by
        emoji (``"custom:<id>"`` for a custom emoji, ``"paid"`` for paid stars)."""
        chat = self.chats[chat_id]
        if self.message(chat.id, message_id) is None:
            raise AssertionError(f"no message {message_id} in chat {chat_id}")
        reactions = []
        for label, total in counts.items():
            if label == "paid":
                kind: dict[str, Any] = {"type": "paid"}
            elif label.startswith("custom:"):
                kind = {"type": "custom_emoji", "custom_emoji_id": label.removeprefix("custom:")}
            else:
                kind = {"type": "emoji", "emoji": label}
            errors = validate_object(kind, "ReactionType", "reactions.type")
            if errors or total <= 0:
                raise AssertionError(f"not a reaction Telegram sends: {kind}, {total}: {errors}")
            reactions.append({"type": kind, "total_count": total})
        update = {
            "message_reaction_count": {
                "chat": chat.as_chat(),
                "message_id": message_id,
                "date": date if date is not None else int(time.time()),
                "reactions": reactions,
            }
        }
        update_id = self.push_update(update)
        return {**update, "update_id": update_id}

    # -- webhook delivery -----------------------------------------------------------------

    def push_update(self, update: dict[str, Any], *, checked: bool = False) -> int:
        update_id = super().push_update(update, checked=checked)
        if self.webhook_url:
            self._start_delivery(update_id)
        return update_id

    def webhook_changed(self) -> None:
        for update in self.updates:
            if update["update_id"] in self.undelivered:
                self._start_delivery(update["update_id"])

    def lose_answer(self, update_id: int, times: int = 1) -> None:
        """Treat the next ``times`` 200 answers to this update as lost: it is delivered again."""
        self._lose_answers[update_id] = self._lose_answers.get(update_id, 0) + times

    def deliveries_of(self, update_id: int) -> list[tuple[str, int]]:
        return [(url, status) for uid, url, status in self.deliveries if uid == update_id]

    def _start_delivery(self, update_id: int) -> None:
        if update_id in self._delivering or self._stopping:
            return
        self._in_flight += 1
        self._delivering[update_id] = asyncio.get_running_loop().create_task(
            self._deliver(update_id)
        )

    def _next_target(self) -> str:
        targets = self.webhook_targets or [self.webhook_url]
        target = targets[self._round_robin % len(targets)]
        self._round_robin += 1
        return target

    async def _deliver(self, update_id: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self._client is None:
                self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
            while not self._stopping and self.webhook_url:
                update = next((u for u in self.updates if u["update_id"] == update_id), None)
                if update is None:
                    return
                kind = next(k for k in update if k != "update_id")
                if kind not in set(self.allowed_updates or DEFAULT_UPDATES):
                    self.updates.remove(update)
                    self.undelivered.discard(update_id)
                    self.warnings.append(f"update {update_id} ({kind}) dropped: not allowed")
                    return
                url = self._next_target()
                headers = {SECRET_HEADER: self.webhook_secret} if self.webhook_secret else {}
                try:
                    async with self._client.post(url, json=update, headers=headers) as answer:
                        await answer.read()
                        status = answer.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                self.deliveries.append((update_id, url, status))
                self._last_activity = loop.time()
                self._activity.set()
                if status == 200:
                    if self._lose_answers.get(update_id, 0) > 0:
                        self._lose_answers[update_id] -= 1
                    else:
                        self.updates.remove(update)
                        self.undelivered.discard(update_id)
                        return
                await asyncio.sleep(self.redelivery_delay)
        finally:
            self._delivering.pop(update_id, None)
            self._in_flight -= 1
            self._last_activity = loop.time()
            self._activity.set()

    # -- recorded side --------------------------------------------------------------------

    @property
    def polls_begun(self) -> int:
        """How many getUpdates requests have arrived: ``calls("getUpdates")`` only grows
        when a long poll *ends* (up to the bot's polling timeout)."""
        return self._poll_generation

    def calls(self, method: str) -> list[RecordedRequest]:
        """Recorded requests of one method (name case-insensitive)."""
        name = load_spec().method_name(method) or method
        return [r for r in self.requests if r.method == name]

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """The answerCallbackQuery params for a query, or None if not answered."""
        return self.callback_answers.get(query_id)

    def inline_answer(self, query_id: str) -> dict[str, Any] | None:
        """The answerInlineQuery params for a query, or None if not answered."""
        return self.inline_answers.get(query_id)

    def summary(self, last: int = 15) -> str:
        """Recent requests (getUpdates left out) and all validation errors, for failures."""
        recent = [r for r in self.requests if r.method != "getUpdates"][-last:]
        lines = [f"last {len(recent)} requests:"] + [f"  {r.summary()}" for r in recent]
        if self.errors:
            lines += ["validation errors:"] + [f"  {e}" for e in self.errors]
        if self.undelivered:
            lines.append(f"updates not fetched by the bot: {sorted(self.undelivered)}")
        return "\n".join(lines)

    async def wait_for(self, predicate: Callable[[], T | bool | None], timeout: float = 5.0) -> T:
        """Re-check ``predicate`` after every request until it is truthy; return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value  # type: ignore[return-value]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout}s\n{self.summary()}")
            self._activity.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._activity.wait(), min(remaining, 0.05))

    async def wait_idle(self, quiet: float = 0.2, timeout: float = 10.0) -> None:
        """Until all pushed updates were fetched and no request came for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            if (
                not self.undelivered
                and self._in_flight == 0
                and now - self._last_activity >= quiet
            ):
                return
            if now >= deadline:
                raise AssertionError(f"bot not idle within {timeout}s\n{self.summary()}")
            await asyncio.sleep(min(0.02, quiet / 4))

    # -- fault injection ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
        delay: float = 0.0,
        drop_connection: bool = False,
        after_effect: bool = False,
    ) -> None:
        """Make the next ``times`` matching calls fail.

        429 gets ``parameters.retry_after`` (default 1).  ``drop_connection`` closes the
        socket without an answer; with ``after_effect`` the action is performed first
        ("sent, but the answer was lost").  ``chat_id`` restricts the rule to one chat.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
        name = load_spec().method_name(method) or method
        self._faults.append(
            FaultRule(
                method=name,
                status=status,
                description=description,
                retry_after=retry_after,
                times=times,
                chat_id=chat_id,
                delay=delay,
                drop_connection=drop_connection,
                after_effect=after_effect,
            )
        )

    def slow_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` succeed, ``seconds`` late."""
        name = load_spec().method_name(method) or method
        self._faults.append(
            FaultRule(
                method=name,
                status=200,
                description="",
                retry_after=None,
                times=times,
                chat_id=None,
                delay=seconds,
                drop_connection=False,
                after_effect=False,
            )
        )

    def _take_fault(self, method: str, params: dict[str, Any]) -> FaultRule | None:
        for rule in self._faults:
            if rule.method != method:
                continue
            if rule.chat_id is not None:
                wanted = self.find_chat(rule.chat_id)
                got = self.find_chat(params.get("chat_id", ""))
                if wanted is None or got is None or wanted.id != got.id:
                    continue
            rule.times -= 1
            if rule.times <= 0:
                self._faults.remove(rule)
            return rule
        return None

    # -- HTTP -----------------------------------------------------------------------------

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, str | UploadedFile], dict[str, UploadedFile]]:
        raw: dict[str, str | UploadedFile] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                for key, value in body.items():
                    raw[key] = value if isinstance(value, str) else json.dumps(value)
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    raw[key] = UploadedFile(
                        key, value.filename, value.content_type, value.file.read()
                    )
                else:
                    raw[key] = str(value)
        files = {k: v for k, v in raw.items() if isinstance(v, UploadedFile)}
        return raw, files

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        started = loop.time()
        if request.match_info["token"] != self.token:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return web.json_response(body, status=401)
        requested = request.match_info["method"]
        name = load_spec().method_name(requested)
        is_poll = name == "getUpdates"
        if not is_poll:
            self._in_flight += 1
            self._last_activity = started
        raw, files = await self._read_params(request)
        params = decode_params(name, raw)
        record = RecordedRequest(
            method=name or requested,
            params=params,
            raw={k: v if isinstance(v, str) else f"<file {v.filename}>" for k, v in raw.items()},
            files=files,
            status=200,
            response={},
            time=started,
        )
        drop = False
        try:
            result = await self._execute(name, requested, params, record, request)
            body = {"ok": True, "result": result}
        except APIError as exc:
            record.status, body = exc.status, exc.body()
        except _DropConnection:
            drop = True
            record.status, body = 0, {"ok": False, "description": "connection dropped"}
        except Exception as exc:  # a bug in the fake: make it visible, answer like Telegram
            self.errors.append(f"{record.method}: the fake crashed: {exc!r}")
            record.status, body = 500, APIError(500, "Internal Server Error").body()
        finally:
            if not is_poll:
                self._in_flight -= 1
                self._last_activity = loop.time()
        record.response = copy.deepcopy(body)
        record.duration = loop.time() - started
        self.requests.append(record)
        self._activity.set()
        if drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        return web.json_response(body, status=record.status)

    async def _execute(
        self,
        name: str | None,
        requested: str,
        params: dict[str, Any],
        record: RecordedRequest,
        request: web.Request,
    ) -> Any:
        validation = validate(requested, params, strict_html=self.strict_html)
        record.errors, record.warnings = validation.errors, validation.warnings
        self.warnings.extend(w for w in validation.warnings if w not in self.warnings)
        if name is None:
            self.errors.append(f"{requested}: unknown Bot API method")
            raise APIError(404, "Not Found")
        if name in self.unknown_methods:
            raise APIError(404, "Not Found")  # an older server: expected, not a bot bug
        if validation.errors:
            self.errors.extend(f"{name}: {e}" for e in validation.errors)
            raise APIError(400, validation.errors[0])
        if name != "getUpdates" and name not in self.handlers:
            message = f"{name}: not implemented by the fake Bot API"
            self.errors.append(message)
            raise APIError(400, f"Bad Request: {message}")
        fault = self._take_fault(name, params)
        if fault is not None:
            record.injected = True
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 200:  # slow_next: late, then as usual
                return await self._run(name, params, request)
            if fault.after_effect:
                await self._run(name, params, request)
            if fault.drop_connection:
                raise _DropConnection
            raise APIError(fault.status, fault.description, fault.retry_after)
        if self.rate_limits and _counts_for_flood(name):
            chat = self.find_chat(params.get("chat_id", ""))
            is_group = chat is not None and chat.type != "private"
            now = asyncio.get_running_loop().time()
            wait = self.rate_limiter.check(chat.id if chat else None, is_group, now)
            if wait is not None:
                self.throttled += 1
                raise APIError(429, f"Too Many Requests: retry after {wait}", wait)
        try:
            return await self._run(name, params, request)
        except APIError as exc:
            self.api_errors.append(f"{name}: {exc.description}")
            raise

    async def _run(self, name: str, params: dict[str, Any], request: web.Request) -> Any:
        if name == "getUpdates":
            result: Any = await self._get_updates(params, request)
        else:
            result = self.handlers[name](params)
        result = copy.deepcopy(result)
        adapter = _result_adapter(name)
        if adapter is not None:
            try:
                adapter.validate_python(result)
            except ValidationError as exc:
                self.errors.append(f"{name}: the fake produced a result aiogram rejects: {exc}")
                raise APIError(500, "Internal Server Error: invalid fake result") from exc
        return result

    async def _get_updates(self, params: dict[str, Any], request: web.Request) -> Any:
        """Long polling: hold the request up to ``timeout`` s until an update arrives."""
        loop = asyncio.get_running_loop()
        if self.webhook_url:
            raise APIError(409, _WEBHOOK_ACTIVE)
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"]) or None
        self._poll_generation += 1
        generation = self._poll_generation
        assert self._update_event is not None
        self._update_event.set()  # an older poll still waiting gets 409 Conflict
        deadline = loop.time() + max(0, int(params.get("timeout") or 0))
        offset = params.get("offset")
        limit = int(params.get("limit") or 100)
        while True:
            if generation != self._poll_generation:
                raise APIError(409, _CONFLICT)
            client_gone = request.transport is None or request.transport.is_closing()
            if self._stopping or client_gone:
                return []
            batch = self.take_updates(offset, limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            self._update_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_event.wait(), remaining)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        record = self.file_by_path(path)
        if record is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        self.downloads.append(path)
        return web.Response(
            body=record.data, content_type=record.mime_type or "application/octet-stream"
        )
