"""deploy/ stays in step with the bot: compose passes only settings the bot knows, every
required one, with values the bot accepts; the proxy routes the webhook path to the port."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTINGS = {name.upper() for name in Settings.model_fields}
REQUIRED = {name.upper() for name, field in Settings.model_fields.items() if field.is_required()}
# What an operator would put in .env, to expand ${VAR:?…} and ${VAR:-default}.
OPERATOR_ENV = {
    "BOT_TOKEN": "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQr",
    "CHANNEL_ID": "@newsroom_channel",
    "EDITOR_IDS": "111,222",
    "ADMIN_IDS": "111",
    "POSTGRES_PASSWORD": "pw",
    "PUBLIC_HOST": "bot.example.org",
    "WEBHOOK_SECRET": "0123456789abcdef_-0123456789abcdef",
}


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def bot_services() -> dict[str, dict[str, Any]]:
    """Services that run the bot's image (built from deploy/Dockerfile)."""
    services: dict[str, dict[str, Any]] = compose()["services"]
    return {
        name: service
        for name, service in services.items()
        if "Dockerfile" in str((service.get("build") or {}).get("dockerfile", ""))
    }


def expand(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3) or ""
        if name in env and env[name] != "":
            return env[name]
        assert op != ":?", f"{name} must be set: {rest}"
        return rest if op == ":-" else ""

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:[-?])([^}]*))?\}", one, value)


def test_compose_runs_several_bot_instances() -> None:
    services = bot_services()
    assert services, "no service builds deploy/Dockerfile"
    replicas = sum(
        int(expand(str((s.get("deploy") or {}).get("replicas", 1)), {})) for s in services.values()
    )
    assert replicas >= 2
    assert {"postgres", "redis", "caddy"} <= set(compose()["services"])


def test_every_compose_variable_is_a_setting_and_every_required_setting_is_there() -> None:
    for name, service in bot_services().items():
        env = service["environment"]
        assert isinstance(env, dict), f"{name}: environment as a mapping, please"
        unknown = set(env) - SETTINGS
        assert not unknown, f"{name} passes variables the bot does not know: {unknown}"
        missing = REQUIRED - set(env)
        assert not missing, f"{name} lacks required settings: {missing}"
        # Several instances: webhook mode, shared stores.
        assert {"WEBHOOK_URL", "WEBHOOK_SECRET", "REDIS_URL", "DATABASE_URL"} <= set(env)


def test_compose_values_are_accepted_by_the_bot() -> None:
    for service in bot_services().values():
        values: dict[str, Any] = {
            key.lower(): expand(str(value), OPERATOR_ENV)
            for key, value in service["environment"].items()
        }
        settings = Settings(_env_file=None, **values)
        assert settings.webhook_url == "https://bot.example.org/telegram/webhook"
        assert settings.web_server_host == "0.0.0.0"
        caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
        assert f"handle {settings.webhook_path} {{" in caddyfile
        assert f"port {settings.web_server_port}" in caddyfile
        assert "round_robin" in caddyfile
        # Stopping gets longer than the bot's own grace for the updates in hand.
        grace = int(str(service["stop_grace_period"]).removesuffix("s"))
        assert grace > settings.shutdown_grace_seconds


def test_dockerfile_installs_the_package_and_runs_the_bot() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in text
    assert "RUN pip install ." in text
    assert 'CMD ["python", "-m", "bot"]' in text
    for package in ("bot", "handlers", "storage"):
        assert f"COPY {package} ./{package}" in text
