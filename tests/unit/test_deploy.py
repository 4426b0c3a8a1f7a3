"""deploy/ stays in step with the bot: compose passes every setting the bot knows and
nothing else, with values the bot accepts, and ``docker compose config`` accepts the file;
the image runs as a user who can write its data folder; the proxy routes the webhook path
to the port."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
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


def test_every_setting_is_passed_to_every_bot_service_and_nothing_else() -> None:
    assert REQUIRED <= SETTINGS
    for name, service in bot_services().items():
        env = service["environment"]
        assert isinstance(env, dict), f"{name}: environment as a mapping, please"
        unknown = set(env) - SETTINGS
        assert not unknown, f"{name} passes variables the bot does not know: {unknown}"
        missing = SETTINGS - set(env)
        assert not missing, f"{name} does not pass settings the bot knows: {missing}"
        # An operator's .env reaches the bot under the setting's own name.
        for key, value in env.items():
            for variable in re.findall(r"\$\{([A-Z_][A-Z0-9_]*):-", str(value)):
                assert variable == key, f"{name}: {key} is read from ${{{variable}}}"
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


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, arguments = line.strip().partition(" ")
            found.append((instruction.upper(), " ".join(arguments.split())))
    return found


def test_image_runs_as_a_user_who_owns_the_data_folder() -> None:
    instructions = dockerfile_instructions()
    users = [args for kind, args in instructions if kind == "USER"]
    assert users, "the image runs as root"
    user = users[-1]
    assert user.split(":")[0] not in {"root", "0"}
    workdir = PurePosixPath([args for kind, args in instructions if kind == "WORKDIR"][-1])
    default = Settings.model_fields["database_path"].default
    data = workdir / PurePosixPath(default).parent
    runs = " ".join(args for kind, args in instructions if kind == "RUN")
    assert f"mkdir -p {data}" in runs
    assert re.search(rf"chown [^ ]*\b{user}\b[^ ]* {data}\b", runs), runs
    volumes = " ".join(args for kind, args in instructions if kind == "VOLUME")
    assert str(data) in volumes
    # The folder compose tells the bot to use is that one.
    for service in bot_services().values():
        assert PurePosixPath(service["environment"]["DATABASE_PATH"]).parent == data


def compose_command() -> list[str] | None:
    """``docker compose`` (the v2 plugin) or Debian's ``docker-compose`` (v1), if any."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy is not None else None


def test_docker_compose_accepts_the_file_with_the_operator_env(tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip(
            "neither `docker compose` nor `docker-compose` is installed (.ci/run installs "
            "docker-compose where the package manager has it): cannot run `docker compose config`"
        )
    file = DEPLOY / "compose.yaml"
    env = {"PATH": os.environ.get("PATH", ""), **OPERATOR_ENV}
    if command[-1].endswith("docker-compose"):
        # Compose v1 does not know the top-level `name` (v2 does): the same project name,
        # given the way v1 takes it.
        loaded = compose()
        env["COMPOSE_PROJECT_NAME"] = loaded.pop("name")
        file = tmp_path / "compose.yaml"
        file.write_text(yaml.safe_dump(loaded), encoding="utf-8")
    result = subprocess.run(
        [*command, "--project-directory", str(DEPLOY), "-f", str(file), "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    for name in bot_services():
        environment = resolved["services"][name]["environment"]
        assert set(environment) == SETTINGS
        settings = Settings(
            _env_file=None, **{key.lower(): value for key, value in environment.items()}
        )
        assert settings.webhook_url == "https://bot.example.org/telegram/webhook"
        assert settings.database_url is not None
        assert OPERATOR_ENV["POSTGRES_PASSWORD"] in settings.database_url.get_secret_value()
